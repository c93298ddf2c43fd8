//! The migrations: from an empty store, from each older version a
//! released program left, and what is refused.

use super::*;

#[test]
fn migrations_run_from_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open_dir(dir.path()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        LocalStore::latest_version()
    );
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = store
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous must be FULL");
    drop(store);
    // Reopening is a no-op.
    let store = LocalStore::open_dir(dir.path()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        LocalStore::latest_version()
    );
}

#[test]
fn migration_0003_turns_pending_rows_into_no_row() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    append_one(&mut store, &key);
    append_one(&mut store, &key);
    // As a version-2 store held them: an explicit 'pending' row each.
    store
        .conn
        .execute_batch(
            "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
             SELECT seq, 'pending', NULL, captured_at FROM records",
        )
        .unwrap();
    store.conn.execute_batch(MIGRATIONS[2].1).unwrap(); // idempotent here
    let rows: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM record_status", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(store.counts().unwrap().pending, 2);
    assert_eq!(store.pending_seqs().unwrap(), vec![Seq(1), Seq(2)]);
}

/// A version-1 store with plaintext records is refused, not migrated
/// (migration 0002 rebuilds the tables).
#[test]
fn issue_7_a_plaintext_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(MIGRATIONS[0].1).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute(
        "INSERT INTO records (seq, hash, signed, captured_at) VALUES (1, zeroblob(32), x'01', 0)",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(matches!(
        LocalStore::open(&path),
        Err(StoreError::Plaintext(1))
    ));
}

/// Migration 0005 on a store as version 4 left it: every unpurged
/// record keeps its tags, purged ones have none, and list, `list
/// --child`, status, purge and the chain carry on.
#[test]
fn migration_0005_keeps_every_child_tag_of_a_version_4_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let key = test_key();
    let sealer = test_sealer();
    let children: [&[&str]; 5] = [
        &[CHILD_A],
        &[CHILD_A, CHILD_B],
        &[CHILD_B],
        &[CHILD_A],
        &[CHILD_B, CHILD_A],
    ];
    let mut signed = Vec::new();
    {
        let conn = Connection::open(&path).unwrap();
        for (_, sql) in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        // Records and index rows exactly as version 4's append wrote them.
        let mut prev = RecordHash::GENESIS;
        for (i, names) in children.iter().enumerate() {
            let seq = Seq(i as u64 + 1);
            let record = SignedRecord::sign(
                key.signing_key(),
                &Envelope {
                    version: FORMAT_VERSION,
                    device: key.device_id(),
                    seq,
                    prev,
                    device_time: Timestamp(1_800_000_000),
                    body: body_naming(names),
                },
            )
            .unwrap();
            prev = record.hash();
            conn.execute(
                "INSERT INTO records (seq, hash, sealed, captured_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    i as i64 + 1,
                    record.hash().as_bytes().as_slice(),
                    sealer.seal(Slot::RecordBody, Some(seq), record.as_bytes()),
                    1_800_000_000
                ],
            )
            .unwrap();
            for c in names.iter() {
                conn.execute(
                    "INSERT OR IGNORE INTO record_children (tag, seq) VALUES (?1, ?2)",
                    params![
                        sealer.child_tag(&c.parse().unwrap()).as_slice(),
                        i as i64 + 1
                    ],
                )
                .unwrap();
            }
            signed.push(record.into_bytes());
        }
        // 1 and 2 synced under one receipt, 3 quarantined with a sealed
        // reason; 1 purged as version 4 purged (index rows deleted).
        conn.execute(
            "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
             VALUES (3, 'quarantined', ?1, 5)",
            [sealer.seal(Slot::Reason, Some(Seq(3)), b"ask the family")],
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO receipts (first_seq, last_seq, last_hash, server_time, signed, received_at)
                 VALUES (1, 2, zeroblob(32), 5, x'01', 5);
             INSERT INTO record_status (seq, status, reason_sealed, updated_at)
                 VALUES (1, 'synced', NULL, 5), (2, 'synced', NULL, 5);
             DELETE FROM record_children WHERE seq = 1;
             UPDATE records SET sealed = NULL, purged_at = 6 WHERE seq = 1;",
        )
        .unwrap();
    }
    let expected = |seq: usize| -> Option<Vec<[u8; CHILD_TAG_LEN]>> {
        (seq != 1).then(|| {
            let mut tags: Vec<_> = children[seq - 1]
                .iter()
                .map(|c| sealer.child_tag(&c.parse().unwrap()))
                .collect();
            tags.sort();
            tags
        })
    };

    let mut store = LocalStore::open(&path).unwrap().unlocked(test_sealer());
    assert_eq!(store.schema_version().unwrap(), 5);
    let gone: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'record_children'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0);
    for seq in 1..=5 {
        let got = child_tags_of(&store, seq as i64).map(|t| {
            let mut tags: Vec<[u8; CHILD_TAG_LEN]> = t
                .chunks_exact(CHILD_TAG_LEN)
                .map(|c| c.try_into().unwrap())
                .collect();
            tags.sort();
            tags
        });
        assert_eq!(got, expected(seq), "the tags of record {seq}");
    }
    let check: String = store
        .conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // list: the same records, bytes and statuses.
    let all = store.all().unwrap();
    assert_eq!(seqs(&all), [2, 3, 4, 5]);
    for r in &all {
        assert_eq!(r.signed, signed[r.seq.0 as usize - 1]);
    }
    assert_eq!(all[0].status, SyncStatus::Synced);
    assert_eq!(
        (all[1].status, all[1].reason.as_str()),
        (SyncStatus::Quarantined, "ask the family")
    );
    assert_eq!(all[2].status, SyncStatus::Pending);
    assert_eq!(store.purged_at(Seq(1)).unwrap(), Some(Timestamp(6)));
    // list --child
    let a: ChildRef = CHILD_A.parse().unwrap();
    let b: ChildRef = CHILD_B.parse().unwrap();
    assert_eq!(seqs(&store.for_child(&a).unwrap()), [2, 4, 5]);
    assert_eq!(seqs(&store.for_child(&b).unwrap()), [2, 3, 5]);
    // Migrated tags are as immutable as new ones.
    assert!(
        store
            .conn
            .execute("UPDATE records SET child_tags = NULL WHERE seq = 3", [])
            .is_err()
    );
    // purge: 2 is synced with a receipt.
    assert_eq!(
        store
            .purge(Timestamp(1_800_000_000), Timestamp(1_800_000_000))
            .unwrap(),
        [Seq(2)]
    );
    assert_eq!(child_tags_of(&store, 2), None);
    assert_eq!(seqs(&store.for_child(&a).unwrap()), [4, 5]);
    assert_eq!(seqs(&store.for_child(&b).unwrap()), [3, 5]);
    // The chain carries on from the migrated head.
    let next = append_one(&mut store, &key);
    assert_eq!(next.seq, Seq(6));
    assert_eq!(next.envelope().unwrap().prev, all[3].hash);
    assert_eq!(seqs(&store.for_child(&a).unwrap()), [4, 5, 6]);
}
