//! `init`: create the store directory, the database, the data key and
//! device key in a new keyring under a chosen passphrase, and the device
//! settings; print the new device id. Never replaces a keyring.

use std::fs::DirBuilder;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use hearth_shared::clock::Clock;
use hearth_shared::{DeviceId, Text};
use rand_core::OsRng;

use super::render::emit;
use super::unlock::{kdf_for_new_keyring, new_passphrase};
use super::{CommandError, EXIT_OK};
use crate::keyring::{self, Keyring, KeyringError};
use crate::keys::DeviceKey;
use crate::seal::DataKey;
use crate::store::{DeviceSettings, LocalStore, RecordStore, StoreError};
use crate::unlock::PASSPHRASE_ENV;

/// `--agency` or `--worker`: 1 to `N` bytes, not only spaces.
fn name<const N: usize>(flag: &'static str, value: &str) -> Result<Text<N>, CommandError> {
    Text::<N>::try_from_str(value)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| CommandError::BadName {
            flag,
            value: value.into(),
            limit: N,
        })
}

/// `init --agency CODE --worker ID`.
pub(super) fn init(
    dir: &Path,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    name::<16>("agency", agency)?;
    name::<32>("worker", worker)?;
    refuse_initialised(dir)?;
    // Asked before anything is created, so a refused passphrase leaves
    // nothing behind.
    let passphrase = new_passphrase(PASSPHRASE_ENV, "Choose a passphrase")?;
    let device_id = create_store(dir, clock, agency, worker, &passphrase)?;
    emit(out, &device_id.to_string())?;
    Ok(EXIT_OK)
}

/// What `init` does once it has the passphrase, for the tablet app's
/// first-run page too: checks the names, the passphrase's strength and
/// that nothing is here yet, then creates the store, the keyring and the
/// settings. Returns the new device id.
pub fn create_store(
    dir: &Path,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    passphrase: &str,
) -> Result<DeviceId, CommandError> {
    create_store_keys(dir, clock, agency, worker, passphrase).map(|(_, key, _)| key.device_id())
}

/// [`create_store`], handing back the store with the keys it made, so that
/// a caller which goes on to use the store (the app's set-up) need not
/// derive the passphrase's key again (Argon2: seconds on a tablet).
pub fn create_store_keys(
    dir: &Path,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    passphrase: &str,
) -> Result<(LocalStore, DeviceKey, DataKey), CommandError> {
    let agency = name::<16>("agency", agency)?;
    let worker = name::<32>("worker", worker)?;
    keyring::check_new_passphrase(passphrase).map_err(CommandError::WeakPassphrase)?;
    refuse_initialised(dir)?;
    create_database(dir)?;
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
    Keyring::create(&dk, &key, passphrase, kdf_for_new_keyring(), &mut OsRng)?.save_new(dir)?;
    let device_id = key.device_id();
    store.init_settings(&DeviceSettings {
        device_id,
        agency,
        worker,
        created_at: clock.now(),
    })?;
    tracing::info!(device = %device_id, "store initialised");
    Ok((store, key, dk))
}

/// Refuses a directory that holds a store from before encryption at
/// rest, an initialised database, or a keyring.
fn refuse_initialised(dir: &Path) -> Result<(), CommandError> {
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
    refuse_existing_keyring(dir)
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

/// Creates the store directory (0700) and an empty database file (0600).
fn create_database(dir: &Path) -> Result<(), CommandError> {
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
    Ok(())
}
