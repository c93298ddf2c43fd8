//! `record_fields`: structure-aware. A golden envelope with one field
//! corrupted ([`hearth_fuzz::fields`]), signed with the device key as a
//! genuine (but buggy or hostile) device would, so that the signature
//! passes and the strict decode and every rule behind it are exercised.
#![no_main]

use arbitrary::Unstructured;
use hearth_fuzz::{check_verified, device, device_key, fields, golden};
use hearth_shared::DecodeError;
use hearth_shared::signed::sign_envelope_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let envelopes: Vec<_> = golden().iter().map(|g| g.envelope.clone()).collect();
    let Ok(base) = u.choose(&envelopes) else {
        return;
    };
    let Ok((envelope_bytes, field)) = fields::corrupt(&mut u, base, &envelopes) else {
        return;
    };
    let key = device_key();
    let mut signed = envelope_bytes.clone();
    signed.extend_from_slice(&sign_envelope_bytes(&key, &envelope_bytes).to_bytes());
    match hearth_shared::verify(&key.verifying_key(), &signed) {
        Ok(v) => check_verified(&v, &signed, device()),
        Err(DecodeError::BadSignature) => {
            panic!("a record signed by the device key failed its signature ({field} corrupted)")
        }
        // Every refusal must be explainable: its message names something.
        Err(e) => assert!(!e.to_string().is_empty(), "an empty refusal ({field})"),
    }
});
