//! The PostgreSQL backend: [`PgStore`], implementing [`Store`] and
//! [`IngestTx`] over one database that several `hearth-server` instances
//! share (issue 18).
//!
//! Why these crates: the store's API is blocking (handlers call it in
//! `spawn_blocking`, the ingest writer is a thread), as SQLite's is, so
//! this backend uses `postgres`, the blocking client of `tokio-postgres`
//! by the same authors, pooled by `r2d2_postgres` exactly as SQLite's
//! connections are by `r2d2_sqlite`; TLS to the database is rustls
//! (`tokio-postgres-rustls`) with the CA given by `--database-ca`. sqlx
//! would bring an async API the store does not have, and a second pool.
//!
//! Partnerships (tenancy): each partnership's tables live in its own
//! schema, `hearth_<partnership>`, and every pooled connection is opened
//! with `search_path` set to it and nothing else ([`pool`]), so no query
//! can name another partnership's rows; a role per partnership that owns
//! only its schema makes the database itself refuse (docs/operations.md).
//!
//! Concurrency between instances: see [`tx`] (the device's row is locked
//! for the whole ingest transaction; the primary key `(device, seq)` is
//! the backstop).
//!
//! By concern, mirroring `store/sqlite/`: [`migrations`], [`pool`], `rows`,
//! `tx`, `reads`, `record`, `admin`, `web`, `grants`, `signals`, `people`,
//! `caseload`.

mod admin;
mod caseload;
mod grants;
pub mod migrations;
mod people;
pub mod pool;
mod reads;
mod record;
mod rows;
mod signals;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_admin;
mod tx;
mod web;

use hearth_shared::{ChildRef, DeviceId, Timestamp};

use self::pool::Conn;
use super::{
    Access, Alarm, Device, EnrolRefusal, FamilyChange, FiledRecord, Grant, Held, IngestTx,
    ReadGrant, Role, SignalState, Store, StoreError, StoredRecord, User, UserChange, UserEntry,
    WebSession,
};
use crate::caseload::{CaseloadChange, CaseloadSetup};
use crate::links::FamilyLinks;
use crate::people::{Register, RegisterChange, RegisterEntry, RegisterOutcome};
use crate::signals::Acknowledgement;
use crate::tenancy::Partnership;

/// A store over PostgreSQL: a pool of connections to one partnership's
/// schema. Cheap to clone (clones share the pool), and `Sync`.
#[derive(Clone)]
pub struct PgStore {
    pool: std::sync::Arc<pool::Shared>,
    partnership: Partnership,
}

impl PgStore {
    /// Connects to `url` for `partnership`, creating its schema and
    /// migrating it if need be (under an advisory lock, so that instances
    /// starting together migrate once). `ca`: the PEM file of the CA that
    /// signed the database server's certificate; with it, TLS is required.
    pub fn open(
        url: &str,
        ca: Option<&std::path::Path>,
        partnership: &Partnership,
    ) -> Result<Self, StoreError> {
        let pool = pool::Shared::new(pool::pool(url, ca, partnership)?);
        migrations::migrate(&mut *pool::get(&pool)?, partnership)?;
        Ok(Self {
            pool,
            partnership: partnership.clone(),
        })
    }

    /// Connects to a database already migrated (for request handlers and
    /// the signal refresher): no migration, no lock.
    pub fn connect(
        url: &str,
        ca: Option<&std::path::Path>,
        partnership: &Partnership,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            pool: pool::Shared::new(pool::pool(url, ca, partnership)?),
            partnership: partnership.clone(),
        })
    }

    /// The partnership this store reads and writes.
    pub fn partnership(&self) -> &Partnership {
        &self.partnership
    }

    /// A connection from the pool, for one call.
    fn conn(&self) -> Result<Conn, StoreError> {
        pool::get(&self.pool)
    }
}

impl Store for PgStore {
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        tx::ingest(&mut *self.conn()?, f)
    }

    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError> {
        admin::device(&mut *self.conn()?, id)
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        admin::devices(&mut *self.conn()?)
    }

    fn set_staff(
        &self,
        device: DeviceId,
        member: &str,
        on: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        admin::set_staff(&mut *self.conn()?, device, member, on, at)
    }

    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError> {
        admin::revoke(&mut *self.conn()?, id, reason, at)
    }

    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        admin::add_enrol_token(&mut *self.conn()?, hash, grant, created, expires)
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
        admin::enrol(&mut *self.conn()?, token_hash, device, public_key, now)
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        admin::add_user(&mut *self.conn()?, name, role, token_hash, now)
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        admin::user_by_token(&mut *self.conn()?, token_hash)
    }

    fn users(&self) -> Result<Vec<UserEntry>, StoreError> {
        admin::users(&mut *self.conn()?)
    }

    fn revoke_user(
        &self,
        name: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        admin::revoke_user(&mut *self.conn()?, name, reason, at)
    }

    fn replace_user_token(&self, name: &str, token_hash: &str) -> Result<UserChange, StoreError> {
        admin::replace_user_token(&mut *self.conn()?, name, token_hash)
    }

    fn change_family(&self, change: &FamilyChange) -> Result<(), StoreError> {
        admin::change_family(&mut *self.conn()?, change)
    }

    fn family_links(&self) -> Result<FamilyLinks, StoreError> {
        reads::family_links(&mut *self.conn()?)
    }

    fn family_history(&self) -> Result<Vec<FamilyChange>, StoreError> {
        admin::family_history(&mut *self.conn()?)
    }

    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<FiledRecord>, StoreError> {
        reads::records_for(&mut *self.conn()?, children)
    }

    fn log_access(&self, access: &Access) -> Result<(), StoreError> {
        reads::log_access(&mut *self.conn()?, access)
    }

    fn access_log(&self) -> Result<Vec<Access>, StoreError> {
        reads::access_log(&mut *self.conn()?)
    }

    fn held(&self) -> Result<Vec<Held>, StoreError> {
        reads::held(&mut *self.conn()?)
    }

    fn alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        reads::alarms(&mut *self.conn()?)
    }

    fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        web::set_password(&mut *self.conn()?, name, password_hash, at)
    }

    fn login_user(&self, name: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        web::login_user(&mut *self.conn()?, name)
    }

    fn add_session(&self, session: &WebSession) -> Result<(), StoreError> {
        web::add_session(&mut *self.conn()?, session)
    }

    fn touch_session(
        &self,
        id_hash: &str,
        idle_since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        web::touch_session(&mut *self.conn()?, id_hash, idle_since, now)
    }

    fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        web::end_session(&mut *self.conn()?, id_hash)
    }

    fn end_sessions_of(&self, name: &str) -> Result<(), StoreError> {
        web::end_sessions_of(&mut *self.conn()?, name)
    }

    fn add_login_failure(&self, name: &str, peer: &str, at: Timestamp) -> Result<(), StoreError> {
        web::add_login_failure(&mut *self.conn()?, name, peer, at)
    }

    fn login_failures(
        &self,
        name: &str,
        peer: &str,
        since: Timestamp,
    ) -> Result<(u32, u32), StoreError> {
        web::login_failures(&mut *self.conn()?, name, peer, since)
    }

    fn add_grant(&self, grant: &ReadGrant) -> Result<(), StoreError> {
        grants::add_grant(&mut *self.conn()?, grant)
    }

    fn grant(&self, id: &str) -> Result<Option<ReadGrant>, StoreError> {
        grants::grant(&mut *self.conn()?, id)
    }

    fn record(&self, id: hearth_shared::RecordId) -> Result<Option<StoredRecord>, StoreError> {
        record::record(&mut *self.conn()?, id)
    }

    fn record_bytes(
        &self,
        ids: &[hearth_shared::RecordId],
    ) -> Result<Vec<(hearth_shared::RecordId, Vec<u8>)>, StoreError> {
        record::record_bytes(&mut *self.conn()?, ids)
    }

    fn signal_states(&self, children: &[ChildRef]) -> Result<Vec<SignalState>, StoreError> {
        signals::signal_states(&mut *self.conn()?, children)
    }

    fn stale_children(
        &self,
        now: Timestamp,
        fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<ChildRef>, StoreError> {
        signals::stale_children(&mut *self.conn()?, now, fingerprint, limit)
    }

    fn save_signal_state(&self, state: &SignalState) -> Result<bool, StoreError> {
        signals::save_signal_state(&mut *self.conn()?, state)
    }

    fn save_signal_states(&self, states: &[SignalState]) -> Result<usize, StoreError> {
        signals::save_signal_states(&mut *self.conn()?, states)
    }

    fn raised_signal_states(&self) -> Result<Vec<SignalState>, StoreError> {
        signals::raised_signal_states(&mut *self.conn()?)
    }

    fn add_signal_ack(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        signals::add_signal_ack(&mut *self.conn()?, ack)
    }

    fn signal_acks(
        &self,
        children: Option<&[ChildRef]>,
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        signals::signal_acks(&mut *self.conn()?, children)
    }

    fn register(&self) -> Result<Register, StoreError> {
        people::register(&mut *self.conn()?)
    }

    fn change_register(
        &self,
        change: &RegisterChange,
        who: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<RegisterOutcome, StoreError> {
        people::change_register(&mut *self.conn()?, change, who, reason, at)
    }

    fn log_register(&self, entry: &RegisterEntry) -> Result<(), StoreError> {
        people::log_register(&mut *self.conn()?, entry)
    }

    fn register_log(&self) -> Result<Vec<RegisterEntry>, StoreError> {
        people::register_log(&mut *self.conn()?)
    }

    fn ping(&self) -> Result<(), StoreError> {
        pool::ping(&mut *self.conn()?)
    }

    fn caseload_setup(&self) -> Result<CaseloadSetup, StoreError> {
        caseload::caseload_setup(&mut *self.conn()?)
    }

    fn change_caseload(
        &self,
        change: &CaseloadChange,
        who: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        caseload::change_caseload(&mut *self.conn()?, change, who, at)
    }
}

/// The store is shared by request handlers' blocking tasks.
const _: () = {
    const fn shared<S: Store>() {}
    shared::<PgStore>();
};
