//! Signing and strict verification: [`sign_into`], [`verify`] and
//! [`VerifiedRecord`].
//!
//! ## What is signed
//!
//! A signed record on the wire and on disk is the envelope's postcard bytes
//! followed by a 64-byte ed25519 signature. The signature is over
//! [`SIGNATURE_DOMAIN`] followed by exactly those envelope bytes. The prefix
//! means a record signature can never be confused with any other message
//! the device key signs (the sync request's header, say).
//!
//! ## Why verify the bytes received
//!
//! [`verify`] checks the signature over the bytes as they arrived, then
//! decodes them strictly. It never re-encodes: a re-encoding could differ
//! (a future encoder, a bug) and turn a genuine record into a rejected one,
//! or worse, verify something other than what was stored. What the server
//! stores is the bytes it verified.
//!
//! ## Why the streaming hazmat API
//!
//! ed25519 hashes the message twice. `ed25519-dalek`'s `hazmat` functions
//! let us feed the prefix and the envelope as two pieces, so neither
//! signing nor verifying needs a buffer holding both: no allocator, no
//! second copy on a small device. A test checks the result is the ordinary
//! ed25519 signature of `prefix || envelope`, so any ed25519 library can
//! verify Hearth records.
//!
//! ## The chain hash
//!
//! [`chain_hash`] is SHA-256 over [`CHAIN_DOMAIN`] and the envelope bytes
//! (not the signature). The next record of the same device carries it as
//! `prev`.

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use postcard::experimental::max_size::MaxSize;
use sha2::{Digest, Sha256, Sha512};

use crate::error::{DecodeError, ValidationError};
use crate::ids::{DeviceId, RecordHash, RecordId};
use crate::record::{Envelope, is_known_version};
use crate::validate::Validate;

/// Prefixed to the envelope bytes before signing.
pub const SIGNATURE_DOMAIN: &[u8] = b"hearth/record/v1\0";

/// Prefixed to the envelope bytes before chain hashing.
pub const CHAIN_DOMAIN: &[u8] = b"hearth/chain/v1\0";

/// Bytes in an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The largest envelope any record can encode to.
pub const MAX_ENVELOPE_SIZE: usize = Envelope::POSTCARD_MAX_SIZE;

/// The largest signed record: envelope plus signature. Decoders refuse
/// anything longer before looking inside.
pub const MAX_SIGNED_SIZE: usize = MAX_ENVELOPE_SIZE + SIGNATURE_LEN;

/// Why a record could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The record breaks a rule; nothing invalid is ever signed.
    Invalid(ValidationError),
    /// The output buffer is smaller than the record; [`MAX_SIGNED_SIZE`]
    /// always suffices.
    BufferTooSmall,
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Invalid(e) => e.fmt(f),
            Self::BufferTooSmall => write!(
                f,
                "the output buffer is too small; give it {MAX_SIGNED_SIZE} bytes"
            ),
        }
    }
}

impl core::error::Error for EncodeError {}

/// The chain hash of an envelope's bytes.
pub fn chain_hash(envelope_bytes: &[u8]) -> RecordHash {
    let mut h = Sha256::new();
    h.update(CHAIN_DOMAIN);
    h.update(envelope_bytes);
    RecordHash(h.finalize().into())
}

/// Validates `envelope`, encodes it into `buf` and appends the signature.
/// Returns the signed bytes, a prefix of `buf`.
pub fn sign_into<'a>(
    key: &SigningKey,
    envelope: &Envelope,
    buf: &'a mut [u8],
) -> Result<&'a [u8], EncodeError> {
    envelope.validate().map_err(EncodeError::Invalid)?;
    let len = postcard::to_slice(envelope, buf)
        .map_err(|_| EncodeError::BufferTooSmall)?
        .len();
    let signature = sign_envelope_bytes(key, &buf[..len]);
    let out = buf
        .get_mut(len..len + SIGNATURE_LEN)
        .ok_or(EncodeError::BufferTooSmall)?;
    out.copy_from_slice(&signature.to_bytes());
    Ok(&buf[..len + SIGNATURE_LEN])
}

/// The signature over [`SIGNATURE_DOMAIN`] and `envelope_bytes`.
pub fn sign_envelope_bytes(key: &SigningKey, envelope_bytes: &[u8]) -> Signature {
    sign_with_domain(key, SIGNATURE_DOMAIN, envelope_bytes)
}

/// The ordinary ed25519 signature of `domain || message`, computed without
/// joining them.
pub fn sign_with_domain(key: &SigningKey, domain: &[u8], message: &[u8]) -> Signature {
    let expanded = ExpandedSecretKey::from(key.as_bytes());
    raw_sign_byupdate::<Sha512, _>(
        &expanded,
        |h| {
            h.update(domain);
            h.update(message);
            Ok(())
        },
        &key.verifying_key(),
    )
    .expect("the update closure never fails")
}

/// Whether `signature` is `key`'s signature of `domain || message`.
///
/// As strict as `ed25519-dalek`'s `verify_strict`: besides the equation
/// and a canonical `S` (which the streaming verifier checks), a weak
/// (small-order) public key or a small-order `R` is refused, so every
/// record Hearth accepts also verifies under libsodium and other strict
/// verifiers, and a device cannot later disown a signature as unverifiable.
pub fn verify_with_domain(
    key: &VerifyingKey,
    domain: &[u8],
    message: &[u8],
    signature: &Signature,
) -> bool {
    if key.is_weak() || is_small_order_encoding(signature.r_bytes()) {
        return false;
    }
    let Ok(mut verifier) = key.verify_stream(signature) else {
        return false;
    };
    verifier.update(domain);
    verifier.update(message);
    verifier.finalize_and_verify().is_ok()
}

/// The y coordinates (little-endian, sign bit clear) of the eight points of
/// small order: the identity (y = 1), the point of order 2 (y = p − 1),
/// the two of order 4 (y = 0) and the four of order 8 (y = ±y₈). A test
/// derives them from `curve25519_dalek::constants::EIGHT_TORSION`.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [0; 32],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// Whether `r` encodes a point of small order, by its bytes alone (as
/// libsodium's `ge25519_has_small_order` does), without the field
/// exponentiation that decompressing it costs.
///
/// Why this is exactly as strict as decompressing and calling
/// `is_small_order` (what `verify_strict` does): a canonical encoding
/// names a small-order point if and only if its y is one of
/// [`SMALL_ORDER_Y`], whatever the sign bit. Any other `R` that is not the
/// canonical encoding of a curve point (off the curve, or y ≥ p) can never
/// verify: the verifier compares `R` byte for byte with the canonical
/// encoding of the point it computes.
pub fn is_small_order_encoding(r: &[u8; 32]) -> bool {
    let mut y = *r;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// A record whose signature verified and whose bytes decoded strictly.
/// The only form in which a record may be stored or shown in a chronology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord<'a> {
    envelope: Envelope,
    bytes: &'a [u8],
    hash: RecordHash,
}

impl<'a> VerifiedRecord<'a> {
    /// The decoded envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The decoded envelope, by value.
    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }

    /// The signed bytes exactly as received: store these.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Its chain hash.
    pub fn hash(&self) -> RecordHash {
        self.hash
    }

    /// Its id.
    pub fn id(&self) -> RecordId {
        self.envelope.id()
    }
}

/// Decodes envelope bytes strictly, without checking any signature: an
/// unknown version, a malformed field, a value out of range, trailing
/// bytes, or a broken rule is an error, never a panic.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let envelope = decode_stored_envelope(bytes)?;
    envelope.validate()?;
    Ok(envelope)
}

/// Decodes envelope bytes as strictly as [`decode_envelope`] in form
/// (version, size, trailing bytes, capacities) but without the rules of
/// [`Validate`]. **Only for bytes this program verified or signed itself
/// and stored**: rules only tighten (issue 11 refused hidden characters in
/// text), and a record kept under older rules must stay readable, since
/// records are evidence. Never for bytes from outside.
pub fn decode_stored_envelope(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    if bytes.len() > MAX_ENVELOPE_SIZE {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_ENVELOPE_SIZE,
        });
    }
    match bytes.first() {
        None => return Err(DecodeError::TooShort { len: 0 }),
        Some(&v) if !is_known_version(v) => return Err(DecodeError::UnknownVersion(v)),
        Some(_) => {}
    }
    let (envelope, rest) = postcard::take_from_bytes::<Envelope>(bytes)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok(envelope)
}

/// Reads the id (device and seq) from the start of envelope bytes without
/// decoding the rest or checking anything. **Unauthenticated**: use it only
/// to find a stored record to compare byte for byte, never to trust.
pub fn peek_id(envelope: &[u8]) -> Option<RecordId> {
    match postcard::take_from_bytes::<(u8, DeviceId, crate::ids::Seq)>(envelope) {
        Ok(((v, device, seq), _)) if is_known_version(v) => Some(RecordId { device, seq }),
        _ => None,
    }
}

/// Splits signed bytes into envelope bytes and signature, checking only
/// lengths and the version byte.
pub fn split_signed(bytes: &[u8]) -> Result<(&[u8], Signature), DecodeError> {
    if bytes.len() > MAX_SIGNED_SIZE {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_SIGNED_SIZE,
        });
    }
    if bytes.len() <= SIGNATURE_LEN {
        return Err(DecodeError::TooShort { len: bytes.len() });
    }
    if !is_known_version(bytes[0]) {
        return Err(DecodeError::UnknownVersion(bytes[0]));
    }
    let (envelope, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    let sig: &[u8; SIGNATURE_LEN] = sig.try_into().expect("split at 64 from the end");
    Ok((envelope, Signature::from_bytes(sig)))
}

/// Whether `bytes` carry `key`'s record signature: the last
/// [`SIGNATURE_LEN`] bytes over [`SIGNATURE_DOMAIN`] and the rest, whatever
/// the rest holds. Authentication only: unlike [`split_signed`] it does not
/// refuse an unknown version byte or an oversized record, so a genuine
/// record that breaks those rules is still known to be the device's (and
/// is judged, with its reason, by [`verify`]).
pub fn signed_by(key: &VerifyingKey, bytes: &[u8]) -> bool {
    let Some(at) = bytes.len().checked_sub(SIGNATURE_LEN).filter(|&n| n > 0) else {
        return false;
    };
    let (envelope, sig) = bytes.split_at(at);
    let sig: &[u8; SIGNATURE_LEN] = sig.try_into().expect("split at 64 from the end");
    verify_with_domain(key, SIGNATURE_DOMAIN, envelope, &Signature::from_bytes(sig))
}

/// Verifies signed record bytes with the device's key, then decodes them
/// strictly. The order matters: nothing unauthenticated is parsed beyond
/// its length and version byte.
pub fn verify<'a>(key: &VerifyingKey, bytes: &'a [u8]) -> Result<VerifiedRecord<'a>, DecodeError> {
    let (envelope_bytes, signature) = split_signed(bytes)?;
    if !verify_with_domain(key, SIGNATURE_DOMAIN, envelope_bytes, &signature) {
        return Err(DecodeError::BadSignature);
    }
    let envelope = decode_envelope(envelope_bytes)?;
    let expected = DeviceId::from_public_key(key.as_bytes());
    if envelope.device != expected {
        return Err(DecodeError::WrongDevice {
            expected,
            found: envelope.device,
        });
    }
    Ok(VerifiedRecord {
        envelope,
        bytes,
        hash: chain_hash(envelope_bytes),
    })
}

/// A signed record in an owned buffer.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord(alloc::vec::Vec<u8>);

#[cfg(feature = "alloc")]
impl SignedRecord {
    /// Validates, encodes and signs `envelope`.
    pub fn sign(key: &SigningKey, envelope: &Envelope) -> Result<Self, EncodeError> {
        let mut buf = alloc::vec![0u8; MAX_SIGNED_SIZE];
        let len = sign_into(key, envelope, &mut buf)?.len();
        buf.truncate(len);
        Ok(Self(buf))
    }

    /// The signed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The signed bytes, by value.
    pub fn into_bytes(self) -> alloc::vec::Vec<u8> {
        self.0
    }

    /// Its chain hash.
    pub fn hash(&self) -> RecordHash {
        chain_hash(&self.0[..self.0.len() - SIGNATURE_LEN])
    }
}
