//! The device key: [`DeviceKey`], an ed25519 signing key generated at
//! `init` and kept in the store directory as `device.key` (raw 32 bytes,
//! mode 0600).
//!
//! The key is never printed or logged: [`DeviceKey`]'s `Debug` shows only
//! the device id. A later issue encrypts the store; the key file will then
//! be wrapped by a platform keystore.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use hearth_shared::DeviceId;
use rand_core::{CryptoRng, RngCore};

/// The key file's name inside the store directory.
pub const KEY_FILE: &str = "device.key";

/// Why the key could not be created or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// `init` found a key already there.
    #[error("{} already exists; this store is already initialised", .0.display())]
    Exists(PathBuf),
    /// No key: the store was never initialised.
    #[error("no device key at {}; run `hearth-agent init` first", .0.display())]
    Missing(PathBuf),
    /// The file is not 32 bytes.
    #[error("{} is not a device key (expected 32 bytes); restore it from backup or re-initialise", .0.display())]
    Malformed(PathBuf),
    /// The file is readable by others.
    #[error("{} is readable by other users (mode {mode:o}); run `chmod 600` on it", .path.display())]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// Reading or writing failed.
    #[error("cannot access {}", .path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The device's ed25519 signing key.
pub struct DeviceKey {
    signing: SigningKey,
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey")
            .field("device", &self.device_id())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl DeviceKey {
    /// A fresh key from `rng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self {
            signing: SigningKey::generate(rng),
        }
    }

    /// Wraps an existing key (tests).
    pub fn from_signing_key(signing: SigningKey) -> Self {
        Self { signing }
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The device id derived from the public key.
    pub fn device_id(&self) -> DeviceId {
        DeviceId::from_public_key(self.signing.verifying_key().as_bytes())
    }

    /// Writes the key to `dir/device.key`, owner read/write only, refusing
    /// to overwrite an existing key.
    pub fn save(&self, dir: &Path) -> Result<(), KeyError> {
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(KeyError::Exists(path));
            }
            Err(e) => return Err(io(e)),
        };
        file.write_all(self.signing.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads `dir/device.key`, refusing a file other users can read.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(KeyError::Missing(path)),
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions { path, mode });
        }
        let bytes = fs::read(&path).map_err(|source| KeyError::Io {
            path: path.clone(),
            source,
        })?;
        let secret: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Malformed(path))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&secret),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn saved_key_is_owner_only_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeviceKey::generate(&mut OsRng);
        key.save(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = DeviceKey::load(dir.path()).unwrap();
        assert_eq!(back.device_id(), key.device_id());
        assert!(matches!(key.save(dir.path()), Err(KeyError::Exists(_))));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = DeviceKey::generate(&mut OsRng);
        let shown = format!("{key:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&hex::encode(key.signing_key().as_bytes())));
    }
}
