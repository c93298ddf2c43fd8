//! The sealed outbox (issue 14): what lets a locked tablet sync.
//!
//! At capture the record's signed bytes, unchanged, are also sealed to the
//! server's X25519 outbox key ([`seal`]; the format is
//! [`hearth_shared::protocol::seal_record`]) and kept in the `outbox` table
//! (migration 0007) in the capture's own transaction. Only the server can
//! open a box; this tablet cannot, so the outbox needs no passphrase to
//! send and tells a thief nothing but sizes and counts. The key is pinned
//! at enrolment ([`OutboxKey::from_hex`]), or for a tablet enrolled before
//! the server had one, from a sync response's notice signed with the pinned
//! receipt key ([`OutboxKey::from_notice`]). The locked sync itself is
//! [`crate::sync::outbox`].

use ed25519_dalek::VerifyingKey;
use hearth_shared::hex::parse_hex;
use hearth_shared::protocol::{OutboxKeyNotice, seal_record};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroize;

/// The server's X25519 outbox public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxKey(pub [u8; 32]);

impl OutboxKey {
    /// The key from enrolment's 64 hex digits; `None` if they are not.
    pub fn from_hex(text: &str) -> Option<Self> {
        parse_hex::<32>(text).map(Self)
    }

    /// The key from a sync response's notice, only if the notice is signed
    /// by `receipt_key`, the server key pinned at enrolment.
    pub fn from_notice(notice: &OutboxKeyNotice, receipt_key: &VerifyingKey) -> Option<Self> {
        notice.verify(receipt_key).map(Self)
    }
}

/// Seals a record's signed bytes to `key` with fresh OS randomness (an
/// ephemeral X25519 key and a 192-bit nonce per box). Nonces and ephemeral
/// keys come from the OS RNG, never a test hook, as in `crate::seal`.
pub fn seal(key: &OutboxKey, signed: &[u8]) -> Vec<u8> {
    let mut ephemeral = [0u8; 32];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut ephemeral);
    OsRng.fill_bytes(&mut nonce);
    let sealed = seal_record(&key.0, ephemeral, nonce, signed);
    ephemeral.zeroize();
    sealed
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use hearth_shared::protocol::{open_sealed, outbox_public_key};

    #[test]
    fn a_sealed_record_opens_only_on_the_server_and_each_box_is_fresh() {
        let secret = [21u8; 32];
        let key = OutboxKey(outbox_public_key(&secret));
        let signed = b"signed record bytes".to_vec();
        let a = seal(&key, &signed);
        let b = seal(&key, &signed);
        assert_ne!(a, b);
        assert_eq!(open_sealed(&secret, &a).unwrap(), signed);
        assert_eq!(open_sealed(&secret, &b).unwrap(), signed);
        assert_eq!(open_sealed(&[22u8; 32], &a), None);
    }

    #[test]
    fn a_notice_pins_only_under_the_pinned_receipt_key() {
        let receipt = SigningKey::from_bytes(&[1; 32]);
        let impostor = SigningKey::from_bytes(&[2; 32]);
        let key = outbox_public_key(&[3; 32]);
        let genuine = OutboxKeyNotice::sign(&receipt, &key);
        let forged = OutboxKeyNotice::sign(&impostor, &key);
        let pinned = receipt.verifying_key();
        assert_eq!(
            OutboxKey::from_notice(&genuine, &pinned),
            Some(OutboxKey(key))
        );
        assert_eq!(OutboxKey::from_notice(&forged, &pinned), None);
        assert_eq!(OutboxKey::from_hex(&genuine.key), Some(OutboxKey(key)));
        assert_eq!(OutboxKey::from_hex("zz"), None);
    }
}
