//! Stored signal states (issue 16, on either backend but migration 0009 and
//! the timing over SQLite's rows): migration 0009, children marked stale
//! in the ingest transaction and by family changes, a state stored only
//! if nothing changed while it was computed, acknowledgements kept for
//! ever.

use ed25519_dalek::SigningKey;
use hearth_shared::{ChildRef, DeviceId, RecordId, Seq, Timestamp};
use rusqlite::Connection;

use super::super::migrations::{MIGRATIONS, migrate};
use super::super::{SqliteStore, db_path};
use super::{ANNA, BEN, bodies, chain, enrol, insert, version_3};
use crate::line::Line;
use crate::signals::{Acknowledgement, Rule};
use crate::store::any::AnyStore;
use crate::store::testing;
use crate::store::{FamilyChange, SignalState, Store};

const CARL: &str = "nhs:9434765870";

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn dirty(store: &impl Store, c: &str) -> Option<i64> {
    store
        .signal_states(&[child(c)])
        .unwrap()
        .first()
        .map(|s| s.dirty)
}

/// A store with the three records of `bodies` (a visit to both
/// children, a voice record of Anna, an amendment of the visit).
fn stored() -> (tempfile::TempDir, AnyStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = testing::open(dir.path());
    let key = SigningKey::from_bytes(&[21; 32]);
    let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
    insert(&mut store, &key, &chain(&key, &bodies(device)));
    (dir, store)
}

#[test]
fn migration_0009_recomputes_every_rows_flags_and_marks_every_child_stale() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[22; 32]);
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let records = chain(&key, &bodies(device));
    version_3(dir.path(), &key, &records);
    {
        // Up to 0008, then flags as a server before issue 16 left them.
        let mut conn = Connection::open(db_path(dir.path())).unwrap();
        migrate(&mut conn, &MIGRATIONS[..8]).unwrap();
        conn.execute("UPDATE records SET detail_flags = 0", [])
            .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let conn = Connection::open(db_path(dir.path())).unwrap();
    let mut nonzero = 0;
    for (e, _) in &records {
        let flags: u32 = conn
            .query_row(
                "SELECT detail_flags FROM records WHERE seq = ?1",
                [e.seq.0 as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(flags, Line::of(e).detail_flags.bits(), "record {}", e.seq.0);
        nonzero += usize::from(flags != 0);
    }
    assert!(nonzero > 0, "the fixture has flagged records");
    let now = Timestamp(1_800_000_000);
    let mut stale = store.stale_children(now, "", usize::MAX).unwrap();
    stale.sort();
    let mut want = vec![child(ANNA), child(BEN)];
    want.sort();
    assert_eq!(stale, want);
    for s in store.signal_states(&want).unwrap() {
        assert_eq!(s.dirty, 1);
        assert!(s.computed_at.is_none() && s.signals.is_empty());
    }
}

#[test]
fn ingest_marks_every_named_child_and_an_amendments_original_children() {
    let (_dir, store) = stored();
    // Anna: the visit, the voice record, the amendment, and the amended
    // visit again; Ben: the visit, the amendment, the amended visit.
    assert_eq!(dirty(&store, ANNA), Some(4));
    assert_eq!(dirty(&store, BEN), Some(3));
    assert_eq!(dirty(&store, CARL), None, "named by no record");
}

#[test]
fn a_disputed_record_and_a_family_change_mark_their_children() {
    let (_dir, mut store) = stored();
    let key = SigningKey::from_bytes(&[21; 32]);
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    store
        .ingest(|tx| {
            tx.mark_disputed(RecordId {
                device,
                seq: Seq(2),
            })
        })
        .unwrap();
    assert_eq!(dirty(&store, ANNA), Some(5));
    assert_eq!(dirty(&store, BEN), Some(3));
    for linked in [true, false] {
        store
            .change_family(&FamilyChange {
                at: Timestamp(10),
                linked,
                a: child(BEN),
                b: child(CARL),
                who: "admin".into(),
                reason: "same household".into(),
            })
            .unwrap();
    }
    assert_eq!(dirty(&store, BEN), Some(5));
    assert_eq!(dirty(&store, CARL), Some(2));
}

#[test]
fn a_state_is_stored_only_if_nothing_changed_while_it_was_computed() {
    let (_dir, store) = stored();
    let now = Timestamp(1_800_000_000);
    let read = dirty(&store, ANNA).unwrap();
    let computed = SignalState {
        child: child(ANNA),
        dirty: read,
        signals: Vec::new(),
        computed_at: Some(now),
        recheck_at: Some(Timestamp(now.0 + 100)),
        fingerprint: "v1".into(),
    };
    // A link committed between the read and the write.
    store
        .change_family(&FamilyChange {
            at: now,
            linked: true,
            a: child(ANNA),
            b: child(CARL),
            who: "admin".into(),
            reason: "same household".into(),
        })
        .unwrap();
    assert!(!store.save_signal_state(&computed).unwrap());
    assert_eq!(dirty(&store, ANNA), Some(read + 1), "left stale");
    assert!(
        store
            .stale_children(now, "v1", 10)
            .unwrap()
            .contains(&child(ANNA))
    );

    let again = SignalState {
        dirty: read + 1,
        ..computed
    };
    assert!(store.save_signal_state(&again).unwrap());
    let s = &store.signal_states(&[child(ANNA)]).unwrap()[0];
    assert_eq!((s.dirty, s.computed_at), (0, Some(now)));
    assert!(!s.is_stale(now, "v1"));
    assert!(
        !store
            .stale_children(now, "v1", 10)
            .unwrap()
            .contains(&child(ANNA))
    );
    // A deadline falling due, or other thresholds, make it stale again.
    assert!(s.is_stale(Timestamp(now.0 + 100), "v1"));
    assert!(s.is_stale(now, "v2"));
    let later = store
        .stale_children(Timestamp(now.0 + 100), "v1", 10)
        .unwrap();
    assert!(later.contains(&child(ANNA)));
    assert!(
        store
            .stale_children(now, "v2", 10)
            .unwrap()
            .contains(&child(ANNA))
    );
    // A child with no state yet (named by no record) is stored once.
    let carl = SignalState::never_computed(child(CARL), 0);
    assert!(
        !store.save_signal_state(&carl).unwrap(),
        "the link marked Carl"
    );
    assert!(
        store
            .save_signal_state(&SignalState {
                dirty: 1,
                computed_at: Some(now),
                ..carl
            })
            .unwrap()
    );
}

#[test]
fn acknowledgements_are_kept_and_never_changed_or_deleted() {
    let (dir, store) = stored();
    let id = |seq| RecordId {
        device: DeviceId([1; 8]),
        seq: Seq(seq),
    };
    let ack = |c: &str, at, evidence: Vec<RecordId>| Acknowledgement {
        child: child(c),
        rule: Rule::MeetingsWithoutMinutes,
        by: "dsl.lead".into(),
        at: Timestamp(at),
        note: "minutes chased with the chair".into(),
        evidence,
    };
    let a = ack(BEN, 5, vec![id(1), id(2)]);
    let b = ack(ANNA, 6, vec![id(3)]);
    store.add_signal_ack(&a).unwrap();
    store.add_signal_ack(&b).unwrap();
    assert_eq!(store.signal_acks(None).unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(
        store.signal_acks(Some(&[child(ANNA), child(BEN)])).unwrap(),
        vec![a.clone(), b.clone()],
        "oldest first across children"
    );
    assert_eq!(store.signal_acks(Some(&[child(ANNA)])).unwrap(), vec![b]);
    // The database itself refuses, whoever asks.
    let delete = testing::execute(dir.path(), "DELETE FROM signal_acks").unwrap_err();
    assert!(delete.contains("never"), "{delete}");
    let update = testing::execute(dir.path(), "UPDATE signal_acks SET note = 'x'").unwrap_err();
    assert!(update.contains("never changed"), "{update}");
    assert_eq!(store.signal_acks(None).unwrap().len(), 2);
}

/// The caseload over 10,000 children with fresh states reads only the
/// stored states and acknowledgements: well under a second (optimised;
/// this bound allows for a debug build).
#[test]
fn the_caseload_of_ten_thousand_fresh_children_reads_states_alone() {
    use crate::signals::{Config, Signal};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let config = Config::default();
    let now = Timestamp(1_800_000_000);
    let signal = |c: &ChildRef, i: i64| Signal {
        rule: Rule::WasNotBroughtRepeated,
        title: "The child was not brought to appointments again".into(),
        explanation: "2 appointments missed within 365 days".into(),
        learning_point: "LP4".into(),
        children: vec![c.clone()],
        evidence: vec![RecordId {
            device: DeviceId([7; 8]),
            seq: Seq(i as u64 + 1),
        }],
        first_seen: Timestamp(1_700_000_000 + i),
        last_seen: Timestamp(1_700_000_000 + i),
        acknowledged: None,
    };
    {
        let mut conn = Connection::open(db_path(dir.path())).unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..10_000_i64 {
            let c: ChildRef = format!("local:LA-NORTH:{i}").parse().unwrap();
            // Every other child has a signal; all are fresh.
            let signals = if i % 2 == 0 {
                vec![signal(&c, i)]
            } else {
                vec![]
            };
            tx.execute(
                "INSERT INTO signal_state (child, dirty, signals, computed_at, recheck_at, config) VALUES (?1, 0, ?2, ?3, NULL, ?4)",
                rusqlite::params![c.to_string(), serde_json::to_string(&signals).unwrap(), now.0, config.fingerprint()],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let started = std::time::Instant::now();
    let rows = crate::signals::refresh::caseload(&store, &config, now).unwrap();
    let took = started.elapsed();
    assert_eq!(rows.len(), 5_000);
    assert_eq!(
        rows[0].child,
        "local:LA-NORTH:9998".parse().unwrap(),
        "newest first"
    );
    let bound = if cfg!(debug_assertions) { 5.0 } else { 1.0 };
    assert!(took.as_secs_f64() < bound, "{took:?}");
    eprintln!("caseload of 10,000 fresh children: {took:?}");
}
