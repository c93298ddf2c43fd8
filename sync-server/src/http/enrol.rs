//! `POST /v1/enrol`: a one-time token for a device registration.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use ed25519_dalek::VerifyingKey;
use hearth_shared::DeviceId;
use hearth_shared::protocol::ErrorCode;
use hearth_shared::protocol::{EnrolRequest, EnrolResponse};

use super::metrics::Event;
use super::{ApiError, AppState, Peer, error::blocking};
use crate::backend::Backend;
use crate::keys::token_hash;
use crate::store::EnrolRefusal;

/// The device's public key from the request: 64 hex digits of an ed25519
/// key that is not weak.
fn public_key(hex_key: &str) -> Result<[u8; 32], ApiError> {
    let key_bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| {
            ApiError::bad_request("public_key must be 64 hex digits (an ed25519 public key)")
        })?;
    match VerifyingKey::from_bytes(&key_bytes) {
        Ok(k) if !k.is_weak() => Ok(key_bytes),
        Ok(_) => Err(ApiError::bad_request(
            "public_key is a weak ed25519 key; generate a new key",
        )),
        Err(_) => Err(ApiError::bad_request(
            "public_key is not a valid ed25519 public key",
        )),
    }
}

/// The answer to a refused enrolment.
fn refused(why: &EnrolRefusal, device: DeviceId) -> ApiError {
    let invalid = |m: String| ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::TokenInvalid, m);
    match why {
        EnrolRefusal::UnknownToken => {
            invalid("the enrolment token is not known; ask an administrator for a new one".into())
        }
        EnrolRefusal::Expired(at) => invalid(format!(
            "the enrolment token expired at {at}; ask an administrator for a new one"
        )),
        EnrolRefusal::Used(at) => invalid(format!(
            "the enrolment token was already used at {at}; each token enrols one device"
        )),
        EnrolRefusal::DeviceExists => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::DeviceExists,
            format!("device {device} is already enrolled; a device enrols once"),
        ),
    }
}

/// The handler.
pub async fn enrol<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    body: Bytes,
) -> Result<Json<EnrolResponse>, ApiError> {
    let req = serde_json::from_slice::<EnrolRequest>(&body).map_err(|_| {
        ApiError::bad_request(
            "the body must be JSON {\"token\": ..., \"public_key\": 64 hex digits}",
        )
    })?;
    let key_bytes = public_key(&req.public_key)?;
    let device = DeviceId::from_public_key(&key_bytes);
    let hash = token_hash(req.token.trim());
    let now = st.clock.now();
    let st2 = st.clone();
    let outcome = blocking(move || Ok(st2.store().enrol(&hash, device, key_bytes, now)?)).await?;
    let grant = outcome.map_err(|why| {
        // Logged and counted without the token: an operator alerts on a
        // run of these (someone guessing tokens).
        let reason = match why {
            EnrolRefusal::UnknownToken => "token not known",
            EnrolRefusal::Expired(_) => "token expired",
            EnrolRefusal::Used(_) => "token already used",
            EnrolRefusal::DeviceExists => "device already enrolled",
        };
        if let Some(left_out) = st.counters.count(Event::EnrolFailure) {
            tracing::warn!(%peer, %device, why = reason, left_out, "enrolment refused");
        }
        refused(&why, device)
    })?;
    tracing::info!(%device, agency = %grant.agency, "device enrolled");
    Ok(Json(EnrolResponse {
        device,
        agency: grant.agency,
        worker: grant.worker,
        staff: grant.staff,
        server_key: hex::encode(st.server_key.verifying_key().as_bytes()),
        server_time: now,
        outbox_key: Some(st.outbox.notice.key.clone()),
    }))
}
