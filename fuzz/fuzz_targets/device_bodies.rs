//! The other bodies a device sends: `POST /v1/enrol` (JSON: a token and a
//! public key) and `POST /v1/outbox` (postcard: sealed boxes, each holding
//! a signed record), through the real router and a fresh SQLite store per
//! input (see `server/mod.rs`).
//!
//! The first byte picks the mode: 0 an enrolment body as sent, 1 an
//! enrolment built from a known, spent or unknown token and a chosen key,
//! 2 an outbox body as sent, 3 an outbox upload built from valid records
//! sealed to the server's key (or another), one part broken at will.
//!
//! Invariants, beyond "no panic": no input gets a server error; a fresh
//! token with a valid key enrols (200) exactly once, and a second use is
//! refused (401); a spent or unknown token is refused; an upload whose
//! boxes all open and hold records the device signed is answered with one
//! verdict per box, and an upload from an unknown or revoked device, or
//! holding a box that does not open, is refused as unauthenticated.

#![no_main]

#[allow(dead_code)]
mod server;

use arbitrary::{Arbitrary, Unstructured};
use axum::http::StatusCode;
use hearth_shared::protocol::{OutboxUpload, UploadResponse, seal_record};
use hearth_shared::{DeviceId, RecordHash, Seq};
use libfuzzer_sys::fuzz_target;

use server::records::{BodyPlan, Corrupt, hash_of, signed_bytes};
use server::{
    ENROLLED, Instance, REVOKED, SPENT_TOKEN, STRANGER, TOKENS, Template, key, no_server_error,
};

#[derive(Arbitrary, Debug)]
enum TokenPlan {
    Fresh(bool),
    Spent,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum KeyPlan {
    Seed(u8),
    Enrolled,
    Hex(String),
}

#[derive(Arbitrary, Debug)]
struct EnrolPlan {
    token: TokenPlan,
    key: KeyPlan,
    padding: bool,
    twice: bool,
}

#[derive(Arbitrary, Debug)]
enum Sender {
    Enrolled,
    Revoked,
    Unknown,
}

#[derive(Arbitrary, Debug)]
struct BoxPlan {
    body: BodyPlan,
    corrupt: Corrupt,
    wrong_recipient: bool,
    chained: bool,
}

#[derive(Arbitrary, Debug)]
struct OutboxPlan {
    sender: Sender,
    boxes: Vec<BoxPlan>,
}

fn enrol(server: &Instance, plan: &EnrolPlan) {
    let (token, fresh) = match &plan.token {
        TokenPlan::Fresh(second) => (TOKENS[usize::from(*second)].to_string(), true),
        TokenPlan::Spent => (SPENT_TOKEN.to_string(), false),
        TokenPlan::Other(t) => (t.clone(), TOKENS.contains(&t.trim())),
    };
    let (public_key, valid) = match &plan.key {
        KeyPlan::Seed(s) => {
            let seed = s.saturating_add(100);
            (hex(key(seed).verifying_key().as_bytes()), true)
        }
        KeyPlan::Enrolled => (hex(key(ENROLLED[0]).verifying_key().as_bytes()), false),
        KeyPlan::Hex(h) => (h.clone(), false),
    };
    let public_key = if plan.padding {
        format!(" {public_key}\n")
    } else {
        public_key
    };
    let body = serde_json::json!({"token": token, "public_key": public_key}).to_string();
    let (status, answer) = server.post("/v1/enrol", None, body.clone().into_bytes());
    no_server_error("enrol", status, &answer);
    if fresh && valid {
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
    } else if !fresh && !matches!(plan.token, TokenPlan::Other(_)) {
        assert_ne!(status, StatusCode::OK, "a spent token enrolled a device");
    }
    if plan.twice {
        let (again, answer) = server.post("/v1/enrol", None, body.into_bytes());
        no_server_error("enrol again", again, &answer);
        if status == StatusCode::OK {
            assert_ne!(again, StatusCode::OK, "a token enrolled twice");
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn outbox(server: &Instance, plan: &OutboxPlan) {
    let seed = match plan.sender {
        Sender::Enrolled => ENROLLED[0],
        Sender::Revoked => ENROLLED[REVOKED],
        Sender::Unknown => STRANGER,
    };
    let k = key(seed);
    let devices = [DeviceId::from_public_key(k.verifying_key().as_bytes())];
    let recipient = Template::get().outbox_public();
    let mut prev = RecordHash::GENESIS;
    let mut boxes = Vec::new();
    let mut all_open = true;
    let mut all_signed = true;
    for (i, b) in plan.boxes.iter().take(8).enumerate() {
        let seq = Seq(i as u64 + 1);
        let Some(env) = b.body.envelope(&k, &devices, seq, prev, 0) else {
            continue;
        };
        let bytes = signed_bytes(&k, &env, b.corrupt);
        if b.chained {
            prev = hash_of(&bytes);
        }
        all_signed &= matches!(b.corrupt, Corrupt::None | Corrupt::Resigned { .. });
        all_open &= !b.wrong_recipient;
        let to = if b.wrong_recipient {
            [5; 32]
        } else {
            recipient
        };
        boxes.push(seal_record(&to, [i as u8 + 1; 32], [i as u8; 24], &bytes));
    }
    let upload = OutboxUpload {
        device: devices[0],
        boxes,
    };
    let body = postcard::to_allocvec(&upload).expect("an upload encodes");
    let (status, answer) = server.post("/v1/outbox", None, body);
    no_server_error("outbox", status, &answer);
    if upload.boxes.is_empty() {
        assert_eq!(status, StatusCode::BAD_REQUEST, "an empty upload");
    } else if !matches!(plan.sender, Sender::Enrolled) || !all_open {
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "an upload that does not authenticate"
        );
    } else if all_signed {
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let r: UploadResponse = serde_json::from_slice(&answer).expect("the response is JSON");
        assert_eq!(r.verdicts.len(), upload.boxes.len(), "one verdict per box");
    } else {
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a box not signed by the device"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let server = Instance::fresh();
    let mut u = Unstructured::new(rest);
    match mode % 4 {
        0 => {
            let (status, answer) = server.post("/v1/enrol", None, rest.to_vec());
            no_server_error("enrol (raw body)", status, &answer);
        }
        1 => {
            if let Ok(plan) = EnrolPlan::arbitrary(&mut u) {
                enrol(&server, &plan);
            }
        }
        2 => {
            let (status, answer) = server.post("/v1/outbox", None, rest.to_vec());
            no_server_error("outbox (raw body)", status, &answer);
        }
        _ => {
            if let Ok(plan) = OutboxPlan::arbitrary(&mut u) {
                outbox(&server, &plan);
            }
        }
    }
});
