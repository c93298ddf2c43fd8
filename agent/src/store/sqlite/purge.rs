//! The purge: the one path that removes anything. The body (and child
//! tags) of a synced record covered by a kept receipt is replaced by
//! NULL; its seq, hash, status and receipts stay (migrations 0002, 0005
//! and their triggers allow exactly that).

use hearth_shared::{Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::seq_to_sql;
use crate::store::StoreError;

/// When record `seq` was purged, if it was.
pub(super) fn purged_at(conn: &Connection, seq: Seq) -> Result<Option<Timestamp>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT purged_at FROM records WHERE seq = ?1",
            [seq_to_sql(seq)?],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten()
        .map(Timestamp))
}

/// Drops the bodies of synced records covered by a kept receipt that
/// became synced at or before `synced_before`; returns their seqs.
pub(super) fn purge(
    conn: &mut Connection,
    synced_before: Timestamp,
    now: Timestamp,
) -> Result<Vec<Seq>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seqs: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT r.seq FROM records r JOIN record_status s ON s.seq = r.seq
             WHERE r.purged_at IS NULL AND s.status = 'synced' AND s.updated_at <= ?1
               AND EXISTS (SELECT 1 FROM receipts x
                           WHERE x.first_seq <= r.seq AND r.seq <= x.last_seq)
             ORDER BY r.seq",
        )?;
        let rows = stmt.query_map([synced_before.0], |r| r.get::<_, i64>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for &seq in &seqs {
        // The child tags go with the body: a purged record is no longer
        // linked to its children (the trigger and CHECK of 0005 insist).
        tx.execute(
            "UPDATE records SET sealed = NULL, purged_at = ?2, child_tags = NULL
             WHERE seq = ?1",
            params![seq, now.0],
        )?;
    }
    tx.commit()?;
    Ok(seqs.into_iter().map(|s| Seq(s as u64)).collect())
}
