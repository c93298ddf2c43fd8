//! Task states: done by a record captured here, overdue after the due day,
//! and the home screen's order.

use super::*;
use crate::capture::tests::defaults;
use hearth_shared::DeviceId;
use hearth_shared::caseload::TaskKind;
use hearth_shared::json::parse_body;

const DAY0: i64 = 1_780_000_000 - 1_780_000_000 % DAY; // a midnight

fn visit(child: &str, at: &str, seen: &str) -> Captured {
    let json = format!(
        r#"{{"kind":"home_visit","children":["{child}"],"occurred_at":"{at}","headline":"Visit",
        "access":"announced","child_seen":"{seen}","not_seen_reason":"{}"}}"#,
        if seen == "not_seen" {
            "asleep upstairs, not woken"
        } else {
            ""
        }
    );
    let body = parse_body(&json, &defaults()).unwrap();
    Captured {
        children: body.children.iter().map(|c| c.to_string()).collect(),
        detail: body.detail,
        occurred_at: body.occurred_at,
        captured_at: body.occurred_at,
        synced: false,
    }
}

fn task(from: i64, due: i64) -> Task {
    Task {
        kind: TaskKind::Visit,
        from: Timestamp(from),
        due: Timestamp(due),
        label: "Home visit due (every 10 working days)".into(),
    }
}

fn child(name: &str, refs: &[&str], tasks: Vec<Task>) -> CaseloadChild {
    CaseloadChild {
        child: refs[0].into(),
        refs: refs.iter().map(|r| r.to_string()).collect(),
        name: name.into(),
        born: None,
        expected: None,
        group: None,
        household: vec![],
        alerts: String::new(),
        tasks,
    }
}

fn at(t: &str) -> Timestamp {
    t.parse().unwrap()
}

#[test]
fn a_task_is_overdue_only_after_its_whole_due_day() {
    let t = task(DAY0 - 10 * DAY, DAY0);
    let refs = vec!["local:HV:amy".to_string()];
    assert_eq!(
        task_state(&t, &refs, &[], Timestamp(DAY0 + DAY - 1)),
        TaskState::Due
    );
    assert_eq!(
        task_state(&t, &refs, &[], Timestamp(DAY0 + DAY)),
        TaskState::Overdue
    );
}

#[test]
fn a_visit_captured_here_under_any_ref_of_the_child_clears_it() {
    let from = at("2026-06-01T00:00:00Z");
    let t = task(from.0, from.0 + 14 * DAY);
    let refs = vec!["nhs:9434765919".to_string(), "local:HV:amy".to_string()];
    let now = Timestamp(from.0 + 30 * DAY);
    // Not seen, another child, or before `from`: still overdue.
    for c in [
        visit("local:HV:amy", "2026-06-03T10:00:00Z", "not_seen"),
        visit("local:HV:ben", "2026-06-03T10:00:00Z", "awake"),
        visit("local:HV:amy", "2026-05-30T10:00:00Z", "awake"),
    ] {
        assert_eq!(task_state(&t, &refs, &[c], now), TaskState::Overdue);
    }
    let seen = visit("local:HV:amy", "2026-06-03T10:00:00Z", "asleep");
    assert_eq!(
        task_state(&t, &refs, &[seen], now),
        TaskState::Done {
            captured: at("2026-06-03T10:00:00Z"),
            synced: false
        }
    );
}

#[test]
fn the_due_list_puts_overdue_first_then_due_then_done() {
    let now = Timestamp(DAY0);
    let caseload = Caseload {
        device: DeviceId([1; 8]),
        issued_at: now,
        children: vec![
            child(
                "Amy",
                &["local:HV:amy"],
                vec![task(DAY0 - 20 * DAY, DAY0 + 3 * DAY)],
            ),
            child(
                "Ben",
                &["local:HV:ben"],
                vec![
                    task(DAY0 - 20 * DAY, DAY0 - 2 * DAY),
                    task(DAY0 - 20 * DAY, DAY0 + DAY),
                ],
            ),
            child(
                "Cat",
                &["local:HV:cat"],
                vec![task(DAY0 - 20 * DAY, DAY0 - 5 * DAY)],
            ),
        ],
    };
    let mut done = visit("local:HV:amy", "2026-01-01T00:00:00Z", "awake");
    done.occurred_at = Timestamp(DAY0 - DAY);
    let children = states(&caseload, &[done], now);
    let order: Vec<(&str, &str)> = due_list(&children)
        .iter()
        .map(|i| (i.child.name.as_str(), i.state.word()))
        .collect();
    assert_eq!(
        order,
        [
            ("Cat", "overdue"),
            ("Ben", "overdue"),
            ("Ben", "due"),
            ("Amy", "done")
        ]
    );
}
