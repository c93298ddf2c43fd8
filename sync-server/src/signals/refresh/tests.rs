//! Tests of keeping signals current: with a stand-in for the rules (one
//! family-wide signal over every entry), so that they hold whichever
//! rules fire; and one with the rules themselves.

use std::cell::Cell;
use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, Timestamp};

use super::*;
use crate::audit::{self, AckError, AckRequest, PullError};
use crate::clock::FixedClock;
use crate::store::Via;
use crate::store::any::AnyStore;
use crate::store::sqlite::tests::{ANNA, BEN, bodies, chain, enrol, insert};
use crate::store::testing;

const NOW: Timestamp = Timestamp(1_800_000_000);
const RECHECK: Timestamp = Timestamp(1_800_000_100);

thread_local! {
    /// How many children the stand-in evaluated, on this test's thread.
    static EVALUATED: Cell<usize> = const { Cell::new(0) };
}

fn evaluated() -> usize {
    EVALUATED.with(Cell::get)
}

/// The stand-in: every child with entries in its family gets one
/// family-wide signal whose evidence is every entry, due for a recheck
/// at [`RECHECK`].
fn every_entry(
    child: &ChildRef,
    entries: &[Entry],
    _: &BTreeMap<RecordId, Detail>,
    _: &Config,
    _: &crate::signals::known::Known,
    _: Timestamp,
) -> Evaluation {
    EVALUATED.with(|n| n.set(n.get() + 1));
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Evaluation::default();
    };
    Evaluation {
        signals: vec![Signal {
            rule: Rule::MeetingsWithoutMinutes,
            title: "Meetings without minutes".into(),
            explanation: format!("{} entries", entries.len()),
            learning_point: "LP".into(),
            children: vec![child.clone()],
            evidence: entries.iter().map(|e| e.record_id).collect(),
            first_seen: first.occurred_at,
            last_seen: last.occurred_at,
            acknowledged: None,
        }],
        recheck_at: Some(RECHECK),
    }
}

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

/// A store with a visit to Anna and Ben, a voice record of Anna and an
/// amendment of the visit (one family: the visit names both).
fn stored() -> (tempfile::TempDir, AnyStore, SigningKey) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = testing::open(dir.path());
    let key = SigningKey::from_bytes(&[31; 32]);
    let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
    insert(&mut store, &key, &chain(&key, &bodies(device)));
    (dir, store, key)
}

#[test]
fn a_read_recomputes_a_stale_family_once_and_merges_a_family_wide_signal() {
    let (_dir, store, _) = stored();
    let config = Config::default();
    let both = [child(ANNA), child(BEN)];
    let got = current_with(&store, &config, &both, NOW, every_entry).unwrap();
    assert_eq!(evaluated(), 2, "each member once");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].children, both.to_vec(), "one signal naming both");
    assert!(got[0].evidence.len() >= 2);
    assert!(
        store
            .stale_children(NOW, &config.fingerprint(), 10)
            .unwrap()
            .is_empty(),
        "every member stored current"
    );
    // Fresh now: read from the store, nothing evaluated.
    let again = current_with(&store, &config, &both, NOW, every_entry).unwrap();
    assert_eq!((again, evaluated()), (got.clone(), 2));
    // A child's own view names only the child.
    let anna = current_with(&store, &config, &[child(ANNA)], NOW, every_entry).unwrap();
    assert_eq!(anna[0].children, vec![child(ANNA)]);
    assert_eq!(evaluated(), 2);
    // A deadline falling due makes the family stale again.
    current_with(&store, &config, &[child(BEN)], RECHECK, every_entry).unwrap();
    assert_eq!(evaluated(), 4);
}

#[test]
fn reading_a_child_no_record_names_stores_nothing() {
    let (_dir, store, _) = stored();
    let config = Config::default();
    let nobody = child("nhs:9434765870");
    let got = current_with(
        &store,
        &config,
        std::slice::from_ref(&nobody),
        NOW,
        every_entry,
    )
    .unwrap();
    assert!(got.is_empty());
    assert!(store.signal_states(&[nobody]).unwrap().is_empty());
}

#[test]
fn a_new_record_makes_its_childrens_family_stale() {
    let (_dir, mut store, key) = stored();
    let config = Config::default();
    refresh_stale_with(&store, &config, NOW, usize::MAX, every_entry).unwrap();
    let before = current_with(&store, &config, &[child(BEN)], NOW, every_entry).unwrap();
    let device = hearth_shared::DeviceId::from_public_key(key.verifying_key().as_bytes());
    let mut all = bodies(device);
    all.push(format!(
        r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-04T11:00:00Z","headline":"Said she was hungry","mode":"words","words":"hungry","action":"told the DSL"}}"#
    ));
    let records = chain(&key, &all);
    insert(&mut store, &key, &records[3..]);
    let stale = store
        .stale_children(NOW, &config.fingerprint(), 10)
        .unwrap();
    assert_eq!(stale, vec![child(ANNA)]);
    // Ben's family-wide signal holds Anna's new record once recomputed.
    let after = current_with(&store, &config, &[child(BEN)], NOW, every_entry).unwrap();
    assert_eq!(after[0].evidence.len(), before[0].evidence.len() + 1);
}

#[test]
fn refresh_keeps_to_its_budget_and_the_caseload_is_newest_first() {
    let (_dir, store, _) = stored();
    let config = Config::default();
    assert_eq!(
        refresh_stale_with(&store, &config, NOW, 0, every_entry).unwrap(),
        0
    );
    assert_eq!(evaluated(), 0);
    let rows = caseload_with(&store, &config, NOW, every_entry).unwrap();
    assert_eq!(evaluated(), 2);
    let children: Vec<_> = rows.iter().map(|r| r.child.clone()).collect();
    assert_eq!(children, vec![child(ANNA), child(BEN)]);
    for r in &rows {
        assert_eq!(r.rules, vec![Rule::MeetingsWithoutMinutes]);
        assert_eq!(r.newest_evidence, r.signals[0].last_seen);
    }
    // Fresh: the caseload reads states alone.
    caseload_with(&store, &config, NOW, every_entry).unwrap();
    assert_eq!(evaluated(), 2);
}

#[test]
fn caseload_is_one_access_log_row_naming_every_child_disclosed() {
    let (_dir, store, _) = stored();
    let config = Config::default();
    let clock = FixedClock(NOW);
    let refused = audit::caseload(
        &store,
        &clock,
        &config,
        "dsl.lead",
        "weekly",
        None,
        Via::Cli,
    );
    assert!(matches!(refused, Err(PullError::Reason(_))));
    assert!(store.access_log().unwrap().is_empty(), "nothing read");
    refresh_stale_with(&store, &config, NOW, usize::MAX, every_entry).unwrap();
    let rows = audit::caseload(
        &store,
        &clock,
        &config,
        "dsl.lead",
        "weekly caseload review",
        None,
        Via::Http,
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    let log = store.access_log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].child, None);
    assert_eq!((log[0].via, log[0].at), (Via::Http, NOW));
    assert_eq!(log[0].children, vec![child(ANNA), child(BEN)]);
    assert_eq!(log[0].reason, "weekly caseload review");
}

#[test]
fn an_acknowledgement_keeps_the_signals_evidence_and_needs_a_current_signal() {
    let (_dir, store, _) = stored();
    let config = Config::default();
    let clock = FixedClock(NOW);
    refresh_stale_with(&store, &config, NOW, usize::MAX, every_entry).unwrap();
    let signal =
        current_with(&store, &config, &[child(ANNA)], NOW, every_entry).unwrap()[0].clone();
    let req = |rule, note: &str| AckRequest {
        child: child(ANNA),
        rule,
        note: note.into(),
        who: "dsl.lead".into(),
        via: Via::Cli,
    };
    let short = audit::acknowledge(&store, &clock, &config, &req(signal.rule, "ok"));
    assert!(matches!(short, Err(AckError::Note(_))), "{short:?}");
    let none = audit::acknowledge(
        &store,
        &clock,
        &config,
        &req(Rule::ChildNotSeen, "seen at school on Monday"),
    );
    assert!(
        matches!(
            none,
            Err(AckError::NoSuchSignal {
                rule: Rule::ChildNotSeen,
                ..
            })
        ),
        "{none:?}"
    );
    assert!(store.signal_acks(None).unwrap().is_empty(), "nothing kept");
    let ack = audit::acknowledge(
        &store,
        &clock,
        &config,
        &req(signal.rule, "  minutes chased with the chair  "),
    )
    .unwrap();
    assert_eq!(ack.evidence, signal.evidence);
    assert_eq!((ack.by.as_str(), ack.at), ("dsl.lead", NOW));
    assert_eq!(ack.note, "minutes chased with the chair");
    assert_eq!(store.signal_acks(Some(&[child(ANNA)])).unwrap(), vec![ack]);
}

#[test]
fn an_acknowledged_signal_is_shown_acknowledged_and_leaves_the_caseload_until_new_evidence() {
    let (_dir, mut store, key) = stored();
    let config = Config::default();
    let clock = FixedClock(NOW);
    refresh_stale_with(&store, &config, NOW, usize::MAX, every_entry).unwrap();
    for c in [ANNA, BEN] {
        audit::acknowledge(
            &store,
            &clock,
            &config,
            &AckRequest {
                child: child(c),
                rule: Rule::MeetingsWithoutMinutes,
                note: "minutes chased with the chair".into(),
                who: "dsl.lead".into(),
                via: Via::Cli,
            },
        )
        .unwrap();
    }
    let both = [child(ANNA), child(BEN)];
    let got = current_with(&store, &config, &both, NOW, every_entry).unwrap();
    assert_eq!(got[0].acknowledged.as_ref().unwrap().by, "dsl.lead");
    assert!(
        caseload_with(&store, &config, NOW, every_entry)
            .unwrap()
            .is_empty()
    );
    // New evidence re-opens it.
    let device = hearth_shared::DeviceId::from_public_key(key.verifying_key().as_bytes());
    let mut all = bodies(device);
    all.push(format!(
        r#"{{"kind":"voice","children":["{BEN}"],"occurred_at":"2026-03-04T11:00:00Z","headline":"Said he was hungry","mode":"words","words":"hungry","action":"told the DSL"}}"#
    ));
    insert(&mut store, &key, &chain(&key, &all)[3..]);
    let got = current_with(&store, &config, &both, NOW, every_entry).unwrap();
    assert_eq!(got[0].acknowledged, None);
    assert_eq!(
        caseload_with(&store, &config, NOW, every_entry)
            .unwrap()
            .len(),
        2
    );
}

/// The wiring with the rules themselves: a core group meeting without
/// minutes raises `meetings_without_minutes` for the child it names.
#[test]
fn a_meeting_without_minutes_raises_its_signal_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = testing::open(dir.path());
    let key = SigningKey::from_bytes(&[32; 32]);
    enrol(&store, &key, "CSC", "sw.patel");
    let meeting = format!(
        r#"{{"kind":"meeting","children":["{ANNA}"],"occurred_at":"2026-03-05T14:00:00Z","headline":"Core group meeting","meeting_type":"core_group","attendees":[{{"name":"SW","agency":"CSC"}}],"minutes":"not_recorded"}}"#
    );
    insert(&mut store, &key, &chain(&key, &[meeting]));
    let got = current(&store, &Config::default(), &[child(ANNA)], NOW).unwrap();
    assert_eq!(
        got.iter().map(|s| s.rule).collect::<Vec<_>>(),
        vec![Rule::MeetingsWithoutMinutes]
    );
    let rows = caseload(&store, &Config::default(), NOW).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].child, child(ANNA));
}

/// Issue 17, through the store: a visiting plan makes the child stale,
/// and a visit overdue by it raises `child_not_seen`.
#[test]
fn an_overdue_planned_visit_raises_child_not_seen_through_the_store() {
    use crate::caseload::{CaseloadChange, VisitPlan};
    let (_dir, store, _) = stored();
    let config = Config::default();
    // Seen at the visit of Monday 2 March 2026; a visit every working day.
    // 2026-03-03T23:59:59Z: due that day, not yet overdue.
    let tuesday_night = Timestamp(1_772_582_399);
    refresh_stale(&store, &config, tuesday_night, usize::MAX).unwrap();
    store
        .change_caseload(
            &CaseloadChange::Plan(VisitPlan {
                child: child(ANNA),
                every_working_days: 1,
                label: "child protection plan".into(),
                since: Timestamp(1_772_409_600),
            }),
            "admin",
            tuesday_night,
        )
        .unwrap();
    let stale = store
        .stale_children(tuesday_night, &config.fingerprint(), 10)
        .unwrap();
    assert_eq!(stale, [child(ANNA)], "the plan made Anna stale");
    refresh_stale(&store, &config, tuesday_night, usize::MAX).unwrap();
    let state = &store.signal_states(&[child(ANNA)]).unwrap()[0];
    assert!(state.signals.iter().all(|s| s.rule != Rule::ChildNotSeen));
    assert_eq!(state.recheck_at, Some(Timestamp(tuesday_night.0 + 1)));
    let got = current(
        &store,
        &config,
        &[child(ANNA)],
        Timestamp(tuesday_night.0 + 1),
    )
    .unwrap();
    let s = got
        .iter()
        .find(|s| s.rule == Rule::ChildNotSeen)
        .expect("overdue");
    assert_eq!(
        s.explanation,
        "Visit due 3 March 2026 (every 1 working day), overdue."
    );
}
