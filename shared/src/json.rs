//! The JSON form of a record body (feature `std`): [`parse_body`] and
//! [`body_to_json`].
//!
//! This is the agent's input format, documented with an example of every
//! kind in `docs/records.md`. One flat object: the common fields
//!
//! - `kind`: `home_visit`, `daily_presentation`, `voice`, `concern`,
//!   `developmental_review`, `meeting`, `escalation`, `neglect_summary`,
//!   `amendment` or `revision`;
//! - `children`: child references, `nhs:<10 digits>` or `local:<issuer>:<id>`;
//! - `occurred_at`: RFC 3339;
//! - `headline`;
//! - `author` and `agency`: optional, defaulting to the device's own;
//!
//! and the kind's own fields beside them. A `revision` has `corrects`,
//! `reason`, and either `"entered_in_error": true` or `revised`: the
//! corrected kind's own fields with their `kind`, like
//! `{"kind":"voice","mode":"words",...}`. Unknown fields are refused, so a
//! typo is an error rather than a silently lost observation.
//!
//! Errors name the field by its path, the problem and the fix:
//! "voice.words is 1,342 bytes; the limit is 1,024".

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::bounded::List;
use crate::child::ChildRef;
use crate::error::ValidationError;
use crate::ids::{AgencyCode, WorkerId};
use crate::kinds::{Detail, RecordKind, Revised, Revision};
use crate::record::{Body, Headline};
use crate::time::Timestamp;
use crate::validate::Validate;

/// The author and agency a record takes when its JSON names neither: the
/// device's own, set at `init`.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// The device's worker.
    pub author: WorkerId,
    /// The device's agency.
    pub agency: AgencyCode,
}

/// Why a JSON record was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON at all.
    Syntax {
        /// serde_json's description.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Valid JSON, but not an object.
    NotAnObject,
    /// No `kind`.
    MissingKind,
    /// A `kind` that is not a record kind.
    UnknownKind(String),
    /// A field's value is wrong.
    Field {
        /// Its path, such as `voice.words` or `children[1]`.
        path: String,
        /// What is wrong, such as "is 1,342 bytes; the limit is 1,024".
        message: String,
    },
    /// A rule across fields is broken.
    Invalid(ValidationError),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax {
                message,
                line,
                column,
            } => write!(
                f,
                "the record is not valid JSON: {message} (line {line}, column {column})"
            ),
            Self::NotAnObject => f.write_str(
                "the record must be a JSON object, {\"kind\": ..., \"children\": [...], ...}",
            ),
            Self::MissingKind => write!(f, "kind is missing; add \"kind\": one of {}", kind_list()),
            Self::UnknownKind(k) => {
                write!(
                    f,
                    "kind \"{k}\" is not a record kind; use one of {}",
                    kind_list()
                )
            }
            Self::Field { path, message } => {
                if ["is ", "has ", "must "]
                    .iter()
                    .any(|start| message.starts_with(start))
                {
                    write!(f, "{path} {message}")
                } else {
                    write!(f, "{path}: {message}")
                }
            }
            Self::Invalid(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

fn kind_list() -> String {
    RecordKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Joins a field prefix and a serde_path_to_error path.
fn join_path(prefix: &str, path: &serde_path_to_error::Path) -> String {
    let path = path.to_string();
    match (prefix.is_empty(), path.as_str()) {
        (_, ".") => prefix.to_string(),
        (true, p) => p.to_string(),
        (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
        (false, p) => format!("{prefix}.{p}"),
    }
}

/// Deserializes `value` as `T`, naming the failing field under `prefix`.
fn field<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|e| JsonError::Field {
        path: join_path(prefix, e.path()),
        message: e.into_inner().to_string(),
    })
}

fn bad_field(path: &str, message: &str) -> JsonError {
    JsonError::Field {
        path: path.to_string(),
        message: message.to_string(),
    }
}

/// Takes a required common field out of `obj`.
fn required<T: DeserializeOwned>(
    obj: &mut Map<String, Value>,
    name: &str,
    hint: &str,
) -> Result<T, JsonError> {
    match obj.remove(name) {
        Some(v) => field(name, v),
        None => Err(JsonError::Field {
            path: name.to_string(),
            message: format!("is missing; {hint}"),
        }),
    }
}

/// Parses one record body from its JSON form, filling `author` and
/// `agency` from `defaults` where the JSON names neither, and checks every
/// rule.
pub fn parse_body(json: &str, defaults: &Defaults) -> Result<Body, JsonError> {
    let value: Value = serde_json::from_str(json).map_err(|e| JsonError::Syntax {
        message: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or_default()
            .to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(mut obj) = value else {
        return Err(JsonError::NotAnObject);
    };
    let kind = match obj.remove("kind") {
        None => return Err(JsonError::MissingKind),
        Some(Value::String(k)) => k
            .parse::<RecordKind>()
            .map_err(|_| JsonError::UnknownKind(k))?,
        Some(other) => return Err(JsonError::UnknownKind(other.to_string())),
    };
    let children: List<ChildRef, 8> = required(
        &mut obj,
        "children",
        "name at least one child, as nhs:<10 digits> or local:<issuer>:<id>",
    )?;
    let occurred_at: Timestamp = required(
        &mut obj,
        "occurred_at",
        "say when it happened, like 2026-11-20T10:30:00Z",
    )?;
    let headline: Headline = required(
        &mut obj,
        "headline",
        "write a short factual line for the chronology",
    )?;
    let author: WorkerId = match obj.remove("author") {
        Some(v) => field("author", v)?,
        None => defaults.author.clone(),
    };
    let agency: AgencyCode = match obj.remove("agency") {
        Some(v) => field("agency", v)?,
        None => defaults.agency.clone(),
    };
    let detail = detail_of(kind, obj)?;
    let body = Body {
        children,
        occurred_at,
        author,
        agency,
        headline,
        detail,
    };
    body.validate().map_err(JsonError::Invalid)?;
    Ok(body)
}

/// The kind's own fields of a `kind` record, from what is left of its
/// JSON object once the common fields are taken out.
fn detail_of(kind: RecordKind, mut obj: Map<String, Value>) -> Result<Detail, JsonError> {
    let name = kind.as_str();
    if kind == RecordKind::Revision {
        return Ok(Detail::Revision(revision_of(obj)?));
    }
    obj.remove("kind");
    let rest = Value::Object(obj);
    Ok(match kind {
        RecordKind::HomeVisit => Detail::HomeVisit(field(name, rest)?),
        RecordKind::DailyPresentation => Detail::DailyPresentation(field(name, rest)?),
        RecordKind::Voice => Detail::Voice(field(name, rest)?),
        RecordKind::Concern => Detail::Concern(field(name, rest)?),
        RecordKind::DevelopmentalReview => Detail::DevelopmentalReview(field(name, rest)?),
        RecordKind::Meeting => Detail::Meeting(field(name, rest)?),
        RecordKind::Escalation => Detail::Escalation(field(name, rest)?),
        RecordKind::NeglectSummary => Detail::NeglectSummary(field(name, rest)?),
        RecordKind::Amendment => Detail::Amendment(field(name, rest)?),
        RecordKind::Revision => unreachable!("handled above"),
    })
}

/// A revision's fields: `corrects`, `reason`, and `revised` (the kind's
/// fields with their `kind`) or `"entered_in_error": true`.
fn revision_of(mut obj: Map<String, Value>) -> Result<Revision, JsonError> {
    let corrects = required(
        &mut obj,
        "corrects",
        "name the record corrected, like 3f9a2c1d7e4b8a01-7 (see `hearth-agent list`)",
    )?;
    let reason = required(&mut obj, "reason", "say why the record is being corrected")?;
    let retracted: bool = match obj.remove("entered_in_error") {
        Some(v) => field("revision.entered_in_error", v)?,
        None => false,
    };
    let revised = match (obj.remove("revised"), retracted) {
        (None, true) => Revised::EnteredInError,
        (Some(Value::Object(inner)), false) => {
            let kind = match inner.get("kind") {
                Some(Value::String(k)) => k
                    .parse::<RecordKind>()
                    .map_err(|_| JsonError::UnknownKind(k.clone()))?,
                _ => return Err(JsonError::MissingKind),
            };
            Revised::of(detail_of(kind, inner)?).ok_or_else(|| {
                JsonError::UnknownKind(format!(
                    "{kind} inside a revision (revise the corrected record's own kind)"
                ))
            })?
        }
        (Some(_), true) => {
            return Err(bad_field(
                "revision.revised",
                "must not be given with entered_in_error; a retraction carries no corrected fields",
            ));
        }
        (Some(_), false) => {
            return Err(bad_field(
                "revision.revised",
                "must be an object: the corrected kind's fields with their kind, like {\"kind\":\"voice\",...}",
            ));
        }
        (None, false) => {
            return Err(bad_field(
                "revision.revised",
                "is missing; give the corrected fields, or \"entered_in_error\": true",
            ));
        }
    };
    if let Some(k) = obj.keys().next() {
        return Err(bad_field(
            &format!("revision.{k}"),
            "is not a field of a revision; remove it",
        ));
    }
    Ok(Revision {
        corrects,
        reason,
        revised,
    })
}

/// The JSON form of `body`: what [`parse_body`] reads back.
pub fn body_to_json(body: &Body) -> Value {
    let detail = detail_to_json(&body.detail);
    let mut obj = Map::new();
    obj.insert("kind".into(), body.detail.kind().as_str().into());
    obj.insert(
        "children".into(),
        body.children
            .iter()
            .map(|c| Value::String(c.to_string()))
            .collect(),
    );
    obj.insert("occurred_at".into(), body.occurred_at.to_string().into());
    obj.insert("headline".into(), body.headline.as_str().into());
    obj.insert("author".into(), body.author.as_str().into());
    obj.insert("agency".into(), body.agency.as_str().into());
    if let Value::Object(fields) = detail {
        obj.extend(fields);
    }
    Value::Object(obj)
}

/// The kind's own fields of `detail`, as a JSON object (without `kind`;
/// the server shows a record's fields with it, issue 15).
pub fn detail_to_json(detail: &Detail) -> Value {
    match detail {
        Detail::HomeVisit(d) => serde_json::to_value(d),
        Detail::DailyPresentation(d) => serde_json::to_value(d),
        Detail::Voice(d) => serde_json::to_value(d),
        Detail::Concern(d) => serde_json::to_value(d),
        Detail::DevelopmentalReview(d) => serde_json::to_value(d),
        Detail::Meeting(d) => serde_json::to_value(d),
        Detail::Escalation(d) => serde_json::to_value(d),
        Detail::NeglectSummary(d) => serde_json::to_value(d),
        Detail::Amendment(d) => serde_json::to_value(d),
        Detail::Revision(r) => Ok(revision_to_json(r)),
    }
    .expect("record types always serialize to JSON")
}

/// A revision's own fields in JSON: what [`revision_of`] reads back.
fn revision_to_json(r: &Revision) -> Value {
    let mut obj = Map::new();
    obj.insert("corrects".into(), r.corrects.to_string().into());
    obj.insert("reason".into(), r.reason.as_str().into());
    match r.revised.detail() {
        None => {
            obj.insert("entered_in_error".into(), true.into());
        }
        Some(detail) => {
            let mut inner = Map::new();
            inner.insert("kind".into(), detail.kind().as_str().into());
            if let Value::Object(fields) = detail_to_json(&detail) {
                inner.extend(fields);
            }
            obj.insert("revised".into(), Value::Object(inner));
        }
    }
    Value::Object(obj)
}
