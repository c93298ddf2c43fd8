//! Chronology reconciliation ([`hearth_sync_server::chronology::reconcile`])
//! over arbitrary sets of valid signed records from three devices: plain
//! records, amendments and revisions correcting their own device's
//! records, another device's, a record that never arrived, or each other
//! in a cycle. Each record is signed, verified as ingest verifies it, and
//! filed as the store files it (late entry and dispute flags, capture and
//! arrival times chosen by the fuzzer).
//!
//! Invariants (what `chronology/mod.rs` promises):
//! - the entries are in strict (occurred_at, agency, device, seq) order;
//! - every record is shown exactly once: as an entry, or as a version
//!   folded into the entry of the record its own device's corrections
//!   lead back to (the original first, then the corrections in chain
//!   order); nothing lost, nothing twice;
//! - an amended entry shows its latest version's headline, date and
//!   children;
//! - the order the records arrive in changes nothing (a late record slots
//!   into its place);
//! - a view and a date range select from the full chronology, and change
//!   no entry;
//! - the table, CSV and JSON formats render it.

#![no_main]

#[allow(dead_code)]
mod server;

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use hearth_shared::{ChildRef, DeviceId, RecordHash, RecordId, Seq, Timestamp};
use hearth_sync_server::chronology::{Chronology, DateRange, Entry, format, reconcile};
use hearth_sync_server::line::FiledRecord;
use libfuzzer_sys::fuzz_target;

use server::records::{BodyPlan, CHILDREN, Corrupt, signed_bytes};
use server::{NOW, key};

const DEVICES: [u8; 3] = [21, 22, 23];

#[derive(Arbitrary, Debug)]
struct RecordPlan {
    device: u8,
    seq: u8,
    body: BodyPlan,
    device_minutes: i16,
    clock_error_minutes: i8,
    received_minutes: u16,
    late_entry: bool,
    disputed: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    records: Vec<RecordPlan>,
    view: u8,
    from_minutes: Option<i16>,
    to_minutes: Option<i16>,
    rotate: u8,
}

fn filed(plan: &RecordPlan, devices: &[DeviceId]) -> Option<FiledRecord> {
    let k = key(DEVICES[usize::from(plan.device) % DEVICES.len()]);
    let seq = Seq(u64::from(plan.seq).max(1));
    let env = plan
        .body
        .envelope(&k, devices, seq, RecordHash::GENESIS, plan.device_minutes)?;
    let bytes = signed_bytes(&k, &env, Corrupt::None);
    let verified = hearth_shared::verify(&k.verifying_key(), &bytes).expect("signed, so verified");
    let e = verified.envelope();
    let corrected = Timestamp(e.device_time.0 - i64::from(plan.clock_error_minutes) * 60);
    let received = Timestamp(corrected.0 + i64::from(plan.received_minutes) * 60);
    Some(FiledRecord::from_envelope(
        e,
        received,
        corrected,
        plan.late_entry,
        plan.disputed,
    ))
}

fn key_of(e: &Entry) -> (Timestamp, &str, DeviceId, Seq) {
    (
        e.occurred_at,
        e.agency.as_str(),
        e.record_id.device,
        e.record_id.seq,
    )
}

/// Every record shown exactly once, versions in chain order, the latest
/// version shown.
fn check_accounting(entries: &[Entry], records: &[FiledRecord]) {
    let mut shown: BTreeMap<RecordId, usize> = BTreeMap::new();
    for e in entries {
        *shown.entry(e.record_id).or_default() += 1;
        let Some(a) = &e.amended else { continue };
        assert!(a.versions.len() >= 2, "an amended entry has a correction");
        assert_eq!(a.versions[0].record_id, e.record_id, "the original first");
        let last = a.versions.last().unwrap();
        assert_eq!(a.amended_by, last.record_id);
        assert_eq!(
            (e.occurred_at, &e.headline, &e.children),
            (last.occurred_at, &last.headline, &last.children),
            "the latest version is shown"
        );
        let corrections = &a.versions[1..];
        for w in corrections.windows(2) {
            assert!(w[0].record_id.seq < w[1].record_id.seq, "chain order");
        }
        for v in corrections {
            assert_eq!(v.record_id.device, e.record_id.device, "own device only");
            *shown.entry(v.record_id).or_default() += 1;
        }
    }
    let all: BTreeSet<RecordId> = records.iter().map(|r| r.line.id).collect();
    for (id, n) in &shown {
        assert_eq!(*n, 1, "{id} shown {n} times");
        assert!(all.contains(id), "{id} shown but never filed");
    }
    assert_eq!(shown.len(), all.len(), "a record is missing");
}

fn render(entries: Vec<Entry>) {
    let c = Chronology {
        child: CHILDREN[0].parse().unwrap(),
        family: true,
        children: CHILDREN.iter().map(|c| c.parse().unwrap()).collect(),
        entries,
        details: BTreeMap::new(),
        signals: Vec::new(),
        names: BTreeMap::new(),
    };
    let _ = format::table(&c);
    let _ = format::csv(&c);
    let _ = format::json(&c).to_string();
}

fuzz_target!(|input: Input| {
    let devices: Vec<DeviceId> = DEVICES
        .iter()
        .map(|s| DeviceId::from_public_key(key(*s).verifying_key().as_bytes()))
        .collect();
    let mut records: Vec<FiledRecord> = Vec::new();
    for plan in input.records.iter().take(24) {
        if let Some(r) = filed(plan, &devices)
            && !records.iter().any(|o| o.line.id == r.line.id)
        {
            records.push(r);
        }
    }
    let everyone: BTreeSet<ChildRef> = CHILDREN.iter().map(|c| c.parse().unwrap()).collect();
    let full = reconcile(&records, &everyone, DateRange::default());
    for w in full.windows(2) {
        assert!(key_of(&w[0]) < key_of(&w[1]), "entries out of order");
    }
    check_accounting(&full, &records);

    let mut shuffled = records.clone();
    shuffled.reverse();
    if !shuffled.is_empty() {
        let n = usize::from(input.rotate) % shuffled.len();
        shuffled.rotate_left(n);
    }
    assert_eq!(
        reconcile(&shuffled, &everyone, DateRange::default()),
        full,
        "the order records arrive in changed the chronology"
    );

    let view: BTreeSet<ChildRef> = CHILDREN
        .iter()
        .enumerate()
        .filter(|(i, _)| input.view & (1 << i) != 0)
        .map(|(_, c)| c.parse().unwrap())
        .collect();
    let at = |m: Option<i16>| m.map(|m| Timestamp(NOW.0 + i64::from(m) * 60));
    let range = DateRange {
        from: at(input.from_minutes),
        to: at(input.to_minutes),
    };
    let expected: Vec<Entry> = full
        .iter()
        .filter(|e| e.children.iter().any(|c| view.contains(c)))
        .filter(|e| range.from.is_none_or(|f| e.occurred_at >= f))
        .filter(|e| range.to.is_none_or(|t| e.occurred_at <= t))
        .cloned()
        .collect();
    assert_eq!(
        reconcile(&records, &view, range),
        expected,
        "a view or range changed an entry"
    );
    render(full);
});
