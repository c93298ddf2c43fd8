//! `POST /v1/sync`: a batch of one device's signed records.
//!
//! Order of checks: body size and the in-flight body budget
//! ([`super::admit::BodyBudget`]), postcard shape, record count, device
//! known and batch signature (which authenticates the clock report), then
//! revocation, then each record ([`crate::ingest::precheck`] here, off the
//! writer; the chain and the writes on the writer thread). Receipts are
//! signed only after the writer reports the commit.
//!
//! An unknown device and a signature that does not verify get the same
//! 401 `unauthenticated`, so an unauthenticated peer learns nothing about
//! which devices exist or are revoked; only a batch signed by a revoked
//! device is told of its revocation (and why).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ed25519_dalek::VerifyingKey;
use hearth_shared::protocol::{
    ErrorBody, ErrorCode, RevocationNotice, UploadBatch, UploadResponse, VerdictStatus,
};

use super::admit::BodyError;
use super::metrics::Event;
use super::{AppState, Peer, error, internal};
use crate::ingest::{BatchJob, precheck};
use crate::receipt::sign_receipts;
use crate::store::Store;

/// Why a batch was refused before ingest.
enum Refused {
    /// It did not authenticate (the reason is for the log only).
    Auth(&'static str),
    /// Anything else, with its answer.
    Response(Response),
}

/// The answer to a batch that does not authenticate, whatever the cause.
fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        "this server does not recognise the batch's device and signature: check the server address, and that this device was enrolled here (else enrol it again with a new token)",
    )
}

fn too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BodyTooLarge,
        format!(
            "the request body is over the limit of {limit} bytes; send fewer records per batch"
        ),
    )
}

/// The handler.
pub async fn sync(State(st): State<AppState>, peer: Peer, body: Body) -> Response {
    let limit = st.limits.max_body_bytes;
    let (body, _held) = match st.budget.read(body, limit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(limit),
        Err(BodyError::Busy) => {
            if let Some(left_out) = st.counters.count(Event::BodyRefused) {
                tracing::warn!(%peer, left_out, "batch refused: the in-flight body budget is spent");
            }
            return (
                [(header::RETRY_AFTER, "60")],
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Busy,
                    "the server is receiving too much at once; nothing was stored; retry in a minute",
                ),
            )
                .into_response();
        }
        Err(BodyError::Read) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadBatch,
                "the request body could not be read",
            );
        }
    };
    let batch = match postcard::take_from_bytes::<UploadBatch>(&body) {
        Ok((b, [])) => b,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadBatch,
                "the body is not a postcard UploadBatch (content type application/x-hearth-batch)",
            );
        }
    };
    // The records are copied out; the buffer's budget stays held (it now
    // stands for the decoded batch) until the request ends.
    drop(body);
    if batch.records.len() > st.limits.max_batch_records {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BatchTooLarge,
            format!(
                "the batch has {} records; the limit is {}; send smaller batches",
                batch.records.len(),
                st.limits.max_batch_records
            ),
        );
    }
    let received_at = st.clock.now();
    let device_claimed = batch.device;
    let st2 = st.clone();
    let checked = tokio::task::spawn_blocking(
        move || -> Result<Result<BatchJob, Refused>, crate::store::StoreError> {
            let store = st2.store()?;
            // Authenticate before saying anything about the device.
            let Some(device) = store.device(batch.device)? else {
                return Ok(Err(Refused::Auth("unknown device")));
            };
            let Ok(key) = VerifyingKey::from_bytes(&device.public_key) else {
                return Err(crate::store::StoreError::Corrupt("a device key"));
            };
            if !batch.verify_auth(&key) {
                return Ok(Err(Refused::Auth("header signature does not verify")));
            }
            if let Some(r) = &device.revoked {
                // Signed, so that the tablet destroys its data key only on
                // the word of the server it pinned at enrolment.
                let body = ErrorBody {
                    error: ErrorCode::DeviceRevoked,
                    message: format!("device {} was revoked at {}: {}", device.id, r.at, r.reason),
                    revocation: Some(RevocationNotice::sign(&st2.server_key, device.id, r.at)),
                };
                return Ok(Err(Refused::Response(
                    (StatusCode::FORBIDDEN, Json(body)).into_response(),
                )));
            }
            if !batch.device_time.in_range() {
                return Ok(Err(Refused::Response(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadBatch,
                    format!(
                        "the device clock reads {}, outside the years 1900 to 2199; set the tablet's date and time",
                        batch.device_time.0
                    ),
                ))));
            }
            let max = st2.limits.max_record_bytes;
            let records = batch
                .records
                .into_iter()
                .map(|r| precheck(&key, r, max))
                .collect();
            Ok(Ok(BatchJob {
                device: device.id,
                device_time: batch.device_time,
                received_at,
                records,
                late_entry_secs: st2.limits.late_entry_secs,
                quarantine_budget: st2.limits.quarantine_budget_bytes,
            }))
        },
    )
    .await;
    let job = match checked {
        Ok(Ok(Ok(job))) => job,
        Ok(Ok(Err(Refused::Response(r)))) => return r,
        Ok(Ok(Err(Refused::Auth(why)))) => {
            if let Some(left_out) = st.counters.count(Event::BatchAuthFailure) {
                tracing::warn!(%peer, claimed_device = %device_claimed, why, left_out, "batch refused: not authenticated");
            }
            return unauthenticated();
        }
        Ok(Err(e)) => return internal(&e),
        Err(e) => return internal(&e),
    };
    let device = job.device;
    let (outcome, committed_at) = match st.writer.submit(job).await {
        Some(Ok(done)) => done,
        Some(Err(e)) => return internal(&e),
        None => return internal(&"the writer thread has stopped"),
    };
    // Committed: only now may the server acknowledge.
    let receipts = sign_receipts(&st.server_key, device, &outcome.held, committed_at);
    let count = |s: VerdictStatus| outcome.verdicts.iter().filter(|v| v.status == s).count();
    tracing::info!(
        %device,
        accepted = count(VerdictStatus::Accepted),
        duplicate = count(VerdictStatus::Duplicate),
        quarantined = count(VerdictStatus::Quarantined),
        rejected = count(VerdictStatus::Rejected),
        "batch committed"
    );
    axum::Json(UploadResponse {
        server_time: committed_at,
        clock_offset_seconds: outcome.clock_offset,
        verdicts: outcome.verdicts,
        receipts,
    })
    .into_response()
}
