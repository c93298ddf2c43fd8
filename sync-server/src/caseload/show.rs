//! A caseload as `caseload show` prints it: a table for people, or JSON
//! (dates `YYYY-MM-DD`, each task with its state `due` or `overdue`).

use std::fmt::Write as _;

use hearth_shared::Timestamp;
use hearth_shared::caseload::{Caseload, CaseloadChild, Task};
use serde_json::{Value, json};

use super::tasks::overdue;

/// A task's state at `now`: `due` or `overdue`.
fn state(task: &Task, now: Timestamp) -> &'static str {
    if overdue(task, now) { "overdue" } else { "due" }
}

/// "born 2025-06-01", "expected 2026-12-01", or nothing.
fn dates(c: &CaseloadChild) -> String {
    match (c.born, c.expected) {
        (Some(b), _) => format!("born {}", b.date()),
        (None, Some(e)) => format!("expected {}", e.date()),
        (None, None) => "date of birth not known".into(),
    }
}

/// The table: `title`, then each child with its references, group,
/// household, alerts and tasks.
pub fn text(title: &str, c: &Caseload, now: Timestamp) -> String {
    let mut out = format!(
        "{title}: {} {}\n",
        c.children.len(),
        if c.children.len() == 1 {
            "child"
        } else {
            "children"
        }
    );
    for child in &c.children {
        let _ = write!(
            out,
            "\n{} ({}), {}",
            child.name,
            child.refs.join(", "),
            dates(child)
        );
        if let Some(g) = &child.group {
            let _ = write!(out, ", group {g}");
        }
        out.push('\n');
        if !child.household.is_empty() {
            let members: Vec<String> = child
                .household
                .iter()
                .map(|m| format!("{} ({})", m.name, m.relationship.replace('_', " ")))
                .collect();
            let _ = writeln!(out, "  household: {}", members.join(", "));
        }
        if !child.alerts.is_empty() {
            let _ = writeln!(out, "  alerts: {}", child.alerts);
        }
        for t in &child.tasks {
            let when = if overdue(t, now) {
                format!("OVERDUE since {}", t.due.date())
            } else {
                format!("due {}", t.due.date())
            };
            let _ = writeln!(out, "  task: {}: {when}", t.label);
        }
    }
    out
}

/// The JSON form.
pub fn json(c: &Caseload, now: Timestamp) -> Value {
    let date = |t: Option<Timestamp>| t.map(|t| t.date().to_string());
    json!({
        "device": c.device.to_string(),
        "issued_at": c.issued_at.to_string(),
        "children": c.children.iter().map(|child| json!({
            "child": child.child,
            "refs": child.refs,
            "name": child.name,
            "born": date(child.born),
            "expected": date(child.expected),
            "group": child.group,
            "household": child.household.iter().map(|m| json!({
                "name": m.name,
                "relationship": m.relationship,
            })).collect::<Vec<_>>(),
            "alerts": child.alerts,
            "tasks": child.tasks.iter().map(|t| json!({
                "kind": t.kind.as_str(),
                "label": t.label,
                "from": t.from.date().to_string(),
                "due": t.due.date().to_string(),
                "state": state(t, now),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
