//! `caseload [--json]`: the caseload the server last sent this device
//! (issue 17), each child with its references, group, household, alerts
//! and tasks, a task shown done as soon as a record captured here clears
//! it ([`crate::caseload`]). Needs the passphrase, like `list`.

use std::io::Write;
use std::path::Path;

use hearth_shared::Timestamp;
use hearth_shared::caseload::{Caseload, CaseloadChild};
use hearth_shared::clock::Clock;
use serde_json::{Value, json};

use super::render::emit;
use super::{CommandError, EXIT_OK, open};
use crate::caseload::{Captured, ChildTasks, TaskState, states};
use crate::store::{LocalStore, RecordStore, StoreError};

/// The held caseload and what this device's records say for its tasks;
/// `None` if no caseload is held. For the tablet app too.
pub fn held_caseload(store: &LocalStore) -> Result<Option<(Caseload, Vec<Captured>)>, StoreError> {
    let Some(caseload) = store.caseload()? else {
        return Ok(None);
    };
    let mut captures = Vec::new();
    for record in store.all()? {
        let envelope = record
            .envelope()
            .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", record.seq)))?;
        captures.extend(Captured::from_record(&record, &envelope));
    }
    Ok(Some((caseload, captures)))
}

/// `caseload`.
pub(super) fn caseload(
    dir: &Path,
    clock: &dyn Clock,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let (store, _settings, _key) = open(dir, clock)?;
    let Some((caseload, captures)) = held_caseload(&store)? else {
        if as_json {
            emit(out, &json!({"issued_at": null, "children": []}).to_string())?;
        } else {
            emit(
                out,
                "no caseload: a sync with a server that keeps caseloads fetches it",
            )?;
        }
        return Ok(EXIT_OK);
    };
    let children = states(&caseload, &captures, clock.now());
    if as_json {
        emit(out, &caseload_json(&caseload, &children).to_string())?;
        return Ok(EXIT_OK);
    }
    emit(
        out,
        &format!(
            "caseload from {}: {} child(ren)",
            caseload.issued_at.date(),
            caseload.children.len()
        ),
    )?;
    for c in &children {
        emit(out, &child_text(c))?;
    }
    Ok(EXIT_OK)
}

fn date(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.date().to_string()))
}

/// "born 2025-03-01", "expected 2026-12-01", or nothing.
fn birth(child: &CaseloadChild) -> Option<String> {
    match (child.born, child.expected) {
        (Some(b), _) => Some(format!("born {}", b.date())),
        (None, Some(e)) => Some(format!("expected {}", e.date())),
        (None, None) => None,
    }
}

/// A task's state as the text shows it.
pub fn state_text(task_due: Timestamp, state: TaskState) -> String {
    match state {
        TaskState::Due => format!("due {}", task_due.date()),
        TaskState::Overdue => format!("OVERDUE since {}", task_due.date()),
        TaskState::Done {
            captured,
            synced: false,
        } => format!("done (captured {}, not yet synced)", captured.date()),
        TaskState::Done {
            captured,
            synced: true,
        } => format!("done (captured {})", captured.date()),
    }
}

/// One child as text: a heading line, then indented detail lines.
fn child_text(c: &ChildTasks<'_>) -> String {
    let child = c.child;
    let mut head = child.name.clone();
    if let Some(b) = birth(child) {
        head.push_str(&format!(", {b}"));
    }
    if let Some(g) = &child.group {
        head.push_str(&format!(", group {g}"));
    }
    let mut lines = vec![head, format!("  refs: {}", child.refs.join(", "))];
    if !child.household.is_empty() {
        let members: Vec<String> = child
            .household
            .iter()
            .map(|m| format!("{} ({})", m.name, m.relationship))
            .collect();
        lines.push(format!("  household: {}", members.join("; ")));
    }
    if !child.alerts.is_empty() {
        lines.push(format!("  alerts: {}", child.alerts));
    }
    if c.tasks.is_empty() {
        lines.push("  tasks: none".into());
    }
    for (task, state) in &c.tasks {
        lines.push(format!(
            "  task: {}: {}",
            task.label,
            state_text(task.due, *state)
        ));
    }
    lines.join("\n")
}

/// The caseload as `--json` prints it: the caseload, dates as
/// `YYYY-MM-DD`, and each task's `state` (`due`, `overdue`, `done`) and,
/// when done, the date the clearing record was captured.
fn caseload_json(caseload: &Caseload, children: &[ChildTasks<'_>]) -> Value {
    let children: Vec<Value> = children
        .iter()
        .map(|c| {
            let child = c.child;
            let tasks: Vec<Value> = c
                .tasks
                .iter()
                .map(|(t, state)| {
                    let (captured, synced) = match state {
                        TaskState::Done { captured, synced } => (Some(*captured), Some(*synced)),
                        _ => (None, None),
                    };
                    json!({
                        "kind": t.kind.as_str(),
                        "label": t.label,
                        "from": t.from.date().to_string(),
                        "due": t.due.date().to_string(),
                        "state": state.word(),
                        "captured": date(captured),
                        "synced": synced,
                    })
                })
                .collect();
            json!({
                "child": child.child,
                "refs": child.refs,
                "name": child.name,
                "born": date(child.born),
                "expected": date(child.expected),
                "group": child.group,
                "household": child.household.iter().map(|m| json!({
                    "name": m.name, "relationship": m.relationship,
                })).collect::<Vec<_>>(),
                "alerts": child.alerts,
                "tasks": tasks,
            })
        })
        .collect();
    json!({
        "device": caseload.device.to_string(),
        "issued_at": caseload.issued_at.to_string(),
        "children": children,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::capture_json;
    use crate::capture::tests::{defaults, test_key};
    use hearth_shared::caseload::{HouseholdMember, Task, TaskKind};
    use hearth_shared::clock::FixedClock;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn held() -> Caseload {
        let task = |kind, from: &str, due: &str, label: &str| Task {
            kind,
            from: t(from),
            due: t(due),
            label: label.into(),
        };
        Caseload {
            device: test_key().device_id(),
            issued_at: t("2026-06-20T08:00:00Z"),
            children: vec![CaseloadChild {
                child: "nhs:9434765919".into(),
                refs: vec!["nhs:9434765919".into(), "local:HV:baby-brown".into()],
                name: "Amy Brown".into(),
                born: Some(t("2026-05-01T00:00:00Z")),
                expected: None,
                group: Some("Rainbow room".into()),
                household: vec![HouseholdMember {
                    name: "Dean Brown".into(),
                    relationship: "father".into(),
                }],
                alerts: "last seen 12 days ago".into(),
                tasks: vec![
                    task(
                        TaskKind::Visit,
                        "2026-06-01T00:00:00Z",
                        "2026-06-15T00:00:00Z",
                        "Home visit due (every 10 working days)",
                    ),
                    task(
                        TaskKind::Review6To8Weeks,
                        "2026-06-12T00:00:00Z",
                        "2026-06-26T00:00:00Z",
                        "6-8 week review",
                    ),
                ],
            }],
        }
    }

    #[test]
    fn a_visit_captured_here_shows_done_and_the_rest_due_or_overdue() {
        let mut store = LocalStore::open_in_memory().unwrap();
        let key = test_key();
        let clock = FixedClock(t("2026-06-22T09:00:00Z"));
        // Under the child's local ref, before the caseload's sync.
        let visit = r#"{"kind":"home_visit","children":["local:HV:baby-brown"],
            "occurred_at":"2026-06-22T08:30:00Z","headline":"Visit","access":"announced",
            "child_seen":"awake"}"#;
        capture_json(&mut store, &key, &clock, &defaults(), visit).unwrap();
        store.replace_caseload(&held(), clock.0).unwrap();
        let (caseload, captures) = held_caseload(&store).unwrap().unwrap();
        let children = states(&caseload, &captures, clock.0);
        let text = child_text(&children[0]);
        assert_eq!(
            text,
            "Amy Brown, born 2026-05-01, group Rainbow room\n  \
             refs: nhs:9434765919, local:HV:baby-brown\n  \
             household: Dean Brown (father)\n  \
             alerts: last seen 12 days ago\n  \
             task: Home visit due (every 10 working days): done (captured 2026-06-22, not yet synced)\n  \
             task: 6-8 week review: due 2026-06-26"
        );
        let v = caseload_json(&caseload, &children);
        let tasks = &v["children"][0]["tasks"];
        assert_eq!(tasks[0]["state"], "done");
        assert_eq!(tasks[0]["captured"], "2026-06-22");
        assert_eq!(tasks[1]["state"], "due");
        assert_eq!(v["children"][0]["born"], "2026-05-01");
        // Two weeks on, nothing captured for the review: overdue.
        let later = states(&caseload, &captures, t("2026-07-06T09:00:00Z"));
        assert!(child_text(&later[0]).ends_with("6-8 week review: OVERDUE since 2026-06-26"));
        assert_eq!(
            caseload_json(&caseload, &later)["children"][0]["tasks"][1]["state"],
            "overdue"
        );
    }
}
