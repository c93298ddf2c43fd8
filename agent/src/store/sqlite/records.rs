//! The records themselves: append (the capture path), get, list and
//! `for_child`, and the checks that the plaintext kept beside each seal
//! (`records.hash`, `records.child_tags`) agrees with the sealed, signed
//! bytes (issue 11; see the `sqlite` module comment).

use hearth_shared::signed::{EncodeError, chain_hash, decode_stored_envelope, split_signed};
use hearth_shared::{ChildRef, RecordHash, Seq, SignedRecord, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::tags::{child_tags_column, names_tag, same_tags};
use super::{hash_from, seq_to_sql, status_from};
use crate::seal::{Sealer, Slot};
use crate::store::{LocalRecord, StoreError, SyncStatus};

/// Records joined with their status; no status row means pending (see
/// migration 0003).
const RECORD_COLUMNS: &str =
    "r.seq, r.hash, r.sealed, r.captured_at, COALESCE(s.status, 'pending'), s.reason_sealed";

/// A record row as SQLite returns it: seq, hash, sealed body, captured_at,
/// status, sealed reason.
type RecordRow = (i64, Vec<u8>, Vec<u8>, i64, String, Option<Vec<u8>>);

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn record_from_parts(
    sealer: &Sealer,
    (seq, hash, sealed, captured_at, status, reason): RecordRow,
) -> Result<LocalRecord, StoreError> {
    let seq = Seq(seq as u64);
    let signed = sealer.open(Slot::RecordBody, Some(seq), &sealed)?;
    let hash = authentic_hash(seq, hash_from(hash)?, &signed)?;
    let reason = match reason {
        None => String::new(),
        Some(r) => String::from_utf8(sealer.open(Slot::Reason, Some(seq), &r)?)
            .map_err(|_| StoreError::Corrupt(format!("record {seq}: the reason is not UTF-8")))?,
    };
    Ok(LocalRecord {
        seq,
        hash,
        signed,
        captured_at: Timestamp(captured_at),
        status: status_from(&status)?,
        reason,
    })
}

/// `stored`, the plaintext `records.hash` of record `seq`, if it is the
/// chain hash of `signed`, the record's bytes as opened from its seal.
///
/// The hash column is not sealed (it is the chain head, readable while
/// locked), so nothing but this check stops a flipped bit in it from being
/// shown, matched against a receipt, or signed into the next record's
/// `prev` (issue 11).
fn authentic_hash(seq: Seq, stored: RecordHash, signed: &[u8]) -> Result<RecordHash, StoreError> {
    let (envelope, _) = split_signed(signed)
        .map_err(|e| StoreError::Corrupt(format!("record {seq} does not split: {e}")))?;
    if chain_hash(envelope) != stored {
        return Err(StoreError::Integrity {
            seq,
            what: "its stored chain hash is not the hash of its sealed, signed bytes",
        });
    }
    Ok(stored)
}

/// The chain hash of the head record `seq`, `stored` in `records.hash`,
/// checked before the next capture signs it in as `prev` (issue 11): a
/// wrong `prev` is a fork the server can never accept, so a damaged hash
/// must stop the capture, not be chained from.
///
/// An unpurged head is checked against its sealed, signed bytes (one
/// decryption and one SHA-256 of the row the capture reads anyway). A
/// purged head has no body left; a purge needs a kept receipt covering the
/// record, and the receipt covering the last record ends at it, so its
/// hash is checked against the `last_hash` of that receipt, which matched
/// the server's signed receipt when sync kept it.
fn authentic_head(
    conn: &Connection,
    sealer: &Sealer,
    seq: Seq,
    stored: RecordHash,
    sealed: Option<Vec<u8>>,
) -> Result<RecordHash, StoreError> {
    if let Some(sealed) = sealed {
        let signed = sealer.open(Slot::RecordBody, Some(seq), &sealed)?;
        return authentic_hash(seq, stored, &signed);
    }
    let receipts: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT last_hash FROM receipts WHERE last_seq = ?1")?
        .query_map([seq_to_sql(seq)?], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if receipts.is_empty() || receipts.iter().any(|h| h != stored.as_bytes()) {
        return Err(StoreError::Integrity {
            seq,
            what: "it was purged, and its stored chain hash is not the one its receipt records",
        });
    }
    Ok(stored)
}

/// The children a signed record names.
fn children_of(signed: &[u8]) -> Result<Vec<ChildRef>, StoreError> {
    let (envelope, _) = split_signed(signed)
        .map_err(|e| StoreError::Corrupt(format!("a signed record does not split: {e}")))?;
    let env = decode_stored_envelope(envelope)
        .map_err(|e| StoreError::Corrupt(format!("a signed record does not decode: {e}")))?;
    Ok(env.body.children.iter().cloned().collect())
}

/// The seq and `prev` of the next record, read inside the capture's
/// transaction: the head's hash checked first ([`authentic_head`]).
fn next_position(conn: &Connection, sealer: &Sealer) -> Result<(Seq, RecordHash), StoreError> {
    let last: Option<(i64, Vec<u8>, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT seq, hash, sealed FROM records ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match last {
        None => (Seq::FIRST, RecordHash::GENESIS),
        Some((head, hash, sealed)) => {
            let head = Seq(head as u64);
            let prev = authentic_head(conn, sealer, head, hash_from(hash)?, sealed)?;
            (head.next(), prev)
        }
    })
}

/// [`crate::store::RecordStore::append`]: one immediate transaction that
/// reads the head, signs the next record and inserts it as pending.
pub(super) fn append(
    conn: &mut Connection,
    sealer: &Sealer,
    captured_at: Timestamp,
    sign: &mut dyn FnMut(Seq, RecordHash) -> Result<SignedRecord, EncodeError>,
) -> Result<LocalRecord, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Cached statements: a capture is the hot path, and parsing the
    // same SQL on every capture is work the bare insert does not do.
    let (seq, prev) = next_position(&tx, sealer)?;
    let signed = sign(seq, prev)?;
    let hash = signed.hash();
    let seq_sql = seq_to_sql(seq)?;
    let sealed = sealer.seal(Slot::RecordBody, Some(seq), signed.as_bytes());
    let child_tags = child_tags_column(sealer, &children_of(signed.as_bytes())?);
    // One row in one b-tree: the child index is in the row (migration
    // 0005), and there is no status row, since a record without one is
    // pending (migration 0003).
    tx.prepare_cached(
        "INSERT INTO records (seq, hash, sealed, captured_at, child_tags)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq_sql,
        hash.as_bytes().as_slice(),
        sealed,
        captured_at.0,
        child_tags
    ])?;
    // The sealed copy for a locked sync, in the same transaction: nothing
    // is captured without its box once the outbox key is pinned.
    super::outbox::seal_into(&tx, seq, signed.as_bytes())?;
    hearth_shared::kill_point::reach("capture.before-commit");
    tx.commit()?;
    Ok(LocalRecord {
        seq,
        hash,
        signed: signed.into_bytes(),
        captured_at,
        status: SyncStatus::Pending,
        reason: String::new(),
    })
}

/// One record, unless absent or purged.
pub(super) fn get(
    conn: &Connection,
    sealer: &Sealer,
    seq: Seq,
) -> Result<Option<LocalRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records r LEFT JOIN record_status s ON s.seq = r.seq
         WHERE r.seq = ?1 AND r.purged_at IS NULL"
    );
    conn.query_row(&sql, [seq_to_sql(seq)?], record_from_row)
        .optional()?
        .map(|row| record_from_parts(sealer, row))
        .transpose()
}

/// Every record not purged, in seq order.
pub(super) fn all(conn: &Connection, sealer: &Sealer) -> Result<Vec<LocalRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records r LEFT JOIN record_status s ON s.seq = r.seq
         WHERE r.purged_at IS NULL ORDER BY r.seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], record_from_row)?;
    rows.map(|r| record_from_parts(sealer, r?)).collect()
}

/// The records naming `child`, every row's tags checked on the way.
pub(super) fn for_child(
    conn: &Connection,
    sealer: &Sealer,
    child: &ChildRef,
) -> Result<Vec<LocalRecord>, StoreError> {
    // The tags are keyed but not authenticated: one flipped bit in a
    // row's `child_tags` would drop that record from the answer, and
    // nothing would say so (issue 12). So every unpurged row is opened
    // and its tags checked against the children its sealed, signed
    // bytes name; a mismatch fails the whole lookup, naming the
    // record. This costs what `list` costs (every row is decrypted),
    // which buys an answer that cannot silently leave a record out.
    let sql = format!(
        "SELECT {RECORD_COLUMNS}, r.child_tags
         FROM records r LEFT JOIN record_status s ON s.seq = r.seq
         WHERE r.purged_at IS NULL ORDER BY r.seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let tag = sealer.child_tag(child);
    let mut rows = stmt.query([])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let stored = row.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default();
        let record = record_from_parts(sealer, record_from_row(row)?)?;
        let expected = child_tags_column(sealer, &children_of(&record.signed)?);
        if !same_tags(&stored, expected.as_deref().unwrap_or_default()) {
            return Err(StoreError::Integrity {
                seq: record.seq,
                what: "its stored child tags do not match the children its sealed, signed bytes name",
            });
        }
        if names_tag(&stored, &tag) {
            found.push(record);
        }
    }
    Ok(found)
}

/// The stored chain hash of record `seq` (readable while locked).
pub(super) fn hash_of(conn: &Connection, seq: Seq) -> Result<Option<RecordHash>, StoreError> {
    conn.query_row(
        "SELECT hash FROM records WHERE seq = ?1",
        [seq_to_sql(seq)?],
        |r| r.get::<_, Vec<u8>>(0),
    )
    .optional()?
    .map(hash_from)
    .transpose()
}
