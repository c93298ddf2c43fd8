//! The chronology: pure reconciliation of stored records into
//! [`Entry`]s, with no disk or network.
//!
//! - [`family_of`]: a child's family: children linked by household records
//!   or by an administrator, less an administrator's unlinks ([`family`]).
//! - [`reconcile`]: one entry per record naming any child in view (a record
//!   naming two siblings appears once), amendments folded into the entry
//!   they correct, flags, a date range, and the order.
//!
//! Who a line is from: its agency is the sending device's enrolled agency
//! (the store reads it from the device, not from the record), and its
//! author is shown with the device's worker when they differ (a shared
//! tablet). An amendment is folded only into a record of its own device;
//! one that claims to correct another device's record (stored before
//! ingest refused them, issue 11) is shown on its own and changes nothing.
//!
//! Why this order: a chronology is read as "what happened, when". Entries
//! are sorted by `occurred_at`, never by capture or sync time, so a record
//! that arrives late slots into its place. Ties are broken by agency, then
//! device id, then sequence number: arbitrary but total and stable, so two
//! pulls of the same data print the same lines.
//!
//! [`format`] renders a [`Chronology`] as a table, CSV or JSON.

pub mod family;
pub mod format;

pub use family::family_of;

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};

use crate::line::{Amends, FiledRecord};
pub use crate::line::{Flag, FlagSet, detail_flags};

/// How far after its (corrected) capture time an event may be dated before
/// it is flagged: room for the clock estimate, not for a wrong day.
pub const FUTURE_TOLERANCE_SECS: i64 = 15 * 60;

/// What an amendment changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentInfo {
    /// The amendment record.
    pub amended_by: RecordId,
    /// Why.
    pub reason: String,
    /// The original headline.
    pub original_headline: String,
    /// The original `occurred_at`.
    pub original_occurred_at: Timestamp,
    /// The children the original named (the amendment may correct them;
    /// a pull then discloses the entry to both, and logs both).
    pub original_children: Vec<ChildRef>,
    /// Every version: the original, then each correction in its device's
    /// chain order (the last is the one shown).
    pub versions: Vec<Version>,
}

/// One version of an amended record (in JSON, an entry's `versions`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// The record holding this version (the original, or a correction).
    pub record_id: RecordId,
    /// Its `occurred_at`.
    pub occurred_at: Timestamp,
    /// Its headline.
    pub headline: String,
    /// Its children.
    pub children: Vec<ChildRef>,
    /// Who recorded it.
    pub author: String,
    /// When it was captured (device clock, corrected).
    pub recorded_at: Timestamp,
    /// Why it corrects the one before; `None` for the original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether this version retracts the record (entered in error).
    pub entered_in_error: bool,
}

impl Version {
    fn of(r: &FiledRecord) -> Self {
        Self {
            record_id: r.line.id,
            occurred_at: r.line.occurred_at,
            headline: r.line.headline.clone(),
            children: r.line.children.clone(),
            author: r.line.author.clone(),
            recorded_at: r.corrected_time,
            reason: r.line.amends.as_ref().map(|a| a.reason.clone()),
            entered_in_error: r.line.amends.is_some()
                && r.line.detail_flags.has(Flag::EnteredInError),
        }
    }
}

/// One line of a chronology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The record.
    pub record_id: RecordId,
    /// When it happened (corrected by an amendment, if any).
    pub occurred_at: Timestamp,
    /// The recording agency.
    pub agency: String,
    /// The author.
    pub author: String,
    /// The enrolled worker of the device that sent it (differs from the
    /// author on a shared device).
    pub worker: String,
    /// The kind.
    pub kind: RecordKind,
    /// The headline (corrected by an amendment, if any).
    pub headline: String,
    /// The children it names.
    pub children: Vec<ChildRef>,
    /// Flags, sorted.
    pub flags: Vec<Flag>,
    /// The correction, if amended.
    pub amended: Option<AmendmentInfo>,
    /// When the server received it.
    pub received_at: Timestamp,
}

/// A chronology for one child or their family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chronology {
    /// The child asked for.
    pub child: ChildRef,
    /// Whether this is the family view.
    pub family: bool,
    /// The children in view.
    pub children: Vec<ChildRef>,
    /// The entries, in order.
    pub entries: Vec<Entry>,
    /// Each entry's record's own fields (by the entry's `record_id`), as
    /// its latest correction leaves them: empty from a pull (which decodes
    /// nothing); filled from the stored bytes by
    /// [`crate::record::attach`] where a format shows them (JSON `detail`,
    /// the CSV's panel columns).
    pub details: BTreeMap<RecordId, Detail>,
    /// The practice signals of the children in view, over their whole
    /// history whatever the date range ([`crate::signals`]): filled by
    /// [`crate::audit::pull`]; shown above the entries, never hiding or
    /// reordering one.
    pub signals: Vec<crate::signals::Signal>,
    /// The register's name and date of birth for each reference in view
    /// that the register knows (issue 17): filled by
    /// [`crate::audit::pull`], shown beside the reference in every format.
    pub names: BTreeMap<ChildRef, crate::people::Label>,
}

/// An inclusive range of `occurred_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    /// From (inclusive).
    pub from: Option<Timestamp>,
    /// To (inclusive).
    pub to: Option<Timestamp>,
}

impl DateRange {
    fn contains(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to)
    }
}

/// `r`'s flags, its own-field flags being `detail` (the latest
/// revision's, for an amended record).
fn flags_of(r: &FiledRecord, detail: FlagSet) -> FlagSet {
    let mut flags = detail;
    if r.late_entry {
        flags = flags.with(Flag::LateEntry);
    }
    if r.disputed {
        flags = flags.with(Flag::Disputed);
    }
    if r.line.occurred_at.0 > r.corrected_time.0.saturating_add(FUTURE_TOLERANCE_SECS) {
        flags = flags.with(Flag::FutureDated);
    }
    flags
}

/// Whether `r` is an amendment that may fold into the record it names: only
/// a record of the same device (the same signing key) can be amended.
fn own_amendment(r: &FiledRecord) -> Option<&Amends> {
    r.line
        .amends
        .as_ref()
        .filter(|a| a.corrects.device == r.line.id.device)
}

/// Every child a pull of `entries` for `view` discloses: the view, and for
/// an entry whose corrections changed the children, the children of every
/// version.
pub fn disclosed(entries: &[Entry], view: &BTreeSet<ChildRef>) -> BTreeSet<ChildRef> {
    let mut all = view.clone();
    for e in entries {
        if let Some(a) = &e.amended
            && a.versions.iter().any(|v| v.children != e.children)
        {
            all.extend(e.children.iter().cloned());
            for v in &a.versions {
                all.extend(v.children.iter().cloned());
            }
        }
    }
    all
}

/// Where an own-device correction belongs.
enum Chain {
    /// Folded into the entry of this record, the first of its chain that
    /// is not itself a correction.
    Root(RecordId),
    /// Its original (or a link of its chain) has not arrived: held
    /// pending, shown on its own and flagged.
    Pending,
}

/// Follows `r`'s chain of corrections back to the record they correct.
fn chain_of(r: &FiledRecord, by_id: &BTreeMap<RecordId, &FiledRecord>) -> Option<Chain> {
    let mut cur = own_amendment(r)?.corrects;
    // A chain is at most as long as the records; a longer walk is a
    // cycle, which no honest device signs: held pending, never folded.
    for _ in 0..by_id.len() {
        let Some(t) = by_id.get(&cur) else {
            return Some(Chain::Pending);
        };
        match own_amendment(t) {
            Some(a) => cur = a.corrects,
            None => return Some(Chain::Root(cur)),
        }
    }
    Some(Chain::Pending)
}

/// The corrections of each record, in their device's chain order (a
/// higher sequence number is later), and the corrections held pending.
fn corrections(
    records: &[FiledRecord],
) -> (BTreeMap<RecordId, Vec<&FiledRecord>>, BTreeSet<RecordId>) {
    let by_id: BTreeMap<RecordId, &FiledRecord> = records.iter().map(|r| (r.line.id, r)).collect();
    let mut chains: BTreeMap<RecordId, Vec<&FiledRecord>> = BTreeMap::new();
    let mut pending = BTreeSet::new();
    for r in records {
        match chain_of(r, &by_id) {
            Some(Chain::Root(root)) => chains.entry(root).or_default().push(r),
            Some(Chain::Pending) => {
                pending.insert(r.line.id);
            }
            None => {}
        }
    }
    for c in chains.values_mut() {
        c.sort_by_key(|r| r.line.id.seq);
    }
    (chains, pending)
}

/// The own-field flags a chain of corrections gives its record: the latest
/// revision's (a retraction's carry `entered_in_error`); `None` when no
/// revision corrects it (an old-style amendment corrects only the common
/// fields). One rule for what an entry shows and for what links families.
fn latest_revision_flags(chain: &[&FiledRecord]) -> Option<FlagSet> {
    chain
        .iter()
        .rev()
        .find(|c| c.line.kind == RecordKind::Revision)
        .map(|c| c.line.detail_flags)
}

/// The records retracted (entered in error) by the latest revision of
/// their chain, among `records`. Family grouping ignores them and their
/// corrections: a record entered in error links no family.
pub fn retracted(records: &[FiledRecord]) -> BTreeSet<RecordId> {
    let (chains, _) = corrections(records);
    let mut out = BTreeSet::new();
    for (root, chain) in chains {
        if latest_revision_flags(&chain).is_some_and(|f| f.has(Flag::EnteredInError)) {
            out.insert(root);
            out.extend(chain.iter().map(|c| c.line.id));
        }
    }
    out
}

/// Folds `r`'s chain of corrections (in chain order) into its `entry`:
/// the latest version's headline, date and children, every version kept.
/// Returns the own-field flags the record now has (the latest revision's;
/// an old-style amendment corrects only the common fields), or `None` for
/// an empty chain.
fn fold(entry: &mut Entry, r: &FiledRecord, chain: &[&FiledRecord]) -> Option<FlagSet> {
    let latest = chain.last()?;
    let detail = latest_revision_flags(chain).unwrap_or(r.line.detail_flags);
    let mut versions = vec![Version::of(r)];
    versions.extend(chain.iter().map(|c| Version::of(c)));
    entry.amended = Some(AmendmentInfo {
        amended_by: latest.line.id,
        reason: latest
            .line
            .amends
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        original_headline: entry.headline.clone(),
        original_occurred_at: entry.occurred_at,
        original_children: entry.children.clone(),
        versions,
    });
    entry.headline = latest.line.headline.clone();
    entry.occurred_at = latest.line.occurred_at;
    entry.children = latest.line.children.clone();
    Some(detail)
}

/// Builds the entries for the children in `view` from `records`.
pub fn reconcile(
    records: &[FiledRecord],
    view: &BTreeSet<ChildRef>,
    range: DateRange,
) -> Vec<Entry> {
    let (chains, pending) = corrections(records);
    let folded: BTreeSet<RecordId> = chains.values().flatten().map(|r| r.line.id).collect();
    let mut entries = Vec::new();
    for r in records {
        if folded.contains(&r.line.id) {
            // Folded into the entry it corrects.
            continue;
        }
        let mut entry = Entry {
            record_id: r.line.id,
            occurred_at: r.line.occurred_at,
            agency: r.line.agency.clone(),
            author: r.line.author.clone(),
            worker: r.worker.clone(),
            kind: r.line.kind,
            headline: r.line.headline.clone(),
            children: r.line.children.clone(),
            flags: Vec::new(),
            amended: None,
            received_at: r.received_at,
        };
        let mut flags = flags_of(r, r.line.detail_flags);
        if pending.contains(&r.line.id) {
            flags = flags.with(Flag::CorrectsUnknownRecord);
        }
        if let Some(chain) = chains.get(&r.line.id)
            && let Some(detail) = fold(&mut entry, r, chain)
        {
            flags = flags_of(r, detail).with(Flag::Amended);
        }
        entry.flags = flags.flags().collect();
        if entry.children.iter().any(|c| view.contains(c)) && range.contains(entry.occurred_at) {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| {
        (
            a.occurred_at,
            &a.agency,
            a.record_id.device,
            a.record_id.seq,
        )
            .cmp(&(
                b.occurred_at,
                &b.agency,
                b.record_id.device,
                b.record_id.seq,
            ))
    });
    entries
}

#[cfg(test)]
pub(crate) mod tests;
