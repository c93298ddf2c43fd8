//! [`LocalStore`]: the [`RecordStore`] in one SQLite file per device.
//!
//! ## Durability: why WAL with `synchronous = FULL`
//!
//! A capture reports success only once the record would survive the
//! tablet's battery dying the next instant. In WAL mode SQLite's default
//! `synchronous = NORMAL` syncs the WAL only at checkpoints: a commit that
//! returned can still be lost on power failure (it is never *corrupted*,
//! but it can vanish). `FULL` fsyncs the WAL on every commit, so a
//! returned commit is on stable storage. WAL itself keeps readers (`list`
//! while a `sync` runs) from blocking the writer, and makes each commit one
//! sequential append.
//!
//! ## Why `BEGIN IMMEDIATE` for appends
//!
//! Reading the last seq and inserting seq + 1 must be one atomic step even
//! if two processes capture at once (two `record` commands on a shared
//! tablet). An immediate transaction takes the write lock before the read,
//! so the second waits (`busy_timeout`) rather than reading the same last
//! seq; the `seq` primary key would refuse a duplicate anyway. A crash
//! before commit leaves nothing; after commit, everything: no gap, no
//! repeat.
//!
//! ## Migrations
//!
//! `migrations/NNNN_name.sql`, compiled in, applied in order inside one
//! transaction each, the version kept in `PRAGMA user_version`.
//!
//! ## Encryption at rest (issue 7)
//!
//! The store seals record bodies and the server's reasons with a
//! [`Sealer`] (see `crate::seal` and migration 0002), binding each row's
//! seq and column as associated data. A store opened without a sealer
//! ([`LocalStore::open_dir`]) can count and report status but refuses to
//! read or write anything sealed ([`StoreError::Locked`]).
//! `secure_delete` is on, so a purged body's pages are zeroed, not just
//! unlinked.
//!
//! ## A capture writes one b-tree
//!
//! Every b-tree page a commit dirties is another 4 KiB frame in the WAL
//! before the fsync, so a capture writes exactly one row in one b-tree:
//! `records`, appended in seq order, which keeps dirtying the same
//! rightmost leaf (about 1.3 frames a capture, as for a bare insert of the
//! same bytes; `bench/examples/wal_frames.rs`). A pending record has no
//! status row (migration 0003), and the keyed child tags that `list
//! --child` needs are concatenated into the record's own `child_tags`
//! column (migration 0005), not kept in an index: tags are HMACs, so index
//! entries landed on random leaves, up to one more page per child named.
//! The tags are part of the immutable row; a purge clears them with the
//! body.
//!
//! ## Plaintext beside the seal is checked against it (issue 11)
//!
//! `records.hash` and `records.child_tags` are in the clear (the first so
//! a locked store knows its chain head, the second so a lookup needs no
//! plaintext child column) and nothing authenticates them on disk. So they
//! are checked against the sealed, signed bytes, which the AEAD does
//! authenticate: a capture checks the head's hash before signing it in as
//! `prev` (one decryption of the row it reads anyway), every record read
//! checks its hash, and [`RecordStore::for_child`] opens every unpurged
//! row and checks its tags against the children it names, so a damaged
//! tag fails the lookup instead of hiding the record. That makes `list
//! --child` cost what `list` costs: every row decrypted, where the tag
//! scan alone took about 2.5 ms for 10,000 records, a tenth of opening
//! them all (migration 0005; `benches/child_lookup.rs`). It is paid only
//! when someone lists by child, and buys an answer that cannot silently
//! leave a record out.

use std::path::Path;
use std::time::Duration;

use hearth_shared::signed::EncodeError;
use hearth_shared::signed::{chain_hash, decode_stored_envelope, split_signed};
use hearth_shared::{AgencyCode, ChildRef, RecordHash, Seq, SignedRecord, Timestamp, WorkerId};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    DeviceSettings, LocalRecord, PushOutcome, RecordStore, Registration, StatusCounts, StoreError,
    StoredReceipt, SyncState, SyncStatus,
};
use crate::seal::{CHILD_TAG_LEN, DataKey, Sealer, Slot};

/// The database file's name inside the store directory.
pub const DB_FILE: &str = "hearth.db";

/// The migrations, in order; the version after applying `MIGRATIONS[i]` is
/// `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    (
        "0002_encryption_at_rest",
        include_str!("migrations/0002_encryption_at_rest.sql"),
    ),
    (
        "0003_pending_without_a_row",
        include_str!("migrations/0003_pending_without_a_row.sql"),
    ),
    (
        "0004_no_child_index_by_seq",
        include_str!("migrations/0004_no_child_index_by_seq.sql"),
    ),
    (
        "0005_child_tags_in_the_record_row",
        include_str!("migrations/0005_child_tags_in_the_record_row.sql"),
    ),
];

/// The SQLite store.
#[derive(Debug)]
pub struct LocalStore {
    conn: Connection,
    sealer: Option<Sealer>,
}

fn hash_from(bytes: Vec<u8>) -> Result<RecordHash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash is not 32 bytes".into()))
}

fn seq_to_sql(seq: Seq) -> Result<i64, StoreError> {
    i64::try_from(seq.0).map_err(|_| StoreError::Corrupt(format!("seq {seq} out of range")))
}

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
        status: status.parse()?,
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

/// `records.child_tags` for a record naming `children`: their keyed
/// blind-index tags, each once, concatenated; `None` for no children.
fn child_tags_column(sealer: &Sealer, children: &[ChildRef]) -> Option<Vec<u8>> {
    let mut column: Vec<u8> = Vec::with_capacity(children.len() * CHILD_TAG_LEN);
    for child in children {
        let tag = sealer.child_tag(child);
        if !names_tag(&column, &tag) {
            column.extend_from_slice(&tag);
        }
    }
    (!column.is_empty()).then_some(column)
}

/// Whether two `records.child_tags` values hold the same tags, in any
/// order (capture writes them in the record's order, migration 0005 in
/// byte order).
fn same_tags(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && sorted_tags(a) == sorted_tags(b)
}

fn sorted_tags(column: &[u8]) -> Vec<&[u8]> {
    let mut tags: Vec<&[u8]> = column.chunks(CHILD_TAG_LEN).collect();
    tags.sort_unstable();
    tags
}

/// Whether a `records.child_tags` value holds `tag` at a tag boundary.
fn names_tag(column: &[u8], tag: &[u8; CHILD_TAG_LEN]) -> bool {
    column
        .chunks_exact(CHILD_TAG_LEN)
        .any(|t| t == tag.as_slice())
}

impl LocalStore {
    /// Opens (creating if needed) `dir/hearth.db` and migrates it,
    /// locked: see [`LocalStore::unlocked`].
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open(&dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::from_connection(conn)
    }

    /// An in-memory store, unlocked with a throwaway random key (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self::from_connection(Connection::open_in_memory()?)?
            .unlocked(Sealer::new(&DataKey::generate(&mut rand_core::OsRng))))
    }

    /// The store, able to read and write sealed values with `sealer`.
    pub fn unlocked(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }

    fn sealer(&self) -> Result<&Sealer, StoreError> {
        self.sealer.as_ref().ok_or(StoreError::Locked)
    }

    fn from_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // See the module comment: WAL + FULL means a returned commit is on disk.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        refuse_plaintext_records(&conn)?;
        migrate(&mut conn)?;
        Ok(Self { conn, sealer: None })
    }

    /// The schema version (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The number of migrations this build knows.
    pub const fn latest_version() -> u32 {
        MIGRATIONS.len() as u32
    }
}

/// A version-1 store with records holds them in plaintext; migration 0002
/// would drop them, and encrypting needs a passphrase the old store never
/// had. Refuse, with what to do.
fn refuse_plaintext_records(conn: &Connection) -> Result<(), StoreError> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != 1 {
        return Ok(());
    }
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?;
    if n > 0 {
        return Err(StoreError::Plaintext(n as u64));
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.len() as u32;
    if current > latest {
        return Err(StoreError::TooNew {
            found: current,
            supported: latest,
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let wrap = |source| StoreError::Migration { version, source };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap)?;
        // Another process may have migrated while we waited for the lock.
        let now: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(wrap)?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(wrap)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        tracing::info!(migration = name, version, "store migrated");
    }
    Ok(())
}

impl RecordStore for LocalStore {
    fn settings(&self) -> Result<Option<DeviceSettings>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT device_id, agency, worker, created_at FROM device WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(device_id, agency, worker, created_at)| {
            Ok(DeviceSettings {
                device_id,
                agency: AgencyCode::try_from_str(&agency)
                    .map_err(|_| StoreError::Corrupt("the agency is too long".into()))?,
                worker: WorkerId::try_from_str(&worker)
                    .map_err(|_| StoreError::Corrupt("the worker is too long".into()))?,
                created_at: Timestamp(created_at),
            })
        })
        .transpose()
    }

    fn init_settings(&mut self, s: &DeviceSettings) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row("SELECT device_id FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(id) = existing {
            return Err(StoreError::AlreadyInitialised(id));
        }
        tx.execute(
            "INSERT INTO device (id, device_id, agency, worker, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
            params![s.device_id, s.agency.as_str(), s.worker.as_str(), s.created_at.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn append(
        &mut self,
        captured_at: Timestamp,
        sign: &mut dyn FnMut(Seq, RecordHash) -> Result<SignedRecord, EncodeError>,
    ) -> Result<LocalRecord, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Cached statements: a capture is the hot path, and parsing the
        // same SQL on every capture is work the bare insert does not do.
        let sealer = self.sealer.as_ref().ok_or(StoreError::Locked)?;
        let last: Option<(i64, Vec<u8>, Option<Vec<u8>>)> = tx
            .prepare_cached("SELECT seq, hash, sealed FROM records ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (seq, prev) = match last {
            None => (Seq::FIRST, RecordHash::GENESIS),
            Some((head, hash, sealed)) => {
                let head = Seq(head as u64);
                let prev = authentic_head(&tx, sealer, head, hash_from(hash)?, sealed)?;
                (head.next(), prev)
            }
        };
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

    fn get(&self, seq: Seq) -> Result<Option<LocalRecord>, StoreError> {
        let sealer = self.sealer()?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records r LEFT JOIN record_status s ON s.seq = r.seq
             WHERE r.seq = ?1 AND r.purged_at IS NULL"
        );
        self.conn
            .query_row(&sql, [seq_to_sql(seq)?], record_from_row)
            .optional()?
            .map(|row| record_from_parts(sealer, row))
            .transpose()
    }

    fn all(&self) -> Result<Vec<LocalRecord>, StoreError> {
        let sealer = self.sealer()?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records r LEFT JOIN record_status s ON s.seq = r.seq
             WHERE r.purged_at IS NULL ORDER BY r.seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], record_from_row)?;
        rows.map(|r| record_from_parts(sealer, r?)).collect()
    }

    fn for_child(&self, child: &ChildRef) -> Result<Vec<LocalRecord>, StoreError> {
        // The tags are keyed but not authenticated: one flipped bit in a
        // row's `child_tags` would drop that record from the answer, and
        // nothing would say so (issue 12). So every unpurged row is opened
        // and its tags checked against the children its sealed, signed
        // bytes name; a mismatch fails the whole lookup, naming the
        // record. This costs what `list` costs (every row is decrypted),
        // which buys an answer that cannot silently leave a record out.
        let sealer = self.sealer()?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, r.child_tags
             FROM records r LEFT JOIN record_status s ON s.seq = r.seq
             WHERE r.purged_at IS NULL ORDER BY r.seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
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

    fn seqs_with_status(&self, status: SyncStatus) -> Result<Vec<Seq>, StoreError> {
        let sql = if status == SyncStatus::Pending {
            "SELECT r.seq FROM records r LEFT JOIN record_status s ON s.seq = r.seq
             WHERE s.seq IS NULL ORDER BY r.seq"
        } else {
            "SELECT seq FROM record_status WHERE status = ?1 ORDER BY seq"
        };
        let mut stmt = self.conn.prepare(sql)?;
        let params: &[&dyn rusqlite::ToSql] = if status == SyncStatus::Pending {
            &[]
        } else {
            &[&status.as_str()]
        };
        let rows = stmt.query_map(params, |r| r.get::<_, i64>(0))?;
        rows.map(|r| Ok(Seq(r? as u64))).collect()
    }

    fn purged_at(&self, seq: Seq) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT purged_at FROM records WHERE seq = ?1",
                [seq_to_sql(seq)?],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten()
            .map(Timestamp))
    }

    fn purge(&mut self, synced_before: Timestamp, now: Timestamp) -> Result<Vec<Seq>, StoreError> {
        // Purging needs no key (the tags go with the body, below), but it
        // destroys data, so only an unlocked store does it, as before.
        self.sealer()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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

    fn pending_seqs(&self) -> Result<Vec<Seq>, StoreError> {
        self.seqs_with_status(SyncStatus::Pending)
    }

    fn hash_of(&self, seq: Seq) -> Result<Option<RecordHash>, StoreError> {
        self.conn
            .query_row(
                "SELECT hash FROM records WHERE seq = ?1",
                [seq_to_sql(seq)?],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
            .map(hash_from)
            .transpose()
    }

    fn apply(&mut self, outcome: &PushOutcome, now: Timestamp) -> Result<(), StoreError> {
        let sealer = self.sealer.as_ref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
            let sealed = (!reason.is_empty())
                .then(|| sealer.seal(Slot::Reason, Some(*seq), reason.as_bytes()));
            tx.execute(
                "INSERT INTO record_status (seq, status, reason_sealed, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (seq) DO UPDATE SET status = excluded.status,
                     reason_sealed = excluded.reason_sealed, updated_at = excluded.updated_at
                 WHERE record_status.status <> 'synced'",
                params![seq_to_sql(*seq)?, status.as_str(), sealed, now.0],
            )?;
        }
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

    fn counts(&self) -> Result<StatusCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, COUNT(*) FROM record_status GROUP BY status")?;
        let mut counts = StatusCounts::default();
        // Pending records have no status row: count them from `records`.
        let pending: i64 = self.conn.query_row(
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
            match status.parse::<SyncStatus>()? {
                SyncStatus::Pending => counts.pending += n,
                SyncStatus::Synced => counts.synced = n,
                SyncStatus::Rejected => counts.rejected = n,
                SyncStatus::Quarantined => counts.quarantined = n,
            }
        }
        let purged: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM records WHERE purged_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        counts.purged = purged as u64;
        Ok(counts)
    }

    fn sync_state(&self) -> Result<SyncState, StoreError> {
        let (last_sync_at, clock_offset_seconds): (Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT last_sync_at, clock_offset_seconds FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((None, None));
        let last_receipt = self
            .conn
            .query_row(
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
                Ok::<_, StoreError>(StoredReceipt {
                    first: Seq(first as u64),
                    last: Seq(last as u64),
                    last_hash: hash_from(hash)?,
                    server_time: Timestamp(server_time),
                    signed,
                })
            })
            .transpose()?;
        Ok(SyncState {
            last_sync_at: last_sync_at.map(Timestamp),
            clock_offset_seconds,
            last_receipt,
        })
    }

    fn registration(&self) -> Result<Option<Registration>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT server_url, server_key, agency, worker, enrolled_at FROM registration WHERE id = 1",
                [],
                |r| {
                    Ok(Registration {
                        server_url: r.get(0)?,
                        server_key: r.get(1)?,
                        agency: r.get(2)?,
                        worker: r.get(3)?,
                        enrolled_at: Timestamp(r.get(4)?),
                    })
                },
            )
            .optional()?)
    }

    fn set_registration(&mut self, reg: &Registration) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO registration (id, server_url, server_key, agency, worker, enrolled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![reg.server_url, reg.server_key, reg.agency, reg.worker, reg.enrolled_at.0],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::tests::{sample_body, test_key};
    use hearth_shared::{Envelope, FORMAT_VERSION};

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

    #[test]
    fn child_tags_are_in_the_record_row_and_immutable() {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        let clock = crate::clock::FixedClock(Timestamp(1_800_000_000));
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

    #[test]
    fn tags_compare_as_sets() {
        let (a, b) = ([1u8; CHILD_TAG_LEN], [2u8; CHILD_TAG_LEN]);
        let ab = [a, b].concat();
        let ba = [b, a].concat();
        assert!(same_tags(&ab, &ba));
        assert!(same_tags(&[], &[]));
        assert!(!same_tags(&ab, &a));
        assert!(!same_tags(&a, &b));
        let mut flipped = ab.clone();
        flipped[0] ^= 1;
        assert!(!same_tags(&flipped, &ba));
    }

    #[test]
    fn a_tag_counts_only_at_a_tag_boundary() {
        let tag = [0xabu8; CHILD_TAG_LEN];
        let mut column = vec![0u8; 8];
        column.extend_from_slice(&tag);
        column.extend_from_slice(&[0u8; 8]);
        assert!(!names_tag(&column, &tag), "straddling two tags");
        assert!(names_tag(&column[8..24], &tag));
        let mut two = [1u8; CHILD_TAG_LEN].to_vec();
        two.extend_from_slice(&tag);
        assert!(names_tag(&two, &tag));
        assert!(!names_tag(&two[..31], &tag), "a torn tag");
        let s = test_sealer();
        let a: ChildRef = CHILD_A.parse().unwrap();
        let once = child_tags_column(&s, &[a.clone(), a.clone()]).unwrap();
        assert_eq!(once, s.child_tag(&a), "each child once");
        assert_eq!(child_tags_column(&s, &[]), None);
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
}
