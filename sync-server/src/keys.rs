//! Secrets: the server's receipt-signing key ([`load_or_create_server_key`]),
//! its X25519 outbox key ([`load_or_create_outbox_key`], issue 14) and
//! one-time tokens ([`SecretToken`], stored only as [`token_hash`]).
//!
//! Why hash tokens: the database may be copied into backups; a SHA-256 of
//! 32 random bytes cannot be turned back into a token, and comparing hashes
//! needs no secret in the database at all.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use hearth_shared::private_file;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("cannot use the server key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file is gone but devices are enrolled: they pinned the old
    /// key, so a new one would make every receipt fail to verify.
    #[error(
        "the server key file {0} is missing, but devices are enrolled and pinned the old key; restore it from backup (a new key would leave every tablet unable to confirm a sync)"
    )]
    Missing(PathBuf),
    /// The file does not hold a key.
    #[error("the server key file {0} is not 64 hex digits; restore it from backup")]
    Corrupt(PathBuf),
}

/// The file holding the server key inside the data directory.
pub fn server_key_path(data: &Path) -> PathBuf {
    data.join("server_key")
}

/// Loads the server's ed25519 key from `DATA/server_key`, creating it
/// (mode 0600) on first start. Once devices are enrolled (`enrolled`), a
/// missing key is an error, never silently replaced.
pub fn load_or_create_server_key(data: &Path, enrolled: bool) -> Result<SigningKey, KeyError> {
    let bytes = load_or_create_32(&server_key_path(data), enrolled, || {
        SigningKey::generate(&mut OsRng).to_bytes()
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// 32 secret bytes kept as 64 hex digits in `path`: read, or made with
/// `create` and written owner-only ([`private_file::write_new`]) when the file is
/// missing, unless `missing_is_error`.
fn load_or_create_32(
    path: &Path,
    missing_is_error: bool,
    create: impl FnOnce() -> [u8; 32],
) -> Result<[u8; 32], KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| KeyError::Corrupt(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing_is_error => {
            Err(KeyError::Missing(path.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = create();
            private_file::write_new(path, hex::encode(bytes).as_bytes()).map_err(io)?;
            Ok(bytes)
        }
        Err(e) => Err(io(e)),
    }
}

/// The file holding the outbox key inside the data directory.
pub fn outbox_key_path(data: &Path) -> PathBuf {
    data.join("outbox_key")
}

/// The server's X25519 outbox secret key: tablets seal each record's
/// signed bytes to its public half, so that a locked tablet can send them
/// (`POST /v1/outbox`). No `Debug`, no `Clone`: it never leaves the server.
pub struct OutboxSecret(Zeroizing<[u8; 32]>);

impl OutboxSecret {
    /// The secret bytes, to open a box.
    pub fn secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// The public key the tablets seal to.
    pub fn public_key(&self) -> [u8; 32] {
        hearth_shared::protocol::outbox_public_key(&self.0)
    }
}

/// Loads the outbox key from `DATA/outbox_key` (64 hex digits, mode 0600),
/// creating it when missing, written like the receipt key.
///
/// Unlike the receipt key, a missing outbox key is created even when
/// devices are enrolled: a server upgraded to issue 14 has none yet, and
/// its tablets learn the new key at their next sync, signed by the receipt
/// key they pinned. A tablet holding boxes sealed to a lost key still has
/// every record, which it sends by the unlocked path.
pub fn load_or_create_outbox_key(data: &Path, enrolled: bool) -> Result<OutboxSecret, KeyError> {
    let path = outbox_key_path(data);
    let bytes = load_or_create_32(&path, false, || {
        if enrolled {
            tracing::warn!(path = %path.display(), "no outbox key: creating one; enrolled tablets learn it at their next sync");
        }
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        bytes
    })?;
    Ok(OutboxSecret(Zeroizing::new(bytes)))
}

/// A freshly issued token: shown once, never stored. No `Debug`.
pub struct SecretToken(String);

impl SecretToken {
    /// 32 random bytes, URL-safe base64 without padding.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token text, to print once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps.
    pub fn hash(&self) -> String {
        token_hash(&self.0)
    }
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn tokens_are_url_safe_and_hash_stably() {
        let t = SecretToken::generate();
        assert_eq!(t.expose().len(), 43);
        assert!(
            t.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(t.hash(), token_hash(t.expose()));
        assert_eq!(t.hash().len(), 64);
    }

    #[test]
    fn a_missing_server_key_is_not_replaced_once_devices_are_enrolled() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_or_create_server_key(dir.path(), true).unwrap_err();
        assert!(matches!(err, KeyError::Missing(_)), "{err}");
        assert!(!server_key_path(dir.path()).exists());
    }

    #[test]
    fn outbox_key_is_created_once_with_mode_0600_and_a_corrupt_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_outbox_key(dir.path(), true).unwrap();
        let b = load_or_create_outbox_key(dir.path(), true).unwrap();
        assert_eq!(a.secret(), b.secret());
        assert_eq!(a.public_key(), b.public_key());
        let path = outbox_key_path(dir.path());
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::write(&path, "not a key").unwrap();
        let err = load_or_create_outbox_key(dir.path(), true).err().unwrap();
        assert!(matches!(err, KeyError::Corrupt(_)), "{err}");
    }

    #[test]
    fn server_key_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_server_key(dir.path(), false).unwrap();
        let b = load_or_create_server_key(dir.path(), true).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let mode = fs::metadata(server_key_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
