//! [`ProtocolDevice`]: a device that enrols and asks for its caseload by
//! speaking the protocol itself (`POST /v1/enrol`, `POST /v1/caseload`),
//! so a test can hold the signed caseload's bytes and check them against
//! the server's receipt key, or send a request the agent never would (a
//! stale clock, a bad signature).

use ed25519_dalek::{SigningKey, VerifyingKey};
use hearth_shared::caseload::CaseloadRequest;
use hearth_shared::{DeviceId, Timestamp};
use serde_json::{Value, json};

use crate::http;
use crate::server::Server;

/// An enrolled device with a key the test holds.
pub struct ProtocolDevice {
    key: SigningKey,
    /// The server's receipt key, as the enrolment answer gave it.
    pub server_key: VerifyingKey,
}

/// The answer to `POST /v1/caseload`: status, content type and body.
pub struct CaseloadReply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl CaseloadReply {
    /// The body as JSON (an `ErrorBody` for a refusal).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

impl ProtocolDevice {
    /// Enrols a device with the key made from `seed`, for `agency` and
    /// `worker`.
    pub fn enrol(server: &Server, seed: u8, agency: &str, worker: &str) -> Self {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let token = server.enrol_token(agency, worker);
        let body = json!({
            "token": token,
            "public_key": hex::encode(key.verifying_key().as_bytes()),
        });
        let mut resp = http::client(server.data())
            .post(format!("{}/v1/enrol", server.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("POST /v1/enrol");
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(resp.status(), 200, "enrolment: {text}");
        let answer: Value = serde_json::from_str(&text).expect("an enrolment answer");
        let server_key = answer["server_key"]
            .as_str()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .unwrap_or_else(|| panic!("the enrolment answer names the server key: {answer}"));
        Self { key, server_key }
    }

    /// The device id.
    pub fn id(&self) -> DeviceId {
        DeviceId::from_public_key(self.key.verifying_key().as_bytes())
    }

    /// A caseload request signed by this device at `device_time`.
    pub fn request(&self, device_time: i64) -> CaseloadRequest {
        CaseloadRequest::new(&self.key, Timestamp(device_time))
    }

    /// `POST /v1/caseload` with `body` (a request as JSON).
    pub fn post(server: &Server, body: &Value) -> CaseloadReply {
        let mut resp = http::client(server.data())
            .post(format!("{}/v1/caseload", server.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("POST /v1/caseload");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .body_mut()
            .with_config()
            .limit(4 << 20)
            .read_to_vec()
            .unwrap_or_default();
        CaseloadReply {
            status: resp.status().as_u16(),
            content_type,
            body,
        }
    }

    /// Asks for the caseload with a request signed at `device_time`.
    pub fn fetch(&self, server: &Server, device_time: i64) -> CaseloadReply {
        let req = serde_json::to_value(self.request(device_time)).expect("a request serializes");
        Self::post(server, &req)
    }
}
