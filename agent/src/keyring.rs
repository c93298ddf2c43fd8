//! The keyring: [`Keyring`], the file `keyring.json` in the store
//! directory that holds the [`DataKey`] wrapped under the worker's
//! passphrase, and the device's ed25519 signing key sealed under the data
//! key. Nothing else on disk can decrypt anything.
//!
//! ## Wrapping
//!
//! key-encryption key = Argon2id(passphrase, salt, [`KdfParams`]);
//! `wrapped_data_key` = XChaCha20-Poly1305(KEK, random nonce, data key),
//! with the KDF parameters, salt and device id bound in as associated
//! data, so editing the parameters in the file makes unwrapping fail
//! rather than run a weaker derivation. A wrong passphrase fails the
//! Poly1305 tag: [`UnlockError::WrongPassphrase`], nothing changed.
//!
//! ## Argon2id parameters
//!
//! [`KdfParams::TABLET`]: 64 MiB, 3 passes, 1 lane (RFC 9106's second
//! recommended option, with one lane because the tablets we target have
//! few, slow cores and the library's lanes would run sequentially
//! anyway). Measured: ~0.14 s on one x86-64 server core (release build),
//! so roughly 1–2 s on a Cortex-A53-class tablet, paid once per unlock;
//! the numbers are in `docs/security.md`. 64 MiB is small next to a
//! tablet's 2–4 GiB, and makes GPU guessing of a stolen keyring costly.
//!
//! ## Changing the passphrase atomically
//!
//! [`Keyring::save`] writes `keyring.json.new` (0600), fsyncs it, renames
//! it over `keyring.json` and fsyncs the directory. rename(2) is atomic:
//! after a crash at any point, `keyring.json` is either the old file (old
//! passphrase works) or the new one (new passphrase works), never neither.
//! The data key itself does not change, so no record is re-encrypted.
//!
//! ## Slowing guesses
//!
//! `unlock-failures` counts consecutive wrong passphrases. It is
//! incremented (durably) *before* each attempt and cleared on success, so
//! killing the process mid-attempt still counts. From the fourth attempt
//! after three failures, each attempt first waits [`failure_delay`]
//! (1 s, 2 s, 4 s, … capped at 5 minutes). This slows the CLI only; an
//! attacker with a copy of the files faces Argon2 alone, which is why the
//! passphrase minimum and the Argon2 cost matter more.
//!
//! ## Destruction
//!
//! [`destroy`] (on revocation) overwrites the keyring with zeros, fsyncs,
//! deletes it, and leaves a `revoked` marker: the data key is gone, so the
//! sealed records and device key that remain are unreadable.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use ed25519_dalek::SigningKey;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keys::DeviceKey;
use crate::private_file;
use crate::seal::{DataKey, NONCE_LEN, Sealer, Slot, TAG_LEN, open_with, seal_with};

/// The keyring's file name in the store directory.
pub const KEYRING_FILE: &str = "keyring.json";
/// The temporary file a passphrase change writes first.
pub const KEYRING_NEW_FILE: &str = "keyring.json.new";
/// The consecutive-failure counter's file name.
pub const FAILURES_FILE: &str = "unlock-failures";
/// The marker left when the data key was destroyed on revocation.
pub const REVOKED_FILE: &str = "revoked";
/// The shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// Test hook (cargo feature `test-hooks`, off by default): when set to `1`
/// at `init` or `passphrase change`, the new keyring uses
/// [`KdfParams::INSECURE_TEST`]. Without the feature it is never read.
#[cfg(feature = "test-hooks")]
pub const TEST_KDF_ENV: &str = "HEARTH_INSECURE_TEST_KDF";

const FORMAT: u32 = 1;
const MAX_DELAY_SECS: u64 = 300;

/// Argon2id cost parameters, stored with each keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The production parameters: 64 MiB, 3 passes, 1 lane.
    pub const TABLET: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Test-only parameters (1 MiB, 1 pass): fast in debug builds.
    pub const INSECURE_TEST: Self = Self {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    /// [`Self::TABLET`]. With the `test-hooks` feature (tests only),
    /// [`Self::INSECURE_TEST`] when `HEARTH_INSECURE_TEST_KDF` is `1`. A
    /// build without the feature (every release and tablet build) holds
    /// neither the check nor the name, so it cannot be talked into weak
    /// keys.
    pub fn from_env() -> Self {
        #[cfg(feature = "test-hooks")]
        if std::env::var(TEST_KDF_ENV).is_ok_and(|v| v == "1") {
            return Self::INSECURE_TEST;
        }
        Self::TABLET
    }

    /// True for parameters weaker than production's.
    pub fn is_weak(&self) -> bool {
        self.memory_kib < Self::TABLET.memory_kib || self.iterations < Self::TABLET.iterations
    }

    fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|_| KeyringError::Malformed("the Argon2 parameters are out of range"))?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|_| KeyringError::Malformed("the Argon2 salt is unusable"))?;
        Ok(out)
    }
}

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// There is no keyring.
    #[error("this store has no keyring; run `hearth-agent init --agency CODE --worker ID`")]
    Missing,
    /// `init` found one already.
    #[error("this store already has a keyring; it is already initialised")]
    Exists,
    /// The data key was destroyed when the server revoked this device.
    #[error(
        "this device was revoked and its data key destroyed {0}; the records left on it cannot be read. Return the tablet to the administrator"
    )]
    Revoked(String),
    /// A store from before encryption at rest.
    #[error(
        "this store predates encryption at rest (it has a plaintext device.key); sync it with the previous hearth-agent, move the directory aside and run `hearth-agent init`"
    )]
    Legacy,
    /// The file is not a keyring.
    #[error("the keyring is damaged: {0}; restore the store from the server by re-initialising")]
    Malformed(&'static str),
    /// The file is readable by others.
    #[error("{} is readable by other users (mode {mode:o}); run `chmod 600` on it", .path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// Reading or writing failed.
    #[error("cannot access {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Why an unlock failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnlockError {
    /// The passphrase does not unwrap the data key.
    #[error(
        "wrong passphrase ({failures} consecutive failure(s)); nothing was changed. After 3 failures each try waits longer"
    )]
    WrongPassphrase {
        /// Consecutive failures so far, including this one.
        failures: u32,
    },
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
}

/// The keyring file's contents.
#[derive(Clone, Serialize, Deserialize)]
pub struct Keyring {
    format: u32,
    /// The device id this keyring belongs to.
    pub device_id: String,
    kdf: KdfParams,
    salt: String,
    wrapped_data_key: String,
    sealed_device_key: String,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("device_id", &self.device_id)
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyringError + '_ {
    move |source| KeyringError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses a passphrase that is empty or too short, with a message.
pub fn check_new_passphrase(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if p.trim().is_empty() {
        return Err("the passphrase is empty; choose one of at least 8 characters".into());
    }
    if n < MIN_PASSPHRASE_CHARS {
        return Err(format!(
            "the passphrase is {n} character(s); it must be at least {MIN_PASSPHRASE_CHARS} (a short PIN can be guessed offline from a stolen tablet)"
        ));
    }
    Ok(())
}

/// The wait before the next attempt after `failures` consecutive wrong
/// passphrases: none for the first three, then 1 s doubling to 5 minutes.
pub fn failure_delay(failures: u32) -> Duration {
    if failures < 3 {
        return Duration::ZERO;
    }
    let exp = (failures - 3).min(16);
    Duration::from_secs((1u64 << exp).min(MAX_DELAY_SECS))
}

impl Keyring {
    fn associated_data(&self) -> Vec<u8> {
        format!(
            "hearth-keyring-v{}\0{}\0argon2id-v19\0{}\0{}\0{}\0{}",
            self.format,
            self.device_id,
            self.kdf.memory_kib,
            self.kdf.iterations,
            self.kdf.parallelism,
            self.salt
        )
        .into_bytes()
    }

    fn wrap<R: RngCore + CryptoRng>(
        dk: &DataKey,
        device_id: &str,
        sealed_device_key: String,
        passphrase: &str,
        kdf: KdfParams,
        rng: &mut R,
    ) -> Result<Self, KeyringError> {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let mut ring = Self {
            format: FORMAT,
            device_id: device_id.to_string(),
            kdf,
            salt: hex::encode(salt),
            wrapped_data_key: String::new(),
            sealed_device_key,
        };
        let kek = kdf.derive(passphrase, &salt)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ad = ring.associated_data();
        let aead = XChaCha20Poly1305::new(kek.as_ref().into());
        ring.wrapped_data_key = hex::encode(seal_with(&aead, nonce, &ad, dk.as_bytes()));
        Ok(ring)
    }

    /// A new keyring: wraps `dk` under `passphrase` and seals `device`.
    pub fn create<R: RngCore + CryptoRng>(
        dk: &DataKey,
        device: &DeviceKey,
        passphrase: &str,
        kdf: KdfParams,
        rng: &mut R,
    ) -> Result<Self, KeyringError> {
        let sealed = Sealer::new(dk).seal(Slot::DeviceKey, None, device.signing_key().as_bytes());
        Self::wrap(
            dk,
            &device.device_id().to_string(),
            hex::encode(sealed),
            passphrase,
            kdf,
            rng,
        )
    }

    /// The same data key and device key, wrapped under a new passphrase
    /// (and the current default parameters).
    pub fn rewrap<R: RngCore + CryptoRng>(
        &self,
        dk: &DataKey,
        passphrase: &str,
        kdf: KdfParams,
        rng: &mut R,
    ) -> Result<Self, KeyringError> {
        Self::wrap(
            dk,
            &self.device_id,
            self.sealed_device_key.clone(),
            passphrase,
            kdf,
            rng,
        )
    }

    /// The KDF parameters of this keyring.
    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Unwraps the data key. Pure: no counter (see [`unlock`]).
    pub fn unwrap_key(&self, passphrase: &str) -> Result<Option<DataKey>, KeyringError> {
        let salt = hex::decode(&self.salt).map_err(|_| KeyringError::Malformed("bad salt"))?;
        let wrapped = hex::decode(&self.wrapped_data_key)
            .map_err(|_| KeyringError::Malformed("bad wrapped key"))?;
        if wrapped.len() != NONCE_LEN + 32 + TAG_LEN {
            return Err(KeyringError::Malformed(
                "the wrapped key has the wrong length",
            ));
        }
        let kek = self.kdf.derive(passphrase, &salt)?;
        let aead = XChaCha20Poly1305::new(kek.as_ref().into());
        let Some(plain) = open_with(&aead, &self.associated_data(), &wrapped) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&plain);
        Ok(Some(DataKey::from_bytes(bytes)))
    }

    /// Opens the sealed device key; fails if `dk` is not this keyring's.
    pub fn device_key(&self, dk: &DataKey) -> Result<DeviceKey, KeyringError> {
        let sealed = hex::decode(&self.sealed_device_key)
            .map_err(|_| KeyringError::Malformed("bad sealed device key"))?;
        let secret = Zeroizing::new(
            Sealer::new(dk)
                .open(Slot::DeviceKey, None, &sealed)
                .map_err(|_| KeyringError::Malformed("the device key does not decrypt"))?,
        );
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| KeyringError::Malformed("the device key is not 32 bytes"))?;
        let key = DeviceKey::from_signing_key(SigningKey::from_bytes(&bytes));
        if key.device_id().to_string() != self.device_id {
            return Err(KeyringError::Malformed(
                "the device key does not match the device id",
            ));
        }
        Ok(key)
    }

    /// Reads `dir/keyring.json`, refusing a file others can read.
    pub fn load(dir: &Path) -> Result<Self, KeyringError> {
        let path = dir.join(KEYRING_FILE);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Ok(when) = fs::read_to_string(dir.join(REVOKED_FILE)) {
                    return Err(KeyringError::Revoked(when.trim().to_string()));
                }
                if dir.join(crate::keys::KEY_FILE).exists() {
                    return Err(KeyringError::Legacy);
                }
                return Err(KeyringError::Missing);
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyringError::Permissions { path, mode });
        }
        let text = fs::read_to_string(&path).map_err(io_err(&path))?;
        let ring: Self = serde_json::from_str(&text)
            .map_err(|_| KeyringError::Malformed("keyring.json is not a keyring"))?;
        if ring.format != FORMAT {
            return Err(KeyringError::Malformed("unknown keyring format"));
        }
        Ok(ring)
    }

    /// Writes the keyring atomically (see the module comment). `fail` is
    /// a fault-injection point for tests, called after each step.
    pub fn save_with(
        &self,
        dir: &Path,
        fail: &mut dyn FnMut(SaveStep) -> io::Result<()>,
    ) -> Result<(), KeyringError> {
        let tmp = dir.join(KEYRING_NEW_FILE);
        let path = dir.join(KEYRING_FILE);
        let text = serde_json::to_string_pretty(self).expect("a keyring serializes");
        // In place, under its own name: see `private_file::write_in_place`.
        private_file::write_in_place(&tmp, text.as_bytes()).map_err(io_err(&tmp))?;
        fail(SaveStep::TempWritten).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        fail(SaveStep::Renamed).map_err(io_err(&path))?;
        sync_dir(dir)?;
        Ok(())
    }

    /// Writes the keyring atomically.
    pub fn save(&self, dir: &Path) -> Result<(), KeyringError> {
        self.save_with(dir, &mut |_| Ok(()))
    }

    /// Writes a new keyring, refusing to replace one.
    pub fn save_new(&self, dir: &Path) -> Result<(), KeyringError> {
        if dir.join(KEYRING_FILE).exists() {
            return Err(KeyringError::Exists);
        }
        self.save(dir)
    }
}

/// A step of [`Keyring::save_with`], for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStep {
    /// `keyring.json.new` is written and synced.
    TempWritten,
    /// It has been renamed over `keyring.json`.
    Renamed,
}

fn sync_dir(dir: &Path) -> Result<(), KeyringError> {
    private_file::sync_dir(dir).map_err(io_err(dir))
}

/// Consecutive wrong passphrases so far.
pub fn failures(dir: &Path) -> u32 {
    fs::read_to_string(dir.join(FAILURES_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn set_failures(dir: &Path, n: u32) -> Result<(), KeyringError> {
    let path = dir.join(FAILURES_FILE);
    if n == 0 {
        return match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        };
    }
    private_file::write(&path, format!("{n}\n").as_bytes()).map_err(io_err(&path))
}

/// Unwraps the data key with the failure counter and delay of the module
/// comment. `sleep` is how to wait (tests pass a recorder).
pub fn unlock(
    dir: &Path,
    ring: &Keyring,
    passphrase: &str,
    sleep: &mut dyn FnMut(Duration),
) -> Result<DataKey, UnlockError> {
    let before = failures(dir);
    let delay = failure_delay(before);
    if !delay.is_zero() {
        eprintln!(
            "{before} wrong passphrase(s) in a row: waiting {} s before trying",
            delay.as_secs()
        );
        sleep(delay);
    }
    // Counted before the attempt, so killing the process mid-attempt
    // cannot be used to guess without the delay.
    set_failures(dir, before.saturating_add(1))?;
    match ring.unwrap_key(passphrase)? {
        Some(dk) => {
            set_failures(dir, 0)?;
            Ok(dk)
        }
        None => Err(UnlockError::WrongPassphrase {
            failures: before.saturating_add(1),
        }),
    }
}

/// Destroys the data key: overwrites the keyring (and any half-written
/// new one) with zeros, syncs, deletes, and leaves the `revoked` marker
/// with `when`. The sealed data left behind is unreadable.
pub fn destroy(dir: &Path, when: &str) -> Result<(), KeyringError> {
    for name in [KEYRING_NEW_FILE, KEYRING_FILE] {
        let path = dir.join(name);
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let zeros = vec![0u8; meta.len() as usize];
        let mut f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        f.write_all(&zeros).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
        drop(f);
        fs::remove_file(&path).map_err(io_err(&path))?;
    }
    // Synced with its directory, which also makes the removals durable.
    let marker = dir.join(REVOKED_FILE);
    private_file::write(&marker, format!("{when}\n").as_bytes()).map_err(io_err(&marker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn ring(dir: &Path, pass: &str) -> (Keyring, DeviceKey) {
        let dk = DataKey::generate(&mut OsRng);
        let dev = DeviceKey::generate(&mut OsRng);
        let r = Keyring::create(&dk, &dev, pass, KdfParams::INSECURE_TEST, &mut OsRng).unwrap();
        r.save_new(dir).unwrap();
        (r, dev)
    }

    fn no_sleep() -> impl FnMut(Duration) {
        |d| panic!("unexpected wait of {d:?}")
    }

    #[test]
    fn the_right_passphrase_opens_the_device_key_and_a_wrong_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let (r, dev) = ring(dir.path(), "correct horse");
        let loaded = Keyring::load(dir.path()).unwrap();
        let dk = unlock(dir.path(), &loaded, "correct horse", &mut no_sleep()).unwrap();
        assert_eq!(r.device_key(&dk).unwrap().device_id(), dev.device_id());
        assert!(matches!(
            unlock(dir.path(), &loaded, "wrong horse", &mut no_sleep()),
            Err(UnlockError::WrongPassphrase { failures: 1 })
        ));
        assert_eq!(failures(dir.path()), 1);
        unlock(dir.path(), &loaded, "correct horse", &mut no_sleep()).unwrap();
        assert_eq!(failures(dir.path()), 0);
        assert!(!dir.path().join(FAILURES_FILE).exists());
        let mode = fs::metadata(dir.path().join(KEYRING_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(r.save_new(dir.path()), Err(KeyringError::Exists)));
    }

    #[test]
    fn tampered_parameters_do_not_unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, _) = ring(dir.path(), "correct horse");
        r.kdf.iterations = 2;
        assert!(r.unwrap_key("correct horse").unwrap().is_none());
    }

    #[test]
    fn repeated_failures_wait_longer_and_longer() {
        assert_eq!(failure_delay(0), Duration::ZERO);
        assert_eq!(failure_delay(2), Duration::ZERO);
        assert_eq!(failure_delay(3), Duration::from_secs(1));
        assert_eq!(failure_delay(4), Duration::from_secs(2));
        assert_eq!(failure_delay(8), Duration::from_secs(32));
        assert_eq!(failure_delay(40), Duration::from_secs(300));
        let dir = tempfile::tempdir().unwrap();
        let (r, _) = ring(dir.path(), "correct horse");
        let mut waits = Vec::new();
        for _ in 0..5 {
            let _ = unlock(dir.path(), &r, "nope nope", &mut |d| waits.push(d));
        }
        assert_eq!(waits, [Duration::from_secs(1), Duration::from_secs(2)]);
        // Even the right passphrase waits, then resets the counter.
        unlock(dir.path(), &r, "correct horse", &mut |d| waits.push(d)).unwrap();
        assert_eq!(waits.last(), Some(&Duration::from_secs(4)));
        assert_eq!(failures(dir.path()), 0);
    }

    /// Issue 7: a crash at any step of a passphrase change leaves the old
    /// or the new passphrase working, never neither.
    #[test]
    fn issue_7_a_crash_during_a_passphrase_change_leaves_one_passphrase_working() {
        for crash_at in [SaveStep::TempWritten, SaveStep::Renamed] {
            let dir = tempfile::tempdir().unwrap();
            let (r, dev) = ring(dir.path(), "old passphrase");
            let dk = r.unwrap_key("old passphrase").unwrap().unwrap();
            let new = r
                .rewrap(&dk, "new passphrase", KdfParams::INSECURE_TEST, &mut OsRng)
                .unwrap();
            let crashed = new.save_with(dir.path(), &mut |step| {
                if step == crash_at {
                    Err(io::Error::other("simulated power cut"))
                } else {
                    Ok(())
                }
            });
            assert!(crashed.is_err());
            let after = Keyring::load(dir.path()).unwrap();
            let old = after.unwrap_key("old passphrase").unwrap();
            let new = after.unwrap_key("new passphrase").unwrap();
            match crash_at {
                SaveStep::TempWritten => assert!(old.is_some() && new.is_none()),
                SaveStep::Renamed => assert!(old.is_none() && new.is_some()),
            }
            let dk2 = old.or(new).unwrap();
            assert_eq!(dk2.as_bytes(), dk.as_bytes(), "the data key never changes");
            assert_eq!(after.device_key(&dk2).unwrap().device_id(), dev.device_id());
        }
    }

    #[test]
    fn destroy_leaves_no_key_and_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        ring(dir.path(), "correct horse");
        destroy(dir.path(), "2026-11-26T09:00:00Z").unwrap();
        assert!(!dir.path().join(KEYRING_FILE).exists());
        assert!(matches!(
            Keyring::load(dir.path()),
            Err(KeyringError::Revoked(w)) if w.contains("2026-11-26")
        ));
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(check_new_passphrase("").is_err());
        assert!(check_new_passphrase("   ").is_err());
        assert!(
            check_new_passphrase("1234")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(check_new_passphrase("correct horse").is_ok());
    }
}
