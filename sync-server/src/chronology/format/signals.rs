//! The practice signals in the chronology formats: [`signals_json`] (the
//! JSON `signals` array, also what `signals --format json` and the API
//! send) and [`signals_table`] (the "Signals" section a table prints
//! above its lines, also what `signals` prints).
//!
//! A signal's text is built from rule words and recorded values (agency
//! codes, dates, record ids), and an acknowledgement's note and author
//! were typed by a person: all are untrusted here, and go through the
//! same escaping as the rest of the table ([`Escaped`]); JSON escapes them
//! as the whole document does.

use std::fmt::Write as _;

use hearth_shared::printable::Escaped;
use hearth_shared::{ChildRef, RecordId, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::localtime::Zone;
use crate::signals::{Acknowledgement, Rule, Signal};

/// One signal as JSON: the fields in the contract's order.
#[derive(Serialize)]
pub(super) struct JsonSignal<'a> {
    rule: Rule,
    title: &'a str,
    explanation: &'a str,
    learning_point: &'a str,
    children: &'a [ChildRef],
    evidence: &'a [RecordId],
    first_seen: Timestamp,
    last_seen: Timestamp,
    acknowledged: Option<JsonAck<'a>>,
}

/// An acknowledgement as JSON: who, when, and the note.
#[derive(Serialize)]
struct JsonAck<'a> {
    by: &'a str,
    at: Timestamp,
    note: &'a str,
}

impl<'a> JsonSignal<'a> {
    pub(super) fn of(s: &'a Signal) -> Self {
        Self {
            rule: s.rule,
            title: &s.title,
            explanation: &s.explanation,
            learning_point: &s.learning_point,
            children: &s.children,
            evidence: &s.evidence,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            acknowledged: s.acknowledged.as_ref().map(|a| JsonAck {
                by: &a.by,
                at: a.at,
                note: &a.note,
            }),
        }
    }
}

/// The signals as a JSON array (`[]` when there are none).
pub fn signals_json(signals: &[Signal]) -> Value {
    let view: Vec<JsonSignal<'_>> = signals.iter().map(JsonSignal::of).collect();
    serde_json::to_value(view).expect("signals JSON serializes")
}

/// Who acknowledged it, when, and their note; or that it is open.
fn acknowledgement(a: Option<&Acknowledgement>, zone: &Zone) -> String {
    match a {
        Some(a) => format!(
            "Acknowledged by {} on {}: {}",
            a.by,
            zone.show(a.at),
            a.note
        ),
        None => "Open: not acknowledged".to_string(),
    }
}

/// The "Signals" section: a heading, then one block per signal (title
/// and rule, explanation, learning point, children, first and last seen,
/// evidence ids, acknowledgement or "Open"), each ended by a blank line;
/// the empty string when there are none. Times in `zone`; every line
/// escaped, so no text can start a line of its own.
pub fn signals_table(signals: &[Signal], zone: &Zone) -> String {
    if signals.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Signals (prompts for professional judgement, never a score; every record stays in the chronology)\n\n",
    );
    for s in signals {
        let children: Vec<String> = s.children.iter().map(ToString::to_string).collect();
        let evidence: Vec<String> = s.evidence.iter().map(ToString::to_string).collect();
        let lines = [
            format!("* {} ({})", s.title, s.rule),
            format!("  {}", s.explanation),
            format!("  Why it matters: {}", s.learning_point),
            format!("  Children: {}", children.join(", ")),
            format!(
                "  First seen {}, last seen {}",
                zone.show(s.first_seen),
                zone.show(s.last_seen)
            ),
            format!("  Evidence: {}", evidence.join(", ")),
            format!("  {}", acknowledgement(s.acknowledged.as_ref(), zone)),
        ];
        for l in lines {
            let _ = writeln!(out, "{}", Escaped(&l));
        }
        out.push('\n');
    }
    out
}
