//! Storage behind a trait: [`Store`] for everything the server keeps, and
//! [`IngestTx`], the view of one ingest transaction that the pure verdict
//! logic in [`crate::ingest`] drives. Two backends implement both:
//! [`sqlite::SqliteStore`] (one machine, the default) and
//! [`postgres::PgStore`] (several instances on one database, several
//! partnerships); [`any::AnyStore`] is the one the binary runs, picked
//! at start by `--database`.

pub mod any;
pub mod copy;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod testing;

use hearth_shared::{ChainState, ChildRef, DeviceId, RecordHash, RecordId, Seq, Timestamp};

use crate::caseload::{CaseloadChange, CaseloadSetup};
use crate::clock::ClockState;
pub use crate::line::{Amends, FiledRecord, Line};
use crate::links::FamilyLinks;
use crate::people::{Register, RegisterChange, RegisterEntry, RegisterOutcome};
use crate::signals::{Acknowledgement, Signal};

/// Why the store failed. Always the server's problem, never the client's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused (or the connection to it failed).
    #[error("database error: {}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The database's configuration (`--database`, `--database-ca`,
    /// `--partnership`) cannot be used; the message names the flag and
    /// the fix.
    #[error("{0}")]
    Config(String),
    /// The data directory could not be used.
    #[error("cannot use the data directory {path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No database connection could be had in time (the pool's wait ran
    /// out; why is in the log).
    #[error("no database connection: {0}")]
    Pool(String),
    /// A stored value could not be read back (a damaged database).
    #[error("stored data is damaged: {0}")]
    Corrupt(&'static str),
    /// Ingest hit a bug and stopped that transaction; nothing of it was
    /// committed, and the writer carries on with the next batch.
    #[error("ingest failed unexpectedly; nothing from this batch was committed, send it again")]
    IngestPanicked,
    /// The database was written by a newer server.
    #[error(
        "the database is at schema version {found}; this build knows up to {known}; upgrade hearth-server"
    )]
    TooNew {
        /// The database's version.
        found: i64,
        /// This build's newest migration.
        known: i64,
    },
}

/// What PostgreSQL said: the server's message and SQLSTATE, or the
/// client's error with its cause (the error's own text is only its kind,
/// "db error").
fn postgres_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl StoreError {
    /// Whether running the same transaction again may succeed: a
    /// PostgreSQL serialisation failure (40001), a deadlock (40P01), or a
    /// unique violation on `records` (23505: another instance stored the
    /// record first; run again, the batch finds it held). Nothing else
    /// is retried (SQLite's writer is alone, so it has none).
    pub fn is_transient(&self) -> bool {
        use ::postgres::error::SqlState;
        let Self::Postgres(e) = self else {
            return false;
        };
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => true,
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => true,
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
                e.as_db_error().and_then(|d| d.table()) == Some("records")
            }
            _ => false,
        }
    }
}

/// A revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: String,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its id.
    pub id: DeviceId,
    /// Its ed25519 public key.
    pub public_key: [u8; 32],
    /// Its agency.
    pub agency: String,
    /// Its worker.
    pub worker: String,
    /// Who else may author its records (a shared device's staff), in
    /// name order; empty for a worker's own tablet.
    pub staff: Vec<String>,
    /// When it enrolled.
    pub enrolled_at: Timestamp,
    /// When it last uploaded.
    pub last_seen: Option<Timestamp>,
    /// What is known of its clock.
    pub clock: ClockState,
    /// Whether and why it was revoked.
    pub revoked: Option<Revocation>,
    /// Sequence ranges not yet received, inclusive.
    pub gaps: Vec<(Seq, Seq)>,
}

/// A verified record ready to store. Built only by [`crate::ingest`] from a
/// [`hearth_shared::VerifiedRecord`]; it carries what the columns need, not
/// the decoded envelope (whose fixed-capacity buffers take 4.8 KB).
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// What its chronology line shows.
    pub line: Line,
    /// The chain hash of the device's previous record.
    pub prev: RecordHash,
    /// The device clock when it was captured.
    pub device_time: Timestamp,
    /// The signed bytes exactly as received.
    pub bytes: Vec<u8>,
    /// Its chain hash.
    pub hash: RecordHash,
    /// When the server received it.
    pub received_at: Timestamp,
    /// Its device time corrected by the device's clock offset.
    pub corrected_time: Timestamp,
    /// Captured long after the event.
    pub late_entry: bool,
}

hearth_shared::words! {
    /// Whether a kept-aside record was quarantined or rejected (its word
    /// is stored in `quarantine.status` and shown).
    pub enum HoldStatus {
        /// A fork: genuine bytes that conflict with the chain.
        Quarantined => "quarantined",
        /// Not a genuine, well-formed record.
        Rejected => "rejected",
    }
}

/// Bytes kept aside with their reason: whole for a fork, at most a
/// capped prefix (or nothing, past the device's quarantine budget) for a
/// rejected record; the digest and length always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Row id, once stored.
    pub id: i64,
    /// The device that sent them.
    pub device: DeviceId,
    /// The sequence number, if it could be read.
    pub seq: Option<Seq>,
    /// Quarantined or rejected.
    pub status: HoldStatus,
    /// Why, for a person to act on.
    pub reason: String,
    /// The bytes kept: all of them, a prefix, or none.
    pub bytes: Vec<u8>,
    /// How many bytes were received.
    pub length: u64,
    /// SHA-256 of all the bytes received (finds a resend).
    pub digest: [u8; 32],
    /// When.
    pub received_at: Timestamp,
}

impl Held {
    /// Whether every byte received is kept.
    pub fn is_whole(&self) -> bool {
        self.bytes.len() as u64 == self.length
    }
}

/// What a device may write: its enrolment. Ingest rejects a record whose
/// agency is not `agency`, or whose author is neither `worker` nor on
/// `staff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The agency it was enrolled for.
    pub agency: String,
    /// The worker it was enrolled for.
    pub worker: String,
    /// Who else may author its records (a shared device).
    pub staff: Vec<String>,
}

impl Enrolment {
    /// Whether `author` may write on this device.
    pub fn may_author(&self, author: &str) -> bool {
        self.worker == author || self.staff.iter().any(|s| s == author)
    }
}

/// A device's use of its quarantine budget (rejected records only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuarantineUsage {
    /// Bytes of rejected records kept for it.
    pub bytes: u64,
    /// Whether a rejected record was already kept as metadata only (the
    /// budget was used up and the alarm raised).
    pub exhausted: bool,
}

/// An alarm raised for a person (a fork).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// Row id.
    pub id: i64,
    /// When.
    pub raised_at: Timestamp,
    /// The device.
    pub device: DeviceId,
    /// The sequence number.
    pub seq: Seq,
    /// What happened.
    pub message: String,
}

hearth_shared::words! {
    /// How a chronology, or records about a child, were read (its word is
    /// stored in `access_log.via`).
    pub enum Via {
        /// The `chronology` command.
        Cli => "cli",
        /// `GET /v1/children/{ref}/chronology`.
        Http => "http",
        /// The `quarantine` command: what is held about these children, with
        /// verdicts, without the records' bytes.
        Quarantine => "quarantine",
        /// `quarantine --json --bytes`: the held records' bytes too.
        QuarantineBytes => "quarantine-bytes",
        /// A page of the manager's web app, under a read grant.
        Web => "web",
    }
}

hearth_shared::words! {
    /// Why a chronology is read, picked with the reason when a reader
    /// breaks the glass (its word is stored in `access_log.purpose` and
    /// `read_grants.purpose`).
    pub enum Purpose {
        /// A strategy discussion or meeting about the child.
        StrategyDiscussion => "strategy_discussion",
        /// A case review (a child safeguarding practice review, say).
        CaseReview => "case_review",
        /// Supervision of the worker or the case.
        Supervision => "supervision",
        /// A court or other statutory purpose.
        Statutory => "court_or_statutory",
    }
}

impl Purpose {
    /// What a person reads for it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::StrategyDiscussion => "Strategy discussion",
            Self::CaseReview => "Case review",
            Self::Supervision => "Supervision",
            Self::Statutory => "Court or other statutory purpose",
        }
    }
}

/// One read of a chronology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub who: String,
    /// Through what.
    pub via: Via,
    /// Which child was asked for: `None` for a read that asks for no
    /// child (a quarantine read; what it disclosed is in `children`).
    pub child: Option<ChildRef>,
    /// The family view or the child's alone.
    pub family: bool,
    /// The stated reason.
    pub reason: String,
    /// The purpose picked with the reason (`None` where none was asked
    /// for: the command line, the API, rows from before it was kept).
    pub purpose: Option<Purpose>,
    /// Every child whose entries the pull disclosed (the family, for a
    /// family pull).
    pub children: Vec<ChildRef>,
}

/// An administrator's family link or unlink, as the family-links history
/// keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyChange {
    /// When.
    pub at: Timestamp,
    /// Linked (true) or unlinked (false).
    pub linked: bool,
    /// One child.
    pub a: ChildRef,
    /// The other.
    pub b: ChildRef,
    /// Who ran the command.
    pub who: String,
    /// The stated reason (empty for a `family link` given none).
    pub reason: String,
}

hearth_shared::words! {
    /// A role with API access (its word is stored in `users.role`).
    pub enum Role {
        /// Pulls chronologies.
        Manager => "manager",
        /// Pulls chronologies and administers.
        Admin => "admin",
        /// Reads the access log, and nothing else.
        Auditor => "auditor",
    }
}

impl Role {
    /// Whether it may read chronologies and records.
    pub const fn reads_chronologies(self) -> bool {
        matches!(self, Self::Manager | Self::Admin)
    }

    /// Whether it may administer devices, users, families and quarantine.
    pub const fn administers(self) -> bool {
        matches!(self, Self::Admin)
    }

    /// Whether it may read the access log.
    pub const fn reads_access_log(self) -> bool {
        matches!(self, Self::Auditor | Self::Admin)
    }
}

/// A signed-in browser, as stored (the cookie's id only as its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// SHA-256 hex of the id the cookie carries.
    pub id_hash: String,
    /// Who.
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it began.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_seen: Timestamp,
}

/// A reader's stated reason and purpose to read a child's (or family's)
/// records in the web app: "breaking the glass".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadGrant {
    /// Random, 32 hex characters; carried in the page's URL.
    pub id: String,
    /// Whose it is: nobody else may read under it.
    pub user: String,
    /// The child asked for.
    pub child: ChildRef,
    /// The family view or the child's alone.
    pub family: bool,
    /// The stated reason.
    pub reason: String,
    /// The purpose picked.
    pub purpose: Purpose,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops admitting reads.
    pub expires_at: Timestamp,
}

/// A user with an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// A user as listed by `user list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Name and role.
    pub user: User,
    /// When added.
    pub created_at: Timestamp,
    /// Set once the token is revoked.
    pub revoked: Option<Revocation>,
    /// When their web-app password was last set (`None`: never; they
    /// cannot sign in to the web app).
    pub password_set_at: Option<Timestamp>,
}

/// What a change to a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    /// Done.
    Done,
    /// No user has that name.
    NoSuchUser,
    /// The user was revoked at this time; nothing changed.
    Revoked(Timestamp),
}

/// Why an enrolment was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolRefusal {
    /// No such token.
    UnknownToken,
    /// The token expired.
    Expired(Timestamp),
    /// The token was used.
    Used(Timestamp),
    /// The device is already enrolled.
    DeviceExists,
}

/// The registration an enrolment token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The agency.
    pub agency: String,
    /// The worker.
    pub worker: String,
    /// Who else may author records on the device (a shared device).
    pub staff: Vec<String>,
}

/// One ingest transaction: what [`crate::ingest`] reads and writes while
/// deciding a batch. Everything written commits together or not at all.
pub trait IngestTx {
    /// The sending device's enrolment (`None` if it is not enrolled).
    fn enrolment(&mut self, device: DeviceId) -> Result<Option<Enrolment>, StoreError>;
    /// How much of its quarantine budget `device` has used.
    fn quarantine_usage(&mut self, device: DeviceId) -> Result<QuarantineUsage, StoreError>;
    /// Stores the clock state and when the device was last seen.
    fn set_clock_state(
        &mut self,
        device: DeviceId,
        state: ClockState,
        seen: Timestamp,
    ) -> Result<(), StoreError>;
    /// What is held around `seq` for `device`.
    fn chain_state(&mut self, device: DeviceId, seq: Seq) -> Result<ChainState, StoreError>;
    /// Stores a verified record.
    fn insert_record(&mut self, record: &NewRecord) -> Result<(), StoreError>;
    /// Marks a stored record disputed; returns whether it exists.
    fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError>;
    /// The stored bytes of a record.
    fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Whether bytes with this SHA-256 from `device` are already kept
    /// aside (a resend of a quarantined or rejected record).
    fn is_held(&mut self, device: DeviceId, digest: &[u8; 32]) -> Result<bool, StoreError>;
    /// Whether the record `id` is stored with exactly these signed bytes.
    fn holds_bytes(&mut self, id: RecordId, bytes: &[u8]) -> Result<bool, StoreError>;
    /// Keeps bytes aside with their reason.
    fn hold(&mut self, held: &Held) -> Result<(), StoreError>;
    /// Raises an alarm.
    fn raise_alarm(
        &mut self,
        device: DeviceId,
        seq: Seq,
        message: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Records `from..=to` missing.
    fn add_gap(&mut self, device: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError>;
    /// `seq` has arrived: shrinks or splits the gap holding it.
    fn fill_gap(&mut self, device: DeviceId, seq: Seq) -> Result<(), StoreError>;
}

/// Everything the server keeps.
///
/// Generic, not a trait object ([`Store::ingest`] is generic over what
/// its transaction returns): the HTTP layer and the CLI take `S: Store`
/// (with how to open one in a data directory beside it). A store is
/// `Send + Sync + 'static`, so one value can be shared by request
/// handlers on blocking threads; a backend pools its connections inside
/// (as [`sqlite::SqliteStore`] does).
pub trait Store: Send + Sync + 'static {
    /// Runs `f` in one transaction, committed durably if it returns `Ok`.
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
    /// A device by id.
    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError>;
    /// All devices.
    fn devices(&self) -> Result<Vec<Device>, StoreError>;
    /// Adds `member` to (or, with `on` false, takes them off) a device's
    /// staff list; returns whether the device exists.
    fn set_staff(
        &self,
        device: DeviceId,
        member: &str,
        on: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Revokes a device, unless it is revoked already (the first
    /// revocation stands); returns whether it exists.
    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Stores an enrolment token's hash.
    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError>;
    /// Spends a token on a device registration, atomically.
    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError>;
    /// Adds a user with a hashed API token; false if the name is taken.
    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// The user holding a token hash, unless revoked.
    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by name, revoked ones included.
    fn users(&self) -> Result<Vec<UserEntry>, StoreError>;
    /// Revokes a user's token at once; a revoked user stays revoked.
    fn revoke_user(
        &self,
        name: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError>;
    /// Replaces a user's token hash (the old token stops working); not for
    /// a revoked user.
    fn replace_user_token(&self, name: &str, token_hash: &str) -> Result<UserChange, StoreError>;
    /// Applies an administrator's link (which clears an unlink of the
    /// pair) or unlink (which removes a link of the pair and overrides
    /// every record naming both), and writes it to the family-links
    /// history, atomically.
    fn change_family(&self, change: &FamilyChange) -> Result<(), StoreError>;
    /// Everything that decides families: the kind and children of each
    /// record naming several, and the administrators' links and unlinks.
    fn family_links(&self) -> Result<FamilyLinks, StoreError>;
    /// The family-links history, oldest first.
    fn family_history(&self) -> Result<Vec<FamilyChange>, StoreError>;
    /// Records naming any of `children`, and the records their amendments
    /// correct.
    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<FiledRecord>, StoreError>;
    /// Writes an access log entry.
    fn log_access(&self, access: &Access) -> Result<(), StoreError>;
    /// The access log, oldest first.
    fn access_log(&self) -> Result<Vec<Access>, StoreError>;
    /// Everything kept aside, oldest first.
    fn held(&self) -> Result<Vec<Held>, StoreError>;
    /// Every alarm, oldest first.
    fn alarms(&self) -> Result<Vec<Alarm>, StoreError>;

    // The web app's accounts (issue 15; `store/sqlite/web.rs`).

    /// Sets a user's password (an Argon2id PHC string) and ends their
    /// sessions; not for a revoked user.
    fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<UserChange, StoreError>;
    /// A user who may sign in, and their password hash (`None`: no
    /// password set); `None` for no such user or a revoked one.
    fn login_user(&self, name: &str) -> Result<Option<(User, Option<String>)>, StoreError>;
    /// Stores a new session.
    fn add_session(&self, session: &WebSession) -> Result<(), StoreError>;
    /// The session with this id hash, if its user is not revoked and it was
    /// used at or after `idle_since`; marks it used at `now`. A session
    /// idle for longer is deleted.
    fn touch_session(
        &self,
        id_hash: &str,
        idle_since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<WebSession>, StoreError>;
    /// Ends a session (sign-out).
    fn end_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of a user (password reset, revocation).
    fn end_sessions_of(&self, name: &str) -> Result<(), StoreError>;
    /// Notes a failed sign-in as `name` from `peer`.
    fn add_login_failure(&self, name: &str, peer: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Failed sign-ins since `since`: as `name` (any address), and from
    /// `peer` (any name).
    fn login_failures(
        &self,
        name: &str,
        peer: &str,
        since: Timestamp,
    ) -> Result<(u32, u32), StoreError>;

    // Breaking the glass (issue 15; `store/sqlite/grants.rs`).

    /// Stores a read grant.
    fn add_grant(&self, grant: &ReadGrant) -> Result<(), StoreError>;
    /// The read grant with this id, expired or not.
    fn grant(&self, id: &str) -> Result<Option<ReadGrant>, StoreError>;

    // The record behind a line (issue 15; `store/sqlite/record.rs`).

    /// One record: its line, what the server learnt of it, and its signed
    /// bytes as received; `None` if no record has this id.
    fn record(&self, id: RecordId) -> Result<Option<StoredRecord>, StoreError>;
    /// The signed bytes of each of `ids` that is stored, in the order
    /// asked (an id not stored is left out).
    fn record_bytes(&self, ids: &[RecordId]) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError>;

    // Practice signals (issue 16; `store/sqlite/signals.rs`). The ingest
    // transaction adds 1 to `dirty` of every child a stored record names
    // (and of the children of the record an amendment corrects or a fork
    // disputes); `change_family` does so for both children.

    /// The stored signal states of those of `children` that have one (a
    /// child no record names has none), in no particular order.
    fn signal_states(&self, children: &[ChildRef]) -> Result<Vec<SignalState>, StoreError>;
    /// Up to `limit` children whose stored signals are stale at `now`
    /// under the configuration with `fingerprint` (see
    /// [`SignalState::is_stale`]).
    fn stale_children(
        &self,
        now: Timestamp,
        fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<ChildRef>, StoreError>;
    /// Stores a recomputed state, only if the child's `dirty` is still
    /// `state.dirty` (the value read before its records were), setting it
    /// to 0; returns whether it was stored. A record or family change
    /// committed meanwhile leaves the child stale, to be computed again.
    fn save_signal_state(&self, state: &SignalState) -> Result<bool, StoreError>;
    /// [`Store::save_signal_state`] for each of `states`, without a
    /// durable commit per child (SQLite: one transaction for the whole
    /// refresh; PostgreSQL: a statement per child, each holding one row
    /// lock, not waited for on disk: a state is derived, and one lost
    /// leaves its child stale); returns how many were stored.
    fn save_signal_states(&self, states: &[SignalState]) -> Result<usize, StoreError>;
    /// Every stored state holding at least one signal (the caseload's
    /// candidates), whether stale or not.
    fn raised_signal_states(&self) -> Result<Vec<SignalState>, StoreError>;
    /// Keeps an acknowledgement, for ever.
    fn add_signal_ack(&self, ack: &Acknowledgement) -> Result<(), StoreError>;
    /// The acknowledgements of `children` (of every child, for `None`),
    /// oldest first.
    fn signal_acks(
        &self,
        children: Option<&[ChildRef]>,
    ) -> Result<Vec<Acknowledgement>, StoreError>;

    // The people register (issue 17; `store/sqlite/people.rs`).

    /// The whole register.
    fn register(&self) -> Result<Register, StoreError>;
    /// Applies one change and writes it to the register log (`who`, `at`,
    /// `reason`) in one transaction; a refused change changes nothing and
    /// is not logged. Marks stale the signals of every child whose family
    /// or identity the change may alter.
    fn change_register(
        &self,
        change: &RegisterChange,
        who: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<RegisterOutcome, StoreError>;
    /// Writes a read of the register (or any entry not a change) to the
    /// register log.
    fn log_register(&self, entry: &RegisterEntry) -> Result<(), StoreError>;
    /// The register log, oldest first.
    fn register_log(&self) -> Result<Vec<RegisterEntry>, StoreError>;

    /// Checks that the database answers (`GET /v1/health`).
    fn ping(&self) -> Result<(), StoreError>;

    // Caseloads (issue 17; `store/sqlite/caseload.rs`).

    /// Every assignment, group and plan in force.
    fn caseload_setup(&self) -> Result<CaseloadSetup, StoreError>;
    /// Applies one caseload change and writes it to the register log in
    /// one transaction; returns whether anything changed (assigning twice
    /// changes nothing).
    fn change_caseload(
        &self,
        change: &CaseloadChange,
        who: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// One child's stored signals and what decides whether they are current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalState {
    /// The child.
    pub child: ChildRef,
    /// Changes (records, family links) since the signals were computed:
    /// 0 when they are current. On a state to save, the value read
    /// before the records were.
    pub dirty: i64,
    /// The signals, none acknowledged, as the rules raised them.
    pub signals: Vec<Signal>,
    /// When they were computed (`None`: never).
    pub computed_at: Option<Timestamp>,
    /// When the passage of time alone could change them, if ever.
    pub recheck_at: Option<Timestamp>,
    /// The fingerprint of the configuration they were computed under.
    pub fingerprint: String,
}

impl SignalState {
    /// A child never computed, with `dirty` changes pending.
    pub fn never_computed(child: ChildRef, dirty: i64) -> Self {
        Self {
            child,
            dirty,
            signals: Vec::new(),
            computed_at: None,
            recheck_at: None,
            fingerprint: String::new(),
        }
    }

    /// Whether the signals must be computed again before they are shown:
    /// a change since, never computed, a deadline due at `now`, or a
    /// different configuration.
    pub fn is_stale(&self, now: Timestamp, fingerprint: &str) -> bool {
        self.dirty != 0
            || self.computed_at.is_none()
            || self.recheck_at.is_some_and(|t| t <= now)
            || self.fingerprint != fingerprint
    }
}

/// One stored record, as [`Store::record`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Its chronology line and what the server learnt of it.
    pub filed: FiledRecord,
    /// The signed bytes exactly as received (envelope, then signature).
    pub bytes: Vec<u8>,
    /// The device's clock when it was captured, uncorrected.
    pub device_time: Timestamp,
}
