//! `record`: a signed record from outside, as the server's ingest takes
//! it: [`hearth_shared::verify`] (lengths, version byte, signature, then
//! the strict decode and every rule). Also the strict decoder alone on the
//! same bytes, which is what runs once a signature has passed.
#![no_main]

use hearth_fuzz::{check_verified, device, device_key};
use hearth_shared::signed::decode_envelope;
use hearth_shared::validate::Validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = device_key().verifying_key();
    if let Ok(v) = hearth_shared::verify(&key, data) {
        check_verified(&v, data, device());
    }
    if let Ok(e) = decode_envelope(data) {
        assert!(
            e.validate().is_ok(),
            "decode_envelope let a broken rule through"
        );
        let again = postcard::to_allocvec(&e).expect("a decoded envelope encodes");
        assert_eq!(
            decode_envelope(&again),
            Ok(e),
            "re-encoding changes the envelope"
        );
    }
});
