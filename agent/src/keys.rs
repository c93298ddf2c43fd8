//! The device key: [`DeviceKey`], the ed25519 signing key generated at
//! `init`. Since issue 7 it is never written in plaintext: the keyring
//! ([`crate::keyring`]) holds it sealed under the data key, because a
//! stolen signing key could forge evidence.
//!
//! The key is never printed or logged: [`DeviceKey`]'s `Debug` shows only
//! the device id.

use std::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use hearth_shared::DeviceId;
use rand_core::{CryptoRng, RngCore};

/// The plaintext key file of stores made before issue 7; its presence
/// marks such a store (see [`crate::keyring::KeyringError::Legacy`]).
pub const KEY_FILE: &str = "device.key";

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn debug_never_shows_the_secret() {
        let key = DeviceKey::generate(&mut OsRng);
        let shown = format!("{key:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&hex::encode(key.signing_key().as_bytes())));
    }
}
