//! [`SqliteStore`]: the [`RecordStore`] in one SQLite file per device.
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

use std::path::Path;
use std::time::Duration;

use hearth_shared::signed::EncodeError;
use hearth_shared::{AgencyCode, RecordHash, Seq, SignedRecord, Timestamp, WorkerId};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    BatchOutcome, DeviceSettings, RecordStore, Registration, StatusCounts, StoreError,
    StoredReceipt, StoredRecord, SyncState, SyncStatus,
};

/// The database file's name inside the store directory.
pub const DB_FILE: &str = "hearth.db";

/// The migrations, in order; the version after applying `MIGRATIONS[i]` is
/// `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[("0001_init", include_str!("migrations/0001_init.sql"))];

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn hash_from(bytes: Vec<u8>) -> Result<RecordHash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash is not 32 bytes".into()))
}

fn seq_to_sql(seq: Seq) -> Result<i64, StoreError> {
    i64::try_from(seq.0).map_err(|_| StoreError::Corrupt(format!("seq {seq} out of range")))
}

const RECORD_COLUMNS: &str = "r.seq, r.hash, r.signed, r.captured_at, s.status, s.reason";

/// A record row as SQLite returns it: seq, hash, signed, captured_at,
/// status, reason.
type RecordRow = (i64, Vec<u8>, Vec<u8>, i64, String, String);

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
    (seq, hash, signed, captured_at, status, reason): RecordRow,
) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        seq: Seq(seq as u64),
        hash: hash_from(hash)?,
        signed,
        captured_at: Timestamp(captured_at),
        status: status.parse()?,
        reason,
    })
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/hearth.db` and migrates it.
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open(&dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::from_connection(conn)
    }

    /// An in-memory store (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // See the module comment: WAL + FULL means a returned commit is on disk.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self { conn })
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

impl RecordStore for SqliteStore {
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
    ) -> Result<StoredRecord, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            None => (Seq::FIRST, RecordHash::GENESIS),
            Some((seq, hash)) => (Seq(seq as u64).next(), hash_from(hash)?),
        };
        let signed = sign(seq, prev)?;
        let hash = signed.hash();
        let seq_sql = seq_to_sql(seq)?;
        tx.execute(
            "INSERT INTO records (seq, hash, signed, captured_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                seq_sql,
                hash.as_bytes().as_slice(),
                signed.as_bytes(),
                captured_at.0
            ],
        )?;
        tx.execute(
            "INSERT INTO record_status (seq, status, reason, updated_at) VALUES (?1, 'pending', '', ?2)",
            params![seq_sql, captured_at.0],
        )?;
        tx.commit()?;
        Ok(StoredRecord {
            seq,
            hash,
            signed: signed.into_bytes(),
            captured_at,
            status: SyncStatus::Pending,
            reason: String::new(),
        })
    }

    fn get(&self, seq: Seq) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records r JOIN record_status s ON s.seq = r.seq WHERE r.seq = ?1"
        );
        self.conn
            .query_row(&sql, [seq_to_sql(seq)?], record_from_row)
            .optional()?
            .map(record_from_parts)
            .transpose()
    }

    fn all(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records r JOIN record_status s ON s.seq = r.seq ORDER BY r.seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], record_from_row)?;
        rows.map(|r| record_from_parts(r?)).collect()
    }

    fn pending_seqs(&self) -> Result<Vec<Seq>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq FROM record_status WHERE status = 'pending' ORDER BY seq")?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        rows.map(|r| Ok(Seq(r? as u64))).collect()
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

    fn apply(&mut self, outcome: &BatchOutcome, now: Timestamp) -> Result<(), StoreError> {
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
                "UPDATE record_status SET status = 'synced', reason = '', updated_at = ?2 WHERE seq = ?1",
                params![seq_to_sql(seq)?, now.0],
            )?;
        }
        for (seq, status, reason) in &outcome.refused {
            // Never downgrade a synced record: a receipt is proof.
            tx.execute(
                "UPDATE record_status SET status = ?2, reason = ?3, updated_at = ?4
                 WHERE seq = ?1 AND status <> 'synced'",
                params![seq_to_sql(*seq)?, status.as_str(), reason, now.0],
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
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            let n = n as u64;
            match status.parse::<SyncStatus>()? {
                SyncStatus::Pending => counts.pending = n,
                SyncStatus::Synced => counts.synced = n,
                SyncStatus::Rejected => counts.rejected = n,
                SyncStatus::Quarantined => counts.quarantined = n,
            }
        }
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

    fn append_one(store: &mut SqliteStore, key: &crate::keys::DeviceKey) -> StoredRecord {
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

    #[test]
    fn migrations_run_from_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            SqliteStore::latest_version()
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
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            SqliteStore::latest_version()
        );
    }

    #[test]
    fn appends_chain_and_records_are_immutable() {
        let key = test_key();
        let mut store = SqliteStore::open_in_memory().unwrap();
        let a = append_one(&mut store, &key);
        let b = append_one(&mut store, &key);
        assert_eq!(a.seq, Seq(1));
        assert_eq!(b.seq, Seq(2));
        assert_eq!(b.envelope().unwrap().prev, a.hash);
        assert_eq!(a.envelope().unwrap().prev, RecordHash::GENESIS);
        assert!(
            store
                .conn
                .execute("UPDATE records SET signed = x'00' WHERE seq = 1", [])
                .is_err()
        );
        assert!(store.conn.execute("DELETE FROM records", []).is_err());
        assert_eq!(store.get(Seq(1)).unwrap().unwrap().signed, a.signed);
    }

    #[test]
    fn concurrent_writers_leave_no_gap_and_no_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open_dir(dir.path()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let key = test_key();
                    let mut store = SqliteStore::open_dir(&path).unwrap();
                    for _ in 0..25 {
                        append_one(&mut store, &key);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = SqliteStore::open_dir(dir.path()).unwrap();
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
        let mut store = SqliteStore::open_in_memory().unwrap();
        let err = store.append(Timestamp(0), &mut |_, _| Err(EncodeError::BufferTooSmall));
        assert!(err.is_err());
        assert!(store.all().unwrap().is_empty());
    }
}
