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
//! `migrations/NNNN_name.sql`, compiled in, applied in order by
//! the shared runner (`hearth_shared::migrate`) in one immediate transaction, the version (the
//! number applied) kept in `PRAGMA user_version`: see `schema`.
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
//! leave a record out.//!
//! ## Where things are
//!
//! - this file: [`LocalStore`], opening it, and the [`RecordStore`] impl,
//!   each method a call into the module that does the work;
//! - `schema`: the numbered migrations and what refuses an old store;
//! - `records`: append, get, list, `for_child`, and the integrity checks
//!   of the plaintext beside each seal;
//! - `tags`: the `records.child_tags` column (keyed blind-index tags);
//! - `bookkeeping`: what sync changes (outcomes, receipts, status counts,
//!   the last sync);
//! - `purge`: dropping synced bodies;
//! - `caseload`: the sealed caseload (issue 17, migration 0008);
//! - `drafts`: sealed draft forms (not records; issue 14, migration 0006);
//! - `outbox`: the sealed outbox (issue 14, migration 0007): the pinned
//!   outbox key, the box written in the capture's transaction, the boxes a
//!   locked sync sends;
//! - `settings`: the device settings and the registration.

use std::path::Path;
use std::time::Duration;

use hearth_shared::signed::EncodeError;
use hearth_shared::{ChildRef, RecordHash, Seq, SignedRecord, Timestamp};
use rusqlite::Connection;

use super::{
    DeviceSettings, LocalRecord, PushOutcome, RecordStore, Registration, StatusCounts, StoreError,
    SyncState, SyncStatus,
};
use crate::outbox::OutboxKey;
use crate::seal::{DataKey, Sealer};

pub use drafts::StoredDraft;

mod bookkeeping;
mod caseload;
mod drafts;
mod outbox;
mod purge;
mod records;
mod schema;
mod settings;
mod tags;
#[cfg(test)]
mod tests;

/// The database file's name inside the store directory.
pub const DB_FILE: &str = "hearth.db";

/// The SQLite store.
#[derive(Debug)]
pub struct LocalStore {
    conn: Connection,
    sealer: Option<Sealer>,
}

/// A stored chain hash, which must be 32 bytes.
fn hash_from(bytes: Vec<u8>) -> Result<RecordHash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash is not 32 bytes".into()))
}

/// A seq as SQLite stores it.
fn seq_to_sql(seq: Seq) -> Result<i64, StoreError> {
    i64::try_from(seq.0).map_err(|_| StoreError::Corrupt(format!("seq {seq} out of range")))
}

/// A stored `record_status.status` word.
fn status_from(word: &str) -> Result<SyncStatus, StoreError> {
    word.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown status {word:?}")))
}

/// The page cache of a connection, in KiB (`PRAGMA cache_size = -N`).
///
/// SQLite's default is 2,000 KiB, and a sync fills all of it: it reads
/// every pending row once, in seq order, and rereads none, so a cache that
/// size holds 2 MiB of pages nobody asks for again (figure 6: the heap at
/// the peak of a 10,000-record sync went from 2.6 to 1.3 MiB with 256 KiB,
/// `bench/examples/sync_memory.rs`). What a
/// connection needs cached is a transaction's dirty pages (a sync batch
/// dirties about 20: the status rows, the outbox rows it deletes, the
/// receipt) and the interior pages of the b-trees it walks; a page read
/// again comes from the operating system's file cache, a `pread` away.
/// A larger transaction (a purge) spills to the WAL before its commit,
/// which stays atomic.
pub const CACHE_KIB: u32 = 256;

/// How long opening waits for another process's lock.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Whether SQLite answered "busy" (another connection holds the lock).
fn is_busy(e: &StoreError) -> bool {
    let sqlite = match e {
        StoreError::Sqlite(e) | StoreError::Migration { source: e, .. } => e,
        _ => return false,
    };
    matches!(
        sqlite,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy
    )
}

impl LocalStore {
    /// Opens (creating if needed) `dir/hearth.db` and migrates it,
    /// locked: see [`LocalStore::unlocked`].
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open(&dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // Several processes may open a new store at once (the app, a
        // command). Switching it to WAL needs the write lock, and SQLite
        // refuses a lock upgrade at once (busy, without waiting) rather
        // than risk a deadlock; the migration is one transaction, so
        // starting again is safe. Try again for as long as a lock wait.
        let deadline = std::time::Instant::now() + BUSY_WAIT;
        loop {
            match Self::from_connection(Connection::open(path)?) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// An in-memory store, unlocked with a throwaway random key (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self::from_connection(Connection::open_in_memory()?)?
            .unlocked(Sealer::new(&DataKey::generate(&mut rand_core::OsRng))))
    }

    /// Opens the database `name` through the registered SQLite VFS `vfs`,
    /// set up exactly as [`LocalStore::open`] sets up a file (the same
    /// `from_connection`): the power-loss simulation's crash VFS. Tests
    /// only; a build holds no way to pick another VFS.
    #[cfg(test)]
    pub(crate) fn open_on_vfs(name: &str, vfs: &str) -> Result<Self, StoreError> {
        let flags = rusqlite::OpenFlags::default();
        Self::from_connection(Connection::open_with_flags_and_vfs(name, flags, vfs)?)
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
        conn.busy_timeout(BUSY_WAIT)?;
        // See the module comment: WAL + FULL means a returned commit is on disk.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        // See CACHE_KIB. No `mmap_size`: mapped pages would count in the
        // resident size as the file is read, where `pread` leaves them to
        // the operating system's cache.
        conn.pragma_update(None, "cache_size", -i64::from(CACHE_KIB))?;
        schema::refuse_plaintext_records(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self { conn, sealer: None })
    }

    /// The schema version (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.conn)
    }

    /// The number of migrations this build knows.
    pub const fn latest_version() -> u32 {
        schema::LATEST
    }
}

impl RecordStore for LocalStore {
    fn settings(&self) -> Result<Option<DeviceSettings>, StoreError> {
        settings::device(&self.conn)
    }

    fn init_settings(&mut self, s: &DeviceSettings) -> Result<(), StoreError> {
        settings::init_device(&mut self.conn, s)
    }

    fn append(
        &mut self,
        captured_at: Timestamp,
        sign: &mut dyn FnMut(Seq, RecordHash) -> Result<SignedRecord, EncodeError>,
    ) -> Result<LocalRecord, StoreError> {
        let sealer = self.sealer.as_ref().ok_or(StoreError::Locked)?;
        records::append(&mut self.conn, sealer, captured_at, sign)
    }

    fn get(&self, seq: Seq) -> Result<Option<LocalRecord>, StoreError> {
        records::get(&self.conn, self.sealer()?, seq)
    }

    fn all(&self) -> Result<Vec<LocalRecord>, StoreError> {
        records::all(&self.conn, self.sealer()?)
    }

    fn for_child(&self, child: &ChildRef) -> Result<Vec<LocalRecord>, StoreError> {
        records::for_child(&self.conn, self.sealer()?, child)
    }

    fn seqs_with_status(&self, status: SyncStatus) -> Result<Vec<Seq>, StoreError> {
        bookkeeping::seqs_with_status(&self.conn, status)
    }

    fn purged_at(&self, seq: Seq) -> Result<Option<Timestamp>, StoreError> {
        purge::purged_at(&self.conn, seq)
    }

    fn purge(&mut self, synced_before: Timestamp, now: Timestamp) -> Result<Vec<Seq>, StoreError> {
        // Purging needs no key (the tags go with the body), but it
        // destroys data, so only an unlocked store does it, as before.
        self.sealer()?;
        purge::purge(&mut self.conn, synced_before, now)
    }

    fn pending_seqs(&self) -> Result<Vec<Seq>, StoreError> {
        self.seqs_with_status(SyncStatus::Pending)
    }

    fn hash_of(&self, seq: Seq) -> Result<Option<RecordHash>, StoreError> {
        records::hash_of(&self.conn, seq)
    }

    fn apply(&mut self, outcome: &PushOutcome, now: Timestamp) -> Result<(), StoreError> {
        bookkeeping::apply(&mut self.conn, self.sealer.as_ref(), outcome, now)
    }

    fn outbox_key(&self) -> Result<Option<OutboxKey>, StoreError> {
        outbox::key(&self.conn)
    }

    fn pin_outbox_key(&mut self, key: &OutboxKey, now: Timestamp) -> Result<bool, StoreError> {
        outbox::pin(&mut self.conn, key, now)
    }

    fn fill_outbox(&mut self) -> Result<usize, StoreError> {
        let sealer = self.sealer.as_ref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let missing = outbox::unsealed_pending(&tx)?;
        for &seq in &missing {
            let record = records::get(&tx, sealer, seq)?
                .ok_or_else(|| StoreError::Corrupt(format!("pending record {seq} vanished")))?;
            outbox::seal_into(&tx, seq, &record.signed)?;
        }
        tx.commit()?;
        Ok(missing.len())
    }

    fn outbox_boxes(&self, after: Seq, limit: usize) -> Result<Vec<(Seq, Vec<u8>)>, StoreError> {
        outbox::boxes(&self.conn, after, limit)
    }

    fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        outbox::size(&self.conn)
    }

    fn counts(&self) -> Result<StatusCounts, StoreError> {
        bookkeeping::counts(&self.conn)
    }

    fn sync_state(&self) -> Result<SyncState, StoreError> {
        bookkeeping::sync_state(&self.conn)
    }

    fn registration(&self) -> Result<Option<Registration>, StoreError> {
        settings::registration(&self.conn)
    }

    fn set_registration(&mut self, registration: &Registration) -> Result<(), StoreError> {
        settings::set_registration(&self.conn, registration)
    }
}
