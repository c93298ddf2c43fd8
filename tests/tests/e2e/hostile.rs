//! Scenario 4: hostile input. A tampered record, a forged record, a record
//! replayed from another device, a forked record, an oversize record, a
//! garbage body and an oversize body are each refused with a reason, and
//! the server keeps serving everyone else.

use ed25519_dalek::SigningKey;
use hearth_e2e::http;
use hearth_e2e::server::Server;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::protocol::{BATCH_CONTENT_TYPE, UploadBatch, UploadResponse, VerdictStatus};
use hearth_shared::{
    DeviceId, Envelope, FORMAT_VERSION, MAX_SIGNED_SIZE, RecordHash, Seq, SignedRecord, Text,
    Timestamp,
};
use serde_json::{Value, json};

use crate::fixture::*;

/// A device that speaks the protocol itself (a hostile signer: it signs
/// whatever it is told, bypassing the agent's checks).
pub(crate) struct Device {
    key: SigningKey,
    /// The agency it enrols for and writes in its records.
    agency: &'static str,
}

impl Device {
    pub(crate) fn new(seed: u8, agency: &'static str) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            agency,
        }
    }

    pub(crate) fn id(&self) -> DeviceId {
        DeviceId::from_public_key(self.key.verifying_key().as_bytes())
    }

    pub(crate) fn enrol(&self, server: &Server) {
        let token = server.enrol_token(self.agency, "w1");
        let body = json!({
            "token": token,
            "public_key": hex::encode(self.key.verifying_key().as_bytes()),
        });
        let mut resp = http::client(server.data())
            .post(format!("{}/v1/enrol", server.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "{}",
            resp.body_mut().read_to_string().unwrap()
        );
    }

    /// A signed record `seq` after `prev`, claiming to be from `device`.
    fn record(&self, device: DeviceId, seq: u64, prev: RecordHash, headline: &str) -> SignedRecord {
        self.sign(device, seq, prev, &daily(CHILD_A, now() - 60, headline))
    }

    /// Signs any body as record `seq` after `prev` of `device`; the agency
    /// defaults to the device's, the author to `w1`.
    pub(crate) fn sign(
        &self,
        device: DeviceId,
        seq: u64,
        prev: RecordHash,
        json: &Value,
    ) -> SignedRecord {
        let json = json.to_string();
        let defaults = Defaults {
            author: Text::try_from_str("w1").unwrap(),
            agency: Text::try_from_str(self.agency).unwrap(),
        };
        let body = parse_body(&json, &defaults).unwrap();
        let envelope = Envelope {
            version: body.format_version(),
            device,
            seq: Seq(seq),
            prev,
            device_time: Timestamp(now()),
            body,
        };
        SignedRecord::sign(&self.key, &envelope).unwrap()
    }

    fn own(&self, seq: u64, prev: RecordHash, headline: &str) -> SignedRecord {
        self.record(self.id(), seq, prev, headline)
    }

    /// `envelope` followed by this device's record signature over it,
    /// whatever it holds: a genuine record that may break every rule.
    pub(crate) fn sign_raw(&self, envelope: &[u8]) -> Vec<u8> {
        let sig = hearth_shared::signed::sign_envelope_bytes(&self.key, envelope);
        [envelope, &sig.to_bytes()[..]].concat()
    }

    pub(crate) fn upload(&self, server: &Server, records: Vec<Vec<u8>>) -> (u16, String) {
        let batch = UploadBatch::new(&self.key, Timestamp(now()), records);
        post(server, postcard::to_allocvec(&batch).unwrap())
    }
}

fn post(server: &Server, body: Vec<u8>) -> (u16, String) {
    try_post(server, body).unwrap()
}

fn try_post(server: &Server, body: Vec<u8>) -> Result<(u16, String), ureq::Error> {
    let mut resp = http::client(server.data())
        .post(format!("{}/v1/sync", server.url()))
        .header("Content-Type", BATCH_CONTENT_TYPE)
        .send(body)?;
    Ok((resp.status().as_u16(), resp.body_mut().read_to_string()?))
}

/// The single verdict of a one-record upload: status and reason.
pub(crate) fn verdict(response: (u16, String)) -> (VerdictStatus, String) {
    assert_eq!(response.0, 200, "{}", response.1);
    let r: UploadResponse = serde_json::from_str(&response.1).unwrap();
    assert_eq!(r.verdicts.len(), 1);
    (r.verdicts[0].status, r.verdicts[0].reason.clone())
}

fn error_code(response: &(u16, String)) -> String {
    let v: Value = serde_json::from_str(&response.1).unwrap_or_default();
    v["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn hostile_input_is_refused_with_reasons_and_the_server_keeps_serving() {
    let server = Server::start_with(&["--max-body-bytes", "65536"]);
    let a = Device::new(31, "NURSERY-12");
    let b = Device::new(32, "HV-NORTH");
    a.enrol(&server);
    b.enrol(&server);
    let never_enrolled = Device::new(33, "NURSERY-12");

    let a1 = a.own(1, RecordHash::GENESIS, "Genuine first record");
    assert_eq!(
        verdict(a.upload(&server, vec![a1.as_bytes().to_vec()])).0,
        VerdictStatus::Accepted
    );

    // Tampered: one byte of the body changed after signing.
    let a2 = a.own(2, a1.hash(), "Genuine second record");
    let mut tampered = a2.as_bytes().to_vec();
    let at = tampered.len() - 64 - 10;
    tampered[at] ^= 0x20;
    let (status, reason) = verdict(a.upload(&server, vec![tampered]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("signature"), "{reason}");

    // Forged: claims to be device A's, signed by a key never enrolled.
    let forged = never_enrolled.record(a.id(), 2, a1.hash(), "Forged");
    let (status, reason) = verdict(a.upload(&server, vec![forged.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("signature"), "{reason}");

    // A never-enrolled device cannot upload at all.
    let (code, body) = never_enrolled.upload(&server, vec![]);
    assert_eq!(code, 401, "{body}");

    // Replayed from another device: B uploads A's genuine record.
    let (status, reason) = verdict(b.upload(&server, vec![a1.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(!reason.is_empty());

    // Forked: a different record at A's sequence number 1.
    let fork = a.own(1, RecordHash::GENESIS, "A second history");
    let (status, reason) = verdict(a.upload(&server, vec![fork.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Quarantined);
    assert!(!reason.is_empty());

    // Oversize record.
    let mut huge = vec![FORMAT_VERSION];
    huge.resize(MAX_SIGNED_SIZE + 100, b'x');
    let (status, reason) = verdict(a.upload(&server, vec![huge]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("limit"), "{reason}");

    // Garbage body.
    let garbage = post(&server, b"\xff\xfe this is not a batch".to_vec());
    assert_eq!(garbage.0, 400, "{}", garbage.1);
    assert_eq!(error_code(&garbage), "bad_batch");

    // Oversize body. The server answers 413 and closes without reading the
    // rest; if the client is still writing when the close arrives, TCP may
    // reset the connection before the answer is read. That is the server
    // refusing too, but the test wants to see the reason, so it tries again.
    let oversize = (0..5)
        .find_map(|_| try_post(&server, vec![0u8; 100_000]).ok())
        .expect("the 413 answer arrives on at least one of five tries");
    assert_eq!(oversize.0, 413, "{}", oversize.1);
    assert_eq!(error_code(&oversize), "body_too_large");

    // Everyone else is still served.
    assert_eq!(
        verdict(a.upload(&server, vec![a2.as_bytes().to_vec()])).0,
        VerdictStatus::Accepted
    );
    let b1 = b.own(1, RecordHash::GENESIS, "B's first record");
    assert_eq!(
        verdict(b.upload(&server, vec![b1.as_bytes().to_vec()])).0,
        VerdictStatus::Accepted
    );

    // Nothing refused was dropped: it is all held with its reason.
    let held: Value = serde_json::from_str(&server.admin_ok(&[
        "quarantine",
        "--json",
        "--reason",
        "triage of hostile input",
    ]))
    .unwrap();
    let held = held["held"].as_array().unwrap();
    assert!(
        held.len() >= 5,
        "tampered, forged, replayed, forked (both) and oversize are kept: {held:?}"
    );
    assert!(
        held.iter()
            .all(|h| !h["reason"].as_str().unwrap_or_default().is_empty())
    );
}
