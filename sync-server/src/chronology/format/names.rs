//! The register's names beside references (issue 17), one wording for
//! every format and the web app: "Amy Brown, born 3 March 2024
//! (nhs:9434765919)", or "Baby Brown, expected 1 December 2026
//! (local:HV:baby-brown)" for an unborn child; a reference the register
//! does not know is shown alone.
//!
//! A name was typed by a person (an administrator, or a CSV file from
//! another system) and is untrusted: these functions return plain text,
//! and each format escapes it as it escapes every other field (the table
//! and CSV with `Escaped`, the CSV also against formulas, JSON as the
//! whole document, the web app through maud).

use std::collections::BTreeMap;

use hearth_shared::{ChildRef, Timestamp};
use serde::Serialize;

use crate::people::{Label, PersonId};

/// A register date in words, in UTC (a date of birth is stored as
/// midnight UTC; in a zone west of London it would show a day early):
/// "3 March 2024".
pub fn date_words(t: Timestamp) -> String {
    jiff::Timestamp::from_second(t.0)
        .map(|ts| ts.strftime("%-d %B %Y").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// A register date as `YYYY-MM-DD` (UTC), as the CLI, HTTP and CSV take it.
pub fn date_iso(t: Timestamp) -> String {
    let (y, m, d, ..) = t.to_civil();
    format!("{y:04}-{m:02}-{d:02}")
}

/// "Amy Brown, born 3 March 2024", "Baby Brown, expected 1 December
/// 2026", or the name alone.
pub fn label_text(l: &Label) -> String {
    match (l.born, l.expected) {
        (Some(b), _) => format!("{}, born {}", l.name, date_words(b)),
        (None, Some(e)) => format!("{}, expected {}", l.name, date_words(e)),
        (None, None) => l.name.clone(),
    }
}

/// A reference with its label: "Amy Brown, born 3 March 2024
/// (nhs:9434765919)", or the reference alone if the register does not
/// know it.
pub fn described(r: &ChildRef, names: &BTreeMap<ChildRef, Label>) -> String {
    match names.get(r) {
        Some(l) => format!("{} ({r})", label_text(l)),
        None => r.to_string(),
    }
}

/// A reference with its name only (the CSV's `child_names` cell, the
/// table's CHILDREN column): "Amy Brown (nhs:9434765919)", or the
/// reference alone.
pub fn named(r: &ChildRef, names: &BTreeMap<ChildRef, Label>) -> String {
    match names.get(r) {
        Some(l) => format!("{} ({r})", l.name),
        None => r.to_string(),
    }
}

/// One label in the JSON `names` object.
#[derive(Serialize)]
pub(super) struct JsonLabel<'a> {
    person: String,
    name: &'a str,
    born: Option<String>,
    expected: Option<String>,
}

impl<'a> JsonLabel<'a> {
    pub(super) fn of(l: &'a Label) -> Self {
        Self {
            person: person_id(l.person),
            name: &l.name,
            born: l.born.map(date_iso),
            expected: l.expected.map(date_iso),
        }
    }
}

fn person_id(p: PersonId) -> String {
    p.to_string()
}
