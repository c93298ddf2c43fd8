//! The sync API's bodies, shared by agent and server (feature `alloc`).
//!
//! | call | request | response |
//! | --- | --- | --- |
//! | `POST /v1/enrol` | [`EnrolRequest`] (JSON) | [`EnrolResponse`] (JSON) |
//! | `POST /v1/sync` | [`UploadBatch`] (postcard, `application/x-hearth-batch`) | [`UploadResponse`] (JSON) |
//! | `POST /v1/outbox` | [`OutboxUpload`] (postcard, `application/x-hearth-outbox`) | [`UploadResponse`] (JSON) |
//!
//! The upload is postcard, not JSON, so the bytes on the wire stay close to
//! the records' own bytes on a slow link. Its header (device, clock reading,
//! and a hash of the records) is signed with the device key under
//! [`BATCH_DOMAIN`], so nobody else can report a device's clock, and a
//! replayed header can only carry the records it was made for.
//!
//! The outbox (issue 14): a locked tablet cannot sign a batch header (its
//! device key is sealed under the passphrase), so at capture it also seals
//! each record's signed bytes to the server's X25519 outbox key
//! ([`seal_record`]: X25519 + XChaCha20-Poly1305, a fresh ephemeral key per
//! record), and `POST /v1/outbox` takes those boxes. The server opens them
//! ([`open_sealed`]) and authenticates the upload by the records' own device
//! signatures. The outbox key reaches the tablet in [`EnrolResponse::outbox_key`]
//! or, for a tablet enrolled before, as an [`OutboxKeyNotice`] signed with
//! the receipt key it pinned.
//!
//! The whole contract (TLS, status codes, error codes, receipts, exit codes
//! of the agent) is `docs/sync-protocol.md`: agent and server both follow it.

use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hex::{Hex, parse_hex};
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
    /// The server's X25519 outbox key, 64 hex digits, pinned like
    /// `server_key`. Absent from older servers: then the device has no
    /// outbox until a sync brings an [`OutboxKeyNotice`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_key: Option<String>,
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
    /// The server's outbox key, signed with its receipt key, for devices
    /// enrolled before the server had one. Absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_key: Option<OutboxKeyNotice>,
}

crate::words! {
    /// The stable code in every error body (`docs/api.md` lists when each is
    /// sent). Programs branch on it; people read the message beside it.
    pub enum ErrorCode {
        /// The body is not what the endpoint takes (shape, key, child,
        /// format, date or query).
        BadRequest => "bad_request",
        /// A read without a stated reason.
        ReasonRequired => "reason_required",
        /// No bearer token, or one that is not a reader's.
        Unauthorized => "unauthorized",
        /// An enrolment token that is unknown, expired or spent.
        TokenInvalid => "token_invalid",
        /// A device with that key is already enrolled.
        DeviceExists => "device_exists",
        /// A batch whose device is unknown, revoked or whose signature is
        /// wrong (one answer for all three).
        Unauthenticated => "unauthenticated",
        /// The device is revoked; the body carries the signed notice.
        DeviceRevoked => "device_revoked",
        /// A batch that does not decode, or a device clock outside 1900–2199.
        BadBatch => "bad_batch",
        /// A batch with more records than a batch may hold.
        BatchTooLarge => "batch_too_large",
        /// A body over the endpoint's size limit.
        BodyTooLarge => "body_too_large",
        /// The server's in-flight budget is spent; retry later.
        Busy => "busy",
        /// The request took longer than the server allows.
        Timeout => "timeout",
        /// No such endpoint.
        NotFound => "not_found",
        /// The endpoint does not take that method.
        MethodNotAllowed => "method_not_allowed",
        /// The server failed; nothing was acknowledged.
        Internal => "internal",
        /// Signed in, but this account's role may not do that (an auditor
        /// asking for a chronology, a manager for an administration page).
        Forbidden => "forbidden",
        /// A request body in a `Content-Encoding` the server does not
        /// decode (protocol 2 takes `deflate` or none; 415).
        UnsupportedEncoding => "unsupported_encoding",
        /// A code this build does not know (a newer server's): read as
        /// this, so that an old agent still shows the message.
        #[serde(other)]
        Unknown => "unknown",
    }
}

/// An error body: a stable code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code such as `device_revoked`.
    pub error: ErrorCode,
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
        let signature = alloc::format!("{}", Hex(&sig.to_bytes()));
        Self {
            device,
            revoked_at,
            signature,
        }
    }

    /// Whether the notice is `server_key`'s and names `device`.
    pub fn verify(&self, server_key: &VerifyingKey, device: DeviceId) -> bool {
        if self.device != device {
            return false;
        }
        let Some(sig) = parse_hex::<64>(&self.signature) else {
            return false;
        };
        verify_with_domain(
            server_key,
            REVOCATION_DOMAIN,
            &Self::message(self.device, self.revoked_at),
            &Signature::from_bytes(&sig),
        )
    }
}

/// The content type of an [`OutboxUpload`].
pub const OUTBOX_CONTENT_TYPE: &str = "application/x-hearth-outbox";

/// Prefixed to an outbox key before the server signs it.
pub const OUTBOX_KEY_DOMAIN: &[u8] = b"hearth/outbox-key/v1\0";

/// The bytes a sealed box adds to what it seals: the ephemeral X25519
/// public key (32), the XChaCha20 nonce (24) and the Poly1305 tag (16).
pub const SEALED_OVERHEAD: usize = 32 + 24 + 16;

/// A locked device's sealed records (`POST /v1/outbox`). Nothing in it is
/// signed as a whole: each box opens to a record the device signed, and
/// that is what authenticates the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxUpload {
    /// The device whose records the boxes hold.
    pub device: DeviceId,
    /// Sealed boxes ([`seal_record`]), each holding one signed record.
    pub boxes: Vec<Vec<u8>>,
}

/// Seals `signed` (a record's signed bytes, unchanged) to the server's
/// X25519 key `recipient`: `ephemeral public key ‖ nonce ‖ ciphertext`.
/// The caller supplies fresh randomness (`ephemeral`, `nonce`) from the OS;
/// only the holder of the server's secret key can open the box, and the
/// sender cannot (the ephemeral secret is dropped here).
pub fn seal_record(
    recipient: &[u8; 32],
    ephemeral: [u8; 32],
    nonce: [u8; 24],
    signed: &[u8],
) -> Vec<u8> {
    use crypto_box::aead::Aead;
    let esk = crypto_box::SecretKey::from_bytes(ephemeral);
    let epk = esk.public_key();
    let sealer = crypto_box::ChaChaBox::new(&crypto_box::PublicKey::from_bytes(*recipient), &esk);
    let ciphertext = sealer
        .encrypt(&nonce.into(), signed)
        .expect("XChaCha20-Poly1305 seals any length a record has");
    let mut out = Vec::with_capacity(SEALED_OVERHEAD + signed.len());
    out.extend_from_slice(epk.as_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens a box made by [`seal_record`] with the server's X25519 secret
/// key; `None` for anything that is not a box sealed to this key.
pub fn open_sealed(secret: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    use crypto_box::aead::Aead;
    if sealed.len() < SEALED_OVERHEAD {
        return None;
    }
    let (epk, rest) = sealed.split_at(32);
    let (nonce, ciphertext) = rest.split_at(24);
    let epk = crypto_box::PublicKey::from_slice(epk).ok()?;
    let opener = crypto_box::ChaChaBox::new(&epk, &crypto_box::SecretKey::from_bytes(*secret));
    let nonce = crypto_box::Nonce::clone_from_slice(nonce);
    opener.decrypt(&nonce, ciphertext).ok()
}

/// The X25519 public key of an outbox secret key.
pub fn outbox_public_key(secret: &[u8; 32]) -> [u8; 32] {
    crypto_box::SecretKey::from_bytes(*secret)
        .public_key()
        .to_bytes()
}

/// The server's outbox key, signed with its receipt key: how a device
/// enrolled before the server had an outbox key learns it, trusting only
/// the receipt key it pinned at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxKeyNotice {
    /// The X25519 public key, 64 hex digits.
    pub key: String,
    /// The receipt key's signature over it, 128 hex digits.
    pub signature: String,
}

impl OutboxKeyNotice {
    /// The server signs its outbox public key.
    pub fn sign(server_key: &SigningKey, outbox_key: &[u8; 32]) -> Self {
        let sig = sign_with_domain(server_key, OUTBOX_KEY_DOMAIN, outbox_key);
        Self {
            key: alloc::format!("{}", Hex(outbox_key)),
            signature: alloc::format!("{}", Hex(&sig.to_bytes())),
        }
    }

    /// The key, if the notice is `server_key`'s.
    pub fn verify(&self, server_key: &VerifyingKey) -> Option<[u8; 32]> {
        let key = parse_hex::<32>(&self.key)?;
        let sig = parse_hex::<64>(&self.signature)?;
        verify_with_domain(
            server_key,
            OUTBOX_KEY_DOMAIN,
            &key,
            &Signature::from_bytes(&sig),
        )
        .then_some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_only_with_its_servers_secret_and_unchanged() {
        let secret = [3u8; 32];
        let other = [4u8; 32];
        let public = outbox_public_key(&secret);
        let signed = b"the signed bytes of a record".to_vec();
        let sealed = seal_record(&public, [5; 32], [6; 24], &signed);
        assert_eq!(sealed.len(), signed.len() + SEALED_OVERHEAD);
        // The plaintext does not appear in the box.
        assert!(!sealed.windows(signed.len()).any(|w| w == signed.as_slice()));
        assert_eq!(open_sealed(&secret, &sealed), Some(signed.clone()));
        assert_eq!(open_sealed(&other, &sealed), None);
        // Any flipped bit (key, nonce or ciphertext) refuses the box.
        for i in [0, 40, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(open_sealed(&secret, &bad), None, "byte {i}");
        }
        assert_eq!(open_sealed(&secret, &sealed[..SEALED_OVERHEAD - 1]), None);
        assert_eq!(open_sealed(&secret, &[]), None);
        // Fresh randomness gives a different box for the same record.
        assert_ne!(seal_record(&public, [7; 32], [6; 24], &signed), sealed);
    }

    #[test]
    fn an_outbox_key_notice_verifies_only_with_its_receipt_key() {
        let server = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let key = outbox_public_key(&[9; 32]);
        let notice = OutboxKeyNotice::sign(&server, &key);
        assert_eq!(notice.verify(&server.verifying_key()), Some(key));
        assert_eq!(notice.verify(&other.verifying_key()), None);
        let mut swapped = notice.clone();
        swapped.key = alloc::format!("{}", Hex(&outbox_public_key(&[8; 32])));
        assert_eq!(swapped.verify(&server.verifying_key()), None);
        let mut garbled = notice;
        garbled.signature.replace_range(0..2, "zz");
        assert_eq!(garbled.verify(&server.verifying_key()), None);
        // A revocation signature over the same bytes is not an outbox notice.
        let cross = sign_with_domain(&server, REVOCATION_DOMAIN, &key);
        let forged = OutboxKeyNotice {
            key: alloc::format!("{}", Hex(&key)),
            signature: alloc::format!("{}", Hex(&cross.to_bytes())),
        };
        assert_eq!(forged.verify(&server.verifying_key()), None);
    }

    #[test]
    fn old_bodies_without_outbox_fields_still_read() {
        let old = r#"{"device":"0102030405060708","agency":"A","worker":"w","server_key":"00","server_time":"2026-11-20T10:00:00Z"}"#;
        let r: EnrolResponse = serde_json::from_str(old).unwrap();
        assert_eq!(r.outbox_key, None);
        let old = r#"{"server_time":"2026-11-20T10:00:00Z","clock_offset_seconds":0,"verdicts":[],"receipts":[]}"#;
        let r: UploadResponse = serde_json::from_str(old).unwrap();
        assert_eq!(r.outbox_key, None);
    }

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

    #[test]
    fn error_codes_are_their_words_on_the_wire_and_an_unknown_one_still_reads() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":"device_revoked","message":"gone"}"#).unwrap();
        assert_eq!(body.error, ErrorCode::DeviceRevoked);
        let text = serde_json::to_string(&ErrorBody {
            error: ErrorCode::BatchTooLarge,
            message: "too many".into(),
            revocation: None,
        })
        .unwrap();
        assert_eq!(text, r#"{"error":"batch_too_large","message":"too many"}"#);
        // A newer server's code: the body still reads, so the message shows.
        let newer: ErrorBody =
            serde_json::from_str(r#"{"error":"quota_exceeded","message":"later"}"#).unwrap();
        assert_eq!(
            (newer.error, newer.message.as_str()),
            (ErrorCode::Unknown, "later")
        );
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, alloc::format!("\"{code}\""));
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
        }
    }
}
