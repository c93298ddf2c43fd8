//! Issue 20: an agent from before protocol 2 still syncs against today's
//! server. [`OldAgent`] is a copy of the agent protocol as `main` spoke it
//! before compression (its `Transport::post`, `fetch_caseload` and
//! `parse_ok`): plain postcard batches, no `Accept-Encoding`, no
//! `Content-Encoding`, answers read as text and parsed as JSON, the
//! caseload's bytes read as they come. Against the new server it enrols,
//! uploads more than one batch, gets receipts that verify, a duplicate on
//! a resend and a caseload that verifies; the server answered it plain
//! every time and inflated nothing.

use ed25519_dalek::{SigningKey, VerifyingKey};
use hearth_e2e::http;
use hearth_e2e::server::Server;
use hearth_shared::caseload::{Caseload, CaseloadRequest};
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::protocol::{
    BATCH_CONTENT_TYPE, EnrolResponse, UploadBatch, UploadResponse, VerdictStatus,
};
use hearth_shared::{DeviceId, Envelope, Receipt, RecordHash, Seq, SignedRecord, Text, Timestamp};
use serde_json::json;

use crate::fixture::*;

/// Today's agent protocol (before issue 20), copied here so that the new
/// server is held to it whatever the agent becomes.
struct OldAgent {
    key: SigningKey,
    server_key: Option<VerifyingKey>,
    client: ureq::Agent,
    url: String,
}

/// An answer: status, `Content-Encoding` (which the old agent never
/// read; kept to show the server sent none) and body.
struct Answer {
    status: u16,
    encoding: Option<String>,
    body: Vec<u8>,
}

impl OldAgent {
    fn new(server: &Server) -> Self {
        Self {
            key: SigningKey::from_bytes(&[20; 32]),
            server_key: None,
            client: http::client(server.data()),
            url: server.url(),
        }
    }

    fn id(&self) -> DeviceId {
        DeviceId::from_public_key(self.key.verifying_key().as_bytes())
    }

    /// Today's `Transport::post`: only `Content-Type`, the body as it is.
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let mut resp = self
            .client
            .post(format!("{}{path}", self.url))
            .header("Content-Type", content_type)
            .send(body)
            .expect("the server answers");
        let encoding = resp
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        Answer {
            status: resp.status().as_u16(),
            encoding,
            body: resp.body_mut().read_to_vec().unwrap(),
        }
    }

    /// Today's `parse_ok` for a 200: the body as UTF-8 text, for JSON.
    fn text(answer: &Answer) -> &str {
        assert_eq!(answer.encoding, None, "an old agent asked for no encoding");
        let text = std::str::from_utf8(&answer.body).expect("a JSON answer is text");
        assert_eq!(answer.status, 200, "{text}");
        text
    }

    fn enrol(&mut self, server: &Server) {
        let token = server.enrol_token("NURSERY-12", "w1");
        let body = json!({
            "token": token,
            "public_key": hex::encode(self.key.verifying_key().as_bytes()),
        });
        let answer = self.post("/v1/enrol", "application/json", body.to_string().into());
        let enrolled: EnrolResponse = serde_json::from_str(Self::text(&answer)).unwrap();
        let key = hex::decode(&enrolled.server_key).unwrap();
        self.server_key = Some(VerifyingKey::from_bytes(&key.try_into().unwrap()).unwrap());
    }

    /// `n` records of child A in a chain after `prev`, from `first`.
    fn records(&self, first: u64, prev: RecordHash, n: u64) -> Vec<SignedRecord> {
        let defaults = Defaults {
            author: Text::try_from_str("w1").unwrap(),
            agency: Text::try_from_str("NURSERY-12").unwrap(),
        };
        let t = now();
        let mut prev = prev;
        (first..first + n)
            .map(|seq| {
                let json = daily(CHILD_A, t - 600 - seq as i64, &format!("Old agent {seq}"));
                let body = parse_body(&json.to_string(), &defaults).unwrap();
                let envelope = Envelope {
                    version: body.format_version(),
                    device: self.id(),
                    seq: Seq(seq),
                    prev,
                    device_time: Timestamp(t),
                    body,
                };
                let signed = SignedRecord::sign(&self.key, &envelope).unwrap();
                prev = signed.hash();
                signed
            })
            .collect()
    }

    /// Today's `upload`: a postcard `UploadBatch`, plain.
    fn upload(&self, records: &[SignedRecord]) -> UploadResponse {
        let batch = UploadBatch::new(
            &self.key,
            Timestamp(now()),
            records.iter().map(|r| r.as_bytes().to_vec()).collect(),
        );
        let answer = self.post(
            "/v1/sync",
            BATCH_CONTENT_TYPE,
            postcard::to_allocvec(&batch).unwrap(),
        );
        serde_json::from_str(Self::text(&answer)).expect("the answer as today's agent reads it")
    }

    /// Today's `fetch_caseload`: the JSON request, the bytes as they come.
    fn caseload(&self) -> Answer {
        let request = CaseloadRequest::new(&self.key, Timestamp(now()));
        self.post(
            "/v1/caseload",
            "application/json",
            serde_json::to_vec(&request).unwrap(),
        )
    }
}

#[test]
fn issue_20_an_agent_from_before_protocol_2_still_syncs() {
    let server = Server::start();
    let mut old = OldAgent::new(&server);
    old.enrol(&server);
    // 150 records in two batches, at most 100 each, as the agent sends.
    let first = old.records(1, RecordHash::GENESIS, 100);
    let second = old.records(101, first[99].hash(), 50);
    for batch in [&first, &second] {
        let answer = old.upload(batch);
        assert!(
            answer
                .verdicts
                .iter()
                .all(|v| v.status == VerdictStatus::Accepted),
            "{:?}",
            answer.verdicts
        );
        let receipt = answer.receipts.last().expect("a receipt");
        let receipt = Receipt::verify(
            old.server_key.as_ref().unwrap(),
            &hex::decode(receipt).unwrap(),
        )
        .expect("the receipt verifies with the key pinned at enrolment");
        assert_eq!(receipt.last_hash, batch.last().unwrap().hash());
    }
    // A resend is a duplicate: stored once, byte for byte.
    let again = old.upload(&second);
    assert!(
        again
            .verdicts
            .iter()
            .all(|v| v.status == VerdictStatus::Duplicate)
    );
    assert_eq!(record_counts(&server, CHILD_A).len(), 150);

    let caseload = old.caseload();
    assert_eq!(caseload.status, 200);
    assert_eq!(caseload.encoding, None);
    Caseload::verify(
        &caseload.body,
        old.server_key.as_ref().unwrap(),
        old.id(),
        None,
    )
    .expect("the caseload verifies as today's agent checks it");

    // The server inflated nothing and compressed nothing for it.
    for counter in [
        "hearth_deflated_requests_total",
        "hearth_deflated_answers_total",
    ] {
        assert_eq!(server.metric(counter), 0, "{counter}");
    }
}
