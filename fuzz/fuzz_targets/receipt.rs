//! `receipt`: the agent's handling of the server's answer to a batch: the
//! body of a `200` to `POST /v1/sync`, parsed as the transport parses it
//! ([`hearth_agent::sync::transport::parse_ok`]) and judged as sync judges
//! it ([`hearth_agent::sync::plan::judge`]) for a batch of the golden
//! chain's ten records.
//!
//! An answer that is not understood, and a receipt that is not trusted,
//! are shown to the operator: those lines must be one line with nothing
//! hidden.
//!
//! A receipt the fuzzer wrote cannot carry the server's signature, so the
//! answer is judged twice: as it came, and with each receipt's bytes
//! signed by the pinned server key (as a genuine but buggy or hostile
//! server would), so that what lies behind the signature is reached.
#![no_main]

use hearth_agent::sync::plan::{Judgement, judge};
use hearth_agent::sync::transport::parse_ok;
use hearth_fuzz::{assert_printable, device, our_hash, server_key};
use hearth_shared::protocol::{UploadResponse, VerdictStatus};
use hearth_shared::receipt::RECEIPT_DOMAIN;
use hearth_shared::signed::{SIGNATURE_LEN, sign_with_domain};
use hearth_shared::{Receipt, Seq};
use libfuzzer_sys::fuzz_target;

/// What must hold of any judgement of `response` to a batch of `sent`.
fn check(sent: &[Seq], response: &UploadResponse, j: &Judgement) {
    let server = server_key().verifying_key();
    for r in &j.outcome.receipts {
        let receipt = Receipt::verify(&server, &r.signed).expect("a kept receipt verifies");
        assert_eq!(receipt.device, device(), "a kept receipt of another device");
        assert!(r.first <= r.last, "a kept receipt with a backwards range");
        assert_eq!(
            our_hash(r.last),
            Some(r.last_hash),
            "a kept receipt with another hash"
        );
        assert_eq!((receipt.first, receipt.last), (r.first, r.last));
    }
    for (i, &seq) in sent.iter().enumerate() {
        let synced = j.outcome.synced.contains(&seq);
        let refused = j.outcome.refused.iter().any(|r| r.0 == seq);
        let unconfirmed = j.unconfirmed.contains(&seq);
        assert_eq!(
            u8::from(synced) + u8::from(refused) + u8::from(unconfirmed),
            1,
            "record {seq} is not in exactly one of synced, refused, unconfirmed"
        );
        if synced {
            assert!(
                j.outcome
                    .receipts
                    .iter()
                    .any(|r| r.first <= seq && seq <= r.last),
                "record {seq} synced with no receipt covering it"
            );
        }
        if refused {
            let v = response
                .verdicts
                .iter()
                .find(|v| v.index as usize == i)
                .expect("a refusal has its verdict");
            assert!(matches!(
                v.status,
                VerdictStatus::Rejected | VerdictStatus::Quarantined
            ));
            assert!(
                v.seq.is_none_or(|s| s == seq),
                "refused by another record's verdict"
            );
        }
    }
}

/// Each receipt's bytes (less any signature) signed by the server key.
fn resigned(response: &UploadResponse) -> UploadResponse {
    let key = server_key();
    let mut out = response.clone();
    for text in &mut out.receipts {
        let Ok(bytes) = hex::decode(&*text) else {
            continue;
        };
        let body = &bytes[..bytes.len().saturating_sub(SIGNATURE_LEN)];
        let mut signed = body.to_vec();
        signed.extend_from_slice(&sign_with_domain(&key, RECEIPT_DOMAIN, body).to_bytes());
        *text = hex::encode(signed);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let response = match parse_ok::<UploadResponse>(200, &text) {
        Ok(response) => response,
        Err(e) => return assert_printable(&e.to_string()),
    };
    let server = server_key().verifying_key();
    let sent: Vec<Seq> = (1..=10).map(Seq).collect();
    for response in [response.clone(), resigned(&response)] {
        let j = judge(device(), &server, &sent, &response, &our_hash);
        check(&sent, &response, &j);
        for problem in &j.problems {
            assert_printable(&problem.to_string());
        }
    }
});
