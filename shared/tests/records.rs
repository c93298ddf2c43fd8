//! The record format's contract, tested from outside the crate:
//!
//! - every JSON example in `docs/records.md` parses, validates, round-trips,
//!   and signs to the exact bytes pinned in `tests/golden/` and quoted in
//!   `docs/wire-format.md` (golden vectors);
//! - a changed byte in any envelope field, the body or the signature fails
//!   verification (tamper tests);
//! - each way untrusted bytes can be wrong gives its typed error;
//! - every capacity and validation rule gives its exact message.
//!
//! Run with `UPDATE_EXPECT=1` (expect-test) to rewrite the golden files
//! after a deliberate format change (which also means a new format
//! version); the tests then list what `docs/wire-format.md` must quote.

mod common;

use common::{doc_examples, repo_file};
use ed25519_dalek::{Signer, SigningKey};
use expect_test::expect_file;
use hearth_shared::json::{Defaults, JsonError, body_to_json, parse_body};
use hearth_shared::signed::{
    SIGNATURE_DOMAIN, SIGNATURE_LEN, chain_hash, decode_envelope, sign_envelope_bytes, signed_by,
    split_signed,
};
use hearth_shared::{
    Body, DecodeError, DeviceId, Envelope, FORMAT_VERSION, MAX_SIGNED_SIZE, RecordHash, RecordKind,
    Seq, SignedRecord, Text, Timestamp, verify,
};
use serde_json::Value;

/// The fixed test key: never used outside tests.
fn test_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn defaults() -> Defaults {
    Defaults {
        author: Text::try_from_str("hv.jones").unwrap(),
        agency: Text::try_from_str("HV-NORTH").unwrap(),
    }
}

fn example(kind: RecordKind) -> Value {
    doc_examples()
        .iter()
        .map(|s| serde_json::from_str::<Value>(s).unwrap())
        .find(|v| v["kind"] == kind.as_str())
        .unwrap_or_else(|| panic!("docs/records.md has no example of {kind}"))
}

/// The golden chain: the examples in document order, seq 1.., linked.
fn golden_chain() -> Vec<(RecordKind, Vec<u8>)> {
    let key = test_key();
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let mut prev = RecordHash::GENESIS;
    let mut out = Vec::new();
    for (i, json) in doc_examples().iter().enumerate() {
        let body = parse_body(json, &defaults()).unwrap();
        let envelope = Envelope {
            version: body.format_version(),
            device,
            seq: Seq(i as u64 + 1),
            prev,
            device_time: Timestamp(1_795_700_000 + 60 * i as i64),
            body,
        };
        let signed = SignedRecord::sign(&key, &envelope).unwrap();
        prev = signed.hash();
        out.push((envelope.body.detail.kind(), signed.into_bytes()));
    }
    out
}

#[test]
fn every_kind_has_exactly_one_example_and_each_parses() {
    let examples = doc_examples();
    assert_eq!(examples.len(), RecordKind::ALL.len());
    for kind in RecordKind::ALL {
        let found = examples
            .iter()
            .filter(|s| serde_json::from_str::<Value>(s).unwrap()["kind"] == kind.as_str())
            .count();
        assert_eq!(found, 1, "examples of {kind}");
    }
    for json in &examples {
        if let Err(e) = parse_body(json, &defaults()) {
            panic!("example does not parse: {e}\n{json}");
        }
    }
}

#[test]
fn json_form_round_trips() {
    for json in doc_examples() {
        let body = parse_body(&json, &defaults()).unwrap();
        let again = parse_body(&body_to_json(&body).to_string(), &Defaults::default()).unwrap();
        assert_eq!(again, body);
    }
}

#[test]
fn golden_vectors_match_tests_golden_and_docs() {
    let doc = std::fs::read_to_string(repo_file("docs/wire-format.md")).unwrap();
    for (kind, bytes) in golden_chain() {
        let hex = hex::encode(&bytes);
        // The golden bytes of each kind, one line of hex.
        expect_file![format!("golden/{kind}.hex")].assert_eq(&format!("{hex}\n"));
        let (envelope, _) = split_signed(&bytes).unwrap();
        let sig = &bytes[envelope.len()..];
        assert!(
            doc.contains(&hex::encode(envelope)) && doc.contains(&hex::encode(sig)),
            "docs/wire-format.md does not quote the golden {kind} record"
        );
    }
}

#[test]
fn the_signature_is_plain_ed25519_over_prefix_and_envelope() {
    let key = test_key();
    for (_, bytes) in golden_chain() {
        let (envelope, sig) = split_signed(&bytes).unwrap();
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend_from_slice(envelope);
        assert_eq!(key.sign(&message), sig);
        key.verifying_key().verify_strict(&message, &sig).unwrap();
    }
}

#[test]
fn signed_by_vouches_for_the_signature_alone() {
    let key = test_key();
    let other = SigningKey::from_bytes(&[0x42; 32]).verifying_key();
    for (_, bytes) in golden_chain() {
        assert!(signed_by(&key.verifying_key(), &bytes));
        assert!(!signed_by(&other, &bytes));
        // A version byte no build knows, signed again by the device: not a
        // record `split_signed` takes, still the device's signature.
        let (envelope, _) = split_signed(&bytes).unwrap();
        let mut unknown = envelope.to_vec();
        unknown[0] = 0x7f;
        let resigned = [
            &unknown[..],
            &sign_envelope_bytes(&key, &unknown).to_bytes(),
        ]
        .concat();
        assert!(split_signed(&resigned).is_err());
        assert!(signed_by(&key.verifying_key(), &resigned));
        // The same bytes altered after signing are not.
        let mut altered = resigned.clone();
        altered[1] ^= 1;
        assert!(!signed_by(&key.verifying_key(), &altered));
    }
    assert!(!signed_by(&key.verifying_key(), &[0u8; SIGNATURE_LEN]));
    assert!(!signed_by(&key.verifying_key(), &[]));
}

#[test]
fn golden_records_verify_decode_and_chain() {
    let key = test_key().verifying_key();
    let mut prev = RecordHash::GENESIS;
    for (i, (kind, bytes)) in golden_chain().iter().enumerate() {
        let record = verify(&key, bytes).unwrap();
        assert_eq!(record.envelope().body.detail.kind(), *kind);
        assert_eq!(record.envelope().seq, Seq(i as u64 + 1));
        assert_eq!(record.envelope().prev, prev);
        assert_eq!(record.bytes(), bytes.as_slice());
        prev = record.hash();
    }
}

#[test]
fn peek_id_reads_the_id_without_decoding_and_refuses_other_versions() {
    let key = test_key().verifying_key();
    for (_, bytes) in golden_chain() {
        let id = verify(&key, &bytes).unwrap().envelope().id();
        let envelope = &bytes[..bytes.len() - 64];
        assert_eq!(hearth_shared::signed::peek_id(envelope), Some(id));
        // Only the header is read: a broken body does not hide the id.
        let mut cut = envelope[..envelope.len() / 2].to_vec();
        cut.push(0xff);
        assert_eq!(hearth_shared::signed::peek_id(&cut), Some(id));
        let mut other_version = envelope.to_vec();
        other_version[0] = 3;
        assert_eq!(hearth_shared::signed::peek_id(&other_version), None);
    }
    assert_eq!(hearth_shared::signed::peek_id(&[1, 2, 3]), None);
}

/// Byte ranges of each envelope field in `bytes`, found by encoding the
/// prefix of the envelope up to each field.
fn field_ranges(envelope: &Envelope) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let len = |v: &dyn erased::Enc| v.len();
    let v = len(&envelope.version);
    let d = v + len(&envelope.device);
    let s = d + len(&envelope.seq);
    let p = s + len(&envelope.prev);
    let t = p + len(&envelope.device_time);
    let b = t + len(&envelope.body);
    vec![
        ("version", 0..v),
        ("device", v..d),
        ("seq", d..s),
        ("prev", s..p),
        ("device_time", p..t),
        ("body", t..b),
    ]
}

mod erased {
    pub trait Enc {
        fn len(&self) -> usize;
    }
    impl<T: serde::Serialize> Enc for T {
        fn len(&self) -> usize {
            postcard::to_allocvec(self).unwrap().len()
        }
    }
}

#[test]
fn a_changed_byte_in_any_field_fails_verification() {
    let key = test_key().verifying_key();
    for (kind, bytes) in golden_chain() {
        let envelope = verify(&key, &bytes).unwrap().into_envelope();
        let ranges = field_ranges(&envelope);
        let env_len = bytes.len() - 64;
        assert_eq!(ranges.last().unwrap().1.end, env_len);
        let mut all = ranges.clone();
        all.push(("signature", env_len..bytes.len()));
        for (field, range) in all {
            // First, middle and last byte of the field.
            for at in [range.start, (range.start + range.end) / 2, range.end - 1] {
                let mut tampered = bytes.clone();
                tampered[at] ^= 0x01;
                let err = verify(&key, &tampered).unwrap_err();
                let expected = if field == "version" {
                    DecodeError::UnknownVersion(bytes[0] ^ 1)
                } else {
                    DecodeError::BadSignature
                };
                assert_eq!(err, expected, "{kind}: {field} byte {at}");
            }
        }
    }
}

#[test]
fn a_record_signed_by_another_key_fails() {
    let (_, bytes) = &golden_chain()[0];
    let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert_eq!(
        verify(&other, bytes).unwrap_err(),
        DecodeError::BadSignature
    );
}

#[test]
fn a_record_naming_another_device_is_refused_even_if_signed() {
    // Device B signs an envelope that claims to be from device A.
    let (_, bytes) = &golden_chain()[0];
    let key_b = SigningKey::from_bytes(&[9u8; 32]);
    let (envelope, _) = split_signed(bytes).unwrap();
    let mut forged = envelope.to_vec();
    forged.extend_from_slice(&sign_envelope_bytes(&key_b, envelope).to_bytes());
    let err = verify(&key_b.verifying_key(), &forged).unwrap_err();
    assert!(matches!(err, DecodeError::WrongDevice { .. }), "{err:?}");
}

/// Signs raw envelope bytes, bypassing validation, as an attacker could.
fn sign_raw(envelope_bytes: &[u8]) -> Vec<u8> {
    let mut out = envelope_bytes.to_vec();
    out.extend_from_slice(&sign_envelope_bytes(&test_key(), envelope_bytes).to_bytes());
    out
}

fn first_envelope() -> Envelope {
    let (_, bytes) = &golden_chain()[0];
    verify(&test_key().verifying_key(), bytes)
        .unwrap()
        .into_envelope()
}

#[test]
fn strict_decoding_gives_typed_errors() {
    let key = test_key().verifying_key();
    let envelope = first_envelope();
    let good = postcard::to_allocvec(&envelope).unwrap();

    // Unknown version (2 is a revision's, issue 12).
    let mut v3 = good.clone();
    v3[0] = 3;
    assert_eq!(
        verify(&key, &sign_raw(&v3)),
        Err(DecodeError::UnknownVersion(3))
    );
    // A version that does not match the kind.
    let mut v2 = good.clone();
    v2[0] = 2;
    assert_eq!(
        verify(&key, &sign_raw(&v2)).unwrap_err().to_string(),
        "record is invalid: version does not match the kind: a revision is version 2, every other kind version 1"
    );

    // Trailing bytes, even when signed.
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert_eq!(
        verify(&key, &sign_raw(&trailing)),
        Err(DecodeError::TrailingBytes { count: 2 })
    );

    // Over the size limit, refused before anything else.
    let huge = vec![FORMAT_VERSION; MAX_SIGNED_SIZE + 1];
    assert_eq!(
        verify(&key, &huge),
        Err(DecodeError::TooLarge {
            len: MAX_SIGNED_SIZE + 1,
            max: MAX_SIGNED_SIZE
        })
    );

    // Too short to hold a signature.
    assert_eq!(
        verify(&key, &[1u8; 10]),
        Err(DecodeError::TooShort { len: 10 })
    );

    // Truncated inside the envelope.
    assert!(matches!(
        verify(&key, &sign_raw(&good[..good.len() - 5])),
        Err(DecodeError::Malformed(_))
    ));

    // Out-of-range value: a grade of 9.
    let mut bad_grade = envelope.clone();
    if let hearth_shared::Detail::HomeVisit(v) = &mut bad_grade.body.detail {
        v.observations.as_slice();
        let mut obs = v.observations.clone();
        let mut list = hearth_shared::List::new();
        for mut o in obs.as_slice().iter().cloned() {
            o.grade = hearth_shared::kinds::Grade(9);
            list.push(o).unwrap();
        }
        obs = list;
        v.observations = obs;
    } else {
        panic!("the first example is a home visit");
    }
    let err = verify(&key, &sign_raw(&postcard::to_allocvec(&bad_grade).unwrap())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "record is invalid: home_visit.observations[0].grade is 9; it must be from 1 to 5"
    );

    // An unknown enum tag.
    let mut bad_tag = good.clone();
    let body_at = field_ranges(&envelope)[5].1.start;
    // The body starts with the children list length then the first child's tag.
    assert_eq!(bad_tag[body_at + 1], 0, "first child is an NHS number");
    bad_tag[body_at + 1] = 7;
    assert_eq!(
        verify(&key, &sign_raw(&bad_tag)),
        Err(DecodeError::OutOfRange)
    );

    // An invalid child reference: a wrong NHS check digit on the wire.
    let mut bad_child = envelope.clone();
    let wrong: hearth_shared::ChildRef = "nhs:9434765919".parse().unwrap();
    assert_eq!(bad_child.body.children[0], wrong);
    let bytes = postcard::to_allocvec(&bad_child.body.children).unwrap();
    let mut patched = bytes.clone();
    // 9434765919 → 9434765918 is one less in the varint's low byte.
    let nhs_at = 2; // list length, tag, then the varint
    patched[nhs_at] -= 1;
    bad_child.body.children = postcard::from_bytes(&patched).unwrap();
    let err = verify(&key, &sign_raw(&postcard::to_allocvec(&bad_child).unwrap())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "record is invalid: children[0] is not a valid NHS number: the check digit should be 9, not 8; check the number was copied correctly"
    );
}

#[test]
fn small_order_encodings_are_known_by_their_bytes_exactly_as_by_decompressing() {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::scalar::Scalar;
    use hearth_shared::signed::is_small_order_encoding;
    // Every small-order point, under either sign bit, is caught.
    for t in EIGHT_TORSION {
        let mut enc = t.compress().to_bytes();
        assert!(is_small_order_encoding(&enc), "{t:?}");
        enc[31] ^= 0x80;
        assert!(
            is_small_order_encoding(&enc),
            "{t:?} with the sign bit flipped"
        );
    }
    // Points of large and of mixed order are not, and the byte check agrees
    // with decompressing and asking `is_small_order` on every encoding.
    for i in 0u64..64 {
        for t in EIGHT_TORSION {
            let p = ED25519_BASEPOINT_POINT * Scalar::from(i * 7919 + 1) + t;
            let enc = p.compress().to_bytes();
            assert!(!is_small_order_encoding(&enc));
            assert_eq!(
                is_small_order_encoding(&enc),
                CompressedEdwardsY(enc)
                    .decompress()
                    .unwrap()
                    .is_small_order()
            );
        }
    }
}

#[test]
fn a_signature_with_a_small_order_r_is_refused_like_verify_strict() {
    // A device-key holder can make R the identity point: S = k·a satisfies
    // the verification equation, and a plain (non-strict) verifier accepts
    // it, but strict verifiers reject it. Hearth must reject it too.
    use curve25519_dalek::scalar::Scalar;
    use ed25519_dalek::hazmat::ExpandedSecretKey;
    use sha2::{Digest, Sha512};
    let key = test_key();
    let (_, bytes) = &golden_chain()[0];
    let (envelope, _) = split_signed(bytes).unwrap();
    let mut r = [0u8; 32];
    r[0] = 1; // the identity point, (0, 1)
    let mut h = Sha512::new();
    h.update(r);
    h.update(key.verifying_key().as_bytes());
    h.update(SIGNATURE_DOMAIN);
    h.update(envelope);
    let s = Scalar::from_hash(h) * ExpandedSecretKey::from(key.as_bytes()).scalar;
    let mut forged = envelope.to_vec();
    forged.extend_from_slice(&r);
    forged.extend_from_slice(s.as_bytes());
    // The equation holds: the lenient streaming check alone accepts it.
    let sig = ed25519_dalek::Signature::from_slice(&forged[envelope.len()..]).unwrap();
    let mut lenient = key.verifying_key().verify_stream(&sig).unwrap();
    lenient.update(SIGNATURE_DOMAIN);
    lenient.update(envelope);
    assert!(lenient.finalize_and_verify().is_ok());
    // Hearth does not.
    assert_eq!(
        verify(&key.verifying_key(), &forged),
        Err(DecodeError::BadSignature)
    );
}

#[test]
fn sequence_numbers_beyond_what_a_store_holds_are_refused() {
    let mut envelope = first_envelope();
    envelope.seq = Seq(i64::MAX as u64 + 1);
    let err = SignedRecord::sign(&test_key(), &envelope).unwrap_err();
    assert_eq!(
        err.to_string(),
        "seq is above 2^63 - 1, the largest sequence number a store can hold"
    );
    let bytes = sign_raw(&postcard::to_allocvec(&envelope).unwrap());
    assert!(matches!(
        verify(&test_key().verifying_key(), &bytes),
        Err(DecodeError::Invalid(_))
    ));
}

#[test]
fn the_chain_hash_is_over_the_envelope_bytes() {
    let chain = golden_chain();
    let (envelope, _) = split_signed(&chain[0].1).unwrap();
    let second = decode_envelope(split_signed(&chain[1].1).unwrap().0).unwrap();
    assert_eq!(second.prev, chain_hash(envelope));
}

#[test]
fn worst_case_sizes_are_compile_time_constants() {
    use postcard::experimental::max_size::MaxSize;
    // The buffer a device with no allocator needs. The numbers are quoted
    // in docs/wire-format.md; a change here is a format change.
    assert_eq!(Envelope::POSTCARD_MAX_SIZE + 64, MAX_SIGNED_SIZE);
    let kinds = [
        (
            "home_visit",
            hearth_shared::kinds::HomeVisit::POSTCARD_MAX_SIZE,
        ),
        (
            "daily_presentation",
            hearth_shared::kinds::DailyPresentation::POSTCARD_MAX_SIZE,
        ),
        (
            "voice",
            hearth_shared::kinds::VoiceOfChild::POSTCARD_MAX_SIZE,
        ),
        ("concern", hearth_shared::kinds::Concern::POSTCARD_MAX_SIZE),
        (
            "developmental_review",
            hearth_shared::kinds::DevelopmentalReview::POSTCARD_MAX_SIZE,
        ),
        ("meeting", hearth_shared::kinds::Meeting::POSTCARD_MAX_SIZE),
        (
            "escalation",
            hearth_shared::kinds::Escalation::POSTCARD_MAX_SIZE,
        ),
        (
            "neglect_summary",
            hearth_shared::kinds::NeglectSummary::POSTCARD_MAX_SIZE,
        ),
        (
            "amendment",
            hearth_shared::kinds::Amendment::POSTCARD_MAX_SIZE,
        ),
        (
            "revision",
            hearth_shared::kinds::Revision::POSTCARD_MAX_SIZE,
        ),
    ];
    let common = Body::POSTCARD_MAX_SIZE - hearth_shared::Detail::POSTCARD_MAX_SIZE;
    let envelope_overhead = Envelope::POSTCARD_MAX_SIZE - Body::POSTCARD_MAX_SIZE;
    let doc = std::fs::read_to_string(repo_file("docs/wire-format.md")).unwrap();
    let mut missing = Vec::new();
    for (kind, size) in kinds {
        // signed worst case of a record of this kind
        let worst = envelope_overhead + common + 1 + size + 64;
        let typical = golden_chain()
            .iter()
            .find(|(k, _)| k.as_str() == kind)
            .unwrap()
            .1
            .len();
        let row = format!("| `{kind}` | {worst} | {typical} |");
        println!("{row}");
        if !doc.contains(&row) {
            missing.push(row);
        }
    }
    println!("MAX_SIGNED_SIZE = {MAX_SIGNED_SIZE}");
    // Every row that is missing is listed at once, to paste after a
    // deliberate format change.
    assert!(
        missing.is_empty(),
        "docs/wire-format.md lacks the rows\n{}",
        missing.join("\n")
    );
    assert!(doc.contains(&format!("`MAX_SIGNED_SIZE` = {MAX_SIGNED_SIZE}")));
}

// ---- The JSON form's error messages: every capacity and every rule. ----

fn parse_err(value: &Value) -> String {
    match parse_body(&value.to_string(), &defaults()) {
        Ok(_) => panic!("accepted: {value}"),
        Err(e) => e.to_string(),
    }
}

/// `example(kind)` with `pointer` set to `new`.
fn with(kind: RecordKind, pointer: &str, new: Value) -> Value {
    let mut v = example(kind);
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{kind} example has no {pointer}")) = new;
    v
}

/// `example(kind)` with field `name` set (added if absent).
fn set(kind: RecordKind, name: &str, new: Value) -> Value {
    let mut v = example(kind);
    v[name] = new;
    v
}

/// Every text field: (kind, JSON pointer or field, message path, capacity).
const TEXT_FIELDS: &[(RecordKind, &str, &str, usize)] = {
    use RecordKind as K;
    &[
        (K::Voice, "words", "voice.words", 1024),
        (K::Voice, "behaviour", "voice.behaviour", 1024),
        (K::Voice, "meaning", "voice.meaning", 512),
        (K::Voice, "action", "voice.action", 512),
        (
            K::Voice,
            "/present/0/relationship",
            "voice.present[0].relationship",
            48,
        ),
        (K::HomeVisit, "headline", "headline", 120),
        (K::HomeVisit, "author", "author", 32),
        (K::HomeVisit, "agency", "agency", 16),
        (K::HomeVisit, "narrative", "home_visit.narrative", 1024),
        (
            K::HomeVisit,
            "not_seen_reason",
            "home_visit.not_seen_reason",
            256,
        ),
        (
            K::HomeVisit,
            "/present/1/relationship",
            "home_visit.present[1].relationship",
            48,
        ),
        (
            K::HomeVisit,
            "/observations/0/note",
            "home_visit.observations[0].note",
            256,
        ),
        (
            K::DailyPresentation,
            "absence_reason",
            "daily_presentation.absence_reason",
            256,
        ),
        (
            K::DailyPresentation,
            "brought_by",
            "daily_presentation.brought_by",
            48,
        ),
        (
            K::DailyPresentation,
            "collected_by",
            "daily_presentation.collected_by",
            48,
        ),
        (
            K::DailyPresentation,
            "concern_note",
            "daily_presentation.concern_note",
            256,
        ),
        (
            K::DailyPresentation,
            "/injuries/0/description",
            "daily_presentation.injuries[0].description",
            256,
        ),
        (
            K::DailyPresentation,
            "/injuries/0/carer_explanation",
            "daily_presentation.injuries[0].carer_explanation",
            256,
        ),
        (
            K::DailyPresentation,
            "/injuries/0/child_account",
            "daily_presentation.injuries[0].child_account",
            256,
        ),
        (K::Concern, "seen_or_said", "concern.seen_or_said", 1024),
        (K::Concern, "action_detail", "concern.action_detail", 256),
        (
            K::DevelopmentalReview,
            "note",
            "developmental_review.note",
            512,
        ),
        (
            K::Meeting,
            "/attendees/0/name",
            "meeting.attendees[0].name",
            48,
        ),
        (
            K::Meeting,
            "/attendees/0/agency",
            "meeting.attendees[0].agency",
            16,
        ),
        (
            K::Meeting,
            "/absent_agencies/0",
            "meeting.absent_agencies[0]",
            16,
        ),
        (K::Meeting, "decisions", "meeting.decisions", 1024),
        (K::Meeting, "minutes_by", "meeting.minutes_by", 48),
        (K::Escalation, "raised_by", "escalation.raised_by", 48),
        (K::Escalation, "raised_with", "escalation.raised_with", 48),
        (
            K::Escalation,
            "disagreement",
            "escalation.disagreement",
            1024,
        ),
        (K::Escalation, "outcome", "escalation.outcome", 512),
        (
            K::NeglectSummary,
            "evidence",
            "neglect_summary.evidence",
            1024,
        ),
        (K::Amendment, "reason", "amendment.reason", 512),
        (K::Amendment, "correction", "amendment.correction", 1024),
    ]
};

#[test]
fn every_text_capacity_has_its_exact_message() {
    let cases = TEXT_FIELDS;
    for &(kind, field, path, cap) in cases {
        // Exactly at the limit is fine (where the field is free text).
        let at_limit = "a".repeat(cap);
        let over = "é".repeat(cap / 2 + 1); // two bytes a character
        let (ok, bad) = if field.starts_with('/') {
            (
                with(kind, field, at_limit.clone().into()),
                with(kind, field, over.clone().into()),
            )
        } else {
            (
                set(kind, field, at_limit.clone().into()),
                set(kind, field, over.clone().into()),
            )
        };
        if !path.contains("agency") {
            parse_body(&ok.to_string(), &defaults())
                .unwrap_or_else(|e| panic!("{path} at its limit refused: {e}"));
        }
        let len = over.len();
        let expected = format!(
            "{path} is {} bytes; the limit is {}",
            thousands(len),
            thousands(cap)
        );
        assert_eq!(parse_err(&bad), expected);
    }
    // The example from the issue, verbatim.
    let v = set(RecordKind::Voice, "words", "w".repeat(1342).into());
    assert_eq!(
        parse_err(&v),
        "voice.words is 1,342 bytes; the limit is 1,024"
    );
}

/// The message paths of the one-line fields; every other text field is a
/// narrative that may hold line breaks.
const ONE_LINE: &[&str] = &[
    "headline",
    "author",
    "agency",
    "voice.present[0].relationship",
    "home_visit.present[1].relationship",
    "home_visit.not_seen_reason",
    "daily_presentation.absence_reason",
    "daily_presentation.brought_by",
    "daily_presentation.collected_by",
    "concern.action_detail",
    "meeting.attendees[0].name",
    "meeting.attendees[0].agency",
    "meeting.absent_agencies[0]",
    "meeting.minutes_by",
    "escalation.raised_by",
    "escalation.raised_with",
    "amendment.reason",
];

#[test]
fn every_text_field_refuses_hidden_characters_by_name() {
    let value = |kind, field: &str, text: &str| {
        if field.starts_with('/') {
            with(kind, field, text.into())
        } else {
            set(kind, field, text.into())
        }
    };
    let remove = "remove it (it may have been pasted in with the text)";
    for &(kind, field, path, _) in TEXT_FIELDS {
        for (text, what) in [
            ("ab\u{1b}[2J", "a control character (U+001B)"),
            ("ab\u{7}", "a control character (U+0007)"),
            ("ab\u{8}", "a control character (U+0008)"),
            ("ab\u{9b}", "a control character (U+009B)"),
            ("ab\u{7f}", "a control character (U+007F)"),
            (
                "ab\u{202e}c",
                "a bidirectional control, which reorders the text a reader sees (U+202E)",
            ),
            (
                "ab\u{2066}c",
                "a bidirectional control, which reorders the text a reader sees (U+2066)",
            ),
            ("ab\u{200b}c", "an invisible character (U+200B)"),
            ("ab\u{feff}c", "an invisible character (U+FEFF)"),
        ] {
            assert_eq!(
                parse_err(&value(kind, field, text)),
                format!("{path} holds {what} at character 3; {remove}"),
            );
        }
        for brk in ["\r", "\u{2028}", "\u{2029}", "\u{85}", "\u{b}"] {
            let text = format!("ab{brk}c");
            let err = parse_err(&value(kind, field, &text));
            let legacy = path == "headline" && brk == "\r";
            assert!(
                err.starts_with(&format!("{path} holds a line break (U+"))
                    || (legacy && err == "headline has a line break; a headline is one line"),
                "{path}: {err}"
            );
        }
        let two_lines = value(kind, field, "first\nsecond");
        if path == "headline" {
            assert_eq!(
                parse_err(&two_lines),
                "headline has a line break; a headline is one line"
            );
        } else if ONE_LINE.contains(&path) {
            assert_eq!(
                parse_err(&two_lines),
                format!(
                    "{path} holds a line break (U+000A) at character 6; this field is one line: remove the break, or write it as a sentence"
                ),
            );
        } else if !path.contains("agency") {
            parse_body(&two_lines.to_string(), &defaults()).unwrap_or_else(|e| {
                panic!("{path} is a narrative, but a line break was refused: {e}")
            });
            parse_body(&value(kind, field, "a\tb").to_string(), &defaults())
                .unwrap_or_else(|e| panic!("{path} is a narrative, but a tab was refused: {e}"));
        }
    }
    // The forged chronology row of issue 11, as an amendment reason.
    let forged = set(
        RecordKind::Amendment,
        "reason",
        "typo\n2026-11-01 08:30 | Concern: FORGED LINE | CSC-SOCIAL (sw.smith)".into(),
    );
    assert!(parse_err(&forged).starts_with("amendment.reason holds a line break"));
}

#[test]
fn a_signed_record_with_hidden_text_is_refused_when_decoded() {
    // A hostile device signs whatever it likes; the rules hold at decode.
    let key = test_key().verifying_key();
    for (text, field) in [
        ("Seen \u{202e}evil", "headline"),
        ("Seen\u{1b}[1A today", "headline"),
    ] {
        let mut envelope = first_envelope();
        envelope.body.headline = Text::try_from_str(text).unwrap();
        let bytes = sign_raw(&postcard::to_allocvec(&envelope).unwrap());
        match verify(&key, &bytes) {
            Err(DecodeError::Invalid(e)) => {
                assert_eq!(e.field.to_string(), field);
                assert!(matches!(e.problem, hearth_shared::Problem::Hidden(_)));
            }
            other => panic!("{text:?} was not refused: {other:?}"),
        }
    }
}

fn thousands(n: usize) -> String {
    hearth_shared::error::Thousands(n).to_string()
}

#[test]
fn every_list_capacity_has_its_exact_message() {
    use RecordKind as K;
    let nhs = ["nhs:9434765919", "nhs:4010232137", "nhs:9990548609"];
    let nine_children: Vec<Value> = (0..9).map(|i| format!("local:LA-X:C{i}").into()).collect();
    let v = set(K::Voice, "children", nine_children.into());
    assert_eq!(parse_err(&v), "children has 9 entries; the limit is 8");
    let _ = nhs;
    let person = serde_json::json!({"role": "mother"});
    let cases: Vec<(K, &str, Value, usize, &str)> = vec![
        (
            K::HomeVisit,
            "present",
            person.clone(),
            8,
            "home_visit.present",
        ),
        (K::Voice, "present", person, 8, "voice.present"),
        (
            K::HomeVisit,
            "observations",
            serde_json::json!({"domain": "health", "grade": 1}),
            8,
            "home_visit.observations",
        ),
        (
            K::DailyPresentation,
            "injuries",
            serde_json::json!({"body_region": "arm", "description": "x"}),
            4,
            "daily_presentation.injuries",
        ),
        (
            K::DevelopmentalReview,
            "outcomes",
            serde_json::json!({"domain": "communication", "outcome": "on_track"}),
            5,
            "developmental_review.outcomes",
        ),
        (
            K::Meeting,
            "attendees",
            serde_json::json!({"name": "x"}),
            16,
            "meeting.attendees",
        ),
        (
            K::Meeting,
            "absent_agencies",
            "GP".into(),
            8,
            "meeting.absent_agencies",
        ),
        (
            K::NeglectSummary,
            "grades",
            serde_json::json!({"area": "health", "grade": 1}),
            8,
            "neglect_summary.grades",
        ),
    ];
    for (kind, field, item, cap, path) in cases {
        let v = set(kind, field, Value::Array(vec![item; cap + 1]));
        assert_eq!(
            parse_err(&v),
            format!("{path} has {} entries; the limit is {cap}", cap + 1)
        );
    }
}

#[test]
fn every_validation_rule_has_its_exact_message() {
    use RecordKind as K;
    use serde_json::json;
    let cases: Vec<(Value, &str)> = vec![
        (
            set(K::Concern, "children", json!([])),
            "children is empty; name at least one child, as nhs:<10 digits> or local:<issuer>:<id>",
        ),
        (
            set(K::Concern, "children", json!(["nhs:9434765918"])),
            "children[0] is not a valid NHS number: the check digit should be 9, not 8; check the number was copied correctly",
        ),
        (
            set(K::Concern, "children", json!(["nhs:1234567890"])),
            "children[0] is not a valid NHS number: no NHS number has these first 9 digits (the check gives 10)",
        ),
        (
            set(K::Concern, "children", json!(["nhs:94347659"])),
            "children[0] is not a valid NHS number: an NHS number has exactly 10 digits",
        ),
        (
            set(K::Concern, "children", json!(["C1234"])),
            "children[0] is not a valid local reference: a child reference starts nhs: (an NHS number) or local: (local:<issuer>:<id>)",
        ),
        (
            set(K::Concern, "children", json!(["local:LA X:C1"])),
            "children[0] is not a valid local reference: the issuer may hold only letters, digits, '-', '_' and '.'",
        ),
        (
            set(K::Concern, "children", json!(["local:LA-X:"])),
            "children[0] is not a valid local reference: the id is empty; write local:<issuer>:<id>",
        ),
        (
            set(
                K::Concern,
                "children",
                json!(["nhs:9434765919", "nhs:943 476 5919"]),
            ),
            "children[1] names the same child twice; list each child once",
        ),
        (
            set(K::Concern, "occurred_at", json!("2026-11-31T10:00:00Z")),
            "occurred_at is not a real date and time; check the day, month and hour",
        ),
        (
            set(K::Concern, "occurred_at", json!("yesterday")),
            "occurred_at is not an RFC 3339 time; write it like 2026-11-20T10:30:00Z or 2026-11-20T10:30:00+01:00",
        ),
        (
            set(K::Concern, "occurred_at", json!("1899-01-01T00:00:00Z")),
            "occurred_at is outside the years 1900 to 2199; check the date",
        ),
        (
            set(K::Concern, "headline", json!("  ")),
            "headline is empty; write a short factual line for the chronology",
        ),
        (
            set(K::Concern, "headline", json!("two\nlines")),
            "headline has a line break; a headline is one line",
        ),
        (
            set(K::Concern, "author", json!("")),
            "author is empty; set the worker at init, or name the author",
        ),
        (
            set(K::Concern, "agency", json!("")),
            "agency is empty; set the agency at init, or name it",
        ),
        (
            set(K::HomeVisit, "access", json!("no_access")),
            "home_visit.child_seen is awake or asleep, but access is no_access; a child cannot be seen without access",
        ),
        (
            set(K::HomeVisit, "child_seen", json!("not_seen")),
            "home_visit.not_seen_reason is empty; say why the child was not seen",
        ),
        (
            {
                let mut v = set(K::HomeVisit, "child_seen", json!("not_seen"));
                v["not_seen_reason"] = json!("asleep upstairs, mother refused");
                v["seen_alone"] = json!(true);
                v
            },
            "home_visit.seen_alone is true, but the child was not seen",
        ),
        (
            with(K::HomeVisit, "/observations/1/domain", json!("nutrition")),
            "home_visit.observations[1].domain repeats a domain; record one observation per domain",
        ),
        (
            with(K::HomeVisit, "/observations/0/grade", json!(0)),
            "home_visit.observations[0].grade is 0; it must be from 1 to 5",
        ),
        (
            with(K::HomeVisit, "/observations/0/grade", json!(6)),
            "home_visit.observations[0].grade is 6; it must be from 1 to 5",
        ),
        (
            set(K::HomeVisit, "access", json!("sometimes")),
            "home_visit.access: unknown variant `sometimes`, expected one of `announced`, `unannounced`, `no_access`",
        ),
        (
            set(K::HomeVisit, "colour", json!("red")),
            "home_visit.colour: unknown field `colour`, expected one of `access`, `present`, `child_seen`, `not_seen_reason`, `seen_alone`, `bedroom_seen`, `observations`, `narrative`",
        ),
        (
            set(
                K::DailyPresentation,
                "attendance",
                json!("absent_with_reason"),
            ),
            "daily_presentation.absence_reason is empty; give the reason, or use absent_unexplained",
        ),
        (
            set(
                K::DailyPresentation,
                "attendance",
                json!("absent_unexplained"),
            ),
            "daily_presentation.arrival_time is set, but the child was absent; remove it or correct the attendance",
        ),
        (
            set(K::DailyPresentation, "arrival_time", json!("25:00")),
            "daily_presentation.arrival_time is not a time of day; write it like 08:05",
        ),
        (
            with(K::DailyPresentation, "/injuries/0/description", json!("")),
            "daily_presentation.injuries[0].description is empty; describe the injury: size, colour, shape",
        ),
        (
            set(K::Voice, "mode", json!("words")),
            "voice.words is empty; write the child's own words, verbatim",
        ),
        (
            set(K::Voice, "behaviour", json!("")),
            "voice.behaviour is empty; describe what the child did, as you saw it",
        ),
        (
            set(K::Concern, "seen_or_said", json!("")),
            "concern.seen_or_said is empty; write what was seen or said",
        ),
        (
            set(K::Concern, "action_detail", json!("")),
            "concern.action_detail is empty; say to whom it was referred",
        ),
        (
            {
                let mut v = set(K::Concern, "action", json!("shared"));
                v["action_detail"] = json!("");
                v
            },
            "concern.action_detail is empty; say with whom it was shared",
        ),
        (
            {
                let mut v = set(K::Concern, "action", json!("none"));
                v["action_detail"] = json!("");
                v
            },
            "concern.action_detail is empty; say why no action was taken",
        ),
        (
            set(K::DevelopmentalReview, "was_not_brought", json!(true)),
            "developmental_review.outcomes has outcomes, but the child was not brought; remove them or set was_not_brought to false",
        ),
        (
            set(K::DevelopmentalReview, "outcomes", json!([])),
            "developmental_review.outcomes is empty; record an outcome for each domain reviewed, or set was_not_brought",
        ),
        (
            with(
                K::DevelopmentalReview,
                "/outcomes/1/domain",
                json!("communication"),
            ),
            "developmental_review.outcomes[1].domain repeats a domain; record one outcome per domain",
        ),
        (
            set(K::Meeting, "attendees", json!([])),
            "meeting.attendees is empty; list who attended",
        ),
        (
            with(K::Meeting, "/attendees/0/name", json!("")),
            "meeting.attendees[0].name is empty; give the attendee's name or role",
        ),
        (
            with(K::Meeting, "/absent_agencies/1", json!("")),
            "meeting.absent_agencies[1] is empty; give the absent agency's code",
        ),
        (
            set(K::Meeting, "minutes", json!("recorded")),
            "meeting.minutes_by is empty; say who recorded the minutes",
        ),
        (
            set(K::Escalation, "stage", json!(5)),
            "escalation.stage is 5; it must be from 1 to 4",
        ),
        (
            set(K::Escalation, "stage", json!(0)),
            "escalation.stage is 0; it must be from 1 to 4",
        ),
        (
            set(K::Escalation, "raised_by", json!("")),
            "escalation.raised_by is empty; say who raised it",
        ),
        (
            set(K::Escalation, "raised_with", json!("")),
            "escalation.raised_with is empty; say with whom it was raised",
        ),
        (
            set(K::Escalation, "disagreement", json!("")),
            "escalation.disagreement is empty; describe the disagreement",
        ),
        (
            set(K::NeglectSummary, "grades", json!([])),
            "neglect_summary.grades is empty; grade at least one area",
        ),
        (
            with(K::NeglectSummary, "/grades/1/area", json!("nutrition")),
            "neglect_summary.grades[1].area repeats an area; grade each area once",
        ),
        (
            with(K::NeglectSummary, "/grades/0/grade", json!(7)),
            "neglect_summary.grades[0].grade is 7; it must be from 1 to 5",
        ),
        (
            set(K::NeglectSummary, "visits", json!(0)),
            "neglect_summary.visits is 0; it must be from 1 to 100",
        ),
        (
            set(K::NeglectSummary, "visits", json!(101)),
            "neglect_summary.visits is 101; it must be from 1 to 100",
        ),
        (
            set(K::Amendment, "reason", json!("")),
            "amendment.reason is empty; say why the record is being corrected",
        ),
        (
            set(K::Amendment, "corrects", json!("42")),
            "amendment.corrects: a record id is the device id, a dash and the sequence number, like 3f9a2c1d7e4b8a01-42",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_err(&value), expected, "for {value}");
    }
}

#[test]
fn malformed_json_and_unknown_kinds_are_named() {
    let d = defaults();
    let err = |s: &str| parse_body(s, &d).unwrap_err();
    assert!(matches!(
        err("{\"kind\": "),
        JsonError::Syntax { line: 1, .. }
    ));
    assert_eq!(
        err("[1]").to_string(),
        "the record must be a JSON object, {\"kind\": ..., \"children\": [...], ...}"
    );
    assert_eq!(
        err("{}").to_string(),
        "kind is missing; add \"kind\": one of home_visit, daily_presentation, voice, concern, developmental_review, meeting, escalation, neglect_summary, amendment, revision"
    );
    assert_eq!(
        err("{\"kind\": \"visit\"}").to_string(),
        "kind \"visit\" is not a record kind; use one of home_visit, daily_presentation, voice, concern, developmental_review, meeting, escalation, neglect_summary, amendment, revision"
    );
    assert_eq!(
        err("{\"kind\": \"concern\"}").to_string(),
        "children is missing; name at least one child, as nhs:<10 digits> or local:<issuer>:<id>"
    );
}
