//! Tests of [`LocalStore`] through the [`RecordStore`] trait, against
//! in-memory and on-disk stores: the shared helpers and the record tests
//! here, the migrations and the integrity checks in their own files.

use hearth_shared::signed::EncodeError;
use hearth_shared::{ChildRef, Envelope, FORMAT_VERSION, RecordHash, Seq, SignedRecord, Timestamp};
use rusqlite::{Connection, params};

use super::LocalStore;
use super::schema::MIGRATIONS;
use crate::capture::tests::{sample_body, test_key};
use crate::seal::{CHILD_TAG_LEN, DataKey, Sealer, Slot};
use crate::store::{
    DB_FILE_NAME as DB_FILE, LocalRecord, PushOutcome, RecordStore, StoreError, StoredReceipt,
    SyncStatus,
};

mod integrity;
mod migrations;
mod powerloss;
mod settings;

fn test_sealer() -> Sealer {
    Sealer::new(&DataKey::from_bytes([5u8; 32]))
}

fn append_one(store: &mut LocalStore, key: &crate::keys::DeviceKey) -> LocalRecord {
    let body = sample_body();
    store
        .append(Timestamp(1_800_000_000), &mut |seq, prev| {
            SignedRecord::sign(
                key.signing_key(),
                &Envelope {
                    version: FORMAT_VERSION,
                    device: key.device_id(),
                    seq,
                    prev,
                    device_time: Timestamp(1_800_000_000),
                    body: body.clone(),
                },
            )
        })
        .unwrap()
}

/// `records.child_tags` of row `seq`.
fn child_tags_of(store: &LocalStore, seq: i64) -> Option<Vec<u8>> {
    store
        .conn
        .query_row(
            "SELECT child_tags FROM records WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .unwrap()
}

/// A body like `sample_body` naming `children`.
fn body_naming(children: &[&str]) -> hearth_shared::Body {
    let json = crate::capture::tests::CONCERN.replace(
        r#"["nhs:9434765919"]"#,
        &serde_json::to_string(children).unwrap(),
    );
    hearth_shared::json::parse_body(&json, &crate::capture::tests::defaults()).unwrap()
}

const CHILD_A: &str = "nhs:9434765919";
const CHILD_B: &str = "nhs:4010232137";

fn seqs(records: &[LocalRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq.0).collect()
}

#[test]
fn appends_chain_and_records_are_immutable() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    let a = append_one(&mut store, &key);
    let b = append_one(&mut store, &key);
    assert_eq!(a.seq, Seq(1));
    assert_eq!(b.seq, Seq(2));
    assert_eq!(b.envelope().unwrap().prev, a.hash);
    assert_eq!(a.envelope().unwrap().prev, RecordHash::GENESIS);
    assert!(
        store
            .conn
            .execute(
                "UPDATE records SET sealed = NULL, purged_at = 1 WHERE seq = 1",
                []
            )
            .is_err()
    );
    assert!(store.conn.execute("DELETE FROM records", []).is_err());
    assert_eq!(store.get(Seq(1)).unwrap().unwrap().signed, a.signed);
}

#[test]
fn concurrent_writers_leave_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    LocalStore::open_dir(dir.path()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let key = test_key();
                let mut store = LocalStore::open_dir(&path).unwrap().unlocked(test_sealer());
                for _ in 0..25 {
                    append_one(&mut store, &key);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = LocalStore::open_dir(dir.path())
        .unwrap()
        .unlocked(test_sealer());
    let all = store.all().unwrap();
    assert_eq!(all.len(), 100);
    let mut prev = RecordHash::GENESIS;
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.seq, Seq(i as u64 + 1));
        assert_eq!(
            r.envelope().unwrap().prev,
            prev,
            "chain broken at {}",
            r.seq
        );
        prev = r.hash;
    }
}

#[test]
fn a_failed_signature_writes_nothing() {
    let mut store = LocalStore::open_in_memory().unwrap();
    let err = store.append(Timestamp(0), &mut |_, _| Err(EncodeError::BufferTooSmall));
    assert!(err.is_err());
    assert!(store.all().unwrap().is_empty());
}

/// Issue 7: purge drops only the bodies of synced records that a kept
/// receipt covers; the chain head, counts and receipts stay.
#[test]
fn issue_7_purge_takes_only_synced_records_with_receipts() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    let recs: Vec<_> = (0..4).map(|_| append_one(&mut store, &key)).collect();
    let now = Timestamp(1_800_000_500);
    store
        .apply(
            &PushOutcome {
                // seq 1 has a receipt; seq 2 is marked synced without one.
                synced: vec![Seq(1), Seq(2)],
                refused: vec![(Seq(3), SyncStatus::Rejected, "bad".into())],
                receipts: vec![StoredReceipt {
                    first: Seq(1),
                    last: Seq(1),
                    last_hash: recs[0].hash,
                    server_time: now,
                    signed: vec![1, 2, 3],
                }],
                ..PushOutcome::default()
            },
            now,
        )
        .unwrap();
    // Nothing synced long enough ago.
    assert!(store.purge(Timestamp(now.0 - 1), now).unwrap().is_empty());
    assert_eq!(store.purge(now, now).unwrap(), [Seq(1)]);
    assert_eq!(store.purged_at(Seq(1)).unwrap(), Some(now));
    assert!(store.get(Seq(1)).unwrap().is_none());
    // Its child tags went with it; the others' stayed.
    assert_eq!(child_tags_of(&store, 1), None);
    assert!(child_tags_of(&store, 2).is_some());
    assert_eq!(store.hash_of(Seq(1)).unwrap(), Some(recs[0].hash));
    let left: Vec<_> = store.all().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(left, [Seq(2), Seq(3), Seq(4)]);
    let counts = store.counts().unwrap();
    assert_eq!((counts.synced, counts.purged), (2, 1));
    assert_eq!(
        store.sync_state().unwrap().last_receipt.unwrap().last,
        Seq(1)
    );
    // The triggers allow nothing else: not a record with no receipt,
    // not a pending one, not a delete, not an undo.
    for seq in [2, 3, 4] {
        let e = store.conn.execute(
            "UPDATE records SET sealed = NULL, purged_at = 1 WHERE seq = ?1",
            [seq],
        );
        assert!(e.is_err(), "seq {seq} must not be purgeable");
    }
    assert!(
        store
            .conn
            .execute("DELETE FROM records WHERE seq = 1", [])
            .is_err()
    );
    // The next record still chains from the purged ones.
    let next = append_one(&mut store, &key);
    assert_eq!(next.envelope().unwrap().prev, recs[3].hash);
    assert_eq!(
        store
            .for_child(&"nhs:9434765919".parse().unwrap())
            .unwrap()
            .len(),
        4
    );
}

/// Issue 7: a sealed body or reason moved to another row does not
/// open, and what is stored is not the plaintext.
#[test]
fn issue_7_sealed_rows_cannot_be_swapped() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    let a = append_one(&mut store, &key);
    append_one(&mut store, &key);
    let raw: Vec<u8> = store
        .conn
        .query_row("SELECT sealed FROM records WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    assert!(
        !raw.windows(a.signed.len())
            .any(|w| w == a.signed.as_slice())
    );
    store
        .apply(
            &PushOutcome {
                refused: vec![(Seq(1), SyncStatus::Quarantined, "reason one".into())],
                ..PushOutcome::default()
            },
            Timestamp(1),
        )
        .unwrap();
    assert_eq!(store.get(Seq(1)).unwrap().unwrap().reason, "reason one");
    // Copy row 1's sealed reason onto row 2 (status rows are mutable;
    // row 2, still pending, has none of its own).
    store
        .conn
        .execute(
            "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
             SELECT 2, status, reason_sealed, updated_at FROM record_status WHERE seq = 1",
            [],
        )
        .unwrap();
    assert!(matches!(store.get(Seq(2)), Err(StoreError::Sealed(_))));
}

#[test]
fn issue_7_a_locked_store_counts_but_does_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let key = test_key();
    let mut store = LocalStore::open_dir(dir.path())
        .unwrap()
        .unlocked(test_sealer());
    append_one(&mut store, &key);
    drop(store);
    let locked = LocalStore::open_dir(dir.path()).unwrap();
    assert_eq!(locked.counts().unwrap().pending, 1);
    assert!(matches!(locked.all(), Err(StoreError::Locked)));
    let wrong = LocalStore::open_dir(dir.path())
        .unwrap()
        .unlocked(Sealer::new(&DataKey::from_bytes([6u8; 32])));
    assert!(matches!(wrong.all(), Err(StoreError::Sealed(_))));
}

#[test]
fn child_tags_are_in_the_record_row_and_immutable() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    let clock = hearth_shared::clock::FixedClock(Timestamp(1_800_000_000));
    for children in [&[CHILD_A][..], &[CHILD_A, CHILD_B], &[CHILD_B]] {
        crate::capture::capture_body(&mut store, &key, &clock, body_naming(children)).unwrap();
    }
    let lens: Vec<_> = (1..=3)
        .map(|seq| child_tags_of(&store, seq).map(|t| t.len()))
        .collect();
    assert_eq!(lens, [Some(16), Some(32), Some(16)]);
    let a: ChildRef = CHILD_A.parse().unwrap();
    let b: ChildRef = CHILD_B.parse().unwrap();
    assert_eq!(seqs(&store.for_child(&a).unwrap()), [1, 2]);
    assert_eq!(seqs(&store.for_child(&b).unwrap()), [2, 3]);
    // The tags are keyed: neither child reference is in the row.
    let tags = child_tags_of(&store, 2).unwrap();
    for c in [CHILD_A, CHILD_B] {
        assert!(!tags.windows(c.len()).any(|w| w == c.as_bytes()));
    }
    let other: ChildRef = "nhs:9434765870".parse().unwrap();
    assert!(store.for_child(&other).unwrap().is_empty());
    // Tags cannot be changed, moved or dropped, except by the purge.
    for sql in [
        "UPDATE records SET child_tags = NULL WHERE seq = 1",
        "UPDATE records SET child_tags = (SELECT child_tags FROM records WHERE seq = 3) WHERE seq = 1",
    ] {
        assert!(store.conn.execute(sql, []).is_err(), "{sql}");
    }
    let now = Timestamp(1_800_000_500);
    let hash = store.hash_of(Seq(1)).unwrap().unwrap();
    store
        .apply(
            &PushOutcome {
                synced: vec![Seq(1)],
                receipts: vec![StoredReceipt {
                    first: Seq(1),
                    last: Seq(1),
                    last_hash: hash,
                    server_time: now,
                    signed: vec![1],
                }],
                ..PushOutcome::default()
            },
            now,
        )
        .unwrap();
    // A purge that would leave the record linked to its children is refused.
    assert!(
        store
            .conn
            .execute(
                "UPDATE records SET sealed = NULL, purged_at = 1 WHERE seq = 1",
                []
            )
            .is_err()
    );
    assert_eq!(store.purge(now, now).unwrap(), [Seq(1)]);
    assert_eq!(child_tags_of(&store, 1), None);
    assert_eq!(seqs(&store.for_child(&a).unwrap()), [2]);
}

/// Issue 13: `SyncStatus` is a `words!` enum; its words are the ones
/// `record_status.status` has always held, and a word it does not know
/// reads as a damaged store.
#[test]
fn sync_status_words_are_the_stored_words() {
    assert_eq!(
        SyncStatus::WORDS,
        ["pending", "synced", "rejected", "quarantined"]
    );
    for status in SyncStatus::ALL {
        assert_eq!(super::status_from(status.as_str()).unwrap(), *status);
    }
    assert!(matches!(
        super::status_from("lost"),
        Err(StoreError::Corrupt(m)) if m == "unknown status \"lost\""
    ));
}
