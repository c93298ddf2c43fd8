//! [`CommandError`], why a command failed, and the process exit codes of
//! `docs/sync-protocol.md` it maps to ([`CommandError::exit_code`]). The
//! error gathers the errors of every module a command uses; its messages
//! name the next command to run.

use std::path::PathBuf;

use hearth_shared::Problem;
use hearth_shared::RecordId;
use hearth_shared::ids::ParseIdError;

use crate::amend::AmendError;
use crate::capture::CaptureError;
use crate::clock::BadSkew;
use crate::identity::{IdentityError, StaffFileError};
use crate::keyring::{KeyringError, UnlockError};
use crate::store::StoreError;
use crate::sync::SyncError;
use crate::sync::plan::ReceiptProblem;
use crate::sync::transport::TransportError;
use crate::tls::TlsError;
use crate::unlock::{OpenStoreError, PASSPHRASE_ENV, SessionError};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: error (bad input, usage, local failure).
pub const EXIT_ERROR: u8 = 1;
/// Exit code: sync finished but records were rejected or quarantined.
pub const EXIT_REFUSED: u8 = 2;
/// Exit code: the server is unreachable.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Exit code: this device has been revoked.
pub const EXIT_REVOKED: u8 = 4;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No store directory could be found.
    #[error("no store directory: give --store DIR or set HEARTH_STORE (HOME is not set either)")]
    NoStoreDir,
    /// The store directory could not be created.
    #[error("cannot create the store directory {}", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An `init` name is empty or too long.
    #[error("--{flag} {value:?} must be 1 to {limit} bytes")]
    BadName {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Its limit.
        limit: usize,
    },
    /// `init` found a keyring but no initialised database.
    #[error(
        "{} exists, but there is no initialised {db} beside it: refusing to replace the keyring, the only key to the records in a {db} that was moved aside or lost. If {db} was moved, restore it to this directory (its records become readable again). To start a new device here instead, first move the keyring aside deliberately (for example `mv {} {}.old`), keeping it as long as any copy of the old database may exist, then run `init` again",
        .keyring.display(),
        .keyring.display(),
        .keyring.display(),
        db = crate::store::DB_FILE_NAME
    )]
    KeyringWithoutStore {
        /// The keyring file found.
        keyring: PathBuf,
    },
    /// The clock test hook is malformed.
    #[error(transparent)]
    Clock(#[from] BadSkew),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// Unlocking failed.
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// The unlock session could not be written.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// No passphrase and nobody to ask. `then` is the command to run once
    /// unlocked, such as `hearth-agent sync`.
    #[error(
        "the store is locked: run `hearth-agent unlock` at a terminal (or set {PASSPHRASE_ENV} for scripts), then {then}"
    )]
    Locked {
        /// What to run after unlocking.
        then: String,
    },
    /// A passphrase is needed and there is no terminal to ask at.
    #[error("{what} is needed: set {env}, or run this at a terminal to be asked")]
    NoPassphrase {
        /// Which passphrase.
        what: &'static str,
        /// The variable that supplies it.
        env: &'static str,
    },
    /// The prompt failed.
    #[error("cannot read the passphrase from the terminal")]
    Prompt(#[source] std::io::Error),
    /// The new passphrase is refused.
    #[error("{0}")]
    WeakPassphrase(String),
    /// The two entries differ.
    #[error("the two passphrases differ; nothing was changed")]
    PassphraseMismatch,
    /// The record's local copy was purged.
    #[error("record {id} was purged from this device at {at} after it synced; the server holds it")]
    Purged {
        /// The record.
        id: RecordId,
        /// When.
        at: hearth_shared::Timestamp,
    },
    /// The server said this device is revoked, without a notice signed by
    /// the server key pinned at enrolment; nothing was destroyed.
    #[error(
        "{message}; but the notice is not signed by the server this device enrolled with, so the data key is kept and nothing was uploaded; tell your administrator"
    )]
    UnverifiedRevocation {
        /// The server's message.
        message: String,
    },
    /// The server revoked this device; the data key is destroyed.
    #[error("{message}; this device's data key has been destroyed and its records can no longer be read here; {}", abandoned_text(.abandoned))]
    Revoked {
        /// The server's message.
        message: String,
        /// Records not on the server, abandoned.
        abandoned: Vec<RecordId>,
    },
    /// A capture was refused or failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The record names someone this device may not record as.
    #[error("record refused: {0}")]
    Identity(#[from] IdentityError),
    /// The staff list saved at enrolment.
    #[error(transparent)]
    StaffFile(#[from] StaffFileError),
    /// The JSON input could not be read.
    #[error("cannot read {}", .path.display())]
    ReadInput {
        /// The file (`-` for stdin).
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `record <kind>` without some of its required flags.
    #[error(transparent)]
    MissingFlags(#[from] crate::cli::MissingFlags),
    /// `enrol` without a way to know the server.
    #[error(
        "enrol needs to know the server's certificate: give --pin sha256:… (from your administrator) or --ca FILE"
    )]
    NoServerTrust,
    /// `record` without a kind or `--json`.
    #[error(
        "say what to record: `hearth-agent record <kind> ...` or `hearth-agent record --json FILE`"
    )]
    NothingToRecord,
    /// A record id that does not parse.
    #[error("{input:?}: {source}")]
    BadRecordId {
        /// What was given.
        input: String,
        /// Why it is wrong.
        #[source]
        source: ParseIdError,
    },
    /// A child reference that does not parse.
    #[error("--child {input:?} {problem}")]
    BadChild {
        /// What was given.
        input: String,
        /// Why it is wrong.
        problem: Problem,
    },
    /// No such record on this device.
    #[error("record {0} is not on this device")]
    NoSuchRecord(RecordId),
    /// A correction names a record this device does not hold.
    #[error(
        "corrects {0}, which is not a record of this device; find the id of the record to correct with `hearth-agent list` (or `hearth-agent list --child REF`)"
    )]
    CorrectsUnknown(RecordId),
    /// The original of a `record amendment` was purged, so its date is
    /// not here to keep.
    #[error(
        "record {0} was purged from this tablet (the server holds it), so its date is not here to keep; give --occurred-at with the date of the event it records"
    )]
    CorrectsPurged(RecordId),
    /// A correction could not be built.
    #[error(transparent)]
    Amend(#[from] AmendError),
    /// `amend --json` is not a JSON object.
    #[error("{}: give a JSON object of the fields to correct, like {{\"action\": \"Shared with the GP\"}}", .0.display())]
    AmendJson(PathBuf),
    /// Not enrolled.
    #[error(
        "this device is not enrolled; run `hearth-agent enrol --server URL --token TOKEN --pin sha256:…` with the pin from your administrator (or --ca FILE)"
    )]
    NotEnrolled,
    /// The server's identity could not be established.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A request failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Sync failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The server enrolled another device id.
    #[error(
        "the server enrolled device {found}, but this device is {expected}; contact the administrator"
    )]
    WrongDevice {
        /// Ours.
        expected: String,
        /// The server's.
        found: String,
    },
    /// The server's receipt key is not an ed25519 public key.
    #[error(
        "the server's receipt key {0:?} is not an ed25519 public key; the server is misconfigured"
    )]
    BadServerKey(String),
    /// Sent records were not confirmed by a trusted receipt.
    #[error("{count} record(s) were sent but not confirmed by a receipt that verifies; they stay pending{}", problems_text(.problems))]
    Unconfirmed {
        /// How many.
        count: usize,
        /// Why receipts were not trusted.
        problems: Vec<ReceiptProblem>,
    },
    /// Writing the output failed.
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    /// `app --listen` named an address other programs on the network could
    /// reach, without `--allow-non-loopback`.
    #[error(
        "--listen {addr} is not a loopback address: the app would be reachable from the network; use 127.0.0.1:PORT, or add --allow-non-loopback if you really mean it"
    )]
    NonLoopback {
        /// The address given.
        addr: std::net::SocketAddr,
    },
    /// The app could not listen or serve.
    #[error("the app cannot listen on {addr}")]
    Serve {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn abandoned_text(ids: &[RecordId]) -> String {
    if ids.is_empty() {
        return "every record had reached the server; nothing was lost".into();
    }
    let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
    format!(
        "{} unsynced record(s) could not be uploaded and are abandoned: {}",
        ids.len(),
        list.join(", ")
    )
}

fn problems_text(problems: &[ReceiptProblem]) -> String {
    match problems.first() {
        None => String::new(),
        Some(p) if problems.len() == 1 => format!(" ({p})"),
        Some(p) => format!(" ({p}; and {} more)", problems.len() - 1),
    }
}

impl CommandError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        let transport = match self {
            Self::Transport(t) | Self::Sync(SyncError::Transport(t)) => Some(t),
            _ => None,
        };
        match transport {
            Some(TransportError::Unreachable { .. }) => EXIT_UNREACHABLE,
            Some(TransportError::Revoked { .. }) => EXIT_REVOKED,
            _ => match self {
                Self::Tls(TlsError::Connect { .. }) => EXIT_UNREACHABLE,
                Self::Revoked { .. }
                | Self::UnverifiedRevocation { .. }
                | Self::Keyring(KeyringError::Revoked(_))
                | Self::Unlock(UnlockError::Keyring(KeyringError::Revoked(_))) => EXIT_REVOKED,
                _ => EXIT_ERROR,
            },
        }
    }
}

/// Each way of failing to open the store unlocked, as the command error
/// that has always said it.
impl From<OpenStoreError> for CommandError {
    fn from(e: OpenStoreError) -> Self {
        match e {
            OpenStoreError::Keyring(e) => Self::Keyring(e),
            OpenStoreError::Unlock(e) => Self::Unlock(e),
            OpenStoreError::Store(e) => Self::Store(e),
            OpenStoreError::Prompt(e) => Self::Prompt(e),
            OpenStoreError::Locked => Self::Locked {
                then: "run the command again".into(),
            },
        }
    }
}
