//! Encryption at rest: the [`DataKey`] and the [`Sealer`] that encrypts
//! with it.
//!
//! ## Why application-level XChaCha20-Poly1305 (and not SQLCipher)
//!
//! `docs/security.md` has the full argument; in short: SQLCipher needs a
//! vendored OpenSSL (or libtomcrypt) cross-built for armv7 with Debian's gcc,
//! a real and recurring cost; our store keeps exactly one column of
//! plaintext about people by design (the signed bytes, see 0001), so
//! sealing that column plus the server's reasons and the device key is a
//! small, auditable change. What this leaves visible (counts, seqs,
//! timestamps, statuses, chain hashes) is listed in `docs/security.md`.
//!
//! ## Keys
//!
//! The [`DataKey`] is 32 random bytes made at `init`; it never changes for
//! the life of the store (a passphrase change only re-wraps it, see
//! [`crate::keyring`]). Two subkeys are derived from it with HMAC-SHA256
//! under fixed labels, so that one key is never used for two purposes:
//!
//! - the AEAD key: XChaCha20-Poly1305, a fresh random 192-bit nonce per
//!   sealing. 192 bits means random nonces never collide in practice, so
//!   there is no counter to keep crash-safe across processes;
//! - the index key: HMAC-SHA256 over a child reference, truncated to 128
//!   bits, for `list --child` without a plaintext child column.
//!
//! ## Associated data: no swapping rows
//!
//! Every sealing binds a [`Slot`] (which table and column) and the row's
//! seq as associated data, so a ciphertext moved to another row, or from
//! the reason column to the body column, fails to open instead of
//! silently showing the wrong record.
//!
//! Nonces come from the OS RNG here, not from a test-replaceable source
//! (`../shared/STYLE.md` habit 7 notwithstanding): a repeated nonce under one key is the
//! one mistake this design cannot survive, so no test hook can cause it.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hearth_shared::{ChildRef, Seq};
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, OsRng, RngCore};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// Bytes of nonce in front of every sealed value.
pub const NONCE_LEN: usize = 24;
/// Bytes of authentication tag after every sealed value.
pub const TAG_LEN: usize = 16;
/// Bytes of a child index tag.
pub const CHILD_TAG_LEN: usize = 16;

/// The random key that encrypts everything the agent stores about people.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(k.as_mut());
        Self(k)
    }

    /// A key from its bytes (unwrapping, a session).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut b = bytes;
        let k = Zeroizing::new(b);
        b.zeroize();
        Self(k)
    }

    /// The key's bytes, for wrapping it.
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Which column a sealed value belongs to: bound into the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Slot {
    /// `records.sealed`: a record's signed bytes.
    RecordBody,
    /// `record_status.reason_sealed`: the server's reason.
    Reason,
    /// The keyring's sealed ed25519 device key.
    DeviceKey,
    /// `drafts.sealed`: a draft form's answers (issue 14).
    Draft,
    /// `caseload.sealed`: the device's caseload (issue 17).
    Caseload,
}

impl Slot {
    const fn label(self) -> &'static [u8] {
        match self {
            Self::RecordBody => b"records.sealed",
            Self::Reason => b"record_status.reason_sealed",
            Self::DeviceKey => b"keyring.sealed_device_key",
            Self::Draft => b"drafts.sealed",
            Self::Caseload => b"caseload.sealed",
        }
    }
}

/// A sealed value did not open: wrong key, or bytes altered or moved.
#[derive(Debug, thiserror::Error)]
#[error(
    "a sealed {slot:?} value for seq {seq} does not decrypt: the store is damaged or was tampered with"
)]
pub struct OpenError {
    /// Which column.
    pub slot: Slot,
    /// Which row (0 for values that belong to no row).
    pub seq: u64,
}

/// Seals and opens values under the subkeys of one [`DataKey`].
pub struct Sealer {
    aead: XChaCha20Poly1305,
    index_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

fn subkey(dk: &DataKey, label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(dk.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(label);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

fn associated_data(slot: Slot, seq: u64) -> Vec<u8> {
    let mut ad = Vec::with_capacity(48);
    ad.extend_from_slice(b"hearth-seal-v1\0");
    ad.extend_from_slice(slot.label());
    ad.push(0);
    ad.extend_from_slice(&seq.to_be_bytes());
    ad
}

/// Encrypts `msg` under `aead` with `nonce` and associated data `aad`,
/// laid out as every sealed value is: nonce ‖ ciphertext ‖ tag. The one
/// place that layout is written ([`Sealer::seal`], and the keyring's
/// wrapped data key).
pub(crate) fn seal_with(
    aead: &XChaCha20Poly1305,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    msg: &[u8],
) -> Vec<u8> {
    let ct = aead
        .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad })
        .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Splits what [`seal_with`] made into its nonce and ciphertext and
/// decrypts it; `None` if it is too short to hold a nonce and a tag, or
/// does not authenticate (wrong key, altered bytes, other `aad`).
pub(crate) fn open_with(aead: &XChaCha20Poly1305, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    aead.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

impl Sealer {
    /// The sealer for `dk`: derives its subkeys once (cheap; no Argon2).
    pub fn new(dk: &DataKey) -> Self {
        let aead_key = subkey(dk, b"hearth aead key v1");
        let index_key = subkey(dk, b"hearth child index key v1");
        Self {
            aead: XChaCha20Poly1305::new(aead_key.as_ref().into()),
            index_key,
        }
    }

    /// Encrypts `plaintext` for `slot` of row `seq`: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, slot: Slot, seq: Option<Seq>, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ad = associated_data(slot, seq.map_or(0, |s| s.0));
        seal_with(&self.aead, nonce, &ad, plaintext)
    }

    /// Decrypts what [`Sealer::seal`] made for the same slot and seq.
    pub fn open(&self, slot: Slot, seq: Option<Seq>, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let seq = seq.map_or(0, |s| s.0);
        open_with(&self.aead, &associated_data(slot, seq), sealed).ok_or(OpenError { slot, seq })
    }

    /// The keyed blind-index tag of a child reference: equal references
    /// give equal tags on this device, and nothing else can be learnt
    /// from a tag without the data key.
    pub fn child_tag(&self, child: &ChildRef) -> [u8; CHILD_TAG_LEN] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.index_key.as_ref())
            .expect("HMAC takes a key of any length");
        mac.update(b"hearth child v1\0");
        mac.update(child.to_string().as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; CHILD_TAG_LEN];
        tag.copy_from_slice(&full[..CHILD_TAG_LEN]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&DataKey::from_bytes([3u8; 32]))
    }

    #[test]
    fn sealed_values_open_only_in_their_own_slot_and_row() {
        let s = sealer();
        let sealed = s.seal(Slot::RecordBody, Some(Seq(5)), b"observation");
        assert_eq!(
            s.open(Slot::RecordBody, Some(Seq(5)), &sealed).unwrap(),
            b"observation"
        );
        assert!(s.open(Slot::RecordBody, Some(Seq(6)), &sealed).is_err());
        assert!(s.open(Slot::Reason, Some(Seq(5)), &sealed).is_err());
        let other = Sealer::new(&DataKey::from_bytes([4u8; 32]));
        assert!(other.open(Slot::RecordBody, Some(Seq(5)), &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(s.open(Slot::RecordBody, Some(Seq(5)), &flipped).is_err());
        // A fresh nonce each time: sealing twice never gives the same bytes.
        assert_ne!(
            sealed,
            s.seal(Slot::RecordBody, Some(Seq(5)), b"observation")
        );
    }

    #[test]
    fn child_tags_are_deterministic_per_key_and_distinct_per_child() {
        let s = sealer();
        let a: ChildRef = "nhs:9434765919".parse().unwrap();
        let b: ChildRef = "nhs:4010232137".parse().unwrap();
        assert_eq!(s.child_tag(&a), s.child_tag(&a));
        assert_ne!(s.child_tag(&a), s.child_tag(&b));
        let other = Sealer::new(&DataKey::from_bytes([4u8; 32]));
        assert_ne!(s.child_tag(&a), other.child_tag(&a));
    }

    #[test]
    fn the_sealed_layout_is_nonce_then_ciphertext_and_tag() {
        let aead = XChaCha20Poly1305::new(&[7u8; 32].into());
        let sealed = seal_with(&aead, [9u8; NONCE_LEN], b"ad", b"key bytes");
        assert_eq!(&sealed[..NONCE_LEN], &[9u8; NONCE_LEN]);
        assert_eq!(sealed.len(), NONCE_LEN + b"key bytes".len() + TAG_LEN);
        assert_eq!(open_with(&aead, b"ad", &sealed).unwrap(), b"key bytes");
        assert!(open_with(&aead, b"other ad", &sealed).is_none());
        assert!(open_with(&aead, b"ad", &sealed[..NONCE_LEN + TAG_LEN - 1]).is_none());
    }

    #[test]
    fn debug_redacts() {
        assert!(!format!("{:?}", DataKey::from_bytes([3u8; 32])).contains('3'));
        assert_eq!(format!("{:?}", sealer()), "Sealer(<redacted>)");
    }
}
