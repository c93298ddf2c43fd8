//! `caseload`: the signed caseload the agent decodes at sync
//! ([`hearth_shared::caseload::Caseload::verify`], then what the agent
//! makes of it: the form's choices and the warning line), and the device's
//! caseload request as the server reads and verifies it (JSON, then
//! [`hearth_shared::caseload::CaseloadRequest::verify`]).
//!
//! The input is tried three ways: as signed caseload bytes; as the
//! caseload's bytes signed by the pinned server key (as the genuine server
//! would), so that the decoder behind the signature is reached; and as a
//! request body.
#![no_main]

use hearth_agent::sync::caseload::{CaseloadOutcome, warning};
use hearth_fuzz::{device, device_key, server_key};
use hearth_shared::Timestamp;
use hearth_shared::caseload::{
    CASELOAD_DOMAIN, Caseload, CaseloadRefusal, CaseloadRequest, MAX_CASELOAD_BYTES,
};
use hearth_shared::signed::sign_with_domain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let server = server_key();
    let pinned = server.verifying_key();
    let _ = Caseload::verify(data, &pinned, device(), None);

    let mut signed = data.to_vec();
    signed.extend_from_slice(&sign_with_domain(&server, CASELOAD_DOMAIN, data).to_bytes());
    match Caseload::verify(&signed, &pinned, device(), None) {
        Ok(caseload) => {
            assert_eq!(caseload.device, device());
            let choices = hearth_agent::caseload::choices(&caseload);
            assert_eq!(choices.len(), caseload.children.len());
            let _ = format!("{} {}", caseload.issued_at, caseload.issued_at.date());
            if let Some(later) = caseload.issued_at.0.checked_add(1) {
                let held = Some(Timestamp(later));
                let refusal = Caseload::verify(&signed, &pinned, device(), held)
                    .expect_err("an older caseload is taken");
                assert_eq!(refusal, CaseloadRefusal::Older);
                let line = warning(&CaseloadOutcome::Refused { refusal, held });
                assert!(line.is_some_and(|l| !l.is_empty()));
            }
        }
        Err(CaseloadRefusal::BadSignature) => {
            panic!("the pinned key's caseload failed its signature")
        }
        Err(CaseloadRefusal::Malformed) if signed.len() > MAX_CASELOAD_BYTES => {}
        Err(e) => assert!(matches!(
            e,
            CaseloadRefusal::Malformed | CaseloadRefusal::OtherDevice
        )),
    }

    if let Ok(request) = serde_json::from_slice::<CaseloadRequest>(data) {
        let genuine = device_key().verifying_key();
        if request.verify(&genuine) {
            let again = CaseloadRequest::new(&device_key(), request.device_time);
            assert!(again.verify(&genuine));
        }
    }
});
