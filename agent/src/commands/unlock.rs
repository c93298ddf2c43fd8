//! `unlock` (keep the data key in a session for a while), `lock` (end
//! it) and `passphrase change` (re-wrap the data key), and the passphrase
//! prompts they and `init` share. Where a key comes from is
//! [`crate::unlock`]'s; these commands need the passphrase itself.

use std::io::Write;
use std::path::Path;

use rand_core::OsRng;
use zeroize::Zeroizing;

use hearth_shared::clock::Clock;

use super::render::emit;
use super::{CommandError, EXIT_OK, ensure_initialised};
use crate::keyring::{self, KdfParams, Keyring};
use crate::seal::DataKey;
use crate::unlock::{self, KeySource, NEW_PASSPHRASE_ENV, PASSPHRASE_ENV};

/// The current passphrase from `HEARTH_PASSPHRASE` or a prompt (never a
/// session: unlocking and changing it need the passphrase itself).
fn current_passphrase() -> Result<Zeroizing<String>, CommandError> {
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

/// The keyring and its data key, unwrapped with the current passphrase
/// and checked against the device key.
fn unlock_with_passphrase(dir: &Path) -> Result<(Keyring, DataKey), CommandError> {
    ensure_initialised(dir)?;
    let ring = Keyring::load(dir)?;
    let passphrase = current_passphrase()?;
    let dk = unlock::data_key(dir, &ring, KeySource::Passphrase(&passphrase))?;
    ring.device_key(&dk)?;
    Ok((ring, dk))
}

/// A new passphrase from `env` or two prompts, checked for length.
pub(super) fn new_passphrase(
    env: &'static str,
    what: &'static str,
) -> Result<Zeroizing<String>, CommandError> {
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

/// The KDF parameters of a new keyring (with a warning when a test hook
/// weakened them).
pub(super) fn kdf_for_new_keyring() -> KdfParams {
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

/// `unlock --minutes N`.
pub(super) fn unlock_command(
    dir: &Path,
    clock: &dyn Clock,
    minutes: u32,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let (_ring, dk) = unlock_with_passphrase(dir)?;
    let until = hearth_shared::Timestamp(clock.now().0 + i64::from(minutes) * 60);
    unlock::write_session(dir, &dk, until)?;
    emit(out, &format!("unlocked until {until}"))?;
    Ok(EXIT_OK)
}

/// `lock`.
pub(super) fn lock_command(dir: &Path, out: &mut dyn Write) -> Result<u8, CommandError> {
    if unlock::remove_session(dir) {
        emit(out, "locked")?;
    } else {
        emit(out, "locked (there was no unlock session)")?;
    }
    Ok(EXIT_OK)
}

/// `passphrase change`.
pub(super) fn change_passphrase(dir: &Path, out: &mut dyn Write) -> Result<u8, CommandError> {
    let (ring, dk) = unlock_with_passphrase(dir)?;
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
