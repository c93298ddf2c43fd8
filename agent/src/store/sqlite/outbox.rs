//! The sealed outbox's tables (migration 0007): the pinned outbox key, the
//! sealed copy written in the capture's transaction ([`seal_into`]), the
//! boxes a locked sync sends ([`boxes`]), and [`unsealed_pending`], the
//! records captured before the key was known, which `LocalStore::fill_outbox`
//! seals (that alone needs the data key, to read them).

use hearth_shared::{Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::seq_to_sql;
use crate::outbox::{OutboxKey, seal};
use crate::store::StoreError;

/// The pinned outbox key, if any.
pub(super) fn key(conn: &Connection) -> Result<Option<OutboxKey>, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT key FROM outbox_key WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    bytes
        .map(|b| {
            <[u8; 32]>::try_from(b.as_slice())
                .map(OutboxKey)
                .map_err(|_| StoreError::Corrupt("the outbox key is not 32 bytes".into()))
        })
        .transpose()
}

/// Pins `key`; returns whether it changed. A changed key (the server's was
/// replaced) drops every box sealed to the old one, which the server can no
/// longer open: their records are still pending and are sealed again by
/// [`fill`] or sent by the unlocked path.
pub(super) fn pin(
    conn: &mut Connection,
    key: &OutboxKey,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = self::key(&tx)?;
    if old == Some(*key) {
        return Ok(false);
    }
    if old.is_some() {
        tx.execute("DELETE FROM outbox", [])?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO outbox_key (id, key, pinned_at) VALUES (1, ?1, ?2)",
        params![key.0.as_slice(), now.0],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Inside the capture's transaction: seals `signed` into the outbox as
/// record `seq`, if a key is pinned.
pub(super) fn seal_into(conn: &Connection, seq: Seq, signed: &[u8]) -> Result<(), StoreError> {
    let Some(key) = key(conn)? else {
        return Ok(());
    };
    let sealed = seal(&key, signed);
    conn.prepare_cached("INSERT INTO outbox (seq, sealed, size) VALUES (?1, ?2, ?3)")?
        .execute(params![seq_to_sql(seq)?, sealed, sealed.len() as i64])?;
    Ok(())
}

/// The pending records that have no box yet (captured before the key was
/// pinned, or whose box went with an old key), in seq order; none when no
/// key is pinned. `LocalStore::fill_outbox` seals them.
pub(super) fn unsealed_pending(conn: &Connection) -> Result<Vec<Seq>, StoreError> {
    if key(conn)?.is_none() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = conn
        .prepare(
            "SELECT r.seq FROM records r
             LEFT JOIN record_status s ON s.seq = r.seq
             LEFT JOIN outbox o ON o.seq = r.seq
             WHERE s.seq IS NULL AND o.seq IS NULL AND r.sealed IS NOT NULL
             ORDER BY r.seq",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs.into_iter().map(|s| Seq(s as u64)).collect())
}

/// Up to `limit` boxes of pending records after `after`, in seq order.
pub(super) fn boxes(
    conn: &Connection,
    after: Seq,
    limit: usize,
) -> Result<Vec<(Seq, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT o.seq, o.sealed FROM outbox o
         LEFT JOIN record_status s ON s.seq = o.seq
         WHERE s.seq IS NULL AND o.seq > ?1 ORDER BY o.seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![seq_to_sql(after)?, limit as i64], |r| {
        Ok((Seq(r.get::<_, i64>(0)? as u64), r.get::<_, Vec<u8>>(1)?))
    })?;
    rows.collect::<Result<_, _>>().map_err(Into::into)
}

/// How many boxes wait, and their total size in bytes.
pub(super) fn size(conn: &Connection) -> Result<(u64, u64), StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM outbox",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?)
}

/// Inside an outcome's transaction: drops the boxes of records that are no
/// longer pending (synced or refused, by either path).
pub(super) fn clear(conn: &Connection, seqs: &[Seq]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
    for &seq in seqs {
        stmt.execute([seq_to_sql(seq)?])?;
    }
    Ok(())
}
