//! Runs each [`Command`]: opens the store, does the work, prints the
//! result, and returns the process exit code of `docs/sync-protocol.md`.
//!
//! Output contract: `record` prints only the new record id on stdout;
//! `--json` forms print one JSON document on stdout; everything meant for
//! a person who is not parsing output goes to stderr.
//!
//! This module dispatches ([`run`]) and opens the store for a command
//! (through [`crate::unlock::open_store_with`], the one way the store is
//! unlocked). Each command family has a file of its own: `init`, `record`
//! (`record` and `amend`), `list` (`list` and `show`), `enrol`, `sync`,
//! `unlock` (`unlock`, `lock`, `passphrase change`), `purge`, `caseload`, `status` and
//! `app` (serves [`crate::app`]).
//! [`error`] holds [`CommandError`] and the exit codes; `render` the text
//! and JSON a person or a script reads.

mod app;
mod caseload;
mod enrol;
pub mod error;
mod init;
mod list;
mod purge;
mod record;
mod render;
mod status;
mod sync;
mod unlock;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hearth_shared::clock::{Clock, SystemClock};
use hearth_shared::{Envelope, RecordId};

pub use self::caseload::{held_caseload, state_text};
pub use self::enrol::enrol_device;
pub use self::error::{
    CommandError, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_REVOKED, EXIT_UNREACHABLE,
};
pub use self::init::{create_store, create_store_keys};
pub use self::record::{
    amend_record, capture_record, device_authors, latest_record, record_defaults,
};
pub use self::sync::sync_store;
use crate::cli::{Cli, Command, PassphraseCommand};
use crate::keys::DeviceKey;
use crate::store::{DeviceSettings, LocalRecord, LocalStore, RecordStore, StoreError};
use crate::unlock::KeySource;

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
    let clock = crate::clock::from_env()?;
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
        Command::Init { agency, worker } => init::init(dir, clock, &agency, &worker, out),
        Command::Record(args) => record::record(dir, clock, args, out),
        Command::Amend(args) => record::amend(dir, clock, args, out),
        Command::List {
            pending,
            child,
            json,
        } => list::list(dir, clock, pending, child.as_deref(), json, out),
        Command::Show { id, json } => list::show(dir, clock, &id, json, out),
        Command::Enrol {
            server,
            token,
            ca,
            pin,
        } => enrol::enrol(
            dir,
            clock,
            &server,
            &token,
            ca.as_deref(),
            pin.as_deref(),
            out,
        ),
        Command::Sync => sync::sync_command(dir, clock, out),
        Command::Caseload { json } => caseload::caseload(dir, clock, json, out),
        Command::Status { json } => status::status(dir, json, out),
        Command::Unlock { minutes } => unlock::unlock_command(dir, clock, minutes, out),
        Command::Lock => unlock::lock_command(dir, out),
        Command::Passphrase {
            action: PassphraseCommand::Change,
        } => unlock::change_passphrase(dir, out),
        Command::Purge { older_than_days } => purge::purge(dir, clock, older_than_days, out),
        Command::App(args) => app::app(dir, clock, &args, out),
    }
}

/// Refuses a directory with no database in it: `init` has not run here.
fn ensure_initialised(dir: &Path) -> Result<(), CommandError> {
    if !dir.join(crate::store::DB_FILE_NAME).exists() {
        return Err(StoreError::NotInitialised.into());
    }
    Ok(())
}

/// Opens an initialised store without the key: counts and settings only.
fn open_locked(dir: &Path) -> Result<(LocalStore, DeviceSettings), CommandError> {
    ensure_initialised(dir)?;
    let store = LocalStore::open_dir(dir)?;
    let settings = store.settings()?.ok_or(StoreError::NotInitialised)?;
    Ok((store, settings))
}

/// Opens an initialised store, unlocked, and its device key. The data key
/// comes from `HEARTH_PASSPHRASE`, an unlock session, or a prompt (see
/// [`crate::unlock`]); Argon2 runs at most once per process.
fn open(
    dir: &Path,
    clock: &dyn Clock,
) -> Result<(LocalStore, DeviceSettings, DeviceKey), CommandError> {
    ensure_initialised(dir)?;
    let (store, key) = crate::unlock::open_store_with(dir, KeySource::Command(clock))?;
    let settings = store.settings()?.ok_or(StoreError::NotInitialised)?;
    Ok((store, settings, key))
}

/// A record id given on the command line.
fn parse_record_id(input: &str) -> Result<RecordId, CommandError> {
    input.parse().map_err(|source| CommandError::BadRecordId {
        input: input.to_string(),
        source,
    })
}

/// The text of a JSON input file; `-` reads stdin.
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

/// A stored record's envelope; one that does not decode is a damaged store.
fn envelope_of(r: &LocalRecord) -> Result<Envelope, CommandError> {
    r.envelope()
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.seq)).into())
}
