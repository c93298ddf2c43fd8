//! Runs each [`Command`]: opens the store, does the work, prints the
//! result, and returns the process exit code of `docs/sync-protocol.md`.
//!
//! Output contract: `record` prints only the new record id on stdout;
//! `--json` forms print one JSON document on stdout; everything meant for
//! a person who is not parsing output goes to stderr.

use std::fs::DirBuilder;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use hearth_shared::ids::ParseIdError;
use hearth_shared::json::{Defaults, body_to_json, parse_body};
use hearth_shared::kinds::Detail;
use hearth_shared::printable::Escaped;
use hearth_shared::protocol::EnrolRequest;
use hearth_shared::{ChildRef, DeviceId, Problem, RecordId, Text};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand_core::OsRng;
use serde_json::{Value, json};

use crate::amend::{AmendError, Changes, Correction, amended_body, latest_version, parse_set};
use crate::capture::{CaptureError, capture_body};
use crate::cli::{AmendArgs, Cli, Command, PassphraseCommand, RecordArgs};
use crate::clock::{BadSkew, Clock, SystemClock};
use crate::identity::{Identity, IdentityError, StaffFileError, load_staff, save_staff};
use crate::keyring::{self, KdfParams, Keyring, KeyringError, UnlockError};
use crate::keys::DeviceKey;
use crate::seal::{DataKey, Sealer};
use crate::store::{
    DeviceSettings, LocalRecord, LocalStore, RecordStore, Registration, StoreError, SyncStatus,
};
use crate::sync::plan::{BATCH_SIZE, ReceiptProblem};
use crate::sync::transport::{Transport, TransportError};
use crate::sync::{self, SyncError};
use crate::tls::{self, TlsError};
use crate::unlock::{self, NEW_PASSPHRASE_ENV, PASSPHRASE_ENV, SessionError};

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

/// The store directory: `--store`, else `$HEARTH_STORE`, else
/// `$XDG_DATA_HOME/hearth`, else `~/.local/share/hearth`.
pub fn store_dir(flag: Option<&Path>) -> Result<PathBuf, CommandError> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HEARTH_STORE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return Ok(PathBuf::from(data).join("hearth"));
    }
    var("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/hearth"))
        .ok_or(CommandError::NoStoreDir)
}

/// Runs the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8, CommandError> {
    let dir = store_dir(cli.store.as_deref())?;
    let clock = SystemClock::from_env()?;
    let mut out = std::io::stdout().lock();
    let name = cli.command.name();
    let result = run_command(&dir, &clock, cli.command, &mut out);
    match result {
        // Whoever read our output has stopped reading (`list | head`):
        // what they wanted is done, as ripgrep treats a closed pipe.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(CommandError::Locked { .. }) => Err(CommandError::Locked {
            then: format!("`hearth-agent {name}` again"),
        }),
        other => other,
    }
}

fn run_command(
    dir: &Path,
    clock: &SystemClock,
    command: Command,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    match command {
        Command::Init { agency, worker } => init(dir, clock, &agency, &worker, out),
        Command::Record(args) => record(dir, clock, args, out),
        Command::Amend(args) => amend(dir, clock, args, out),
        Command::List {
            pending,
            child,
            json,
        } => list(dir, clock, pending, child.as_deref(), json, out),
        Command::Show { id, json } => show(dir, clock, &id, json, out),
        Command::Enrol {
            server,
            token,
            ca,
            pin,
        } => enrol(
            dir,
            clock,
            &server,
            &token,
            ca.as_deref(),
            pin.as_deref(),
            out,
        ),
        Command::Sync => sync_command(dir, clock, out),
        Command::Status { json } => status(dir, json, out),
        Command::Unlock { minutes } => unlock_command(dir, clock, minutes, out),
        Command::Lock => lock_command(dir, out),
        Command::Passphrase {
            action: PassphraseCommand::Change,
        } => change_passphrase(dir, out),
        Command::Purge { older_than_days } => purge(dir, clock, older_than_days, out),
    }
}

fn emit(out: &mut dyn Write, text: &str) -> Result<(), CommandError> {
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(CommandError::Output)
}

/// Opens an initialised store without the key: counts and settings only.
fn open_locked(dir: &Path) -> Result<(LocalStore, DeviceSettings), CommandError> {
    if !dir.join(crate::store::DB_FILE_NAME).exists() {
        return Err(StoreError::NotInitialised.into());
    }
    let store = LocalStore::open_dir(dir)?;
    let settings = store.settings()?.ok_or(StoreError::NotInitialised)?;
    Ok((store, settings))
}

/// Opens an initialised store, unlocked, and its device key.
fn open(
    dir: &Path,
    clock: &dyn Clock,
) -> Result<(LocalStore, DeviceSettings, DeviceKey), CommandError> {
    if !dir.join(crate::store::DB_FILE_NAME).exists() {
        return Err(StoreError::NotInitialised.into());
    }
    // Unlock before the database is even opened: a wrong passphrase
    // touches nothing but the failure counter.
    let ring = Keyring::load(dir)?;
    let dk = data_key(dir, &ring, clock)?;
    let key = ring.device_key(&dk)?;
    let (store, settings) = open_locked(dir)?;
    Ok((store.unlocked(Sealer::new(&dk)), settings, key))
}

/// The data key, from `HEARTH_PASSPHRASE`, an unlock session, or a prompt
/// (see `crate::unlock`). Argon2 runs at most once per process.
fn data_key(dir: &Path, ring: &Keyring, clock: &dyn Clock) -> Result<DataKey, CommandError> {
    if let Some(p) = unlock::env_passphrase(PASSPHRASE_ENV) {
        return Ok(keyring::unlock(dir, ring, &p, &mut std::thread::sleep)?);
    }
    if let Some(dk) = unlock::read_session(dir, clock.now()) {
        if ring.device_key(&dk).is_ok() {
            return Ok(dk);
        }
        unlock::remove_session(dir);
    }
    if unlock::interactive() {
        let p = unlock::prompt("Passphrase: ").map_err(CommandError::Prompt)?;
        return Ok(keyring::unlock(dir, ring, &p, &mut std::thread::sleep)?);
    }
    Err(CommandError::Locked {
        then: "run the command again".into(),
    })
}

/// The current passphrase from `HEARTH_PASSPHRASE` or a prompt (never a
/// session: unlocking and changing it need the passphrase itself).
fn current_passphrase() -> Result<zeroize::Zeroizing<String>, CommandError> {
    if let Some(p) = unlock::env_passphrase(PASSPHRASE_ENV) {
        return Ok(p);
    }
    if unlock::interactive() {
        return unlock::prompt("Passphrase: ").map_err(CommandError::Prompt);
    }
    Err(CommandError::NoPassphrase {
        what: "the passphrase",
        env: PASSPHRASE_ENV,
    })
}

/// A new passphrase from `env` or two prompts, checked for length.
fn new_passphrase(
    env: &'static str,
    what: &'static str,
) -> Result<zeroize::Zeroizing<String>, CommandError> {
    let p = match unlock::env_passphrase(env) {
        Some(p) => p,
        None if unlock::interactive() => {
            let first = unlock::prompt(&format!("{what}: ")).map_err(CommandError::Prompt)?;
            keyring::check_new_passphrase(&first).map_err(CommandError::WeakPassphrase)?;
            let again = unlock::prompt(&format!("{what} again: ")).map_err(CommandError::Prompt)?;
            if *first != *again {
                return Err(CommandError::PassphraseMismatch);
            }
            first
        }
        None => {
            return Err(CommandError::NoPassphrase {
                what: "a new passphrase",
                env,
            });
        }
    };
    keyring::check_new_passphrase(&p).map_err(CommandError::WeakPassphrase)?;
    Ok(p)
}

fn kdf_for_new_keyring() -> KdfParams {
    let kdf = KdfParams::from_env();
    #[cfg(feature = "test-hooks")]
    if kdf.is_weak() {
        eprintln!(
            "warning: {} is set: the passphrase is protected by test-strength Argon2 parameters; never do this on a tablet",
            keyring::TEST_KDF_ENV
        );
    }
    kdf
}

fn init(
    dir: &Path,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let agency_t = Text::<16>::try_from_str(agency)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| CommandError::BadName {
            flag: "agency",
            value: agency.into(),
            limit: 16,
        })?;
    let worker_t = Text::<32>::try_from_str(worker)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| CommandError::BadName {
            flag: "worker",
            value: worker.into(),
            limit: 32,
        })?;
    if dir.join(crate::keys::KEY_FILE).exists() {
        return Err(KeyringError::Legacy.into());
    }
    if dir.join(crate::store::DB_FILE_NAME).exists()
        && let Some(s) = LocalStore::open_dir(dir)?.settings()?
    {
        return Err(StoreError::AlreadyInitialised(s.device_id).into());
    }
    // A keyring with no initialised database beside it is the only key to
    // a database that was moved aside, lost or not yet restored: replacing
    // it would make those records unreadable for ever (issue 11, item 10).
    // `init` never replaces one, whatever state the database is in.
    refuse_existing_keyring(dir)?;
    // Asked before anything is created, so a refused passphrase leaves
    // nothing behind.
    let passphrase = new_passphrase(PASSPHRASE_ENV, "Choose a passphrase")?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CommandError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    // The database holds observations: owner-only, like the key. SQLite
    // gives its -wal and -shm files the database file's mode.
    let db = dir.join(crate::store::DB_FILE_NAME);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&db)
        .map_err(|source| CommandError::CreateDir {
            path: db.clone(),
            source,
        })?;
    let mut store = LocalStore::open_dir(dir)?;
    if let Some(s) = store.settings()? {
        return Err(StoreError::AlreadyInitialised(s.device_id).into());
    }
    let key = DeviceKey::generate(&mut OsRng);
    let dk = DataKey::generate(&mut OsRng);
    // The keyring first: a crash before the settings are written leaves a
    // keyring with no settings and no records, which the next `init`
    // refuses like any other keyring (it cannot tell the two apart): the
    // message says to move it aside. `save_new` refuses to replace a
    // keyring that appeared since the check above.
    Keyring::create(&dk, &key, &passphrase, kdf_for_new_keyring(), &mut OsRng)?.save_new(dir)?;
    let device_id = key.device_id().to_string();
    store.init_settings(&DeviceSettings {
        device_id: key.device_id(),
        agency: agency_t,
        worker: worker_t,
        created_at: clock.now(),
    })?;
    tracing::info!(device = %device_id, "store initialised");
    emit(out, &device_id)?;
    Ok(EXIT_OK)
}

/// Refuses `init` in a directory holding a keyring (or a keyring half
/// written by an interrupted save), naming it and what to do.
fn refuse_existing_keyring(dir: &Path) -> Result<(), CommandError> {
    for name in [keyring::KEYRING_FILE, keyring::KEYRING_NEW_FILE] {
        let path = dir.join(name);
        // symlink_metadata: a dangling link is still something not to clobber.
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(CommandError::KeyringWithoutStore { keyring: path });
        }
    }
    Ok(())
}

fn record(
    dir: &Path,
    clock: &dyn Clock,
    args: RecordArgs,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    // The input is checked before the passphrase is asked for.
    let json = match (&args.json, &args.kind) {
        (Some(path), _) => read_input(path)?,
        (None, Some(kind)) => kind.to_json(&clock.now().to_string())?,
        (None, None) => return Err(CommandError::NothingToRecord),
    };
    let (mut store, settings, key) = open(dir, clock)?;
    let identity = identity(dir, &store, &settings, &key)?;
    // The defaults are who the device records as: the enrolment once
    // enrolled (the server's word), else the `init` settings.
    let defaults = Defaults {
        author: Text::try_from_str(&identity.worker).unwrap_or(settings.worker),
        agency: Text::try_from_str(&identity.agency).unwrap_or(settings.agency),
    };
    let mut body = parse_body(&json, &defaults).map_err(CaptureError::from)?;
    // `record amendment` without --occurred-at keeps the original's date
    // (issue 12): a correction never moves an event to when it was typed.
    if let (Some(kind), Detail::Amendment(a)) = (&args.kind, &body.detail)
        && !kind.occurred_at_given()
    {
        let id = a.corrects;
        let held = (id.device == key.device_id())
            .then(|| store.get(id.seq))
            .transpose()?
            .flatten();
        let Some(original) = held else {
            return Err(
                if store.purged_at(id.seq)?.is_some() && id.device == key.device_id() {
                    CommandError::CorrectsPurged(id)
                } else {
                    CommandError::CorrectsUnknown(id)
                },
            );
        };
        body.occurred_at = original
            .envelope()
            .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", id.seq)))?
            .body
            .occurred_at;
    }
    capture_checked(&mut store, &key, clock, &identity, body, out)
}

/// Captures `body` once the device may record it (its identity, and for
/// a correction a record it holds); prints the new record's id.
fn capture_checked(
    store: &mut LocalStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    identity: &Identity,
    body: hearth_shared::Body,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    identity.check(&body)?;
    if let Some((corrects, _)) = body.detail.corrects() {
        ensure_held(store, corrects)?;
    }
    let record = capture_body(store, key, clock, body).map_err(CaptureError::from)?;
    let id = RecordId {
        device: key.device_id(),
        seq: record.seq,
    };
    emit(out, &id.to_string())?;
    Ok(EXIT_OK)
}

/// Refuses a correction of a record this device never stored (a purged
/// record was stored, so it may be corrected).
fn ensure_held(store: &LocalStore, id: RecordId) -> Result<(), CommandError> {
    if store.get(id.seq)?.is_none() && store.purged_at(id.seq)?.is_none() {
        return Err(CommandError::CorrectsUnknown(id));
    }
    Ok(())
}

/// `amend RECORD_ID`: captures the correction built by
/// [`amended_body`] from the original in this device's store.
fn amend(
    dir: &Path,
    clock: &dyn Clock,
    args: AmendArgs,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let rid: RecordId = args
        .id
        .parse()
        .map_err(|source| CommandError::BadRecordId {
            input: args.id.clone(),
            source,
        })?;
    let mut changes = Changes {
        reason: args.reason,
        entered_in_error: args.entered_in_error,
        children: args.children,
        occurred_at: args.occurred_at,
        headline: args.headline,
        fields: serde_json::Map::new(),
    };
    if let Some(path) = &args.json {
        match serde_json::from_str(&read_input(path)?) {
            Ok(Value::Object(fields)) => changes.fields = fields,
            _ => return Err(CommandError::AmendJson(path.clone())),
        }
    }
    for s in &args.set {
        let (k, v) = parse_set(s)?;
        changes.fields.insert(k, v);
    }
    let (mut store, settings, key) = open(dir, clock)?;
    if rid.device != key.device_id() {
        return Err(IdentityError::ForeignAmendment(rid).into());
    }
    if let Some(at) = store.purged_at(rid.seq)? {
        return Err(CommandError::Purged { id: rid, at });
    }
    let original = store
        .get(rid.seq)?
        .ok_or(CommandError::CorrectsUnknown(rid))?
        .envelope()
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", rid.seq)))?
        .body;
    // A retraction named is refused by `amended_body`, with its own words.
    let named_is_retraction =
        matches!(&original.detail, Detail::Revision(v) if v.entered_in_error());
    if !changes.entered_in_error && !named_is_retraction {
        let latest = latest_version(rid.seq.0, &own_corrections(&store, rid.device)?);
        if latest != rid.seq.0 {
            let latest = RecordId {
                device: rid.device,
                seq: hearth_shared::Seq(latest),
            };
            return Err(AmendError::NotLatest { named: rid, latest }.into());
        }
    }
    let identity = identity(dir, &store, &settings, &key)?;
    let author = match args.author.as_deref() {
        // A named author that does not fit is an error, never the worker.
        Some(a) => Text::try_from_str(a).map_err(|_| {
            CaptureError::Input(hearth_shared::json::JsonError::Field {
                path: "author".into(),
                message: format!("is {} bytes; the limit is 32", a.len()),
            })
        })?,
        None => Text::try_from_str(&identity.worker).unwrap_or(settings.worker),
    };
    let defaults = Defaults {
        author,
        agency: Text::try_from_str(&identity.agency).unwrap_or(settings.agency),
    };
    let body = amended_body(rid, &original, &changes, &defaults)?;
    capture_checked(&mut store, &key, clock, &identity, body, out)
}

/// This device's corrections of its own records, for [`latest_version`].
fn own_corrections(store: &LocalStore, device: DeviceId) -> Result<Vec<Correction>, CommandError> {
    let mut out = Vec::new();
    for r in store.all()? {
        let body = r
            .envelope()
            .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.seq)))?
            .body;
        if let Some((corrects, _)) = body.detail.corrects()
            && corrects.device == device
        {
            out.push(Correction {
                seq: r.seq.0,
                corrects: corrects.seq.0,
                retraction: matches!(&body.detail, Detail::Revision(v) if v.entered_in_error()),
            });
        }
    }
    Ok(out)
}

/// Who this device records as: its enrolment (with a shared device's
/// staff list), or before enrolment its `init` settings.
fn identity(
    dir: &Path,
    store: &LocalStore,
    settings: &DeviceSettings,
    key: &DeviceKey,
) -> Result<Identity, CommandError> {
    let device = key.device_id();
    Ok(match store.registration()? {
        Some(reg) => Identity {
            device,
            agency: reg.agency,
            worker: reg.worker,
            staff: load_staff(dir)?,
        },
        None => Identity {
            device,
            agency: settings.agency.as_str().to_string(),
            worker: settings.worker.as_str().to_string(),
            staff: Vec::new(),
        },
    })
}

fn read_input(path: &Path) -> Result<String, CommandError> {
    let err = |source| CommandError::ReadInput {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(err)?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(err)
    }
}

/// One record's summary for `list`.
fn summary(device: &str, r: &LocalRecord) -> Result<Value, CommandError> {
    let env = r
        .envelope()
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.seq)))?;
    Ok(json!({
        "record_id": format!("{device}-{}", r.seq),
        "seq": r.seq.0,
        "kind": env.body.detail.kind().as_str(),
        "occurred_at": env.body.occurred_at.to_string(),
        "headline": env.body.headline.as_str(),
        "children": env.body.children.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "author": env.body.author.as_str(),
        "agency": env.body.agency.as_str(),
        "captured_at": r.captured_at.to_string(),
        "status": r.status.as_str(),
        "reason": r.reason,
    }))
}

fn list(
    dir: &Path,
    clock: &dyn Clock,
    pending: bool,
    child: Option<&str>,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let child = child
        .map(|c| {
            c.parse::<ChildRef>()
                .map_err(|problem| CommandError::BadChild {
                    input: c.to_string(),
                    problem,
                })
        })
        .transpose()?;
    let (store, settings, _key) = open(dir, clock)?;
    let records = match &child {
        // The keyed blind index finds the rows; the decrypted body confirms.
        Some(c) => store.for_child(c)?,
        None => store.all()?,
    };
    let mut rows = Vec::new();
    for r in records {
        if pending && r.status != SyncStatus::Pending {
            continue;
        }
        if let Some(c) = &child {
            let env = r
                .envelope()
                .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.seq)))?;
            if !env.body.children.contains(c) {
                continue;
            }
        }
        rows.push(summary(&settings.device_id.to_string(), &r)?);
    }
    if as_json {
        emit(out, &Value::Array(rows).to_string())?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        emit(out, "no records")?;
    }
    for row in rows {
        let mut line = format!(
            "{:<22} {:<11} {:<20} {:<20} {}",
            row["record_id"].as_str().unwrap_or_default(),
            row["status"].as_str().unwrap_or_default(),
            row["occurred_at"].as_str().unwrap_or_default(),
            row["kind"].as_str().unwrap_or_default(),
            // Records kept from before capture refused hidden characters
            // (issue 11), and the server's reasons, are shown escaped.
            Escaped(row["headline"].as_str().unwrap_or_default()),
        );
        if let Some(reason) = row["reason"].as_str().filter(|r| !r.is_empty()) {
            line.push_str(&format!("  [{}]", Escaped(reason)));
        }
        emit(out, &line)?;
    }
    Ok(EXIT_OK)
}

fn show(
    dir: &Path,
    clock: &dyn Clock,
    id: &str,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let rid: RecordId = id.parse().map_err(|source| CommandError::BadRecordId {
        input: id.to_string(),
        source,
    })?;
    let (store, _settings, key) = open(dir, clock)?;
    if rid.device != key.device_id() {
        return Err(CommandError::NoSuchRecord(rid));
    }
    if let Some(at) = store.purged_at(rid.seq)? {
        return Err(CommandError::Purged { id: rid, at });
    }
    let r = store.get(rid.seq)?.ok_or(CommandError::NoSuchRecord(rid))?;
    let env = r
        .envelope()
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.seq)))?;
    let mut v = body_to_json(&env.body);
    if let Value::Object(obj) = &mut v {
        obj.insert("record_id".into(), rid.to_string().into());
        obj.insert("seq".into(), r.seq.0.into());
        obj.insert("device_time".into(), env.device_time.to_string().into());
        obj.insert("prev".into(), env.prev.to_string().into());
        obj.insert("hash".into(), r.hash.to_string().into());
        obj.insert("status".into(), r.status.as_str().into());
        // Not "reason": an amendment's own reason is a body field of that
        // name, and the sync status must not overwrite it.
        obj.insert("status_reason".into(), r.reason.clone().into());
    }
    if as_json {
        emit(out, &v.to_string())?;
    } else {
        let pretty = serde_json::to_string_pretty(&v).expect("a JSON value prints");
        emit(out, &pretty)?;
    }
    Ok(EXIT_OK)
}

fn server_key(text: &str) -> Result<VerifyingKey, CommandError> {
    Registration::parse_server_key(text).ok_or_else(|| CommandError::BadServerKey(text.to_string()))
}

fn enrol(
    dir: &Path,
    clock: &dyn Clock,
    server: &str,
    token: &str,
    ca: Option<&Path>,
    pin: Option<&str>,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    if ca.is_none() && pin.is_none() {
        return Err(CommandError::NoServerTrust);
    }
    let (mut store, _settings, key) = open(dir, clock)?;
    let server = server.trim_end_matches('/');
    tls::host_port(server)?;
    match (ca, pin) {
        (Some(ca), _) => tls::save_ca(dir, ca)?,
        (None, Some(pin)) => {
            let pin = tls::parse_pin(pin)?;
            let der = tls::fetch_pinned(server, pin, crate::sync::transport::CONNECT_TIMEOUT)?;
            tls::save_pinned(dir, &der)?;
        }
        (None, None) => return Err(CommandError::NoServerTrust),
    }
    let transport = Transport::new(server, tls::load_trust(dir)?);
    let response = transport.enrol(&EnrolRequest {
        token: token.to_string(),
        public_key: hex::encode(key.verifying_key().as_bytes()),
    })?;
    if response.device != key.device_id() {
        return Err(CommandError::WrongDevice {
            expected: key.device_id().to_string(),
            found: response.device.to_string(),
        });
    }
    // The staff list first: without a registration it is never read.
    save_staff(dir, &response.staff)?;
    let reg = Registration {
        server_url: server.to_string(),
        server_key: server_key(&response.server_key.to_ascii_lowercase())?,
        agency: response.agency,
        worker: response.worker,
        enrolled_at: clock.now(),
    };
    store.set_registration(&reg)?;
    tracing::info!(device = %key.device_id(), "device enrolled");
    emit(
        out,
        &format!(
            "enrolled device {} with {} as {} ({})",
            key.device_id(),
            reg.server_url,
            reg.worker,
            reg.agency
        ),
    )?;
    Ok(EXIT_OK)
}

fn sync_command(dir: &Path, clock: &dyn Clock, out: &mut dyn Write) -> Result<u8, CommandError> {
    let (mut store, settings, key) = open(dir, clock)?;
    let reg = store.registration()?.ok_or(CommandError::NotEnrolled)?;
    let server_key = reg.server_key;
    let transport = Transport::new(&reg.server_url, tls::load_trust(dir)?);
    let pending = store.pending_seqs()?.len();
    let bar = if pending > BATCH_SIZE && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(pending as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} records {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = sync::run(
        &mut store,
        &key,
        &server_key,
        clock,
        &transport,
        &mut |done, _| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    let report = match result {
        Err(SyncError::Transport(TransportError::Revoked { message, notice })) => {
            // Destroy the data key only on the word of the server pinned at
            // enrolment: anyone else the TLS layer might trust could
            // otherwise wipe the evidence on this tablet.
            let genuine = notice.is_some_and(|n| n.verify(&server_key, key.device_id()));
            if !genuine {
                return Err(CommandError::UnverifiedRevocation { message });
            }
            return Err(revoked(dir, clock, &store, &key, message));
        }
        other => other?,
    };
    for (seq, status, reason) in &report.refused {
        eprintln!("record {}-{seq} {status}: {reason}", settings.device_id);
    }
    let counts = store.counts()?;
    emit(
        out,
        &format!(
            "sent {}, synced {}, rejected or quarantined now {}; totals: {} pending, {} synced, {} rejected, {} quarantined",
            report.sent,
            report.synced,
            report.refused.len(),
            counts.pending,
            counts.synced,
            counts.rejected,
            counts.quarantined
        ),
    )?;
    let earlier =
        ((counts.rejected + counts.quarantined) as usize).saturating_sub(report.refused.len());
    if earlier > 0 {
        eprintln!(
            "{earlier} earlier rejected or quarantined record(s) need a person to resolve; see `hearth-agent list`"
        );
    }
    if !report.unconfirmed.is_empty() {
        return Err(CommandError::Unconfirmed {
            count: report.unconfirmed.len(),
            problems: report.problems,
        });
    }
    if !report.refused.is_empty() {
        return Ok(EXIT_REFUSED);
    }
    Ok(EXIT_OK)
}

/// The server revoked this device. Everything it would still take has
/// been offered (batches before the refusal were judged and applied);
/// now destroy the data key, and name what never reached the server.
fn revoked(
    dir: &Path,
    clock: &dyn Clock,
    store: &LocalStore,
    key: &DeviceKey,
    message: String,
) -> CommandError {
    let mut abandoned = Vec::new();
    for status in [SyncStatus::Pending, SyncStatus::Rejected] {
        match store.seqs_with_status(status) {
            Ok(seqs) => abandoned.extend(seqs.into_iter().map(|seq| RecordId {
                device: key.device_id(),
                seq,
            })),
            Err(e) => return e.into(),
        }
    }
    abandoned.sort_by_key(|id| id.seq);
    unlock::remove_session(dir);
    if let Err(e) = keyring::destroy(dir, &clock.now().to_string()) {
        return e.into();
    }
    tracing::warn!(
        device = %key.device_id(),
        abandoned = abandoned.len(),
        "device revoked; data key destroyed"
    );
    CommandError::Revoked { message, abandoned }
}

fn unlock_command(
    dir: &Path,
    clock: &dyn Clock,
    minutes: u32,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    if !dir.join(crate::store::DB_FILE_NAME).exists() {
        return Err(StoreError::NotInitialised.into());
    }
    let ring = Keyring::load(dir)?;
    let passphrase = current_passphrase()?;
    let dk = keyring::unlock(dir, &ring, &passphrase, &mut std::thread::sleep)?;
    ring.device_key(&dk)?;
    let until = hearth_shared::Timestamp(clock.now().0 + i64::from(minutes) * 60);
    unlock::write_session(dir, &dk, until)?;
    emit(out, &format!("unlocked until {until}"))?;
    Ok(EXIT_OK)
}

fn lock_command(dir: &Path, out: &mut dyn Write) -> Result<u8, CommandError> {
    if unlock::remove_session(dir) {
        emit(out, "locked")?;
    } else {
        emit(out, "locked (there was no unlock session)")?;
    }
    Ok(EXIT_OK)
}

fn change_passphrase(dir: &Path, out: &mut dyn Write) -> Result<u8, CommandError> {
    if !dir.join(crate::store::DB_FILE_NAME).exists() {
        return Err(StoreError::NotInitialised.into());
    }
    let ring = Keyring::load(dir)?;
    let old = current_passphrase()?;
    let dk = keyring::unlock(dir, &ring, &old, &mut std::thread::sleep)?;
    ring.device_key(&dk)?;
    let new = new_passphrase(NEW_PASSPHRASE_ENV, "New passphrase")?;
    // Re-wraps the same data key: no record is re-encrypted, and the
    // atomic save leaves the old or the new passphrase working.
    ring.rewrap(&dk, &new, kdf_for_new_keyring(), &mut OsRng)?
        .save(dir)?;
    // A session opened with the old passphrase ends now. (The data key
    // itself is unchanged, so a copy of the keyring taken earlier still
    // opens with the old passphrase; docs/security.md says so.)
    let ended = unlock::remove_session(dir);
    emit(
        out,
        if ended {
            "passphrase changed; the unlock session has ended, unlock again with the new passphrase"
        } else {
            "passphrase changed"
        },
    )?;
    Ok(EXIT_OK)
}

fn purge(
    dir: &Path,
    clock: &dyn Clock,
    older_than_days: u32,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let (mut store, settings, _key) = open(dir, clock)?;
    let now = clock.now();
    let before = hearth_shared::Timestamp(now.0 - i64::from(older_than_days) * 86_400);
    let purged = store.purge(before, now)?;
    tracing::info!(count = purged.len(), "records purged");
    let first_last = match (purged.first(), purged.last()) {
        (Some(a), Some(b)) => format!(
            " ({}-{a} to {}-{b})",
            settings.device_id, settings.device_id
        ),
        _ => String::new(),
    };
    emit(
        out,
        &format!(
            "purged {} synced record(s) with receipts, synced before {before}{first_last}; their seqs, hashes and receipts are kept",
            purged.len()
        ),
    )?;
    Ok(EXIT_OK)
}

fn status(dir: &Path, as_json: bool, out: &mut dyn Write) -> Result<u8, CommandError> {
    let (store, settings) = open_locked(dir)?;
    let reg = store.registration()?;
    let counts = store.counts()?;
    let state = store.sync_state()?;
    let receipt = state.last_receipt.as_ref().map(|r| {
        json!({
            "first": r.first.0,
            "last": r.last.0,
            "server_time": r.server_time.to_string(),
        })
    });
    let v = json!({
        "device_id": settings.device_id,
        "agency": reg.as_ref().map_or(settings.agency.as_str(), |r| r.agency.as_str()),
        "worker": reg.as_ref().map_or(settings.worker.as_str(), |r| r.worker.as_str()),
        "enrolled": reg.is_some(),
        "server": reg.as_ref().map(|r| r.server_url.clone()),
        "pending": counts.pending,
        "synced": counts.synced,
        "rejected": counts.rejected + counts.quarantined,
        "rejected_only": counts.rejected,
        "quarantined": counts.quarantined,
        "purged": counts.purged,
        "last_sync_at": state.last_sync_at.map(|t| t.to_string()),
        "last_receipt": receipt,
        "clock_offset_seconds": state.clock_offset_seconds,
    });
    if as_json {
        emit(out, &v.to_string())?;
        return Ok(EXIT_OK);
    }
    let or_none = |v: &Value| match v {
        Value::Null => "never".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let lines = [
        format!("device       {}", settings.device_id),
        format!("agency       {}", v["agency"].as_str().unwrap_or_default()),
        format!("worker       {}", v["worker"].as_str().unwrap_or_default()),
        format!(
            "server       {}",
            reg.as_ref()
                .map_or("not enrolled", |r| r.server_url.as_str())
        ),
        format!("pending      {}", counts.pending),
        format!("synced       {}", counts.synced),
        format!(
            "purged       {} (synced, body dropped locally)",
            counts.purged
        ),
        format!(
            "rejected     {} ({} rejected, {} quarantined)",
            counts.rejected + counts.quarantined,
            counts.rejected,
            counts.quarantined
        ),
        format!("last sync    {}", or_none(&v["last_sync_at"])),
        match &state.last_receipt {
            Some(r) => format!(
                "last receipt records {}..={} at {} (server time)",
                r.first, r.last, r.server_time
            ),
            None => "last receipt none".to_string(),
        },
        match state.clock_offset_seconds {
            Some(s) => format!("clock offset {s:+} s (device minus server)"),
            None => "clock offset unknown".to_string(),
        },
    ];
    for line in lines {
        emit(out, &line)?;
    }
    Ok(EXIT_OK)
}
