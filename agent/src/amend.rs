//! `amend RECORD_ID`: a correction that starts from the original (issue 12).
//!
//! [`amended_body`] is pure: from the original record's body and the
//! changes asked for, it builds the correction's body. Every field,
//! `occurred_at`, children, headline and the kind's own fields included,
//! is the original's unless a change names it, so a correction never moves
//! a record to the moment it was typed.
//!
//! - A record of one of the observation kinds, or a revision carrying
//!   corrected fields, is corrected by a [`Revision`] carrying the whole
//!   corrected record (the latest correction on the server wins).
//! - `entered_in_error` makes a revision that retracts the record: its
//!   common fields stay the original's, and nothing is deleted.
//! - An old-style [`hearth_shared::kinds::Amendment`] is corrected by
//!   another amendment, keeping its words.
//! - A retraction is not itself amended: amend the record it retracts.
//!
//! The author of the correction is the person making it (the device's
//! worker, or `--author`), not the original's author.

use hearth_shared::json::{Defaults, JsonError, body_to_json, parse_body};
use hearth_shared::kinds::{Detail, Revised, Revision};
use hearth_shared::validate::Validate;
use hearth_shared::{Body, RecordId, Text};
use serde_json::{Map, Value};

/// What `amend` is asked to change.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Why the record is corrected (required).
    pub reason: String,
    /// Retract the record instead of correcting fields.
    pub entered_in_error: bool,
    /// Replaces the children, if not empty.
    pub children: Vec<String>,
    /// Replaces `occurred_at`.
    pub occurred_at: Option<String>,
    /// Replaces the headline.
    pub headline: Option<String>,
    /// Fields of the record's JSON form to replace (`null` removes an
    /// optional field), from `--set FIELD=VALUE` and `--json FILE`.
    pub fields: Map<String, Value>,
}

/// Why a correction could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AmendError {
    /// The corrected record, with the changes, is not a valid record.
    #[error("the corrected record is not valid: {0}")]
    Input(#[from] JsonError),
    /// A retraction was asked to change fields too.
    #[error(
        "--entered-in-error retracts the record as it is; give only --reason (drop --child, --occurred-at, --headline, --set and --json)"
    )]
    RetractionWithChanges,
    /// The record named is itself a retraction.
    #[error(
        "record {0} marks {1} entered in error; to restore or correct {1}, run `hearth-agent amend {1}`"
    )]
    AmendsARetraction(RecordId, RecordId),
    /// The record named has a later correction: amending it would start
    /// from older fields and silently undo that correction.
    #[error(
        "record {named} was corrected later; its latest version is {latest}: run `hearth-agent amend {latest}` so that earlier corrections are kept"
    )]
    NotLatest {
        /// The record named.
        named: RecordId,
        /// The version to amend.
        latest: RecordId,
    },
    /// A change names a field that cannot be changed.
    #[error("{0} cannot be changed by an amendment; a correction always corrects the record named")]
    Fixed(&'static str),
    /// A `--set` is not FIELD=VALUE.
    #[error("--set {0:?} is not FIELD=VALUE; for example --set action=\"Shared with the GP\"")]
    BadSet(String),
}

/// Parses `--set FIELD=VALUE`: VALUE is read as JSON when it is JSON (so
/// `true`, `3` and `["a","b"]` keep their types), else as text.
pub fn parse_set(s: &str) -> Result<(String, Value), AmendError> {
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| AmendError::BadSet(s.to_string()))?;
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.trim().to_string(), value))
}

/// The body of the correction of record `id` (whose body is `original`).
pub fn amended_body(
    id: RecordId,
    original: &Body,
    changes: &Changes,
    defaults: &Defaults,
) -> Result<Body, AmendError> {
    for fixed in ["kind", "corrects", "reason", "entered_in_error", "revised"] {
        if changes.fields.contains_key(fixed) {
            return Err(AmendError::Fixed(fixed));
        }
    }
    let reason = reason_text(&changes.reason)?;
    if let Detail::Revision(r) = &original.detail
        && r.entered_in_error()
    {
        return Err(AmendError::AmendsARetraction(id, r.corrects));
    }
    if changes.entered_in_error {
        return retraction(id, original, changes, reason, defaults);
    }
    let mut flat = corrected_json(original, changes, defaults);
    if let Detail::Amendment(_) = original.detail {
        // An old-style amendment is corrected by another, keeping its words.
        flat.insert("corrects".into(), id.to_string().into());
        flat.insert("reason".into(), changes.reason.clone().into());
        return Ok(parse_body(&Value::Object(flat).to_string(), defaults)?);
    }
    let mut body = parse_body(&Value::Object(flat).to_string(), defaults)?;
    let revised = Revised::of(body.detail.clone())
        .expect("neither the original nor its corrected form is a correction");
    body.detail = Detail::Revision(Revision {
        corrects: id,
        reason,
        revised,
    });
    body.validate().map_err(JsonError::Invalid)?;
    Ok(body)
}

/// The retraction of `original` (`amend --entered-in-error`): the record
/// kept whole, struck through with who and why. It takes no other change.
fn retraction(
    id: RecordId,
    original: &Body,
    changes: &Changes,
    reason: Text<512>,
    defaults: &Defaults,
) -> Result<Body, AmendError> {
    if !changes.children.is_empty()
        || changes.occurred_at.is_some()
        || changes.headline.is_some()
        || !changes.fields.is_empty()
    {
        return Err(AmendError::RetractionWithChanges);
    }
    let mut body = original.clone();
    body.author = defaults.author.clone();
    body.detail = Detail::Revision(Revision {
        corrects: id,
        reason,
        revised: Revised::EnteredInError,
    });
    body.validate().map_err(JsonError::Invalid)?;
    Ok(body)
}

/// The corrected record in its flat JSON form: the original's common
/// fields and the kind's own (for a revision, the fields it corrected to),
/// with `changes` applied (a `null` field removed) and the correction's
/// author.
fn corrected_json(original: &Body, changes: &Changes, defaults: &Defaults) -> Map<String, Value> {
    let content = match &original.detail {
        Detail::Revision(r) => Body {
            detail: r.revised.detail().expect("a retraction was refused above"),
            ..original.clone()
        },
        _ => original.clone(),
    };
    let Value::Object(mut flat) = body_to_json(&content) else {
        unreachable!("a body's JSON form is an object")
    };
    flat.insert("author".into(), defaults.author.as_str().into());
    if !changes.children.is_empty() {
        flat.insert("children".into(), changes.children.clone().into());
    }
    if let Some(at) = &changes.occurred_at {
        flat.insert("occurred_at".into(), at.clone().into());
    }
    if let Some(h) = &changes.headline {
        flat.insert("headline".into(), h.clone().into());
    }
    for (k, v) in &changes.fields {
        if v.is_null() {
            flat.remove(k);
        } else {
            flat.insert(k.clone(), v.clone());
        }
    }
    flat
}

fn reason_text(reason: &str) -> Result<Text<512>, JsonError> {
    Text::try_from_str(reason).map_err(|_| JsonError::Field {
        path: "revision.reason".into(),
        message: format!("is {} bytes; the limit is 512", reason.len()),
    })
}

/// One of this device's corrections, as [`latest_version`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction {
    /// The correction's seq.
    pub seq: u64,
    /// The seq of the record it corrects (on this device).
    pub corrects: u64,
    /// Whether it marks that record entered in error.
    pub retraction: bool,
}

/// The version of record `named`'s chain a field correction must start
/// from: the latest (highest seq) correction in the chain that is not a
/// retraction, or the chain's first record when there is none.
///
/// The server shows the latest correction of a chain, with every field it
/// carries; a correction built from an older version would carry that
/// version's fields and undo what was corrected since (found in review of
/// issue 12). Undoing a retraction is amending the latest version before
/// it. Pure: the caller lists this device's corrections.
pub fn latest_version(named: u64, corrections: &[Correction]) -> u64 {
    let corrects_of = |seq: u64| {
        corrections
            .iter()
            .find(|c| c.seq == seq)
            .map(|c| c.corrects)
    };
    // Back to the first record of the chain (bounded: a cycle is no chain).
    let mut root = named;
    for _ in 0..=corrections.len() {
        match corrects_of(root) {
            Some(prev) => root = prev,
            None => break,
        }
    }
    // Forward: every correction of a record in the chain.
    let mut chain = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for c in corrections {
            if chain.contains(&c.corrects) && !chain.contains(&c.seq) {
                chain.push(c.seq);
                grew = true;
            }
        }
    }
    chain
        .into_iter()
        .filter(|seq| !corrections.iter().any(|c| c.seq == *seq && c.retraction))
        .max()
        .unwrap_or(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(seq: u64, corrects: u64) -> Correction {
        Correction {
            seq,
            corrects,
            retraction: false,
        }
    }

    #[test]
    fn a_field_correction_starts_from_the_latest_version_of_the_chain() {
        // 1 corrected by 3, 3 by 5; 2 and 4 are other records.
        let cs = [fix(3, 1), fix(5, 3)];
        for named in [1, 3, 5] {
            assert_eq!(latest_version(named, &cs), 5);
        }
        assert_eq!(latest_version(2, &cs), 2, "an uncorrected record");
        // Two corrections of the original: the later one is the latest.
        assert_eq!(latest_version(1, &[fix(3, 1), fix(4, 1)]), 4);
    }

    #[test]
    fn undoing_a_retraction_starts_from_the_version_before_it() {
        let retract = Correction {
            seq: 6,
            corrects: 5,
            retraction: true,
        };
        let cs = [fix(3, 1), fix(5, 3), retract];
        assert_eq!(latest_version(1, &cs), 5);
        assert_eq!(latest_version(6, &cs), 5);
        let only = [Correction {
            seq: 2,
            corrects: 1,
            retraction: true,
        }];
        assert_eq!(latest_version(1, &only), 1);
    }
}
