//! The six invariants (and convergence), checked over plain data
//! that [`super::trial`] gathers once a trial has settled: what each
//! device reported and holds, what the server holds, its forks, gaps and
//! chronologies. Pure, so each check has unit tests with cases that must
//! fail.
//!
//! The chronology reference: the entries of each child's chronology are
//! computed here from the union of every device's own records (their
//! `list --json` rows), ordered as `docs/api.md` and
//! `chronology::reconcile` define it: by `occurred_at`, then agency, then
//! device id, then sequence number. It is a second, independent statement
//! of the order over the devices' data, not the server's own `reconcile`
//! run on the server's data (which would compare the server with itself).
//! The trials capture no amendments, so no entry folds into another.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::Timestamp;

/// One record as its device's `list --json` (and `show --json`) gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// `<device>-<seq>`.
    pub id: String,
    /// `pending`, `synced`, `rejected`, `quarantined`.
    pub status: String,
    /// The chain hash (`show --json`'s `hash`), lower-case hex.
    pub hash: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Its agency.
    pub agency: String,
    /// The children it names.
    pub children: Vec<String>,
}

/// One device at the end of a trial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceState {
    /// Ids the agent printed as captured (its success line).
    pub reported: Vec<String>,
    /// What the device holds.
    pub records: Vec<DeviceRecord>,
}

/// One row of the server's `records` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRecord {
    /// `<device>-<seq>`.
    pub id: String,
    /// The chain hash recomputed from the stored bytes, hex.
    pub hash: String,
}

/// Everything the checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Each device.
    pub devices: Vec<DeviceState>,
    /// Every record the server holds (one entry per stored row).
    pub server: Vec<ServerRecord>,
    /// Fork alarms and quarantined records (`quarantine --json`), described.
    pub forks: Vec<String>,
    /// Open gaps (`devices --json`), as `<device> <from>..<to>`.
    pub gaps: Vec<String>,
    /// Each child's chronology on the server: record ids in order.
    pub chronologies: BTreeMap<String, Vec<String>>,
}

/// The invariants, as the report counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    /// Every record the agent reported captured exists on the device.
    ReportedOnDevice,
    /// Every record marked synced is on the server exactly once, byte for byte.
    SyncedOnServerOnce,
    /// No record is on the server that no agent captured.
    NothingUncaptured,
    /// No fork is raised falsely.
    NoFalseFork,
    /// Every gap closes once all devices have synced.
    GapsClose,
    /// The chronology equals the one computed from the union of the devices' records.
    Chronology,
    /// With faults off, sync converges: nothing stays pending.
    Converges,
}

impl Invariant {
    /// All of them, in report order.
    pub const ALL: [Self; 7] = [
        Self::ReportedOnDevice,
        Self::SyncedOnServerOnce,
        Self::NothingUncaptured,
        Self::NoFalseFork,
        Self::GapsClose,
        Self::Chronology,
        Self::Converges,
    ];

    /// Its name in the report and in a failure line.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReportedOnDevice => "reported-captured-on-device",
            Self::SyncedOnServerOnce => "synced-on-server-once",
            Self::NothingUncaptured => "nothing-uncaptured-on-server",
            Self::NoFalseFork => "no-false-fork",
            Self::GapsClose => "gaps-close",
            Self::Chronology => "chronology",
            Self::Converges => "converges",
        }
    }
}

/// One broken invariant and what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// The records or alarms concerned.
    pub detail: String,
}

/// Every violation in `o`, in [`Invariant::ALL`] order; empty when all hold.
pub fn check(o: &Observed) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut fail = |invariant, detail: String| out.push(Violation { invariant, detail });
    for (d, device) in o.devices.iter().enumerate() {
        let held: BTreeSet<&str> = device.records.iter().map(|r| r.id.as_str()).collect();
        let lost: Vec<&String> = device
            .reported
            .iter()
            .filter(|id| !held.contains(id.as_str()))
            .collect();
        if !lost.is_empty() {
            fail(
                Invariant::ReportedOnDevice,
                format!("device {d} reported {lost:?} captured but does not hold them"),
            );
        }
    }
    let mut on_server: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &o.server {
        on_server.entry(&r.id).or_default().push(&r.hash);
    }
    let all: Vec<&DeviceRecord> = o.devices.iter().flat_map(|d| &d.records).collect();
    for r in all.iter().filter(|r| r.status == "synced") {
        match on_server.get(r.id.as_str()).map(Vec::as_slice) {
            Some([hash]) if *hash == r.hash => {}
            Some([hash]) => fail(
                Invariant::SyncedOnServerOnce,
                format!(
                    "{}: the server's bytes hash to {hash}, the device's to {}",
                    r.id, r.hash
                ),
            ),
            held => fail(
                Invariant::SyncedOnServerOnce,
                format!(
                    "{} is marked synced but the server holds it {} times",
                    r.id,
                    held.map_or(0, <[_]>::len)
                ),
            ),
        }
    }
    let captured: BTreeMap<&str, &str> = all
        .iter()
        .map(|r| (r.id.as_str(), r.hash.as_str()))
        .collect();
    for r in &o.server {
        if captured.get(r.id.as_str()) != Some(&r.hash.as_str()) {
            fail(
                Invariant::NothingUncaptured,
                format!(
                    "the server holds {} ({}), which no device holds",
                    r.id, r.hash
                ),
            );
        }
    }
    if !o.forks.is_empty() {
        fail(Invariant::NoFalseFork, o.forks.join("; "));
    }
    if !o.gaps.is_empty() {
        fail(Invariant::GapsClose, o.gaps.join("; "));
    }
    let expected = expected_chronologies(&all);
    let children: BTreeSet<&String> = expected.keys().chain(o.chronologies.keys()).collect();
    for child in children {
        let want = expected.get(child).cloned().unwrap_or_default();
        let got = o.chronologies.get(child).cloned().unwrap_or_default();
        if want != got {
            fail(
                Invariant::Chronology,
                format!("{child}: expected {want:?}, the server has {got:?}"),
            );
        }
    }
    let pending: Vec<&str> = all
        .iter()
        .filter(|r| r.status != "synced")
        .map(|r| r.id.as_str())
        .collect();
    if !pending.is_empty() {
        fail(
            Invariant::Converges,
            format!("not synced after the fault-free syncs: {pending:?}"),
        );
    }
    out.sort_by_key(|v| v.invariant);
    out
}

/// Each child's chronology from the devices' records: ids ordered by
/// occurred_at, agency, device, seq (see the module comment).
pub fn expected_chronologies(records: &[&DeviceRecord]) -> BTreeMap<String, Vec<String>> {
    let mut by_child: BTreeMap<String, Vec<&DeviceRecord>> = BTreeMap::new();
    for r in records {
        for c in &r.children {
            by_child.entry(c.clone()).or_default().push(r);
        }
    }
    by_child
        .into_iter()
        .map(|(child, mut rs)| {
            rs.sort_by_key(|r| (r.occurred_at, r.agency.clone(), split_id(&r.id)));
            (child, rs.iter().map(|r| r.id.clone()).collect())
        })
        .collect()
}

/// `<device>-<seq>` → (device hex, seq): hex of a fixed width orders as
/// the device id's bytes do.
fn split_id(id: &str) -> (String, u64) {
    match id.rsplit_once('-') {
        Some((device, seq)) => (device.to_string(), seq.parse().unwrap_or(u64::MAX)),
        None => (id.to_string(), u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "nhs:9434765919";
    const B: &str = "nhs:4010232137";

    fn rec(id: &str, at: i64, agency: &str, child: &str) -> DeviceRecord {
        DeviceRecord {
            id: id.into(),
            status: "synced".into(),
            hash: format!("h{id}"),
            occurred_at: Timestamp(at),
            agency: agency.into(),
            children: vec![child.into()],
        }
    }

    /// Two devices, three records, all synced and all consistent.
    fn healthy() -> Observed {
        let d1 = DeviceState {
            reported: vec!["aa-1".into(), "aa-2".into()],
            records: vec![rec("aa-1", 100, "HV", A), rec("aa-2", 50, "HV", B)],
        };
        let d2 = DeviceState {
            reported: vec!["bb-1".into()],
            records: vec![rec("bb-1", 100, "CSC", A)],
        };
        let server = ["aa-1", "aa-2", "bb-1"]
            .iter()
            .map(|id| ServerRecord {
                id: id.to_string(),
                hash: format!("h{id}"),
            })
            .collect();
        Observed {
            devices: vec![d1, d2],
            server,
            forks: vec![],
            gaps: vec![],
            chronologies: [
                (A.to_string(), vec!["bb-1".to_string(), "aa-1".to_string()]),
                (B.to_string(), vec!["aa-2".to_string()]),
            ]
            .into(),
        }
    }

    fn broken(o: &Observed) -> Vec<Invariant> {
        check(o).into_iter().map(|v| v.invariant).collect()
    }

    #[test]
    fn a_consistent_trial_passes_every_invariant() {
        assert_eq!(check(&healthy()), vec![]);
    }

    #[test]
    fn a_reported_record_missing_from_its_device_fails() {
        let mut o = healthy();
        o.devices[0].reported.push("aa-3".into());
        assert_eq!(broken(&o), [Invariant::ReportedOnDevice]);
    }

    #[test]
    fn a_synced_record_missing_twice_or_altered_on_the_server_fails() {
        let mut o = healthy();
        o.server.retain(|r| r.id != "aa-2");
        let b = broken(&o);
        assert!(b.contains(&Invariant::SyncedOnServerOnce), "{b:?}");

        let mut o = healthy();
        o.server.push(o.server[0].clone());
        assert_eq!(broken(&o), [Invariant::SyncedOnServerOnce]);

        let mut o = healthy();
        o.server[1].hash = "other".into();
        let b = broken(&o);
        assert!(b.contains(&Invariant::SyncedOnServerOnce), "{b:?}");
        assert!(b.contains(&Invariant::NothingUncaptured), "{b:?}");
    }

    #[test]
    fn a_record_no_device_captured_fails() {
        let mut o = healthy();
        o.server.push(ServerRecord {
            id: "cc-1".into(),
            hash: "hcc-1".into(),
        });
        assert_eq!(broken(&o), [Invariant::NothingUncaptured]);
    }

    #[test]
    fn any_fork_alarm_fails() {
        let mut o = healthy();
        o.forks.push("alarm aa-2: fork".into());
        assert_eq!(broken(&o), [Invariant::NoFalseFork]);
    }

    #[test]
    fn an_open_gap_fails() {
        let mut o = healthy();
        o.gaps.push("aa 2..2".into());
        assert_eq!(broken(&o), [Invariant::GapsClose]);
    }

    #[test]
    fn a_chronology_out_of_order_or_missing_an_entry_fails() {
        let mut o = healthy();
        o.chronologies.get_mut(A).unwrap().reverse();
        assert_eq!(broken(&o), [Invariant::Chronology]);

        let mut o = healthy();
        o.chronologies.remove(B);
        assert_eq!(broken(&o), [Invariant::Chronology]);

        let mut o = healthy();
        o.chronologies
            .insert("nhs:9990548609".into(), vec!["aa-1".into()]);
        assert_eq!(broken(&o), [Invariant::Chronology]);

        // An empty chronology for a child nobody recorded is the same as none.
        let mut o = healthy();
        o.chronologies.insert("nhs:9990548609".into(), vec![]);
        assert_eq!(broken(&o), []);
    }

    #[test]
    fn ties_order_by_agency_then_device_then_seq() {
        let r1 = rec("bb-2", 10, "HV", A);
        let r2 = rec("aa-9", 10, "HV", A);
        let r3 = rec("aa-10", 10, "HV", A);
        let r4 = rec("zz-1", 10, "CSC", A);
        let got = expected_chronologies(&[&r1, &r2, &r3, &r4]);
        assert_eq!(got[A], ["zz-1", "aa-9", "aa-10", "bb-2"]);
    }

    #[test]
    fn a_pending_record_after_the_fault_free_syncs_fails() {
        let mut o = healthy();
        o.devices[1].records[0].status = "pending".into();
        assert_eq!(broken(&o), [Invariant::Converges]);
    }
}
