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
//!
//! By concern: [`migrations`] (the runner and its Rust steps), `rows`
//! (row <-> type mapping), `tx` (the ingest transaction), `reads`
//! (chronology lines, families, access log, quarantine), `admin`
//! (devices, tokens, users, family links), `signals` (each child's
//! stored signals and the acknowledgements), `people` (the register and
//! its log), `caseload` (assignments, groups, plans), [`checkpoint`] and [`pool`]
//! (the pooled connections and their pragmas).

mod admin;
mod caseload;
pub mod checkpoint;
mod grants;
pub mod migrations;
mod people;
pub mod pool;
mod reads;
mod record;
pub(in crate::store) mod rows;
mod signals;
mod tx;
mod web;

use std::path::{Path, PathBuf};

use hearth_shared::{ChildRef, DeviceId, Timestamp};
use rusqlite::Connection;

pub use self::checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use self::pool::{Conn, Kind};
use super::{
    Access, Alarm, Device, EnrolRefusal, FamilyChange, FiledRecord, Grant, Held, IngestTx,
    ReadGrant, Role, SignalState, Store, StoreError, StoredRecord, User, UserChange, UserEntry,
    WebSession,
};
use crate::caseload::{CaseloadChange, CaseloadSetup};
use crate::links::FamilyLinks;
use crate::people::{Register, RegisterChange, RegisterEntry, RegisterOutcome};
use crate::signals::Acknowledgement;

/// The database file inside the data directory.
pub fn db_path(data: &Path) -> PathBuf {
    data.join("hearth.db")
}

/// A store over SQLite: a pool of connections to one database (see
/// [`pool`]). Cheap to clone (clones share the pool), and `Sync`, so
/// request handlers can share one.
#[derive(Clone)]
pub struct SqliteStore {
    pool: r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>,
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
        // Opened here, not through the pool, so that a database that cannot
        // be opened or migrated fails at once, with SQLite's reason.
        let mut conn = Connection::open(db_path(data))?;
        pool::configure(&conn, Kind::Writer)?;
        migrations::migrate(&mut conn, migrations::MIGRATIONS)?;
        drop(conn);
        Ok(Self {
            pool: pool::pool(data, Kind::Writer),
        })
    }

    /// Opens an already migrated database (for request handlers): no
    /// write lock is taken.
    ///
    /// Returns a pool of up to [`pool::READ_CONNECTIONS`] connections,
    /// each opened when first needed.
    pub fn connect(data: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            pool: pool::pool(data, Kind::Reader),
        })
    }

    /// A connection from the pool, for one call.
    fn conn(&self) -> Result<Conn, StoreError> {
        pool::get(&self.pool)
    }
}

impl Store for SqliteStore {
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        tx::ingest(&mut *self.conn()?, f)
    }

    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError> {
        admin::device(&*self.conn()?, id)
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        admin::devices(&*self.conn()?)
    }

    fn set_staff(
        &self,
        device: DeviceId,
        member: &str,
        on: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        admin::set_staff(&*self.conn()?, device, member, on, at)
    }

    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError> {
        admin::revoke(&*self.conn()?, id, reason, at)
    }

    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        admin::add_enrol_token(&*self.conn()?, hash, grant, created, expires)
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
        admin::enrol(&*self.conn()?, token_hash, device, public_key, now)
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        admin::add_user(&*self.conn()?, name, role, token_hash, now)
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        admin::user_by_token(&*self.conn()?, token_hash)
    }

    fn users(&self) -> Result<Vec<UserEntry>, StoreError> {
        admin::users(&*self.conn()?)
    }

    fn revoke_user(
        &self,
        name: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        admin::revoke_user(&*self.conn()?, name, reason, at)
    }

    fn replace_user_token(&self, name: &str, token_hash: &str) -> Result<UserChange, StoreError> {
        admin::replace_user_token(&*self.conn()?, name, token_hash)
    }

    fn change_family(&self, change: &FamilyChange) -> Result<(), StoreError> {
        admin::change_family(&*self.conn()?, change)
    }

    fn family_links(&self) -> Result<FamilyLinks, StoreError> {
        reads::family_links(&*self.conn()?)
    }

    fn family_history(&self) -> Result<Vec<FamilyChange>, StoreError> {
        admin::family_history(&*self.conn()?)
    }

    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<FiledRecord>, StoreError> {
        reads::records_for(&*self.conn()?, children)
    }

    fn log_access(&self, access: &Access) -> Result<(), StoreError> {
        reads::log_access(&*self.conn()?, access)
    }

    fn access_log(&self) -> Result<Vec<Access>, StoreError> {
        reads::access_log(&*self.conn()?)
    }

    fn held(&self) -> Result<Vec<Held>, StoreError> {
        reads::held(&*self.conn()?)
    }

    fn alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        reads::alarms(&*self.conn()?)
    }

    fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        web::set_password(&*self.conn()?, name, password_hash, at)
    }

    fn login_user(&self, name: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        web::login_user(&*self.conn()?, name)
    }

    fn add_session(&self, session: &WebSession) -> Result<(), StoreError> {
        web::add_session(&*self.conn()?, session)
    }

    fn touch_session(
        &self,
        id_hash: &str,
        idle_since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        web::touch_session(&*self.conn()?, id_hash, idle_since, now)
    }

    fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        web::end_session(&*self.conn()?, id_hash)
    }

    fn end_sessions_of(&self, name: &str) -> Result<(), StoreError> {
        web::end_sessions_of(&*self.conn()?, name)
    }

    fn add_login_failure(&self, name: &str, peer: &str, at: Timestamp) -> Result<(), StoreError> {
        web::add_login_failure(&*self.conn()?, name, peer, at)
    }

    fn login_failures(
        &self,
        name: &str,
        peer: &str,
        since: Timestamp,
    ) -> Result<(u32, u32), StoreError> {
        web::login_failures(&*self.conn()?, name, peer, since)
    }

    fn add_grant(&self, grant: &ReadGrant) -> Result<(), StoreError> {
        grants::add_grant(&*self.conn()?, grant)
    }

    fn grant(&self, id: &str) -> Result<Option<ReadGrant>, StoreError> {
        grants::grant(&*self.conn()?, id)
    }

    fn record(&self, id: hearth_shared::RecordId) -> Result<Option<StoredRecord>, StoreError> {
        record::record(&*self.conn()?, id)
    }

    fn record_bytes(
        &self,
        ids: &[hearth_shared::RecordId],
    ) -> Result<Vec<(hearth_shared::RecordId, Vec<u8>)>, StoreError> {
        record::record_bytes(&*self.conn()?, ids)
    }

    fn signal_states(&self, children: &[ChildRef]) -> Result<Vec<SignalState>, StoreError> {
        signals::signal_states(&*self.conn()?, children)
    }

    fn stale_children(
        &self,
        now: Timestamp,
        fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<ChildRef>, StoreError> {
        signals::stale_children(&*self.conn()?, now, fingerprint, limit)
    }

    fn save_signal_state(&self, state: &SignalState) -> Result<bool, StoreError> {
        signals::save_signal_state(&*self.conn()?, state)
    }

    fn save_signal_states(&self, states: &[SignalState]) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut stored = 0;
        for s in states {
            if signals::save_signal_state(&tx, s)? {
                stored += 1;
            } else {
                tracing::debug!(child = %s.child, "signals changed while computing; left stale");
            }
        }
        tx.commit()?;
        Ok(stored)
    }

    fn raised_signal_states(&self) -> Result<Vec<SignalState>, StoreError> {
        signals::raised_signal_states(&*self.conn()?)
    }

    fn add_signal_ack(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        signals::add_signal_ack(&*self.conn()?, ack)
    }

    fn signal_acks(
        &self,
        children: Option<&[ChildRef]>,
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        signals::signal_acks(&*self.conn()?, children)
    }

    fn register(&self) -> Result<Register, StoreError> {
        people::register(&*self.conn()?)
    }

    fn change_register(
        &self,
        change: &RegisterChange,
        who: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<RegisterOutcome, StoreError> {
        people::change_register(&*self.conn()?, change, who, reason, at)
    }

    fn log_register(&self, entry: &RegisterEntry) -> Result<(), StoreError> {
        people::log_register(&*self.conn()?, entry)
    }

    fn register_log(&self) -> Result<Vec<RegisterEntry>, StoreError> {
        people::register_log(&*self.conn()?)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn caseload_setup(&self) -> Result<CaseloadSetup, StoreError> {
        caseload::caseload_setup(&*self.conn()?)
    }

    fn change_caseload(
        &self,
        change: &CaseloadChange,
        who: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        caseload::change_caseload(&*self.conn()?, change, who, at)
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The store is shared by request handlers' blocking tasks.
const _: () = {
    const fn shared<S: Store>() {}
    shared::<SqliteStore>();
};
