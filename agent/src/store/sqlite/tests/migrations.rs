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
    store.conn.execute_batch(MIGRATIONS[2].sql).unwrap(); // idempotent here
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
    conn.execute_batch(MIGRATIONS[0].sql).unwrap();
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
        for m in &MIGRATIONS[..4] {
            conn.execute_batch(m.sql).unwrap();
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
    assert_eq!(
        store.schema_version().unwrap(),
        LocalStore::latest_version()
    );
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

/// A store at `version` exactly as the hand-written runner that
/// the shared runner replaced left it: each migration in a transaction
/// of its own, `user_version` set to its number.
fn store_of_the_old_runner(path: &std::path::Path, version: usize) {
    let mut conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    for (i, m) in MIGRATIONS[..version].iter().enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(m.sql).unwrap();
        tx.pragma_update(None, "user_version", i as u32 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
}

/// Every table, index and trigger with its SQL.
fn schema_of(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Issue 13: the shared runner numbers `user_version` as the old runner
/// did. A store the old runner left at any version opens, gets exactly
/// the migrations it lacks (none re-run: 0001 would fail on its existing
/// tables), and ends with the schema the old runner gave a new store.
#[test]
fn stores_of_the_old_runner_open_unchanged_at_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    store_of_the_old_runner(&reference, MIGRATIONS.len());
    let expected = schema_of(&Connection::open(&reference).unwrap());
    assert!(expected.iter().any(|(_, name, _)| name == "records"));
    for version in 0..=MIGRATIONS.len() {
        let path = dir.path().join(format!("v{version}.db"));
        store_of_the_old_runner(&path, version);
        let store = LocalStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            LocalStore::latest_version(),
            "from version {version}"
        );
        assert_eq!(schema_of(&store.conn), expected, "from version {version}");
    }
    // A new store gets the same schema, and the old runner's store
    // keeps its records across the switch.
    let new = LocalStore::open(&dir.path().join("new.db")).unwrap();
    assert_eq!(schema_of(&new.conn), expected);
    let key = test_key();
    let mut store = LocalStore::open(&reference)
        .unwrap()
        .unlocked(test_sealer());
    let first = append_one(&mut store, &key);
    drop(store);
    let store = LocalStore::open(&reference)
        .unwrap()
        .unlocked(test_sealer());
    assert_eq!(
        store.schema_version().unwrap(),
        LocalStore::latest_version()
    );
    assert_eq!(store.all().unwrap(), [first]);
}

/// Processes opening a new store at once all succeed, and it is migrated
/// once: whoever waited for the write lock finds the work done.
#[test]
fn concurrent_opens_of_a_new_store_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                LocalStore::open(&path).map(|s| s.schema_version().unwrap())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), LocalStore::latest_version());
    }
    let conn = Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM sync_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1, "0001 ran once");
}

/// A migration that fails is named by its number, and leaves the store at
/// the version it had.
#[test]
fn a_failed_migration_is_named_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    store_of_the_old_runner(&path, 4);
    // 0005 reads record_children; without it, it fails.
    Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE record_children")
        .unwrap();
    match LocalStore::open(&path) {
        Err(e @ StoreError::Migration { version: 5, .. }) => {
            assert_eq!(
                e.to_string(),
                "upgrading the local store to version 5 failed"
            );
        }
        other => panic!("expected migration 5 to fail, got {other:?}"),
    }
    let conn = Connection::open(&path).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
}

/// A store from a newer program is refused, not touched.
#[test]
fn a_newer_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    store_of_the_old_runner(&path, 5);
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", LocalStore::latest_version() + 1)
        .unwrap();
    assert!(matches!(
        LocalStore::open(&path),
        Err(StoreError::TooNew { found, supported })
            if found == LocalStore::latest_version() + 1
                && supported == LocalStore::latest_version()
    ));
}
