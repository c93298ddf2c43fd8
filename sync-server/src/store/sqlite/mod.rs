//! The SQLite backend: [`SqliteStore`], implementing [`Store`] and
//! [`IngestTx`] over one `hearth.db` in the data directory.
//!
//! Why these settings: WAL lets administration commands and pulls read
//! while `serve` writes; `busy_timeout` makes concurrent writers wait
//! rather than fail; `synchronous=FULL` on the ingest connection means a
//! committed batch survives power loss, which is what a receipt promises.
//! Migrations are the numbered files in `migrations/`, applied in order and
//! tracked in `PRAGMA user_version`; a migration may have a Rust step that
//! runs after its SQL in the same transaction (0004 fills the chronology
//! lines of rows stored before it).
//!
//! Layout, for the single writer (see `migrations/0004_compact_records.sql`
//! for the profile behind it): device ids are 8-byte BLOBs; `records` is a
//! rowid table, so arrivals append and pack its pages; each record's
//! chronology line (agency, author, headline, children, flags, amendment)
//! is stored beside its signed bytes at ingest, so a pull decodes nothing;
//! `record_children` is keyed by child for pulls. The serving writer
//! checkpoints the WAL on a thread of its own
//! ([`SqliteStore::checkpoint_in_background`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hearth_shared::signed::{SIGNATURE_LEN, decode_stored_envelope};
use hearth_shared::{
    ChainState, ChildRef, DeviceId, RecordHash, RecordId, RecordKind, Seq, Timestamp,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::{
    Access, Alarm, Amends, Device, EnrolRefusal, Enrolment, FamilyChange, FiledRecord, Grant, Held,
    HoldStatus, IngestTx, Line, NewRecord, QuarantineUsage, Revocation, Role, Store, StoreError,
    User, UserChange, UserEntry, Via,
};
use crate::line::FlagSet;
use crate::chronology::family::{FamilyLinks, NamedTogether, pair};
use crate::clock::ClockState;

/// A step run after a migration's SQL, in the same transaction.
type After = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// The numbered migrations, in order, each with the step (if any) that
/// must follow its SQL.
const MIGRATIONS: &[(&str, Option<After>)] = &[
    (include_str!("migrations/0001_init.sql"), None),
    (include_str!("migrations/0002_lookup_by_hash.sql"), None),
    (
        include_str!("migrations/0003_access_log_children.sql"),
        None,
    ),
    (
        include_str!("migrations/0004_compact_records.sql"),
        Some(backfill_lines),
    ),
    (
        include_str!("migrations/0005_identity_and_quarantine_budget.sql"),
        Some(backfill_digests),
    ),
    (include_str!("migrations/0006_user_revocation.sql"), None),
    (include_str!("migrations/0007_family_unlinks.sql"), None),
];

/// Separates the child references in `records.children` (a control
/// character, which no reference may hold).
const CHILD_SEPARATOR: char = '\n';

/// Separates the worker ids in `enrol_tokens.staff` (a control character,
/// which no worker id may hold).
const STAFF_SEPARATOR: char = '\n';

/// The staff list of `device`, in name order (current members only).
fn staff_of(conn: &Connection, device: DeviceId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT member FROM device_staff WHERE device = ?1 AND removed_at IS NULL ORDER BY member",
    )?;
    let rows = stmt.query_map([dev(device)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How far (in pages) the WAL may grow before the writer checkpoints for
/// itself, when a background [`Checkpointer`] has fallen behind: 64 MiB.
pub const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// Wakes the background checkpoint thread (see
/// [`SqliteStore::checkpoint_in_background`]).
#[derive(Clone)]
pub struct Checkpointer {
    wake: std::sync::mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Asks for a checkpoint soon; never blocks (a wake-up already pending
    /// covers this one).
    pub fn nudge(&self) {
        let _ = self.wake.try_send(());
    }
}

/// The database file inside the data directory.
pub fn db_path(data: &Path) -> PathBuf {
    data.join("hearth.db")
}

/// A store over one SQLite connection.
pub struct SqliteStore {
    conn: Connection,
}

/// A device id as stored: its 8 bytes.
fn dev(d: DeviceId) -> [u8; 8] {
    d.0
}

fn parse_dev(b: &[u8]) -> Result<DeviceId, StoreError> {
    b.try_into()
        .map(DeviceId)
        .map_err(|_| StoreError::Corrupt("a device id"))
}

/// Reads a stored device id from column `i`.
fn dev_at(row: &rusqlite::Row<'_>, i: usize) -> Result<DeviceId, StoreError> {
    let b: Vec<u8> = row.get(i)?;
    parse_dev(&b)
}

fn parse_child(s: &str) -> Result<ChildRef, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("a child reference"))
}

fn hash_of(b: Vec<u8>) -> Result<RecordHash, StoreError> {
    b.try_into()
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data` and migrates it.
    /// A new directory is `0700` and a new database `0600`; SQLite gives
    /// its `-wal` and `-shm` files the database's mode.
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let io = |path: PathBuf| move |source| StoreError::Io { path, source };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data)
            .map_err(io(data.to_path_buf()))?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(db_path(data))
            .map_err(io(db_path(data)))?;
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an already migrated database (for request handlers): no
    /// write lock is taken.
    pub fn connect(data: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Self { conn })
    }

    /// Moves WAL checkpointing off this connection (the ingest writer's)
    /// onto a thread of its own, and returns the handle that wakes it.
    ///
    /// Why: with SQLite's automatic checkpoint, the commit that takes the
    /// WAL past 1,000 pages also copies those pages into the database file,
    /// on the single writer thread: in the ingest profile that was 23 % of
    /// the writer's time. A checkpoint does not affect durability (a commit
    /// is durable once its WAL frames are synced), so another thread can do
    /// it while the writer goes on. If that thread falls far behind, this
    /// connection checkpoints for itself again once the WAL passes
    /// [`WRITER_CHECKPOINT_PAGES`], so the WAL stays bounded.
    pub fn checkpoint_in_background(&mut self, data: &Path) -> Result<Checkpointer, StoreError> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("hearth-ckpt".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // PASSIVE: copies what it can without blocking the
                    // writer or readers; the next nudge does the rest.
                    if let Err(e) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "WAL checkpoint failed; the writer will checkpoint itself if the WAL keeps growing");
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                path: data.to_path_buf(),
                source,
            })?;
        Ok(Checkpointer { wake: tx })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, (sql, after)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            if let Some(after) = after {
                after(&tx)?;
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn read_device(&self, row: &rusqlite::Row<'_>) -> Result<Device, StoreError> {
        let id = dev_at(row, 0)?;
        let key: Vec<u8> = row.get(1)?;
        let revoked_at: Option<i64> = row.get(8)?;
        let revoked_reason: Option<String> = row.get(9)?;
        let mut gaps = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT from_seq, to_seq FROM gaps WHERE device = ?1 ORDER BY from_seq",
        )?;
        let rows = stmt.query_map([dev(id)], |r| {
            Ok((
                Seq(r.get::<_, i64>(0)? as u64),
                Seq(r.get::<_, i64>(1)? as u64),
            ))
        })?;
        for g in rows {
            gaps.push(g?);
        }
        let staff = staff_of(&self.conn, id)?;
        Ok(Device {
            id,
            public_key: key
                .try_into()
                .map_err(|_| StoreError::Corrupt("a device key"))?,
            agency: row.get(2)?,
            worker: row.get(3)?,
            staff,
            enrolled_at: Timestamp(row.get(4)?),
            last_seen: row.get::<_, Option<i64>>(5)?.map(Timestamp),
            clock: ClockState {
                offset: row.get(6)?,
                last_report: row.get::<_, Option<i64>>(7)?.map(Timestamp),
            },
            revoked: revoked_at.map(|at| Revocation {
                at: Timestamp(at),
                reason: revoked_reason.unwrap_or_default(),
            }),
            gaps,
        })
    }
}

const DEVICE_COLUMNS: &str = "id, public_key, agency, worker, enrolled_at, last_seen, clock_offset, last_clock_report, revoked_at, revoked_reason";

/// One ingest transaction over SQLite.
struct SqliteTx<'c> {
    tx: Transaction<'c>,
}

impl IngestTx for SqliteTx<'_> {
    fn enrolment(&mut self, device: DeviceId) -> Result<Option<Enrolment>, StoreError> {
        let row: Option<(String, String)> = self
            .tx
            .prepare_cached("SELECT agency, worker FROM devices WHERE id = ?1")?
            .query_row([dev(device)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(agency, worker)| {
            Ok(Enrolment {
                agency,
                worker,
                staff: staff_of(&self.tx, device)?,
            })
        })
        .transpose()
    }

    fn quarantine_usage(&mut self, device: DeviceId) -> Result<QuarantineUsage, StoreError> {
        let (bytes, exhausted): (i64, bool) = self.tx.prepare_cached(
            "SELECT COALESCE(SUM(length(bytes)), 0), COALESCE(MAX(length > 0 AND length(bytes) = 0), 0)
             FROM quarantine WHERE device = ?1 AND status = 'rejected'",
        )?
        .query_row([dev(device)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(QuarantineUsage {
            bytes: bytes as u64,
            exhausted,
        })
    }

    fn set_clock_state(
        &mut self,
        device: DeviceId,
        state: ClockState,
        seen: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE devices SET clock_offset = ?2, last_clock_report = ?3, last_seen = ?4 WHERE id = ?1",
            params![dev(device), state.offset, state.last_report.map(|t| t.0), seen.0],
        )?;
        Ok(())
    }

    fn chain_state(&mut self, device: DeviceId, seq: Seq) -> Result<ChainState, StoreError> {
        let s = seq.0 as i64;
        let mut state = ChainState {
            at_seq: None,
            before: None,
            after_prev: None,
            head: None,
        };
        // The record at `seq` and its two neighbours: one range probe of
        // the primary key.
        let mut near = self.tx.prepare_cached(
            "SELECT seq, hash, prev FROM records WHERE device = ?1 AND seq BETWEEN ?2 - 1 AND ?2 + 1",
        )?;
        let mut rows = near.query(params![dev(device), s])?;
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            if at == s - 1 {
                state.before = Some(hash_of(row.get(1)?)?);
            } else if at == s {
                state.at_seq = Some(hash_of(row.get(1)?)?);
            } else {
                state.after_prev = Some(hash_of(row.get(2)?)?);
            }
        }
        let head: Option<i64> = self
            .tx
            .prepare_cached("SELECT MAX(seq) FROM records WHERE device = ?1")?
            .query_row([dev(device)], |r| r.get(0))?;
        state.head = head.map(|h| Seq(h as u64));
        Ok(state)
    }

    fn insert_record(&mut self, r: &NewRecord) -> Result<(), StoreError> {
        let id = r.line.id;
        let d = dev(id.device);
        let seq = id.seq.0 as i64;
        let c = Columns::of(&r.line);
        self.tx.prepare_cached(
            "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, corrects_device, corrects_seq, agency, author, headline, children, detail_flags, amend_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?
        .execute(params![
            d,
            seq,
            r.hash.0.as_slice(),
            r.prev.0.as_slice(),
            r.bytes,
            r.line.kind.as_str(),
            r.line.occurred_at.0,
            r.device_time.0,
            r.received_at.0,
            r.corrected_time.0,
            r.late_entry,
            c.corrects.map(|c| dev(c.device)),
            c.corrects.map(|c| c.seq.0 as i64),
            c.agency,
            c.author,
            c.headline,
            c.children,
            c.flags,
            c.reason,
        ])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO record_children (child, device, seq) VALUES (?1, ?2, ?3)",
        )?;
        // The references were formatted once, for the `children` column.
        for child in c.children.split(CHILD_SEPARATOR).filter(|c| !c.is_empty()) {
            stmt.execute(params![child, d, seq])?;
        }
        Ok(())
    }

    fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "UPDATE records SET disputed = 1 WHERE device = ?1 AND seq = ?2",
            params![dev(id.device), id.seq.0 as i64],
        )?;
        Ok(n > 0)
    }

    fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT bytes FROM records WHERE device = ?1 AND seq = ?2",
                params![dev(id.device), id.seq.0 as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn is_held(&mut self, device: DeviceId, digest: &[u8; 32]) -> Result<bool, StoreError> {
        // Every row has its digest (0005 filled in those held before 0002).
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM quarantine WHERE device = ?1 AND digest = ?2)",
            )?
            .query_row(params![dev(device), digest.as_slice()], |r| r.get(0))?)
    }

    fn holds_bytes(&mut self, id: RecordId, bytes: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM records WHERE device = ?1 AND seq = ?2 AND bytes = ?3)",
            )?
            .query_row(params![dev(id.device), id.seq.0 as i64, bytes], |r| {
                r.get(0)
            })?)
    }

    fn hold(&mut self, h: &Held) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest, length) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                dev(h.device),
                h.seq.map(|s| s.0 as i64),
                h.status.as_str(),
                h.reason,
                h.bytes,
                h.received_at.0,
                h.digest.as_slice(),
                h.length as i64,
            ],
        )?;
        Ok(())
    }

    fn raise_alarm(
        &mut self,
        device: DeviceId,
        seq: Seq,
        message: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO alarms (raised_at, device, seq, message) VALUES (?1, ?2, ?3, ?4)",
            params![at.0, dev(device), seq.0 as i64, message],
        )?;
        Ok(())
    }

    fn add_gap(&mut self, device: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO gaps (device, from_seq, to_seq) VALUES (?1, ?2, ?3)",
            params![dev(device), from.0 as i64, to.0 as i64],
        )?;
        Ok(())
    }

    fn fill_gap(&mut self, device: DeviceId, seq: Seq) -> Result<(), StoreError> {
        let d = dev(device);
        let s = seq.0 as i64;
        let gap: Option<(i64, i64)> = self
            .tx
            .query_row(
                "SELECT from_seq, to_seq FROM gaps WHERE device = ?1 AND from_seq <= ?2 AND to_seq >= ?2",
                params![d, s],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((from, to)) = gap {
            self.tx.execute(
                "DELETE FROM gaps WHERE device = ?1 AND from_seq = ?2",
                params![d, from],
            )?;
            if from < s {
                self.add_gap(device, Seq(from as u64), Seq(s as u64 - 1))?;
            }
            if s < to {
                self.add_gap(device, Seq(s as u64 + 1), Seq(to as u64))?;
            }
        }
        Ok(())
    }
}

/// A [`Line`] in its stored form: the chronology columns of `records`.
struct Columns<'a> {
    agency: &'a str,
    author: &'a str,
    headline: &'a str,
    children: String,
    flags: u16,
    corrects: Option<RecordId>,
    reason: Option<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(line: &'a Line) -> Self {
        let mut children = String::new();
        for (i, c) in line.children.iter().enumerate() {
            if i > 0 {
                children.push(CHILD_SEPARATOR);
            }
            let _ = write!(children, "{c}");
        }
        Self {
            agency: &line.agency,
            author: &line.author,
            headline: &line.headline,
            children,
            flags: line.detail_flags.bits(),
            corrects: line.amends.as_ref().map(|a| a.corrects),
            reason: line.amends.as_ref().map(|a| a.reason.as_str()),
        }
    }
}

/// After migration 0004: fills the chronology columns of the rows stored
/// before it, from their bytes (verified when they arrived).
fn backfill_lines(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT device, seq, bytes FROM records WHERE agency IS NULL")?;
    let mut write = tx.prepare(
        "UPDATE records SET agency = ?3, author = ?4, headline = ?5, children = ?6, detail_flags = ?7, amend_reason = ?8
         WHERE device = ?1 AND seq = ?2",
    )?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (device, seq, bytes): (Vec<u8>, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let env_len = bytes
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(StoreError::Corrupt("a stored record"))?;
        let e = decode_stored_envelope(&bytes[..env_len])
            .map_err(|_| StoreError::Corrupt("a stored record"))?;
        let line = Line::of(&e);
        let c = Columns::of(&line);
        write.execute(params![
            device, seq, c.agency, c.author, c.headline, c.children, c.flags, c.reason,
        ])?;
    }
    Ok(())
}

/// After migration 0005: gives the rows held before migration 0002 their
/// digest, so that a resend is found by its digest alone.
fn backfill_digests(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT id, bytes FROM quarantine WHERE digest IS NULL")?;
    let mut write = tx.prepare("UPDATE quarantine SET digest = ?2 WHERE id = ?1")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (id, bytes): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        write.execute(params![id, Sha256::digest(&bytes).as_slice()])?;
    }
    Ok(())
}

/// The columns [`read_line`] reads, for `records r` joined with the
/// sending device `d`: the agency shown is the device's enrolled agency,
/// never the one a record claims (issue 11; rows stored before the check
/// may claim another).
const LINE_COLUMNS: &str = "r.device, r.seq, r.kind, r.occurred_at, d.agency, r.author, r.headline, r.children, r.detail_flags, r.corrects_device, r.corrects_seq, r.amend_reason, r.received_at, r.corrected_time, r.late_entry, r.disputed, d.worker";

fn read_line(row: &rusqlite::Row<'_>) -> Result<FiledRecord, StoreError> {
    let corrupt = StoreError::Corrupt;
    let text = |i: usize| -> Result<String, StoreError> {
        row.get::<_, Option<String>>(i)?
            .ok_or(corrupt("a chronology line"))
    };
    let kind: String = row.get(2)?;
    let children = text(7)?;
    let flags: u16 = row
        .get::<_, Option<u16>>(8)?
        .ok_or(corrupt("a chronology line"))?;
    let amends = match row.get::<_, Option<Vec<u8>>>(9)? {
        None => None,
        Some(d) => Some(Amends {
            corrects: RecordId {
                device: parse_dev(&d)?,
                seq: Seq(row.get::<_, i64>(10)? as u64),
            },
            reason: text(11)?,
        }),
    };
    Ok(FiledRecord {
        line: Line {
            id: RecordId {
                device: dev_at(row, 0)?,
                seq: Seq(row.get::<_, i64>(1)? as u64),
            },
            kind: kind
                .parse::<RecordKind>()
                .map_err(|_| corrupt("a record kind"))?,
            occurred_at: Timestamp(row.get(3)?),
            agency: text(4)?,
            author: text(5)?,
            headline: text(6)?,
            children: children
                .split(CHILD_SEPARATOR)
                .map(parse_child)
                .collect::<Result<_, _>>()?,
            detail_flags: FlagSet::from_bits(flags).ok_or(corrupt("a chronology line's flags"))?,
            amends,
        },
        received_at: Timestamp(row.get(12)?),
        corrected_time: Timestamp(row.get(13)?),
        late_entry: row.get(14)?,
        disputed: row.get(15)?,
        worker: text(16)?,
    })
}

/// The record `rec` corrects, if it is a correction of its own device's
/// record (issue 11: an amendment of another device's record, stored
/// before ingest refused them, brings nothing in).
fn own_correction(rec: &FiledRecord) -> Option<RecordId> {
    rec.line
        .amends
        .as_ref()
        .filter(|a| a.corrects.device == rec.line.id.device)
        .map(|a| a.corrects)
}

impl SqliteStore {
    /// Adds to `out` the whole chain of own-device corrections of every
    /// record in it: back, the records `corrections` correct (and those
    /// their corrections correct in turn), and forward, every later
    /// correction of a record read. Each record once.
    ///
    /// Forward matters: a correction that moved a record to other children
    /// is not indexed under the children the original named, so without it
    /// a pull of the original's child would show the original as if it had
    /// never been corrected (found in review of issue 12).
    fn add_corrected(
        &self,
        out: &mut Vec<FiledRecord>,
        seen: &mut std::collections::HashSet<RecordId>,
        mut corrections: Vec<RecordId>,
    ) -> Result<(), StoreError> {
        let mut by_id = self.conn.prepare(&format!(
            "SELECT {LINE_COLUMNS} FROM records r LEFT JOIN devices d ON d.id = r.device
             WHERE r.device = ?1 AND r.seq = ?2"
        ))?;
        // Only a device's own corrections (issue 11).
        let mut corrected_by = self.conn.prepare(&format!(
            "SELECT {LINE_COLUMNS} FROM records r INDEXED BY records_corrects
             LEFT JOIN devices d ON d.id = r.device
             WHERE r.corrects_device = ?1 AND r.corrects_seq = ?2 AND r.device = ?1"
        ))?;
        let mut forward: Vec<RecordId> = out.iter().map(|r| r.line.id).collect();
        loop {
            if let Some(id) = corrections.pop() {
                if seen.contains(&id) {
                    continue;
                }
                let mut rows = by_id.query(params![dev(id.device), id.seq.0 as i64])?;
                if let Some(row) = rows.next()? {
                    let rec = read_line(row)?;
                    corrections.extend(own_correction(&rec));
                    forward.push(id);
                    out.push(rec);
                    seen.insert(id);
                }
            } else if let Some(id) = forward.pop() {
                let mut rows = corrected_by.query(params![dev(id.device), id.seq.0 as i64])?;
                while let Some(row) = rows.next()? {
                    let rec = read_line(row)?;
                    let later = rec.line.id;
                    if seen.insert(later) {
                        corrections.extend(own_correction(&rec));
                        forward.push(later);
                        out.push(rec);
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    /// Records entered in error, and their corrections (issue 12): a
    /// retracted record links no family. Reads every correction (through
    /// the partial index of amendments) and the records they correct.
    fn retracted_records(&self) -> Result<std::collections::BTreeSet<RecordId>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {LINE_COLUMNS} FROM records r INDEXED BY records_corrects
             LEFT JOIN devices d ON d.id = r.device
             WHERE r.corrects_device IS NOT NULL"
        ))?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut corrections = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let rec = read_line(row)?;
            seen.insert(rec.line.id);
            corrections.extend(own_correction(&rec));
            out.push(rec);
        }
        self.add_corrected(&mut out, &mut seen, corrections)?;
        Ok(crate::chronology::retracted(&out))
    }

    /// What an update of `changed` rows to user `name` did.
    fn user_change(&self, name: &str, changed: usize) -> Result<UserChange, StoreError> {
        if changed > 0 {
            return Ok(UserChange::Done);
        }
        let revoked: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT revoked_at FROM users WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match revoked {
            None => UserChange::NoSuchUser,
            Some(at) => UserChange::Revoked(Timestamp(at.unwrap_or_default())),
        })
    }
}

impl Store for SqliteStore {
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stx = SqliteTx { tx };
        let out = f(&mut stx)?;
        stx.tx.commit()?;
        Ok(out)
    }

    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
        ))?;
        let mut rows = stmt.query([dev(id)])?;
        match rows.next()? {
            Some(row) => Ok(Some(self.read_device(row)?)),
            None => Ok(None),
        }
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY enrolled_at, id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(self.read_device(row)?);
        }
        Ok(out)
    }

    fn set_staff(
        &self,
        device: DeviceId,
        member: &str,
        on: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
            [dev(device)],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(false);
        }
        if on {
            self.conn.execute(
                "INSERT INTO device_staff (device, member, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device, member) DO UPDATE
                 SET removed_at = NULL, added_at = excluded.added_at
                 WHERE removed_at IS NOT NULL",
                params![dev(device), member, at.0],
            )?;
        } else {
            self.conn.execute(
                "UPDATE device_staff SET removed_at = ?3
                 WHERE device = ?1 AND member = ?2 AND removed_at IS NULL",
                params![dev(device), member, at.0],
            )?;
        }
        Ok(true)
    }

    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE devices SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1",
            params![dev(id), at.0, reason],
        )?;
        Ok(n > 0)
    }

    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO enrol_tokens (token_hash, agency, worker, created_at, expires_at, staff) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                hash,
                grant.agency,
                grant.worker,
                created.0,
                expires.0,
                grant.staff.join(&STAFF_SEPARATOR.to_string())
            ],
        )?;
        Ok(())
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let token: Option<(String, String, i64, Option<i64>, String)> = tx
            .query_row(
                "SELECT agency, worker, expires_at, used_at, staff FROM enrol_tokens WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((agency, worker, expires, used, staff)) = token else {
            return Ok(Err(EnrolRefusal::UnknownToken));
        };
        if let Some(used) = used {
            return Ok(Err(EnrolRefusal::Used(Timestamp(used))));
        }
        if expires <= now.0 {
            return Ok(Err(EnrolRefusal::Expired(Timestamp(expires))));
        }
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
            [dev(device)],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(Err(EnrolRefusal::DeviceExists));
        }
        tx.execute(
            "UPDATE enrol_tokens SET used_at = ?2, used_by = ?3 WHERE token_hash = ?1",
            params![token_hash, now.0, device.to_string()],
        )?;
        tx.execute(
            "INSERT INTO devices (id, public_key, agency, worker, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![dev(device), public_key.as_slice(), agency, worker, now.0],
        )?;
        let staff: Vec<String> = staff
            .split(STAFF_SEPARATOR)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        for member in &staff {
            tx.execute(
                "INSERT OR IGNORE INTO device_staff (device, member, added_at) VALUES (?1, ?2, ?3)",
                params![dev(device), member, now.0],
            )?;
        }
        tx.commit()?;
        Ok(Ok(Grant {
            agency,
            worker,
            staff,
        }))
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO users (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), token_hash, now.0],
        )?;
        Ok(n > 0)
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT name, role FROM users WHERE token_hash = ?1 AND revoked_at IS NULL",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(name, role)| {
            Ok(User {
                name,
                role: Role::parse(&role).ok_or(StoreError::Corrupt("a user role"))?,
            })
        })
        .transpose()
    }

    fn users(&self) -> Result<Vec<UserEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, role, created_at, revoked_at, revoked_reason FROM users ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (name, role, created, revoked_at, reason) = row?;
            Ok(UserEntry {
                user: User {
                    name,
                    role: Role::parse(&role).ok_or(StoreError::Corrupt("a user role"))?,
                },
                created_at: Timestamp(created),
                revoked: revoked_at.map(|at| Revocation {
                    at: Timestamp(at),
                    reason: reason.unwrap_or_default(),
                }),
            })
        })
        .collect()
    }

    fn revoke_user(
        &self,
        name: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        let n = self.conn.execute(
            "UPDATE users SET revoked_at = ?2, revoked_reason = ?3 WHERE name = ?1 AND revoked_at IS NULL",
            params![name, at.0, reason],
        )?;
        self.user_change(name, n)
    }

    fn replace_user_token(&self, name: &str, token_hash: &str) -> Result<UserChange, StoreError> {
        let n = self.conn.execute(
            "UPDATE users SET token_hash = ?2 WHERE name = ?1 AND revoked_at IS NULL",
            params![name, token_hash],
        )?;
        self.user_change(name, n)
    }

    fn change_family(&self, c: &FamilyChange) -> Result<(), StoreError> {
        let (a, b) = pair(&c.a, &c.b);
        let (a, b) = (a.to_string(), b.to_string());
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        if c.linked {
            tx.execute(
                "DELETE FROM family_unlinks WHERE child_a = ?1 AND child_b = ?2",
                params![a, b],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO family_links (child_a, child_b, linked_at) VALUES (?1, ?2, ?3)",
                params![a, b, c.at.0],
            )?;
        } else {
            tx.execute(
                "DELETE FROM family_links WHERE child_a = ?1 AND child_b = ?2",
                params![a, b],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO family_unlinks (child_a, child_b, unlinked_at) VALUES (?1, ?2, ?3)",
                params![a, b, c.at.0],
            )?;
        }
        tx.execute(
            "INSERT INTO family_link_history (at, action, child_a, child_b, who, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                c.at.0,
                if c.linked { "link" } else { "unlink" },
                a,
                b,
                c.who,
                c.reason
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn family_links(&self) -> Result<FamilyLinks, StoreError> {
        let mut links = FamilyLinks::default();
        // Only records naming several children, through their partial
        // index (INDEXED BY fails loudly if the index cannot serve it).
        let retracted = self.retracted_records()?;
        let mut stmt = self.conn.prepare(
            "SELECT kind, children, device, seq FROM records INDEXED BY records_naming_several
             WHERE instr(children, char(10)) > 0 ORDER BY device, seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id = RecordId {
                device: dev_at(row, 2)?,
                seq: Seq(row.get::<_, i64>(3)? as u64),
            };
            // A record entered in error links nobody.
            if retracted.contains(&id) {
                continue;
            }
            let kind: String = row.get(0)?;
            let children: String = row.get(1)?;
            links.named_together.push(NamedTogether {
                kind: kind
                    .parse()
                    .map_err(|_| StoreError::Corrupt("a record kind"))?,
                children: children
                    .split(CHILD_SEPARATOR)
                    .map(parse_child)
                    .collect::<Result<_, _>>()?,
            });
        }
        for (table, out) in [
            ("family_links", &mut links.linked),
            ("family_unlinks", &mut links.unlinked),
        ] {
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT child_a, child_b FROM {table}"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                out.push((
                    parse_child(&row.get::<_, String>(0)?)?,
                    parse_child(&row.get::<_, String>(1)?)?,
                ));
            }
        }
        Ok(links)
    }

    fn family_history(&self) -> Result<Vec<FamilyChange>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, action, child_a, child_b, who, reason FROM family_link_history ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(FamilyChange {
                at: Timestamp(r.get(0)?),
                linked: r.get::<_, String>(1)? == "link",
                a: parse_child(&r.get::<_, String>(2)?)?,
                b: parse_child(&r.get::<_, String>(3)?)?,
                who: r.get(4)?,
                reason: r.get(5)?,
            });
        }
        Ok(out)
    }

    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<FiledRecord>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut by_child = self.conn.prepare(&format!(
            "SELECT {LINE_COLUMNS}
             FROM record_children c JOIN records r ON r.device = c.device AND r.seq = c.seq
             LEFT JOIN devices d ON d.id = r.device
             WHERE c.child = ?1"
        ))?;
        let mut corrections = Vec::new();
        for child in children {
            let mut rows = by_child.query([child.to_string()])?;
            while let Some(row) = rows.next()? {
                let rec = read_line(row)?;
                if seen.insert(rec.line.id) {
                    // Only a device's own records can be amended (issue
                    // 11): an amendment of another device's record, stored
                    // before ingest refused them, brings nothing in.
                    corrections.extend(own_correction(&rec));
                    out.push(rec);
                }
            }
        }
        self.add_corrected(&mut out, &mut seen, corrections)?;
        Ok(out)
    }

    fn log_access(&self, a: &Access) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO access_log (at, who, via, child, family, reason, children) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.at.0,
                a.who,
                a.via.as_str(),
                // The column is NOT NULL: an empty string is "no child
                // asked for".
                a.child.as_ref().map(ToString::to_string).unwrap_or_default(),
                a.family,
                a.reason,
                a.children.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
            ],
        )?;
        Ok(())
    }

    fn access_log(&self) -> Result<Vec<Access>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, who, via, child, family, reason, children FROM access_log ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let via: String = r.get(2)?;
            out.push(Access {
                at: Timestamp(r.get(0)?),
                who: r.get(1)?,
                via: Via::parse(&via),
                child: match r.get::<_, String>(3)? {
                    c if c.is_empty() => None,
                    c => Some(parse_child(&c)?),
                },
                family: r.get(4)?,
                reason: r.get(5)?,
                children: r
                    .get::<_, String>(6)?
                    .split_whitespace()
                    .map(parse_child)
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(out)
    }

    fn held(&self) -> Result<Vec<Held>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, device, seq, status, reason, bytes, received_at, length, digest FROM quarantine ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let status: String = r.get(3)?;
            out.push(Held {
                id: r.get(0)?,
                device: dev_at(r, 1)?,
                seq: r.get::<_, Option<i64>>(2)?.map(|s| Seq(s as u64)),
                status: if status == "quarantined" {
                    HoldStatus::Quarantined
                } else {
                    HoldStatus::Rejected
                },
                reason: r.get(4)?,
                bytes: r.get(5)?,
                received_at: Timestamp(r.get(6)?),
                length: r.get::<_, i64>(7)? as u64,
                digest: r
                    .get::<_, Vec<u8>>(8)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("a quarantine digest"))?,
            });
        }
        Ok(out)
    }

    fn alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, raised_at, device, seq, message FROM alarms ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Alarm {
                id: r.get(0)?,
                raised_at: Timestamp(r.get(1)?),
                device: dev_at(r, 2)?,
                seq: Seq(r.get::<_, i64>(3)? as u64),
                message: r.get(4)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use hearth_shared::json::{Defaults, parse_body};
    use hearth_shared::protocol::VerdictStatus;
    use hearth_shared::{Envelope, SignedRecord};

    use super::*;
    use crate::ingest::{BatchJob, Prechecked, apply_batch, precheck};

    const ANNA: &str = "nhs:9434765919";
    const BEN: &str = "local:LA-NORTH:C 0042";

    /// Signs a chain of records from JSON bodies; returns (envelope, bytes).
    fn chain(key: &SigningKey, bodies: &[String]) -> Vec<(Envelope, Vec<u8>)> {
        let defaults = Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        };
        let mut prev = RecordHash::GENESIS;
        let mut out = Vec::new();
        for (i, json) in bodies.iter().enumerate() {
            let body = parse_body(json, &defaults).unwrap();
            let env = Envelope {
                version: body.format_version(),
                device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
                seq: Seq(i as u64 + 1),
                prev,
                device_time: Timestamp(1_790_000_000 + i as i64),
                body,
            };
            let signed = SignedRecord::sign(key, &env).unwrap();
            prev = signed.hash();
            out.push((env, signed.into_bytes()));
        }
        out
    }

    fn bodies(device: DeviceId) -> Vec<String> {
        vec![
            format!(
                r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","access":"unannounced","child_seen":"awake"}}"#
            ),
            format!(
                r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Hid under the table","mode":"behaviour","behaviour":"hid"}}"#
            ),
            format!(
                r#"{{"kind":"amendment","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T09:30:00Z","headline":"Both seen, at 09:30","corrects":"{device}-1","reason":"time typed wrongly"}}"#
            ),
        ]
    }

    /// A database at schema version 3, as a server before migration 0004
    /// left it: hex TEXT device ids, one row per table.
    fn version_3(dir: &Path, key: &SigningKey, records: &[(Envelope, Vec<u8>)]) {
        let conn = Connection::open(db_path(dir)).unwrap();
        for (sql, _) in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let device = records[0].0.device.to_string();
        conn.execute(
            "INSERT INTO devices (id, public_key, agency, worker, enrolled_at, clock_offset) VALUES (?1, ?2, 'HV-NORTH', 'hv.jones', 1, -5)",
            params![device, key.verifying_key().as_bytes().as_slice()],
        )
        .unwrap();
        for (e, bytes) in records {
            let hash = SignedRecord::sign(key, e).unwrap().hash();
            let corrects = crate::line::amends(&e.body.detail).map(|(c, _)| c);
            conn.execute(
                "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, disputed, corrects_device, corrects_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    device,
                    e.seq.0 as i64,
                    hash.0.as_slice(),
                    e.prev.0.as_slice(),
                    bytes,
                    e.body.detail.kind().as_str(),
                    e.body.occurred_at.0,
                    e.device_time.0,
                    e.device_time.0 + 60,
                    e.device_time.0 - 5,
                    e.seq.0 == 2,
                    e.seq.0 == 2,
                    corrects.map(|c| c.device.to_string()),
                    corrects.map(|c| c.seq.0 as i64),
                ],
            )
            .unwrap();
            for child in e.body.children.iter() {
                conn.execute(
                    "INSERT INTO record_children (child, device, seq) VALUES (?1, ?2, ?3)",
                    params![child.to_string(), device, e.seq.0 as i64],
                )
                .unwrap();
            }
        }
        conn.execute(
            "INSERT INTO gaps (device, from_seq, to_seq) VALUES (?1, 7, 9)",
            [&device],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest) VALUES (?1, 2, 'quarantined', 'fork', x'01', 5, NULL)",
            [&device],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO alarms (raised_at, device, seq, message) VALUES (5, ?1, 2, 'fork')",
            [&device],
        )
        .unwrap();
    }

    #[test]
    fn migrating_a_version_3_database_keeps_every_row_and_fills_the_lines() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[3; 32]);
        let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
        let records = chain(&key, &bodies(device));
        version_3(dir.path(), &key, &records);

        let store = SqliteStore::open(dir.path()).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);

        let d = store.device(device).unwrap().expect("device kept");
        assert_eq!(d.public_key, *key.verifying_key().as_bytes());
        assert_eq!(d.clock.offset, Some(-5));
        assert_eq!(d.gaps, vec![(Seq(7), Seq(9))]);
        assert_eq!(store.held().unwrap()[0].device, device);
        assert_eq!(store.alarms().unwrap()[0].device, device);

        // Every line equals what ingest would now store for the same bytes.
        let mut got = store
            .records_for(&[ANNA.parse().unwrap(), BEN.parse().unwrap()])
            .unwrap();
        got.sort_by_key(|r| r.line.id);
        let want: Vec<_> = records
            .iter()
            .map(|(e, _)| {
                FiledRecord::from_envelope(
                    e,
                    Timestamp(e.device_time.0 + 60),
                    Timestamp(e.device_time.0 - 5),
                    e.seq.0 == 2,
                    e.seq.0 == 2,
                )
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            got[2].line.amends.as_ref().unwrap().reason,
            "time typed wrongly"
        );
        assert!(
            got[1]
                .line
                .detail_flags
                .has(crate::line::Flag::NoAction)
        );
        // Records naming several children still make a family.
        let groups = store.family_links().unwrap().named_together;
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert!(groups.iter().all(|g| g.children.len() == 2));
    }

    fn job(device: DeviceId, records: Vec<Prechecked>) -> BatchJob {
        BatchJob {
            device,
            device_time: Timestamp(1_790_000_100),
            received_at: Timestamp(1_790_000_100),
            records,
            late_entry_secs: 86_400,
            quarantine_budget: crate::ingest::DEFAULT_QUARANTINE_BUDGET,
        }
    }

    #[test]
    fn after_migrating_the_chain_goes_on_and_a_refused_resend_is_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[4; 32]);
        let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
        let mut all = bodies(device);
        all.push(format!(
            r#"{{"kind":"voice","children":["{BEN}"],"occurred_at":"2026-03-04T11:00:00Z","headline":"Said he was hungry","mode":"words","words":"hungry","action":"told the DSL"}}"#
        ));
        let records = chain(&key, &all);
        version_3(dir.path(), &key, &records[..3]);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let vk = key.verifying_key();
        let (_, next) = &records[3];
        let (_, first) = &records[0];
        let out = store
            .ingest(|tx| {
                apply_batch(
                    tx,
                    job(
                        device,
                        vec![
                            precheck(&vk, next.clone(), 10_000),
                            // Stored before; refused now (say, a lower size
                            // limit): still a duplicate, never a rejection.
                            precheck(&vk, first.clone(), 10),
                            // A record this server never held, refused.
                            precheck(&vk, vec![1; 200], 10_000),
                        ],
                    ),
                )
            })
            .unwrap();
        let statuses: Vec<_> = out.verdicts.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                VerdictStatus::Accepted,
                VerdictStatus::Duplicate,
                VerdictStatus::Rejected
            ]
        );
        assert_eq!(out.verdicts[1].seq, Some(Seq(1)));
        assert_eq!(
            out.held[1].1,
            SignedRecord::sign(&key, &records[0].0).unwrap().hash()
        );
        let ben = store.records_for(&[BEN.parse().unwrap()]).unwrap();
        assert_eq!(ben.len(), 3, "two from before, one after");
        assert_eq!(
            store.held().unwrap().len(),
            2,
            "the earlier hold and the new rejection"
        );
    }

    /// Enrols a device for `agency`/`worker` through a token.
    fn enrol(store: &SqliteStore, key: &SigningKey, agency: &str, worker: &str) -> DeviceId {
        let grant = Grant {
            agency: agency.into(),
            worker: worker.into(),
            staff: vec![],
        };
        let hash = format!("token-{agency}");
        store
            .add_enrol_token(&hash, &grant, Timestamp(1), Timestamp(i64::MAX))
            .unwrap();
        let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
        let public = *key.verifying_key().as_bytes();
        store
            .enrol(&hash, device, public, Timestamp(2))
            .unwrap()
            .unwrap();
        device
    }

    /// Stores `records` of `key`'s device as ingest would.
    fn insert(store: &mut SqliteStore, key: &SigningKey, records: &[(Envelope, Vec<u8>)]) {
        store
            .ingest(|tx| {
                for (e, bytes) in records {
                    tx.insert_record(&NewRecord {
                        line: Line::of(e),
                        prev: e.prev,
                        device_time: e.device_time,
                        bytes: bytes.clone(),
                        hash: SignedRecord::sign(key, e).unwrap().hash(),
                        received_at: e.device_time,
                        corrected_time: e.device_time,
                        late_entry: false,
                    })?;
                }
                Ok(())
            })
            .unwrap();
    }

    /// A correction that moves a record to other children is found from
    /// the original's child too (review of issue 12): before, a pull of
    /// the original's child read only the original and showed it as never
    /// corrected. After the move, the record is no longer about that child
    /// and is not shown to its reader; the new child's pull shows the
    /// latest version and logs every child of the chain.
    #[test]
    fn a_correction_moving_a_record_to_another_child_is_read_from_the_original_child() {
        use crate::chronology::{DateRange, disclosed, reconcile};
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let key = SigningKey::from_bytes(&[33; 32]);
        let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
        const CARL: &str = "nhs:4010232137";
        let revision = |corrects: u64, child: &str| {
            format!(
                r#"{{"kind":"revision","children":["{child}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Seen at home","corrects":"{device}-{corrects}","reason":"recorded against the wrong child","revised":{{"kind":"home_visit","access":"announced","child_seen":"awake"}}}}"#
            )
        };
        let bodies = [
            format!(
                r#"{{"kind":"home_visit","children":["{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Seen at home","access":"announced","child_seen":"awake"}}"#
            ),
            revision(1, ANNA),
            revision(2, CARL),
        ];
        let records = chain(&key, &bodies);
        let pull = |store: &SqliteStore, child: &str| {
            let view = std::collections::BTreeSet::from([child.parse::<ChildRef>().unwrap()]);
            let recs = store.records_for(&[child.parse().unwrap()]).unwrap();
            let entries = reconcile(&recs, &view, DateRange::default());
            let logged = disclosed(&entries, &view);
            (entries, logged)
        };
        insert(&mut store, &key, &records[..2]);
        let (ben, _) = pull(&store, BEN);
        assert!(ben.is_empty(), "moved to Anna, not shown as Ben's: {ben:?}");
        let (anna, logged) = pull(&store, ANNA);
        assert_eq!(anna.len(), 1);
        assert_eq!(logged.len(), 2, "Anna's and Ben's: {logged:?}");

        insert(&mut store, &key, &records[2..]);
        let (anna, _) = pull(&store, ANNA);
        assert!(anna.is_empty(), "moved on to Carl: {anna:?}");
        let (ben, _) = pull(&store, BEN);
        assert!(ben.is_empty(), "{ben:?}");
        let (carl, logged) = pull(&store, CARL);
        assert_eq!(carl.len(), 1);
        assert_eq!(carl[0].children, vec![CARL.parse::<ChildRef>().unwrap()]);
        assert_eq!(logged.len(), 3, "every child of the chain: {logged:?}");
    }

    /// Issue 12: a record entered in error (through a chain of
    /// corrections) links no family; its records are still all read.
    #[test]
    fn issue_12_a_retracted_record_links_no_family_and_chains_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let key = SigningKey::from_bytes(&[31; 32]);
        let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
        let bodies = [
            format!(
                r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","access":"unannounced","child_seen":"awake"}}"#
            ),
            format!(
                r#"{{"kind":"revision","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","corrects":"{device}-1","reason":"time typed wrongly","revised":{{"kind":"home_visit","access":"announced","child_seen":"awake"}}}}"#
            ),
            format!(
                r#"{{"kind":"revision","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","corrects":"{device}-2","reason":"not this family","entered_in_error":true}}"#
            ),
        ];
        let records = chain(&key, &bodies);
        insert(&mut store, &key, &records[..2]);
        assert_eq!(
            store.family_links().unwrap().named_together.len(),
            2,
            "linked while it stands"
        );
        insert(&mut store, &key, &records[2..]);
        assert!(
            store.family_links().unwrap().named_together.is_empty(),
            "a retracted record links no family"
        );
        let anna = store.records_for(&[ANNA.parse().unwrap()]).unwrap();
        assert_eq!(anna.len(), 3);
    }

    /// Rows stored before ingest checked identities and amendments (issue
    /// 11) cannot mislead a reader: the agency shown is the device's, and
    /// another device's amendment brings no record in and corrects nothing.
    #[test]
    fn issue_11_rows_stored_before_the_checks_are_read_safely() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let nursery_key = SigningKey::from_bytes(&[21; 32]);
        let hv_key = SigningKey::from_bytes(&[22; 32]);
        let nursery = enrol(&store, &nursery_key, "NURSERY-12", "dsl.patel");
        let hv = enrol(&store, &hv_key, "HV-NORTH", "hv.jones");
        let about_ben = chain(
            &nursery_key,
            &[format!(
                r#"{{"kind":"voice","children":["{BEN}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"About Ben","mode":"behaviour","behaviour":"hid","action":"told the DSL"}}"#
            )],
        );
        let forged = chain(
            &hv_key,
            &[
                format!(
                    r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Forged","agency":"POLICE-CAIT","author":"ds.nobody","mode":"behaviour","behaviour":"hid","action":"x"}}"#
                ),
                format!(
                    r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"1900-01-01T00:00:00Z","headline":"Moved","corrects":"{nursery}-1","reason":"date typed wrongly"}}"#
                ),
            ],
        );
        // Written as an old server did: straight in, no checks.
        store
            .ingest(|tx| {
                for (e, bytes) in about_ben.iter().chain(&forged) {
                    let signed = SignedRecord::sign(
                        if e.device == hv {
                            &hv_key
                        } else {
                            &nursery_key
                        },
                        e,
                    )
                    .unwrap();
                    tx.insert_record(&NewRecord {
                        line: Line::of(e),
                        prev: e.prev,
                        device_time: e.device_time,
                        bytes: bytes.clone(),
                        hash: signed.hash(),
                        received_at: e.device_time,
                        corrected_time: e.device_time,
                        late_entry: false,
                    })?;
                }
                Ok(())
            })
            .unwrap();
        let anna = store.records_for(&[ANNA.parse().unwrap()]).unwrap();
        assert_eq!(anna.len(), 2, "the forged record and the amendment only");
        assert!(anna.iter().all(|r| r.line.id.device == hv));
        assert!(anna.iter().all(|r| r.line.agency == "HV-NORTH"), "{anna:?}");
        assert!(anna.iter().all(|r| r.worker == "hv.jones"));
        assert_eq!(
            anna[0].line.author, "ds.nobody",
            "the claim is kept, shown beside the worker"
        );
        let ben = store.records_for(&[BEN.parse().unwrap()]).unwrap();
        let view = std::collections::BTreeSet::from([BEN.parse().unwrap()]);
        let entries = crate::chronology::reconcile(&ben, &view, Default::default());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].headline, "About Ben");
        assert!(entries[0].amended.is_none());
        assert_eq!(entries[0].agency, "NURSERY-12");
    }

    #[test]
    fn the_checkpoint_thread_copies_the_wal_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let checkpointer = store.checkpoint_in_background(dir.path()).unwrap();
        let auto: i64 = store
            .conn
            .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
            .unwrap();
        assert_eq!(auto, WRITER_CHECKPOINT_PAGES);
        let db_len = || std::fs::metadata(db_path(dir.path())).unwrap().len();
        let before = db_len();
        for i in 0..50 {
            store
                .conn
                .execute(
                    "INSERT INTO alarms (raised_at, device, seq, message) VALUES (?1, x'0102030405060708', ?1, ?2)",
                    params![i, "x".repeat(2000)],
                )
                .unwrap();
            checkpointer.nudge();
        }
        // The database file grows only when WAL pages are copied into it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while db_len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 10 s"
            );
            checkpointer.nudge();
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn issue_12_an_unlink_replaces_a_link_is_undone_by_a_link_and_is_kept_in_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let (anna, ben): (ChildRef, ChildRef) = (ANNA.parse().unwrap(), BEN.parse().unwrap());
        let change = |linked, at, reason: &str| FamilyChange {
            at: Timestamp(at),
            linked,
            a: ben.clone(),
            b: anna.clone(),
            who: "admin.okafor".into(),
            reason: reason.into(),
        };
        let sorted = vec![(anna.clone(), ben.clone())];
        store.change_family(&change(true, 1, "")).unwrap();
        let links = store.family_links().unwrap();
        assert_eq!((links.linked, links.unlinked), (sorted.clone(), vec![]));
        store
            .change_family(&change(
                false,
                2,
                "different families, named together by mistake",
            ))
            .unwrap();
        // Reopened: the unlink is stored, and the link is gone.
        drop(store);
        let store = SqliteStore::open(dir.path()).unwrap();
        let links = store.family_links().unwrap();
        assert_eq!((links.linked, links.unlinked), (vec![], sorted.clone()));
        store
            .change_family(&change(true, 3, "confirmed siblings at strategy meeting"))
            .unwrap();
        let links = store.family_links().unwrap();
        assert_eq!((links.linked, links.unlinked), (sorted, vec![]));
        let history = store.family_history().unwrap();
        let got: Vec<_> = history
            .iter()
            .map(|c| (c.at.0, c.linked, c.reason.as_str(), &c.a, &c.b))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, true, "", &anna, &ben),
                (
                    2,
                    false,
                    "different families, named together by mistake",
                    &anna,
                    &ben
                ),
                (
                    3,
                    true,
                    "confirmed siblings at strategy meeting",
                    &anna,
                    &ben
                ),
            ]
        );
        assert!(history.iter().all(|c| c.who == "admin.okafor"));
    }
}
