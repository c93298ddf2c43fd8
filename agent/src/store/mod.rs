//! Local storage: the [`RecordStore`] trait and its SQLite implementation,
//! [`LocalStore`] (numbered migrations in `store/migrations/`).
//!
//! The trait is what capture and sync need and nothing more. A record is
//! stored as its signed bytes ([`LocalRecord::signed`]), sealed under the
//! data key (issue 7: see `crate::seal`), and never changed, except that a
//! synced record covered by a receipt may be purged ([`RecordStore::purge`]):
//! its body is dropped, its seq and hash kept. Its [`SyncStatus`] and the
//! server's (sealed) reason are separate, mutable metadata.

mod sqlite;

use ed25519_dalek::VerifyingKey;
use hearth_shared::hex::parse_hex;
use hearth_shared::signed::{EncodeError, decode_stored_envelope, split_signed};
use hearth_shared::{
    AgencyCode, ChildRef, DecodeError, DeviceId, Envelope, RecordHash, Seq, SignedRecord,
    Timestamp, WorkerId,
};

pub use sqlite::{DB_FILE as DB_FILE_NAME, LocalStore, StoredDraft};

use crate::outbox::OutboxKey;

hearth_shared::words! {
    /// Where a record stands with the server. The words are what
    /// `record_status.status` holds (migration 0001's CHECK) and what is
    /// shown.
    pub enum SyncStatus {
        /// Not yet confirmed by a valid receipt.
        Pending => "pending",
        /// Covered by a receipt that verified.
        Synced => "synced",
        /// Refused by the server; kept with its reason, not resent.
        Rejected => "rejected",
        /// Set aside by the server for a person; kept, not resent.
        Quarantined => "quarantined",
    }
}

/// The device's identity and defaults, set at `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettings {
    /// The device id (stored as 16 hex digits, parsed once at load).
    pub device_id: DeviceId,
    /// The default agency of its records.
    pub agency: AgencyCode,
    /// The default author of its records.
    pub worker: WorkerId,
    /// When `init` ran.
    pub created_at: Timestamp,
}

/// The device's registration with a server, from `enrol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The server's base URL.
    pub server_url: String,
    /// The server's receipt-signing key (stored as 64 lower-case hex
    /// digits, parsed once at load).
    pub server_key: VerifyingKey,
    /// The agency the server confirmed.
    pub agency: String,
    /// The worker the server confirmed.
    pub worker: String,
    /// When the device enrolled (device clock).
    pub enrolled_at: Timestamp,
}

impl Registration {
    /// The server's receipt key from the 64 hex digits (either case) that
    /// enrolment sends and the store keeps; `None` if they are not an
    /// Ed25519 public key.
    pub fn parse_server_key(text: &str) -> Option<VerifyingKey> {
        parse_hex::<32>(text).and_then(|b| VerifyingKey::from_bytes(&b).ok())
    }
}

/// One record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRecord {
    /// Its sequence number.
    pub seq: Seq,
    /// Its chain hash.
    pub hash: RecordHash,
    /// The signed bytes exactly as signed.
    pub signed: Vec<u8>,
    /// When it was captured (device clock).
    pub captured_at: Timestamp,
    /// Where it stands with the server.
    pub status: SyncStatus,
    /// The server's reason for a rejection or quarantine; empty otherwise.
    pub reason: String,
}

impl LocalRecord {
    /// Decodes the envelope (no signature check, and no re-check of rules
    /// tightened since capture: these are our own bytes).
    pub fn envelope(&self) -> Result<Envelope, DecodeError> {
        let (envelope, _) = split_signed(&self.signed)?;
        decode_stored_envelope(envelope)
    }
}

/// A receipt that verified, as kept on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// The first sequence number covered.
    pub first: Seq,
    /// The last sequence number covered.
    pub last: Seq,
    /// The chain hash of record `last`.
    pub last_hash: RecordHash,
    /// When the server committed the range.
    pub server_time: Timestamp,
    /// The signed receipt bytes.
    pub signed: Vec<u8>,
}

/// What one sync batch changed: applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Records a verified receipt covers.
    pub synced: Vec<Seq>,
    /// Records the server refused or set aside, with its reason.
    pub refused: Vec<(Seq, SyncStatus, String)>,
    /// Receipts that verified.
    pub receipts: Vec<StoredReceipt>,
    /// The device clock's error the server measured.
    pub clock_offset_seconds: Option<i64>,
    /// When the batch completed (device clock), if it counts as a
    /// successful sync.
    pub synced_at: Option<Timestamp>,
}

/// Counts of records by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Pending.
    pub pending: u64,
    /// Synced.
    pub synced: u64,
    /// Rejected.
    pub rejected: u64,
    /// Quarantined.
    pub quarantined: u64,
    /// Synced records whose body was purged locally (also in `synced`).
    pub purged: u64,
}

/// The last sync as remembered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// The last successful sync (device clock).
    pub last_sync_at: Option<Timestamp>,
    /// The device clock's error the server last measured (device − server).
    pub clock_offset_seconds: Option<i64>,
    /// The most recent receipt kept.
    pub last_receipt: Option<StoredReceipt>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("the local store failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("upgrading the local store to version {version} failed")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The store is newer than this program.
    #[error(
        "the local store is version {found}, newer than this program's {supported}; update hearth-agent"
    )]
    TooNew {
        /// The store's version.
        found: u32,
        /// The latest this program knows.
        supported: u32,
    },
    /// `init` has not run.
    #[error("this store is not initialised; run `hearth-agent init --agency CODE --worker ID`")]
    NotInitialised,
    /// `init` ran already.
    #[error("this store is already initialised as device {0}")]
    AlreadyInitialised(DeviceId),
    /// The record to append did not sign.
    #[error(transparent)]
    Sign(#[from] EncodeError),
    /// Something stored does not make sense.
    #[error("the local store is damaged: {0}")]
    Corrupt(String),
    /// A value kept in the clear (a device id, the server's key) is not
    /// of its type.
    #[error("the local store is damaged: {field} {value:?} is not {expected}")]
    BadValue {
        /// The table and column, such as `registration.server_key`.
        field: &'static str,
        /// What is stored.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A plaintext value the store keeps beside a sealed record (its chain
    /// hash, its child tags) disagrees with what the sealed, signed bytes
    /// say: the store was damaged or tampered with. Nothing was written.
    #[error(
        "integrity check failed for record {seq}: {what}. The local store was damaged or tampered with; nothing was written. Do not re-initialise or delete the store: copy the store directory somewhere safe and tell your administrator (the record's sealed, signed bytes are intact and are the evidence)"
    )]
    Integrity {
        /// The record whose stored values disagree.
        seq: Seq,
        /// Which value, and how.
        what: &'static str,
    },
    /// The data key is needed and was not given.
    #[error("the store is locked; run `hearth-agent unlock` or set HEARTH_PASSPHRASE")]
    Locked,
    /// A sealed value did not decrypt.
    #[error(transparent)]
    Sealed(#[from] crate::seal::OpenError),
    /// A store from before encryption at rest holding plaintext records.
    #[error(
        "this store predates encryption at rest and holds {0} plaintext record(s); sync them with the previous hearth-agent, move the directory aside and run `hearth-agent init`"
    )]
    Plaintext(u64),
    /// Creating the store directory failed.
    #[error("cannot create the store directory {path}")]
    Dir {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The record of a device: append-only signed records and their sync
/// metadata.
pub trait RecordStore {
    /// The device settings, if `init` has run.
    fn settings(&self) -> Result<Option<DeviceSettings>, StoreError>;

    /// Records the device settings; fails if already set.
    fn init_settings(&mut self, settings: &DeviceSettings) -> Result<(), StoreError>;

    /// Appends the next record in one immediate transaction: reads the last
    /// seq and hash, calls `sign(seq, prev)`, inserts the result as
    /// pending, commits. Nothing is written if `sign` fails.
    fn append(
        &mut self,
        captured_at: Timestamp,
        sign: &mut dyn FnMut(Seq, RecordHash) -> Result<SignedRecord, EncodeError>,
    ) -> Result<LocalRecord, StoreError>;

    /// One record; `None` if absent or purged.
    fn get(&self, seq: Seq) -> Result<Option<LocalRecord>, StoreError>;

    /// Every record not purged, in seq order.
    fn all(&self) -> Result<Vec<LocalRecord>, StoreError>;

    /// The records (not purged) naming `child`, in seq order, found by
    /// the keyed blind index (a tag per child, never the reference itself).
    /// Fails with [`StoreError::Integrity`] if any record's tags disagree
    /// with the children its sealed bytes name, rather than leave it out.
    fn for_child(&self, child: &ChildRef) -> Result<Vec<LocalRecord>, StoreError>;

    /// The seqs with `status`, in order (purged records count as synced).
    fn seqs_with_status(&self, status: SyncStatus) -> Result<Vec<Seq>, StoreError>;

    /// When record `seq` was purged, if it was.
    fn purged_at(&self, seq: Seq) -> Result<Option<Timestamp>, StoreError>;

    /// Drops the bodies of synced records covered by a kept receipt that
    /// became synced at or before `synced_before`; returns their seqs.
    /// The only deletion path; seq, hash, status and receipts are kept.
    fn purge(&mut self, synced_before: Timestamp, now: Timestamp) -> Result<Vec<Seq>, StoreError>;

    /// Pending records' seqs, in order.
    fn pending_seqs(&self) -> Result<Vec<Seq>, StoreError>;

    /// The chain hash of record `seq`, if held.
    fn hash_of(&self, seq: Seq) -> Result<Option<RecordHash>, StoreError>;

    /// Applies one batch's outcome in one transaction, and drops the
    /// outbox boxes of the records it settles. A locked store applies
    /// receipts only: an outcome with a refusal (whose reason is sealed)
    /// fails with [`StoreError::Locked`] and writes nothing.
    fn apply(&mut self, outcome: &PushOutcome, now: Timestamp) -> Result<(), StoreError>;

    /// The pinned outbox key (issue 14), if any. Needs no data key.
    fn outbox_key(&self) -> Result<Option<OutboxKey>, StoreError>;

    /// Pins the server's outbox key; returns whether it changed (a changed
    /// key drops the boxes sealed to the old one). Needs no data key.
    fn pin_outbox_key(&mut self, key: &OutboxKey, now: Timestamp) -> Result<bool, StoreError>;

    /// Seals into the outbox every pending record without a box (captured
    /// before the key was pinned); returns how many. Needs the data key.
    fn fill_outbox(&mut self) -> Result<usize, StoreError>;

    /// Up to `limit` boxes of pending records after `after`, in seq order.
    /// Needs no data key: the boxes are sealed to the server, not to this
    /// tablet.
    fn outbox_boxes(&self, after: Seq, limit: usize) -> Result<Vec<(Seq, Vec<u8>)>, StoreError>;

    /// How many boxes the outbox holds and their total size in bytes.
    fn outbox_size(&self) -> Result<(u64, u64), StoreError>;

    /// Counts by status.
    fn counts(&self) -> Result<StatusCounts, StoreError>;

    /// The last sync's state.
    fn sync_state(&self) -> Result<SyncState, StoreError>;

    /// The registration, if enrolled.
    fn registration(&self) -> Result<Option<Registration>, StoreError>;

    /// Stores (or replaces) the registration.
    fn set_registration(&mut self, registration: &Registration) -> Result<(), StoreError>;
}
