//! [`AnyStore`]: the backend the binary runs, picked when it starts
//! (`--database postgres://...` for PostgreSQL, else SQLite in `--data`),
//! so that one build serves either and the HTTP layer, web app and CLI are
//! compiled once (for `AnyStore`), not once per backend. Every call is
//! passed to the backend inside; nothing is added on the way.

use std::path::Path;

use hearth_shared::{ChildRef, DeviceId, RecordId, Timestamp};

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{
    Access, Alarm, Device, EnrolRefusal, FamilyChange, FiledRecord, Grant, Held, IngestTx,
    ReadGrant, Role, SignalState, Store, StoreError, StoredRecord, User, UserChange, UserEntry,
    WebSession,
};
use crate::backend::{Backend, Location};
use crate::caseload::{CaseloadChange, CaseloadSetup};
use crate::links::FamilyLinks;
use crate::people::{Register, RegisterChange, RegisterEntry, RegisterOutcome};
use crate::signals::Acknowledgement;

/// SQLite or PostgreSQL, chosen at start.
#[derive(Clone)]
pub enum AnyStore {
    /// SQLite in the data directory.
    Sqlite(SqliteStore),
    /// A PostgreSQL database shared by several instances.
    Postgres(PgStore),
}

/// Passes a call to the backend inside.
macro_rules! any {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call,
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl Backend for AnyStore {
    fn open(at: &Location) -> Result<Self, StoreError> {
        match &at.database {
            None => SqliteStore::open_at(at).map(Self::Sqlite),
            Some(url) => {
                PgStore::open(url, at.database_ca.as_deref(), &at.partnership).map(Self::Postgres)
            }
        }
    }

    fn connect(at: &Location) -> Result<Self, StoreError> {
        match &at.database {
            None => <SqliteStore as Backend>::connect(at).map(Self::Sqlite),
            Some(url) => PgStore::connect(url, at.database_ca.as_deref(), &at.partnership)
                .map(Self::Postgres),
        }
    }

    fn maintain(&mut self, at: &Location) -> Result<Box<dyn Fn() + Send>, StoreError> {
        match self {
            Self::Sqlite(s) => s.maintain(at),
            // PostgreSQL checkpoints and vacuums itself.
            Self::Postgres(_) => Ok(Box::new(|| {})),
        }
    }
}

impl Store for AnyStore {
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        any!(self, s => s.ingest(f))
    }

    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError> {
        any!(self, s => s.device(id))
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        any!(self, s => s.devices())
    }

    fn set_staff(
        &self,
        device: DeviceId,
        member: &str,
        on: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        any!(self, s => s.set_staff(device, member, on, at))
    }

    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError> {
        any!(self, s => s.revoke(id, reason, at))
    }

    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        any!(self, s => s.add_enrol_token(hash, grant, created, expires))
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
        any!(self, s => s.enrol(token_hash, device, public_key, now))
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        any!(self, s => s.add_user(name, role, token_hash, now))
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        any!(self, s => s.user_by_token(token_hash))
    }

    fn users(&self) -> Result<Vec<UserEntry>, StoreError> {
        any!(self, s => s.users())
    }

    fn revoke_user(
        &self,
        name: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        any!(self, s => s.revoke_user(name, reason, at))
    }

    fn replace_user_token(&self, name: &str, token_hash: &str) -> Result<UserChange, StoreError> {
        any!(self, s => s.replace_user_token(name, token_hash))
    }

    fn change_family(&self, change: &FamilyChange) -> Result<(), StoreError> {
        any!(self, s => s.change_family(change))
    }

    fn family_links(&self) -> Result<FamilyLinks, StoreError> {
        any!(self, s => s.family_links())
    }

    fn family_history(&self) -> Result<Vec<FamilyChange>, StoreError> {
        any!(self, s => s.family_history())
    }

    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<FiledRecord>, StoreError> {
        any!(self, s => s.records_for(children))
    }

    fn log_access(&self, access: &Access) -> Result<(), StoreError> {
        any!(self, s => s.log_access(access))
    }

    fn access_log(&self) -> Result<Vec<Access>, StoreError> {
        any!(self, s => s.access_log())
    }

    fn held(&self) -> Result<Vec<Held>, StoreError> {
        any!(self, s => s.held())
    }

    fn alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        any!(self, s => s.alarms())
    }

    fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError> {
        any!(self, s => s.set_password(name, password_hash, at))
    }

    fn login_user(&self, name: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        any!(self, s => s.login_user(name))
    }

    fn add_session(&self, session: &WebSession) -> Result<(), StoreError> {
        any!(self, s => s.add_session(session))
    }

    fn touch_session(
        &self,
        id_hash: &str,
        idle_since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError> {
        any!(self, s => s.touch_session(id_hash, idle_since, now))
    }

    fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        any!(self, s => s.end_session(id_hash))
    }

    fn end_sessions_of(&self, name: &str) -> Result<(), StoreError> {
        any!(self, s => s.end_sessions_of(name))
    }

    fn add_login_failure(&self, name: &str, peer: &str, at: Timestamp) -> Result<(), StoreError> {
        any!(self, s => s.add_login_failure(name, peer, at))
    }

    fn login_failures(
        &self,
        name: &str,
        peer: &str,
        since: Timestamp,
    ) -> Result<(u32, u32), StoreError> {
        any!(self, s => s.login_failures(name, peer, since))
    }

    fn add_grant(&self, grant: &ReadGrant) -> Result<(), StoreError> {
        any!(self, s => s.add_grant(grant))
    }

    fn grant(&self, id: &str) -> Result<Option<ReadGrant>, StoreError> {
        any!(self, s => s.grant(id))
    }

    fn record(&self, id: hearth_shared::RecordId) -> Result<Option<StoredRecord>, StoreError> {
        any!(self, s => s.record(id))
    }

    fn record_bytes(
        &self,
        ids: &[hearth_shared::RecordId],
    ) -> Result<Vec<(hearth_shared::RecordId, Vec<u8>)>, StoreError> {
        any!(self, s => s.record_bytes(ids))
    }

    fn signal_states(&self, children: &[ChildRef]) -> Result<Vec<SignalState>, StoreError> {
        any!(self, s => s.signal_states(children))
    }

    fn stale_children(
        &self,
        now: Timestamp,
        fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<ChildRef>, StoreError> {
        any!(self, s => s.stale_children(now, fingerprint, limit))
    }

    fn save_signal_state(&self, state: &SignalState) -> Result<bool, StoreError> {
        any!(self, s => s.save_signal_state(state))
    }

    fn save_signal_states(&self, states: &[SignalState]) -> Result<usize, StoreError> {
        any!(self, s => s.save_signal_states(states))
    }

    fn raised_signal_states(&self) -> Result<Vec<SignalState>, StoreError> {
        any!(self, s => s.raised_signal_states())
    }

    fn add_signal_ack(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        any!(self, s => s.add_signal_ack(ack))
    }

    fn signal_acks(
        &self,
        children: Option<&[ChildRef]>,
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        any!(self, s => s.signal_acks(children))
    }

    fn register(&self) -> Result<Register, StoreError> {
        any!(self, s => s.register())
    }

    fn change_register(
        &self,
        change: &RegisterChange,
        who: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<RegisterOutcome, StoreError> {
        any!(self, s => s.change_register(change, who, reason, at))
    }

    fn log_register(&self, entry: &RegisterEntry) -> Result<(), StoreError> {
        any!(self, s => s.log_register(entry))
    }

    fn register_log(&self) -> Result<Vec<RegisterEntry>, StoreError> {
        any!(self, s => s.register_log())
    }

    fn ping(&self) -> Result<(), StoreError> {
        any!(self, s => s.ping())
    }

    fn caseload_setup(&self) -> Result<CaseloadSetup, StoreError> {
        any!(self, s => s.caseload_setup())
    }

    fn change_caseload(
        &self,
        change: &CaseloadChange,
        who: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        any!(self, s => s.change_caseload(change, who, at))
    }
}

#[allow(dead_code)]
fn _unused(_: &Path, _: RecordId, _: ChildRef, _: DeviceId, _: Timestamp) {}
