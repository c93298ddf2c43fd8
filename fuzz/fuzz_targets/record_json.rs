//! `record_json`: the JSON form of every kind, through the exact parse
//! `hearth-agent record --json` uses ([`hearth_shared::json::parse_body`]).
//! A body it accepts keeps every rule, signs into a record that verifies
//! and decodes to the same body, and survives its own JSON form.
#![no_main]

use hearth_fuzz::{device, device_key};
use hearth_shared::json::{Defaults, body_to_json, parse_body};
use hearth_shared::validate::Validate;
use hearth_shared::{Envelope, RecordHash, Seq, SignedRecord, Text, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let defaults = Defaults {
        author: Text::try_from_str("hv.jones").expect("fits"),
        agency: Text::try_from_str("HV-NORTH").expect("fits"),
    };
    let body = match parse_body(json, &defaults) {
        Ok(body) => body,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "an empty refusal");
            return;
        }
    };
    assert_eq!(
        body.validate(),
        Ok(()),
        "parse_body let a broken rule through"
    );
    let envelope = Envelope {
        version: body.format_version(),
        device: device(),
        seq: Seq(1),
        prev: RecordHash::GENESIS,
        device_time: Timestamp(1_795_700_000),
        body: body.clone(),
    };
    let key = device_key();
    let signed = SignedRecord::sign(&key, &envelope).expect("an accepted body signs");
    let v = hearth_shared::verify(&key.verifying_key(), signed.as_bytes())
        .expect("an accepted body's record verifies");
    assert_eq!(
        v.envelope(),
        &envelope,
        "the record decodes to another body"
    );
    let shown = body_to_json(&body).to_string();
    let again = parse_body(&shown, &Defaults::default())
        .unwrap_or_else(|e| panic!("its own JSON form is refused: {e}\n{shown}"));
    assert_eq!(again, body, "the JSON form does not round-trip:\n{shown}");
});
