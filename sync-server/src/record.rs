//! The record behind a chronology line (issue 15): what a chronology's
//! headline leaves out (the child's words, injuries, grades, outcomes,
//! meeting decisions, the escalation), read from the signed bytes the
//! server stored on receipt.
//!
//! - [`decode`]: stored signed bytes to an envelope (the signature was
//!   verified at ingest; the bytes are as received).
//! - [`attach`]: fills a chronology's [`Chronology::details`] for the formats that
//!   show it (JSON `detail`, the CSV's panel columns).
//! - [`read`]: one record, audited like a pull: the reason is checked, the
//!   record must be in the reader's view (a grant's child or family, or
//!   the children it names), and the read is written to the access log
//!   before anything is returned.
//!
//! Which fields an entry shows: those of the latest revision in its chain
//! that carries fields ([`effective`]); an old-style amendment corrects only
//! the common fields, and a retraction leaves the record's last fields in
//! view, struck through.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::error::DecodeError;
use hearth_shared::kinds::Detail;
use hearth_shared::signed::{decode_stored_envelope, split_signed};
use hearth_shared::{ChildRef, Envelope, RecordId};

use crate::audit::{BadReason, check_reader, check_reason};
use crate::chronology::{Chronology, DateRange, Entry, family_of, reconcile};
use crate::clock::Clock;
use crate::store::{Access, Purpose, Store, StoreError, StoredRecord, Via};

/// Decodes a stored record's signed bytes (envelope, then signature). Only
/// for bytes the server verified and stored: see
/// [`decode_stored_envelope`].
pub fn decode(signed: &[u8]) -> Result<Envelope, DecodeError> {
    let (envelope, _) = split_signed(signed)?;
    decode_stored_envelope(envelope)
}

/// The fields an entry shows: those of the latest revision among
/// `corrections` (in chain order) that carries fields, else `original`'s.
pub fn effective<'a>(original: &'a Detail, corrections: &[&'a Detail]) -> Detail {
    corrections
        .iter()
        .rev()
        .find_map(|d| match d {
            Detail::Revision(r) => r.revised.detail(),
            _ => None,
        })
        .unwrap_or_else(|| original.clone())
}

/// The record ids an entry's fields come from: its own, then each
/// correction's, in chain order.
fn chain_ids(e: &Entry) -> impl Iterator<Item = RecordId> + '_ {
    std::iter::once(e.record_id).chain(
        e.amended
            .iter()
            .flat_map(|a| a.versions.iter().skip(1).map(|v| v.record_id)),
    )
}

/// The fields `e` shows, from `decoded` (the decoded fields by id);
/// `None` when its own record's bytes are missing or do not decode.
fn fields_of(e: &Entry, decoded: &BTreeMap<RecordId, Detail>) -> Option<Detail> {
    let mut ids = chain_ids(e);
    let original = ids.next().and_then(|id| decoded.get(&id))?;
    let corrections: Vec<&Detail> = ids.filter_map(|id| decoded.get(&id)).collect();
    Some(effective(original, &corrections))
}

/// The fields of each of `ids` whose stored bytes decode (all should:
/// each was verified on receipt; one that does not is logged).
fn decode_all<S: Store + ?Sized>(
    store: &S,
    ids: &[RecordId],
) -> Result<BTreeMap<RecordId, Detail>, StoreError> {
    let mut decoded = BTreeMap::new();
    for (id, bytes) in store.record_bytes(ids)? {
        match decode(&bytes) {
            Ok(e) => {
                decoded.insert(id, e.body.detail);
            }
            Err(err) => tracing::error!(record = %id, %err, "stored record does not decode"),
        }
    }
    Ok(decoded)
}

/// Fills [`Chronology::details`] from the stored bytes: one read and one
/// decode per record of the view. A record whose bytes do not decode
/// (none should: each was verified on receipt) has none, and is logged.
pub fn attach<S: Store + ?Sized>(store: &S, c: &mut Chronology) -> Result<(), StoreError> {
    let ids: Vec<RecordId> = c.entries.iter().flat_map(chain_ids).collect();
    let decoded = decode_all(store, &ids)?;
    fill_all(c, &decoded);
    Ok(())
}

/// Fills [`Chronology::details`] from `decoded`, the fields of each
/// record by id (what [`attach`] reads; tests give their own).
pub fn fill_all(c: &mut Chronology, decoded: &BTreeMap<RecordId, Detail>) {
    c.details = c
        .entries
        .iter()
        .filter_map(|e| Some((e.record_id, fields_of(e, decoded)?)))
        .collect();
}

/// Whose view a record is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A web read grant's: its child, or the child's family.
    Grant {
        /// The child the grant names.
        child: ChildRef,
        /// The family view.
        family: bool,
    },
    /// The API's: the children the record names (`GET /v1/records/{id}`).
    Named,
}

/// A request to read one record.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// Which record.
    pub id: RecordId,
    /// In whose view.
    pub scope: Scope,
    /// The stated reason.
    pub reason: String,
    /// The purpose picked with it, where one was asked for.
    pub purpose: Option<Purpose>,
    /// Who is reading.
    pub who: String,
    /// Through what.
    pub via: Via,
}

/// Why a record read was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The reason is missing or not acceptable.
    #[error("{0}; a record is read only with a reason")]
    Reason(#[from] BadReason),
    /// The reader's name is not one visible line.
    #[error(transparent)]
    Reader(#[from] crate::audit::BadReader),
    /// No such record, or not in the reader's view: the same answer, so a
    /// refusal does not say whether a record exists.
    #[error("no record with this id is in your view")]
    NotInView,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One version of a record, decoded.
#[derive(Debug, Clone)]
pub struct VersionDetail {
    /// The record holding it.
    pub id: RecordId,
    /// Its fields (`None` if its bytes are missing or do not decode).
    pub detail: Option<Detail>,
}

/// One record read, with everything behind its line.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The record asked for (it may be a correction: its entry is the
    /// record it corrects).
    pub asked: RecordId,
    /// Its chronology entry.
    pub entry: Entry,
    /// The fields the entry shows (its latest revision's, or its own);
    /// `None` if its stored bytes do not decode.
    pub detail: Option<Detail>,
    /// The entry's own record as stored (the original of a corrected one).
    pub stored: StoredRecord,
    /// Every version's fields: the original first, then each correction.
    pub versions: Vec<VersionDetail>,
}

/// The children a read may see for `scope`, or `None` when the record is
/// not stored.
fn view_of<S: Store + ?Sized>(
    store: &S,
    id: RecordId,
    scope: &Scope,
) -> Result<Option<BTreeSet<ChildRef>>, StoreError> {
    Ok(match scope {
        Scope::Grant { child, family } if *family => Some(family_of(child, &store.family_links()?)),
        Scope::Grant { child, .. } => Some(BTreeSet::from([child.clone()])),
        Scope::Named => store
            .record(id)?
            .map(|r| r.filed.line.children.into_iter().collect()),
    })
}

/// Reads one record, audited: the reason checked, the record found in the
/// view's chronology (as the record itself or one of its corrections),
/// the read written to the access log, and only then the bytes decoded.
pub fn read<S: Store + ?Sized>(
    store: &S,
    clock: &dyn Clock,
    req: &RecordRequest,
) -> Result<RecordView, ReadError> {
    let reason = check_reason(&req.reason)?;
    check_reader(&req.who)?;
    let view = view_of(store, req.id, &req.scope)?.ok_or(ReadError::NotInView)?;
    let children: Vec<ChildRef> = view.iter().cloned().collect();
    let records = store.records_for(&children)?;
    // The API reads a record through the children it names: its entry is
    // found whichever children a later correction moved it to (only that
    // entry is returned, and every child of its chain is logged).
    let view = match req.scope {
        Scope::Named => records
            .iter()
            .flat_map(|r| r.line.children.iter().cloned())
            .collect(),
        Scope::Grant { .. } => view,
    };
    let mut entries = reconcile(&records, &view, DateRange::default());
    let at = entries
        .iter()
        .position(|e| chain_ids(e).any(|id| id == req.id))
        .ok_or(ReadError::NotInView)?;
    let entry = entries.swap_remove(at);
    let mut disclosed: BTreeSet<ChildRef> = entry.children.iter().cloned().collect();
    if let Some(a) = &entry.amended {
        for v in &a.versions {
            disclosed.extend(v.children.iter().cloned());
        }
    }
    let (child, family) = match &req.scope {
        Scope::Grant { child, family } => (Some(child.clone()), *family),
        Scope::Named => (None, false),
    };
    store.log_access(&Access {
        at: clock.now(),
        who: req.who.clone(),
        via: req.via,
        child,
        family,
        reason: reason.to_string(),
        purpose: req.purpose,
        children: disclosed.into_iter().collect(),
    })?;
    tracing::info!(who = %req.who, via = req.via.as_str(), record = %req.id, "record read");
    let stored = store.record(entry.record_id)?.ok_or(ReadError::NotInView)?;
    let ids: Vec<RecordId> = chain_ids(&entry).collect();
    let decoded = decode_all(store, &ids)?;
    let detail = fields_of(&entry, &decoded);
    let versions = ids
        .iter()
        .map(|id| VersionDetail {
            id: *id,
            detail: decoded.get(id).cloned(),
        })
        .collect();
    Ok(RecordView {
        asked: req.id,
        entry,
        detail,
        stored,
        versions,
    })
}

#[cfg(test)]
mod tests {
    use hearth_shared::json::{Defaults, parse_body};

    use super::*;

    fn detail(json: &str) -> Detail {
        let defaults = Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        };
        let head =
            r#""children":["nhs:9434765919"],"occurred_at":"2026-03-04T11:00:00Z","headline":"h""#;
        parse_body(&format!("{{{head},{json}}}"), &defaults)
            .unwrap()
            .detail
    }

    #[test]
    fn an_entry_shows_the_fields_of_its_latest_revision_that_carries_any() {
        let original = detail(r#""kind":"voice","mode":"words","words":"first""#);
        let revised = detail(
            r#""kind":"revision","corrects":"0102030405060708-1","reason":"typo","revised":{"kind":"voice","mode":"words","words":"second"}"#,
        );
        let retracted = detail(
            r#""kind":"revision","corrects":"0102030405060708-1","reason":"wrong child","entered_in_error":true"#,
        );
        let amended =
            detail(r#""kind":"amendment","corrects":"0102030405060708-1","reason":"date wrong""#);
        let words = |d: Detail| match d {
            Detail::Voice(v) => v.words.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(words(effective(&original, &[])), "first");
        assert_eq!(words(effective(&original, &[&amended])), "first");
        assert_eq!(words(effective(&original, &[&revised])), "second");
        assert_eq!(words(effective(&original, &[&revised, &amended])), "second");
        // A retraction keeps the last fields in view (struck through).
        assert_eq!(
            words(effective(&original, &[&revised, &retracted])),
            "second"
        );
        assert_eq!(words(effective(&original, &[&retracted])), "first");
    }
}
