//! The sync API's bodies, shared by agent and server (feature `alloc`).
//!
//! | call | request | response |
//! | --- | --- | --- |
//! | `POST /v1/enrol` | [`EnrolRequest`] (JSON) | [`EnrolResponse`] (JSON) |
//! | `POST /v1/sync` | [`UploadBatch`] (postcard, `application/x-hearth-batch`) | [`UploadResponse`] (JSON) |
//!
//! The upload is postcard, not JSON, so the bytes on the wire stay close to
//! the records' own bytes on a slow link. Its header (device, clock reading,
//! and a hash of the records) is signed with the device key under
//! [`BATCH_DOMAIN`], so nobody else can report a device's clock, and a
//! replayed header can only carry the records it was made for.
//!
//! The whole contract (TLS, status codes, error codes, receipts, exit codes
//! of the agent) is `docs/sync-protocol.md`: agent and server both follow it.

use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{DeviceId, Seq};
use crate::signed::{sign_with_domain, verify_with_domain};
use crate::time::Timestamp;

/// Prefixed to a batch header before the device signs it.
pub const BATCH_DOMAIN: &[u8] = b"hearth/batch/v1\0";

/// The content type of an [`UploadBatch`].
pub const BATCH_CONTENT_TYPE: &str = "application/x-hearth-batch";

/// Exchanges a one-time enrolment token for a device registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The token an administrator issued.
    pub token: String,
    /// The device's ed25519 public key, 64 hex digits.
    pub public_key: String,
}

/// The device's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The device id derived from the key.
    pub device: DeviceId,
    /// The agency the token was issued for.
    pub agency: String,
    /// The worker the token was issued for.
    pub worker: String,
    /// Who else may author records on the device (a shared device's
    /// staff). Absent from older servers: then only `worker` may.
    #[serde(default)]
    pub staff: Vec<String>,
    /// The server's receipt-signing key, 64 hex digits.
    pub server_key: String,
    /// The server's clock.
    pub server_time: Timestamp,
}

/// A bounded batch of one device's signed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadBatch {
    /// The sending device.
    pub device: DeviceId,
    /// The device's clock as the batch was sent.
    pub device_time: Timestamp,
    /// Signed records, each exactly as stored on the device.
    pub records: Vec<Vec<u8>>,
    /// The device's signature over the header ([`UploadBatch::header`]).
    pub auth: Vec<u8>,
}

impl UploadBatch {
    /// The signed header: device, clock reading and SHA-256 over the
    /// records (each length-prefixed).
    pub fn header(device: DeviceId, device_time: Timestamp, records: &[Vec<u8>]) -> [u8; 48] {
        let mut h = Sha256::new();
        for r in records {
            h.update((r.len() as u64).to_le_bytes());
            h.update(r);
        }
        let mut out = [0u8; 48];
        out[..8].copy_from_slice(device.as_bytes());
        out[8..16].copy_from_slice(&device_time.0.to_le_bytes());
        out[16..].copy_from_slice(&h.finalize());
        out
    }

    /// Builds and signs a batch.
    pub fn new(key: &SigningKey, device_time: Timestamp, records: Vec<Vec<u8>>) -> Self {
        let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
        let header = Self::header(device, device_time, &records);
        let auth = sign_with_domain(key, BATCH_DOMAIN, &header)
            .to_bytes()
            .to_vec();
        Self {
            device,
            device_time,
            records,
            auth,
        }
    }

    /// Whether the header signature verifies with the device's key.
    pub fn verify_auth(&self, key: &VerifyingKey) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(self.auth.as_slice()) else {
            return false;
        };
        let header = Self::header(self.device, self.device_time, &self.records);
        verify_with_domain(key, BATCH_DOMAIN, &header, &Signature::from_bytes(&sig))
    }
}

/// What became of one record in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    /// Stored now.
    Accepted,
    /// Already stored, byte for byte: accepted again.
    Duplicate,
    /// Kept aside with its reason for a person to resolve (a fork).
    Quarantined,
    /// Refused (bad signature, malformed, invalid); kept with its reason.
    Rejected,
}

impl VerdictStatus {
    /// Whether the server holds the record in the chronology.
    pub const fn is_accepted(self) -> bool {
        matches!(self, Self::Accepted | Self::Duplicate)
    }
}

/// The verdict on one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Its position in the batch.
    pub index: u32,
    /// Its sequence number, where the verdict refuses or explains
    /// something. A plain accept leaves it out: the record is named by its
    /// index and proven by a receipt, and the response stays small (a
    /// 10,000-record backlog gets 10,000 verdicts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// What became of it.
    pub status: VerdictStatus,
    /// Why, in words a person can act on; absent for a plain accept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The server's answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// The server's clock when it answered.
    pub server_time: Timestamp,
    /// The server's estimate of the device clock's error, in seconds
    /// (device minus server).
    pub clock_offset_seconds: i64,
    /// One verdict per record, in batch order.
    pub verdicts: Vec<Verdict>,
    /// Signed receipts covering the accepted records, hex-encoded.
    pub receipts: Vec<String>,
}

/// An error body: a stable code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code such as `device_revoked`.
    pub error: String,
    /// What happened and what to do.
    pub message: String,
    /// With `device_revoked`: the server's signed notice, which the device
    /// checks before it destroys its data key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationNotice>,
}

/// Prefixed to a revocation notice before the server signs it.
pub const REVOCATION_DOMAIN: &[u8] = b"hearth/revoked/v1\0";

/// The server's signed word that a device is revoked.
///
/// A revoked tablet destroys its data key, and with it any evidence it has
/// not uploaded. That is too much to do on an unsigned error body: anyone
/// the TLS layer trusts (another certificate from the same CA, a stolen TLS
/// key) could wipe a tablet. So the notice is signed with the server's
/// receipt key, which the device pinned at enrolment, and names the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationNotice {
    /// The revoked device.
    pub device: DeviceId,
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// The server's signature, 128 hex digits.
    pub signature: String,
}

impl RevocationNotice {
    fn message(device: DeviceId, revoked_at: Timestamp) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(device.as_bytes());
        out[8..].copy_from_slice(&revoked_at.0.to_le_bytes());
        out
    }

    /// The server signs a notice for `device`.
    pub fn sign(server_key: &SigningKey, device: DeviceId, revoked_at: Timestamp) -> Self {
        let sig = sign_with_domain(
            server_key,
            REVOCATION_DOMAIN,
            &Self::message(device, revoked_at),
        );
        let mut signature = String::with_capacity(128);
        for b in sig.to_bytes() {
            use core::fmt::Write;
            let _ = write!(signature, "{b:02x}");
        }
        Self {
            device,
            revoked_at,
            signature,
        }
    }

    /// Whether the notice is `server_key`'s and names `device`.
    pub fn verify(&self, server_key: &VerifyingKey, device: DeviceId) -> bool {
        if self.device != device || self.signature.len() != 128 {
            return false;
        }
        let mut sig = [0u8; 64];
        for (i, out) in sig.iter_mut().enumerate() {
            let Some(pair) = self.signature.get(2 * i..2 * i + 2) else {
                return false;
            };
            let Ok(b) = u8::from_str_radix(pair, 16) else {
                return false;
            };
            *out = b;
        }
        verify_with_domain(
            server_key,
            REVOCATION_DOMAIN,
            &Self::message(self.device, self.revoked_at),
            &Signature::from_bytes(&sig),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_notice_verifies_only_for_its_server_and_device() {
        let server = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let device = DeviceId([7; 8]);
        let notice = RevocationNotice::sign(&server, device, Timestamp(1_800_000_000));
        assert!(notice.verify(&server.verifying_key(), device));
        assert!(!notice.verify(&other.verifying_key(), device));
        assert!(!notice.verify(&server.verifying_key(), DeviceId([8; 8])));
        let mut later = notice.clone();
        later.revoked_at = Timestamp(1_800_000_001);
        assert!(!later.verify(&server.verifying_key(), device));
        let mut garbled = notice;
        garbled.signature.replace_range(0..2, "zz");
        assert!(!garbled.verify(&server.verifying_key(), device));
    }
}
