//! What the fuzz targets share (issue 19): the fixed test keys, the golden
//! records (`shared/tests/golden/`, the same bytes `docs/wire-format.md`
//! quotes) and the checks every verified record must pass.
//!
//! The keys are the repository's fixed test keys: the device key is the
//! one the golden records are signed with (`[7; 32]`), the server key the
//! one the seeds' receipts, notices and caseloads are signed with
//! (`[9; 32]`). A fuzzer cannot forge a signature, so targets that must get
//! past one (`record_fields`, `batch`, `receipt`, `revocation`, `caseload`)
//! sign what they built with these keys themselves, as the genuine signer
//! would; nothing in the crates under test is bypassed.

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use hearth_shared::printable::{Lines, check};
use hearth_shared::signed::{SIGNATURE_LEN, chain_hash, decode_envelope};
use hearth_shared::{DeviceId, Envelope, RecordHash, Seq, VerifiedRecord};

pub mod fields;

/// The device key the golden records are signed with.
pub fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The server key the seeds' receipts, notices and caseloads are signed with.
pub fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

/// The device id of [`device_key`].
pub fn device() -> DeviceId {
    DeviceId::from_public_key(device_key().verifying_key().as_bytes())
}

/// The golden records' hex, in chain order (seq 1 to 10: the order of
/// `docs/records.md`'s examples).
const GOLDEN_HEX: [&str; 10] = [
    include_str!("../../shared/tests/golden/home_visit.hex"),
    include_str!("../../shared/tests/golden/daily_presentation.hex"),
    include_str!("../../shared/tests/golden/voice.hex"),
    include_str!("../../shared/tests/golden/concern.hex"),
    include_str!("../../shared/tests/golden/developmental_review.hex"),
    include_str!("../../shared/tests/golden/meeting.hex"),
    include_str!("../../shared/tests/golden/escalation.hex"),
    include_str!("../../shared/tests/golden/neglect_summary.hex"),
    include_str!("../../shared/tests/golden/amendment.hex"),
    include_str!("../../shared/tests/golden/revision.hex"),
];

/// One golden record: its signed bytes, envelope and chain hash.
#[derive(Debug)]
pub struct Golden {
    /// Envelope bytes then signature.
    pub signed: Vec<u8>,
    /// The decoded envelope.
    pub envelope: Envelope,
    /// Its chain hash.
    pub hash: RecordHash,
}

/// The ten golden records, verified once.
pub fn golden() -> &'static [Golden] {
    static GOLDEN: OnceLock<Vec<Golden>> = OnceLock::new();
    GOLDEN.get_or_init(|| {
        let key = device_key().verifying_key();
        GOLDEN_HEX
            .iter()
            .map(|h| {
                let signed = hex::decode(h.trim()).expect("golden hex");
                let v = hearth_shared::verify(&key, &signed).expect("golden verifies");
                Golden {
                    envelope: v.envelope().clone(),
                    hash: v.hash(),
                    signed,
                }
            })
            .collect()
    })
}

/// The device's own hash of record `seq` (the golden chain's), as the
/// agent's store answers it.
pub fn our_hash(seq: Seq) -> Option<RecordHash> {
    golden()
        .iter()
        .find(|g| g.envelope.seq == seq)
        .map(|g| g.hash)
}

/// Asserts that `shown`, a line the agent would print, is one line with
/// no hidden character (no escape sequence, control, bidi override): the
/// server's words reach the operator's terminal.
pub fn assert_printable(shown: &str) {
    if let Err(found) = check(shown, Lines::One) {
        panic!("the agent would print a hidden character: {found}: {shown:?}");
    }
}

/// What must hold of any record `verify` accepted from `signed`: it was
/// signed by `device`, it keeps every rule, its hash is the chain hash of
/// its envelope bytes, and decoding is stable (what it decodes to encodes
/// to bytes that decode to the same envelope).
pub fn check_verified(v: &VerifiedRecord<'_>, signed: &[u8], device: DeviceId) {
    let envelope_bytes = &signed[..signed.len() - SIGNATURE_LEN];
    assert_eq!(v.bytes(), signed, "verify kept other bytes");
    assert_eq!(v.envelope().device, device, "a record of another device");
    assert_eq!(
        v.hash(),
        chain_hash(envelope_bytes),
        "hash not of the envelope"
    );
    assert_eq!(
        decode_envelope(envelope_bytes).as_ref(),
        Ok(v.envelope()),
        "decoding twice differs"
    );
    let again = postcard::to_allocvec(v.envelope()).expect("a decoded envelope encodes");
    assert_eq!(
        decode_envelope(&again).as_ref(),
        Ok(v.envelope()),
        "a verified envelope does not survive re-encoding"
    );
}
