//! What "unlocked" means for a command-line program: where a command gets
//! the passphrase, and the optional unlock session.
//!
//! A command that needs the data key takes it from, in order:
//!
//! 1. `HEARTH_PASSPHRASE` ([`PASSPHRASE_ENV`]), when set: scripts and tests
//!    never need `unlock`. Argon2 runs once per process.
//! 2. An unlock session: `hearth-agent unlock` writes the data key to
//!    `$XDG_RUNTIME_DIR/hearth/<store hash>.session` (directory 0700, file
//!    0600) with an expiry (default [`DEFAULT_SESSION_MINUTES`]).
//!    `$XDG_RUNTIME_DIR` is the per-user runtime directory that systemd
//!    (and Android's equivalent) keep on tmpfs and empty at logout and
//!    reboot, so the key never reaches the flash. `hearth-agent lock`
//!    overwrites and deletes it; an expired session is deleted when seen.
//!    A session whose key does not open this store's device key is ignored.
//! 3. A prompt on the terminal (no echo), when stdin is a terminal.
//!
//! Otherwise the command fails with "the store is locked". The trade-off
//! is stated in `docs/security.md`: while a session is live, anyone who can
//! run programs as the worker's user can read the store, as with any
//! unlocked device; the OS screen lock covers that window.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hearth_shared::Timestamp;
use hearth_shared::clock::Clock;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keyring::{self, Keyring, KeyringError, UnlockError};
use crate::keys::DeviceKey;
use crate::seal::{DataKey, Sealer};
use crate::store::{LocalStore, StoreError};

/// The passphrase for automation and tests.
pub const PASSPHRASE_ENV: &str = "HEARTH_PASSPHRASE";
/// The new passphrase for `passphrase change` in automation and tests.
pub const NEW_PASSPHRASE_ENV: &str = "HEARTH_NEW_PASSPHRASE";
/// How long `unlock` lasts by default: a working day.
pub const DEFAULT_SESSION_MINUTES: u32 = 8 * 60;

const SESSION_MAGIC: &str = "hearth-session-v1";

/// A passphrase from the environment variable `name`, if set.
pub fn env_passphrase(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name).ok().map(Zeroizing::new)
}

/// Whether a person is at a terminal to answer a prompt.
pub fn interactive() -> bool {
    io::stdin().is_terminal()
}

/// Prompts on the terminal with echo off.
pub fn prompt(text: &str) -> io::Result<Zeroizing<String>> {
    rpassword::prompt_password(text).map(Zeroizing::new)
}

/// The session file for the store in `store_dir`, if there is a runtime
/// directory.
pub fn session_path(store_dir: &Path) -> Option<PathBuf> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty())?;
    let canonical = fs::canonicalize(store_dir).unwrap_or_else(|_| store_dir.to_path_buf());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    Some(
        PathBuf::from(runtime)
            .join("hearth")
            .join(format!("{}.session", hex::encode(&digest[..8]))),
    )
}

/// Why a session could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No `$XDG_RUNTIME_DIR`.
    #[error(
        "XDG_RUNTIME_DIR is not set, so there is nowhere safe (in memory) to keep an unlock session; enter the passphrase per command, or set HEARTH_PASSPHRASE for scripts"
    )]
    NoRuntimeDir,
    /// The runtime directory is readable by others.
    #[error("{} is accessible to other users (mode {mode:o}); refusing to keep a key there", .path.display())]
    Exposed {
        /// The directory.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// Writing failed.
    #[error("cannot write the unlock session {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Writes the session for `store_dir`, valid until `expires`.
pub fn write_session(
    store_dir: &Path,
    dk: &DataKey,
    expires: Timestamp,
) -> Result<PathBuf, SessionError> {
    let path = session_path(store_dir).ok_or(SessionError::NoRuntimeDir)?;
    let parent = path.parent().expect("a session path has a parent");
    let runtime = parent.parent().expect("and a runtime directory");
    if let Ok(meta) = fs::metadata(runtime) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SessionError::Exposed {
                path: runtime.to_path_buf(),
                mode,
            });
        }
    }
    let io = |source| SessionError::Io {
        path: path.clone(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(io)?;
    let text = Zeroizing::new(format!(
        "{SESSION_MAGIC} {} {}\n",
        expires.0,
        hex::encode(dk.as_bytes())
    ));
    crate::private_file::write(&path, text.as_bytes()).map_err(io)?;
    Ok(path)
}

/// The session's data key, if there is an unexpired session for
/// `store_dir`. An expired or unreadable one is removed.
pub fn read_session(store_dir: &Path, now: Timestamp) -> Option<DataKey> {
    let path = session_path(store_dir)?;
    let text = Zeroizing::new(fs::read_to_string(&path).ok()?);
    let mut parts = text.split_whitespace();
    let parsed = (|| {
        if parts.next()? != SESSION_MAGIC {
            return None;
        }
        let expires: i64 = parts.next()?.parse().ok()?;
        let key = Zeroizing::new(hex::decode(parts.next()?).ok()?);
        let bytes: [u8; 32] = key.as_slice().try_into().ok()?;
        Some((expires, bytes))
    })();
    match parsed {
        Some((expires, bytes)) if now.0 < expires => Some(DataKey::from_bytes(bytes)),
        _ => {
            remove_session(store_dir);
            None
        }
    }
}

/// Overwrites and deletes the session for `store_dir`; true if there was
/// one.
pub fn remove_session(store_dir: &Path) -> bool {
    let Some(path) = session_path(store_dir) else {
        return false;
    };
    let Ok(meta) = fs::metadata(&path) else {
        return false;
    };
    if let Ok(mut f) = OpenOptions::new().write(true).open(&path) {
        let _ = f.write_all(&vec![0u8; meta.len() as usize]);
    }
    fs::remove_file(&path).is_ok()
}

/// Why [`open_store`] or [`open_store_with`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenStoreError {
    /// The keyring is missing, damaged or destroyed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The passphrase was wrong.
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No passphrase, no live session, and nobody at a terminal to ask.
    #[error(
        "the store is locked: run `hearth-agent unlock` at a terminal (or set {PASSPHRASE_ENV} for scripts)"
    )]
    Locked,
    /// The prompt failed.
    #[error("cannot read the passphrase from the terminal")]
    Prompt(#[source] io::Error),
}

/// Where the data key comes from.
#[derive(Clone, Copy)]
pub enum KeySource<'a> {
    /// This passphrase: programs that drive the library directly (tools,
    /// benchmarks, tests).
    Passphrase(&'a str),
    /// What a command does (the module comment): [`PASSPHRASE_ENV`], else
    /// an unlock session live at the clock's now, else a prompt.
    Command(&'a dyn Clock),
}

/// The data key for `ring` from `source`. A wrong passphrase counts like
/// any other ([`keyring::unlock`]); Argon2 runs at most once.
pub fn data_key(
    store_dir: &Path,
    ring: &Keyring,
    source: KeySource<'_>,
) -> Result<DataKey, OpenStoreError> {
    let unwrap = |p: &str| keyring::unlock(store_dir, ring, p, &mut std::thread::sleep);
    let clock = match source {
        KeySource::Passphrase(p) => return Ok(unwrap(p)?),
        KeySource::Command(clock) => clock,
    };
    if let Some(p) = env_passphrase(PASSPHRASE_ENV) {
        return Ok(unwrap(&p)?);
    }
    if let Some(dk) = read_session(store_dir, clock.now()) {
        if ring.device_key(&dk).is_ok() {
            return Ok(dk);
        }
        remove_session(store_dir);
    }
    if interactive() {
        let p = prompt("Passphrase: ").map_err(OpenStoreError::Prompt)?;
        return Ok(unwrap(&p)?);
    }
    Err(OpenStoreError::Locked)
}

/// The one way the store is opened unlocked: the keyring, then the data
/// key from `source` (before the database is even opened, so a wrong
/// passphrase touches nothing but the failure counter), then the device
/// key it opens, then the database with a [`Sealer`] for that key.
pub fn open_store_with(
    store_dir: &Path,
    source: KeySource<'_>,
) -> Result<(LocalStore, DeviceKey), OpenStoreError> {
    open_store_keys(store_dir, source).map(|(store, key, _dk)| (store, key))
}

/// [`open_store_with`], also returning the data key: for the tablet app,
/// which keeps it (until it locks) so that background sync can open a
/// connection of its own instead of holding the app's across the network.
pub fn open_store_keys(
    store_dir: &Path,
    source: KeySource<'_>,
) -> Result<(LocalStore, DeviceKey, DataKey), OpenStoreError> {
    let ring = Keyring::load(store_dir)?;
    let dk = data_key(store_dir, &ring, source)?;
    let key = ring.device_key(&dk)?;
    let store = LocalStore::open_dir(store_dir)?.unlocked(Sealer::new(&dk));
    Ok((store, key, dk))
}

/// Opens the initialised store in `store_dir` with `passphrase`, unlocked,
/// with its device key: for programs that drive the library directly
/// (tools, benchmarks). Counts a wrong passphrase like the CLI does.
pub fn open_store(
    store_dir: &Path,
    passphrase: &str,
) -> Result<(LocalStore, DeviceKey), OpenStoreError> {
    open_store_with(store_dir, KeySource::Passphrase(passphrase))
}
