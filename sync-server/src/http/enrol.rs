//! `POST /v1/enrol`: a one-time token for a device registration.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ed25519_dalek::VerifyingKey;
use hearth_shared::DeviceId;
use hearth_shared::protocol::{EnrolRequest, EnrolResponse, ErrorCode};

use super::metrics::Event;
use super::{AppState, Peer, error, internal};
use crate::keys::token_hash;
use crate::store::{EnrolRefusal, Store};

/// The handler.
pub async fn enrol(State(st): State<AppState>, peer: Peer, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<EnrolRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "the body must be JSON {\"token\": ..., \"public_key\": 64 hex digits}",
        );
    };
    let key_bytes: Option<[u8; 32]> = hex::decode(req.public_key.trim())
        .ok()
        .and_then(|v| v.try_into().ok());
    let Some(key_bytes) = key_bytes else {
        return error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "public_key must be 64 hex digits (an ed25519 public key)",
        );
    };
    let key = match VerifyingKey::from_bytes(&key_bytes) {
        Ok(k) if !k.is_weak() => k,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "public_key is a weak ed25519 key; generate a new key",
            );
        }
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "public_key is not a valid ed25519 public key",
            );
        }
    };
    let device = DeviceId::from_public_key(key.as_bytes());
    let hash = token_hash(req.token.trim());
    let now = st.clock.now();
    let st2 = st.clone();
    let result =
        tokio::task::spawn_blocking(move || st2.store()?.enrol(&hash, device, key_bytes, now))
            .await;
    let outcome = match result {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return internal(&e),
        Err(e) => return internal(&e),
    };
    if let Err(why) = &outcome {
        // Logged and counted without the token: an operator alerts on a
        // run of these (someone guessing tokens).
        let why = match why {
            EnrolRefusal::UnknownToken => "token not known",
            EnrolRefusal::Expired(_) => "token expired",
            EnrolRefusal::Used(_) => "token already used",
            EnrolRefusal::DeviceExists => "device already enrolled",
        };
        if let Some(left_out) = st.counters.count(Event::EnrolFailure) {
            tracing::warn!(%peer, %device, why, left_out, "enrolment refused");
        }
    }
    match outcome {
        Ok(grant) => {
            tracing::info!(%device, agency = %grant.agency, "device enrolled");
            axum::Json(EnrolResponse {
                device,
                agency: grant.agency,
                worker: grant.worker,
                staff: grant.staff,
                server_key: hex::encode(st.server_key.verifying_key().as_bytes()),
                server_time: now,
            })
            .into_response()
        }
        Err(EnrolRefusal::UnknownToken) => error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenInvalid,
            "the enrolment token is not known; ask an administrator for a new one",
        ),
        Err(EnrolRefusal::Expired(at)) => error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenInvalid,
            format!("the enrolment token expired at {at}; ask an administrator for a new one"),
        ),
        Err(EnrolRefusal::Used(at)) => error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenInvalid,
            format!("the enrolment token was already used at {at}; each token enrols one device"),
        ),
        Err(EnrolRefusal::DeviceExists) => error(
            StatusCode::CONFLICT,
            ErrorCode::DeviceExists,
            format!("device {device} is already enrolled; a device enrols once"),
        ),
    }
}
