//! Sync bookkeeping: what a sync batch changes ([`apply`]: receipts,
//! statuses, the server's sealed reasons, the clock offset), and what
//! `status` and sync read back (seqs by status, counts, the last sync).
//!
//! A pending record has no `record_status` row (migration 0003).

use hearth_shared::{Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{hash_from, seq_to_sql, status_from};
use crate::seal::{Sealer, Slot};
use crate::store::{PushOutcome, StatusCounts, StoreError, StoredReceipt, SyncState, SyncStatus};

/// The seqs with `status`, in order.
pub(super) fn seqs_with_status(
    conn: &Connection,
    status: SyncStatus,
) -> Result<Vec<Seq>, StoreError> {
    let sql = if status == SyncStatus::Pending {
        "SELECT r.seq FROM records r LEFT JOIN record_status s ON s.seq = r.seq
         WHERE s.seq IS NULL ORDER BY r.seq"
    } else {
        "SELECT seq FROM record_status WHERE status = ?1 ORDER BY seq"
    };
    let mut stmt = conn.prepare(sql)?;
    let params: &[&dyn rusqlite::ToSql] = if status == SyncStatus::Pending {
        &[]
    } else {
        &[&status.as_str()]
    };
    let rows = stmt.query_map(params, |r| r.get::<_, i64>(0))?;
    rows.map(|r| Ok(Seq(r? as u64))).collect()
}

/// Applies one batch's outcome in one transaction.
///
/// A locked store (`sealer` `None`) can apply receipts but not a refusal,
/// whose reason is sealed: [`StoreError::Locked`], and nothing is written.
/// The boxes of records no longer pending leave the outbox in the same
/// transaction.
pub(super) fn apply(
    conn: &mut Connection,
    sealer: Option<&Sealer>,
    outcome: &PushOutcome,
    now: Timestamp,
) -> Result<(), StoreError> {
    if sealer.is_none() && !outcome.refused.is_empty() {
        return Err(StoreError::Locked);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for r in &outcome.receipts {
        tx.execute(
            "INSERT INTO receipts (first_seq, last_seq, last_hash, server_time, signed, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                seq_to_sql(r.first)?,
                seq_to_sql(r.last)?,
                r.last_hash.as_bytes().as_slice(),
                r.server_time.0,
                r.signed,
                now.0
            ],
        )?;
    }
    for &seq in &outcome.synced {
        tx.execute(
            "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
             VALUES (?1, 'synced', NULL, ?2)
             ON CONFLICT (seq) DO UPDATE SET status = 'synced', reason_sealed = NULL,
                 updated_at = excluded.updated_at",
            params![seq_to_sql(seq)?, now.0],
        )?;
    }
    for (seq, status, reason) in &outcome.refused {
        // Never downgrade a synced record: a receipt is proof.
        let sealed = match sealer {
            Some(sealer) if !reason.is_empty() => {
                Some(sealer.seal(Slot::Reason, Some(*seq), reason.as_bytes()))
            }
            _ => None,
        };
        tx.execute(
            "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (seq) DO UPDATE SET status = excluded.status,
                 reason_sealed = excluded.reason_sealed, updated_at = excluded.updated_at
             WHERE record_status.status <> 'synced'",
            params![seq_to_sql(*seq)?, status.as_str(), sealed, now.0],
        )?;
    }
    super::outbox::clear(&tx, &outcome.synced)?;
    let refused: Vec<Seq> = outcome.refused.iter().map(|r| r.0).collect();
    super::outbox::clear(&tx, &refused)?;
    if let Some(offset) = outcome.clock_offset_seconds {
        tx.execute(
            "UPDATE sync_state SET clock_offset_seconds = ?1 WHERE id = 1",
            [offset],
        )?;
    }
    if let Some(at) = outcome.synced_at {
        tx.execute(
            "UPDATE sync_state SET last_sync_at = ?1 WHERE id = 1",
            [at.0],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Counts by status, and of purged bodies.
pub(super) fn counts(conn: &Connection) -> Result<StatusCounts, StoreError> {
    let mut stmt = conn.prepare("SELECT status, COUNT(*) FROM record_status GROUP BY status")?;
    let mut counts = StatusCounts::default();
    // Pending records have no status row: count them from `records`.
    let pending: i64 = conn.query_row(
        "SELECT COUNT(*) FROM records r LEFT JOIN record_status s ON s.seq = r.seq
         WHERE s.seq IS NULL",
        [],
        |r| r.get(0),
    )?;
    counts.pending = pending as u64;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (status, n) = row?;
        let n = n as u64;
        match status_from(&status)? {
            SyncStatus::Pending => counts.pending += n,
            SyncStatus::Synced => counts.synced = n,
            SyncStatus::Rejected => counts.rejected = n,
            SyncStatus::Quarantined => counts.quarantined = n,
        }
    }
    let purged: i64 = conn.query_row(
        "SELECT COUNT(*) FROM records WHERE purged_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    counts.purged = purged as u64;
    Ok(counts)
}

/// The last sync, and the most recent receipt kept.
pub(super) fn sync_state(conn: &Connection) -> Result<SyncState, StoreError> {
    let (last_sync_at, clock_offset_seconds): (Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT last_sync_at, clock_offset_seconds FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((None, None));
    Ok(SyncState {
        last_sync_at: last_sync_at.map(Timestamp),
        clock_offset_seconds,
        last_receipt: last_receipt(conn)?,
    })
}

/// The receipt kept last.
fn last_receipt(conn: &Connection) -> Result<Option<StoredReceipt>, StoreError> {
    conn.query_row(
        "SELECT first_seq, last_seq, last_hash, server_time, signed FROM receipts
         ORDER BY id DESC LIMIT 1",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        },
    )
    .optional()?
    .map(|(first, last, hash, server_time, signed)| {
        Ok(StoredReceipt {
            first: Seq(first as u64),
            last: Seq(last as u64),
            last_hash: hash_from(hash)?,
            server_time: Timestamp(server_time),
            signed,
        })
    })
    .transpose()
}
