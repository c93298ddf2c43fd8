//! Issue 11: the plaintext beside each seal (`records.hash`) is checked
//! against the sealed, signed bytes, or the receipt of a purged head.

use super::*;

/// Issue 11: a purged head has no body to hash, so its stored hash is
/// checked against the receipt that ends at it; either copy damaged
/// stops the capture before anything is signed or written.
#[test]
fn issue_11_a_purged_head_is_checked_against_its_receipt() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    append_one(&mut store, &key);
    let head = append_one(&mut store, &key);
    let now = Timestamp(1_800_000_500);
    store
        .apply(
            &PushOutcome {
                synced: vec![Seq(1), Seq(2)],
                receipts: vec![StoredReceipt {
                    first: Seq(1),
                    last: Seq(2),
                    last_hash: head.hash,
                    server_time: now,
                    signed: vec![1],
                }],
                ..PushOutcome::default()
            },
            now,
        )
        .unwrap();
    assert_eq!(store.purge(now, now).unwrap(), [Seq(1), Seq(2)]);
    store
        .conn
        .execute_batch("DROP TRIGGER records_are_immutable")
        .unwrap();
    let mut damaged = head.hash.0;
    damaged[31] ^= 0x80;
    for (table, sql) in [
        ("records", "UPDATE records SET hash = ?1 WHERE seq = 2"),
        (
            "receipts",
            "UPDATE receipts SET last_hash = ?1 WHERE last_seq = 2",
        ),
    ] {
        store.conn.execute(sql, [damaged.as_slice()]).unwrap();
        let refused = store.append(now, &mut |_, _| panic!("nothing is signed"));
        assert!(
            matches!(refused, Err(StoreError::Integrity { seq: Seq(2), .. })),
            "{table}: {refused:?}"
        );
        let n: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "{table}: nothing written");
        store
            .conn
            .execute(sql, [head.hash.as_bytes().as_slice()])
            .unwrap();
    }
    let next = append_one(&mut store, &key);
    assert_eq!(next.envelope().unwrap().prev, head.hash);
}

/// Issue 11: a record whose stored hash is damaged is never read out
/// with it, so sync (which reads each record it sends with `get`, and
/// then matches receipts against those records' hashes) stops on the
/// integrity error before uploading, rather than judge receipts
/// against a hash the record does not have.
#[test]
fn issue_11_a_damaged_hash_is_never_read_out() {
    let key = test_key();
    let mut store = LocalStore::open_in_memory().unwrap();
    let a = append_one(&mut store, &key);
    append_one(&mut store, &key);
    store
        .conn
        .execute_batch("DROP TRIGGER records_are_immutable")
        .unwrap();
    let mut damaged = a.hash.0;
    damaged[0] ^= 1;
    store
        .conn
        .execute(
            "UPDATE records SET hash = ?1 WHERE seq = 1",
            [damaged.as_slice()],
        )
        .unwrap();
    let integrity =
        |r: Result<_, StoreError>| matches!(r, Err(StoreError::Integrity { seq: Seq(1), .. }));
    assert!(integrity(store.get(Seq(1)).map(drop)));
    assert!(integrity(store.all().map(drop)));
    assert_eq!(store.get(Seq(2)).unwrap().unwrap().seq, Seq(2));
}
