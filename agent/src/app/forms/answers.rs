//! A form's answers: what the browser posted, put in order, turned into
//! the record's documented JSON form, and checked by the core.
//!
//! Form names are the JSON paths without the kind: `headline`,
//! `children[0]`, `observations[1].grade`, plus `occurred_at.date` and
//! `occurred_at.time` for the one date-and-time field. [`Answers::from_pairs`]
//! keeps only names the spec knows and renumbers each repeatable group's
//! entries from 0, dropping empty ones, so the JSON array index equals the
//! form index and a core error's path (`home_visit.observations[1].grade`)
//! names the form field.
//!
//! [`check`] runs the core's [`parse_body`], which stops at the first
//! problem. To show every problem at once it runs again with each field
//! already reported replaced by a harmless value, until the core accepts
//! or names a field it already named (a rule across fields that the
//! replacement cannot satisfy). Every message shown is the core's own.

use std::collections::BTreeMap;

use hearth_shared::json::{Defaults, JsonError, parse_body};
use hearth_shared::{Body, RecordKind, Timestamp};
use serde_json::{Map, Value};

use super::spec::{FieldSpec, FormSpec, Input};
use super::zone::Zone;

/// The answers to one form, by form name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answers(pub BTreeMap<String, String>);

/// One problem, for the field with form name `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form name (`observations[1].grade`), or `""` for the form as a
    /// whole.
    pub name: String,
    /// The core's message.
    pub message: String,
}

/// The sub-name of a list entry's picker (`children[0].pick`): a child
/// chosen by name from the caseload, whose reference it carries.
pub const PICK: &str = "pick";

/// The HTML id of the field with form name `name`: `observations[1].grade`
/// is `f-observations-1-grade`. Stable: the browser tests use them.
pub fn field_id(name: &str) -> String {
    let mut id = String::from("f-");
    for c in name.chars() {
        match c {
            '[' | '.' => id.push('-'),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' => id.push(c),
            _ => id.push('-'),
        }
    }
    id
}

/// `name` as `group`, entry index and field: `("observations", 1, "grade")`.
pub fn split_entry(name: &str) -> Option<(&str, usize, &str)> {
    let (group, rest) = name.split_once('[')?;
    let (index, field) = rest.split_once(']')?;
    let field = field.strip_prefix('.').unwrap_or(field);
    Some((group, index.parse().ok()?, field))
}

impl Answers {
    /// The answer at `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_string(), value.to_string());
    }

    /// How many entries the list or group `name` has.
    pub fn entries(&self, name: &str) -> usize {
        self.0
            .keys()
            .filter_map(|k| split_entry(k))
            .filter(|(g, _, _)| *g == name)
            .map(|(_, i, _)| i + 1)
            .max()
            .unwrap_or(0)
    }

    /// The answers posted, kept only where `spec` has the field, with
    /// text areas' line breaks made `\n` and each list's and group's
    /// non-empty entries renumbered from 0 (at most its capacity).
    pub fn from_pairs(spec: &FormSpec, pairs: &[(String, String)]) -> Self {
        let mut out = BTreeMap::new();
        let mut entries: BTreeMap<(&str, usize), BTreeMap<String, String>> = BTreeMap::new();
        for (name, value) in pairs {
            let value = value.replace("\r\n", "\n");
            if let Some((group, i, field)) = split_entry(name) {
                let Some(f) = spec.fields.iter().find(|f| f.name == group) else {
                    continue;
                };
                let known = match &f.input {
                    Input::List { .. } => field.is_empty() || field == PICK,
                    Input::Group { fields, .. } => fields.iter().any(|s| s.name == field),
                    _ => false,
                };
                if known && i < 64 {
                    entries
                        .entry((f.name, i))
                        .or_default()
                        .insert(field.to_string(), value);
                }
            } else if known_top(spec, name) {
                out.insert(name.clone(), value);
            }
        }
        let mut next: BTreeMap<&str, usize> = BTreeMap::new();
        for ((group, _), mut fields) in entries {
            // A child picked by name wins over the typed reference beside
            // it (the picker says to choose "not listed" to type one).
            if let Some(picked) = fields.remove(PICK)
                && !picked.trim().is_empty()
            {
                fields.insert(String::new(), picked);
            }
            if fields.values().all(|v| v.trim().is_empty()) {
                continue;
            }
            let n = next.entry(group).or_default();
            for (field, value) in fields {
                let name = if field.is_empty() {
                    format!("{group}[{n}]")
                } else {
                    format!("{group}[{n}].{field}")
                };
                out.insert(name, value);
            }
            *n += 1;
        }
        Self(out)
    }

    /// Fresh answers for a new form: the date and time now, local.
    pub fn fresh(now: Timestamp, zone: &dyn Zone) -> Self {
        let mut a = Self::default();
        let (date, time) = zone.local(now);
        a.set("occurred_at.date", &date);
        a.set("occurred_at.time", &time);
        a
    }
}

fn known_top(spec: &FormSpec, name: &str) -> bool {
    if let Some(("occurred_at", "date" | "time")) = name.split_once('.') {
        return true;
    }
    spec.fields
        .iter()
        .any(|f| f.name == name && !matches!(f.input, Input::List { .. } | Input::Group { .. }))
}

/// The value of one scalar answer, or `None` to leave the field out.
fn scalar(input: &Input, text: &str) -> Option<Value> {
    match input {
        Input::Line { .. } | Input::Area { .. } => Some(Value::String(text.to_string())),
        Input::Choice(_) | Input::Time => {
            (!text.is_empty()).then(|| Value::String(text.to_string()))
        }
        Input::Scale { .. } | Input::Number => {
            let t = text.trim();
            (!t.is_empty()).then(|| {
                t.parse::<i64>()
                    .map_or_else(|_| Value::String(t.to_string()), Value::from)
            })
        }
        Input::YesNo => match text {
            "yes" => Some(Value::Bool(true)),
            "no" => Some(Value::Bool(false)),
            _ => None,
        },
        Input::Tick => Some(Value::Bool(!text.is_empty())),
        Input::When | Input::List { .. } | Input::Group { .. } => None,
    }
}

/// `occurred_at` in RFC 3339 with the zone's offset at that local time;
/// what was typed, unchanged, when it is not a date and a time (the core
/// then says what is wrong).
fn when(answers: &Answers, zone: &dyn Zone) -> Value {
    let date = answers.get("occurred_at.date").trim();
    let time = answers.get("occurred_at.time").trim();
    let local = format!("{date}T{time}:00");
    Value::String(match zone.to_utc(date, time) {
        Some(t) => t.to_string(),
        None => local,
    })
}

/// The record's JSON form from `answers`, as `docs/records.md` documents
/// it (author and agency left to the caller's defaults unless `extra`
/// names them).
pub fn to_json(spec: &FormSpec, answers: &Answers, zone: &dyn Zone) -> Value {
    let mut obj = Map::new();
    obj.insert("kind".into(), Value::String(spec.kind.as_str().into()));
    for f in &spec.fields {
        let value = match &f.input {
            Input::When => Some(when(answers, zone)),
            Input::List { .. } => {
                let n = answers.entries(f.name);
                Some(Value::Array(
                    (0..n)
                        .map(|i| Value::String(answers.get(&format!("{}[{i}]", f.name)).into()))
                        .collect(),
                ))
            }
            Input::Group { fields, .. } => Some(Value::Array(
                (0..answers.entries(f.name))
                    .map(|i| entry_json(f.name, i, fields, answers))
                    .collect(),
            )),
            input => scalar(input, answers.get(f.name)),
        };
        if let Some(v) = value {
            obj.insert(f.name.into(), v);
        }
    }
    Value::Object(obj)
}

fn entry_json(group: &str, i: usize, fields: &[FieldSpec], answers: &Answers) -> Value {
    let mut obj = Map::new();
    for f in fields {
        if let Some(v) = scalar(&f.input, answers.get(&format!("{group}[{i}].{}", f.name))) {
            obj.insert(f.name.into(), v);
        }
    }
    Value::Object(obj)
}

/// The form name a core error names: its path without the kind, or for
/// serde's "missing field `x`" at the kind, `x`.
fn error_name(kind: RecordKind, e: &JsonError) -> String {
    let (path, message) = match e {
        JsonError::Field { path, message } => (path.clone(), message.as_str()),
        JsonError::Invalid(v) => (v.field.to_string(), ""),
        _ => return String::new(),
    };
    let prefix = kind.as_str();
    let rest = match path.strip_prefix(prefix) {
        Some("") => {
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next());
            return missing.unwrap_or_default().to_string();
        }
        Some(r) => r.strip_prefix('.').unwrap_or(r),
        None => path.as_str(),
    };
    rest.to_string()
}

/// Replaces the answer at `name` with a value that passes its own checks,
/// so that the core goes on to the next field; false if it cannot.
fn neutralise(spec: &FormSpec, answers: &mut Answers, name: &str) -> bool {
    if name == "occurred_at" {
        answers.set("occurred_at.date", "2000-01-01");
        answers.set("occurred_at.time", "12:00");
        return true;
    }
    let generic = match split_entry(name) {
        Some((g, i, "")) => format!("{g}[{i}]"),
        Some((g, _, f)) => format!("{g}[].{f}"),
        None => name.to_string(),
    };
    let list = split_entry(name).filter(|(_, _, f)| f.is_empty());
    let field = match list {
        Some((g, _, _)) => spec.field(g),
        None => spec.field(&generic),
    };
    let Some(field) = field else { return false };
    if let (Input::List { .. }, None) = (&field.input, list) {
        // The list is empty: give it one entry that passes.
        let placeholder = if name == "children" {
            "nhs:9434765919"
        } else {
            "X"
        };
        answers.set(&format!("{name}[0]"), placeholder);
        return true;
    }
    let value = match (&field.input, list) {
        (Input::List { .. }, Some(("children", _, _))) => "nhs:9434765919".to_string(),
        (Input::List { .. }, Some(_)) => "X".into(),
        (Input::Line { .. } | Input::Area { .. }, _) => "x".into(),
        (Input::Choice(words), _) => {
            let now = answers.get(name);
            match words.iter().find(|w| **w != now) {
                Some(w) => (*w).to_string(),
                None => return false,
            }
        }
        (Input::Scale { min, .. }, _) => min.to_string(),
        (Input::Number, _) => "1".into(),
        (Input::YesNo | Input::Tick | Input::Time, _) => String::new(),
        _ => return false,
    };
    answers.set(name, &value);
    true
}

/// What the worker reads beside a field: the core's own message, except
/// serde's "missing field `x`" (a question left unanswered), which names
/// the question and what to do instead of the JSON field.
fn message(spec: &FormSpec, name: &str, e: &JsonError) -> String {
    let text = e.to_string();
    if !text.contains("missing field `") {
        return text;
    }
    match spec.field(name) {
        Some(f) => match f.input {
            Input::Choice(_) | Input::YesNo | Input::Scale { .. } | Input::Tick => {
                format!("{} (required): choose an answer", f.label)
            }
            _ => format!("{} (required): enter an answer", f.label),
        },
        None => text,
    }
}

/// Checks `answers` with the core: the body, or every problem found.
pub fn check(
    spec: &FormSpec,
    answers: &Answers,
    zone: &dyn Zone,
    defaults: &Defaults,
) -> Result<Body, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut trial = answers.clone();
    for _ in 0..64 {
        let json = to_json(spec, &trial, zone).to_string();
        let e = match parse_body(&json, defaults) {
            Ok(body) if errors.is_empty() => return Ok(body),
            Ok(_) => break,
            Err(e) => e,
        };
        let name = error_name(spec.kind, &e);
        if errors.iter().any(|x| x.name == name) {
            break;
        }
        errors.push(FieldError {
            message: message(spec, &name, &e),
            name: name.clone(),
        });
        if name.is_empty() || !neutralise(spec, &mut trial, &name) {
            break;
        }
    }
    Err(errors)
}

#[cfg(test)]
#[path = "answers_tests.rs"]
mod tests;
