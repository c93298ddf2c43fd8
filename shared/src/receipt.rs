//! The server's signed acknowledgement: [`Receipt`].
//!
//! The server signs a receipt only after the records it covers are
//! committed. It names the device, the sequence range, the chain hash of the
//! last record in the range, and the server's time. An agent marks a record
//! synced only when a receipt covering it verifies with the server key it
//! pinned at enrolment and the receipt's `last_hash` equals the agent's own
//! hash of that record: proof the server holds exactly what was sent.
//!
//! Wire form: postcard of [`Receipt`] followed by a 64-byte ed25519
//! signature over [`RECEIPT_DOMAIN`] and those bytes.

use ed25519_dalek::{SigningKey, VerifyingKey};
use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::error::DecodeError;
use crate::ids::{DeviceId, RecordHash, Seq};
use crate::signed::{SIGNATURE_LEN, sign_with_domain, verify_with_domain};
use crate::time::Timestamp;

/// Prefixed to a receipt's bytes before signing.
pub const RECEIPT_DOMAIN: &[u8] = b"hearth/receipt/v1\0";

/// The receipt format version.
pub const RECEIPT_VERSION: u8 = 1;

/// The largest signed receipt.
pub const MAX_SIGNED_RECEIPT: usize = Receipt::POSTCARD_MAX_SIZE + SIGNATURE_LEN;

/// The server holds `first..=last` of `device`'s chain, ending in `last_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub struct Receipt {
    /// [`RECEIPT_VERSION`].
    pub version: u8,
    /// The device.
    pub device: DeviceId,
    /// The first sequence number covered.
    pub first: Seq,
    /// The last sequence number covered.
    pub last: Seq,
    /// The chain hash of record `last`.
    pub last_hash: RecordHash,
    /// When the server committed them.
    pub server_time: Timestamp,
}

impl Receipt {
    /// Whether it covers `seq`.
    pub fn covers(&self, seq: Seq) -> bool {
        self.first <= seq && seq <= self.last
    }

    /// Encodes and signs into `buf`; returns the signed bytes.
    pub fn sign_into<'a>(&self, key: &SigningKey, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        let len = postcard::to_slice(self, buf).ok()?.len();
        let signature = sign_with_domain(key, RECEIPT_DOMAIN, &buf[..len]);
        buf.get_mut(len..len + SIGNATURE_LEN)?
            .copy_from_slice(&signature.to_bytes());
        Some(&buf[..len + SIGNATURE_LEN])
    }

    /// Encodes and signs.
    #[cfg(feature = "alloc")]
    pub fn sign(&self, key: &SigningKey) -> alloc::vec::Vec<u8> {
        let mut buf = [0u8; MAX_SIGNED_RECEIPT];
        self.sign_into(key, &mut buf)
            .expect("MAX_SIGNED_RECEIPT holds any receipt")
            .to_vec()
    }

    /// Verifies signed receipt bytes with the server's key and decodes them.
    pub fn verify(key: &VerifyingKey, bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_SIGNED_RECEIPT {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_SIGNED_RECEIPT,
            });
        }
        if bytes.len() <= SIGNATURE_LEN {
            return Err(DecodeError::TooShort { len: bytes.len() });
        }
        let (body, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let sig = ed25519_dalek::Signature::from_bytes(sig.try_into().expect("64 bytes"));
        if !verify_with_domain(key, RECEIPT_DOMAIN, body, &sig) {
            return Err(DecodeError::BadSignature);
        }
        let (receipt, rest) = postcard::take_from_bytes::<Self>(body)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes { count: rest.len() });
        }
        if receipt.version != RECEIPT_VERSION {
            return Err(DecodeError::UnknownVersion(receipt.version));
        }
        Ok(receipt)
    }
}
