//! `POST /v1/sync`: a batch of one device's signed records.
//!
//! Order of checks: body size, postcard shape, record count, device known
//! and not revoked, batch signature (which authenticates the clock report),
//! then each record ([`crate::ingest::precheck`] here, off the writer; the
//! chain and the writes on the writer thread). Receipts are signed only
//! after the writer reports the commit.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ed25519_dalek::VerifyingKey;
use hearth_shared::protocol::{
    ErrorBody, RevocationNotice, UploadBatch, UploadResponse, VerdictStatus,
};

use super::{AppState, error, internal};
use crate::ingest::{BatchJob, precheck};
use crate::receipt::sign_receipts;
use crate::store::Store;

/// The handler.
pub async fn sync(State(st): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is over the limit of {} bytes; send fewer records per batch",
                    st.limits.max_body_bytes
                ),
            );
        }
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_batch",
                "the request body could not be read",
            );
        }
    };
    let batch = match postcard::take_from_bytes::<UploadBatch>(&body) {
        Ok((b, [])) => b,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_batch",
                "the body is not a postcard UploadBatch (content type application/x-hearth-batch)",
            );
        }
    };
    if batch.records.len() > st.limits.max_batch_records {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "the batch has {} records; the limit is {}; send smaller batches",
                batch.records.len(),
                st.limits.max_batch_records
            ),
        );
    }
    let received_at = st.clock.now();
    let st2 = st.clone();
    let checked = tokio::task::spawn_blocking(
        move || -> Result<Result<BatchJob, Response>, crate::store::StoreError> {
            let store = st2.store()?;
            let Some(device) = store.device(batch.device)? else {
                return Ok(Err(error(
                    StatusCode::UNAUTHORIZED,
                    "unknown_device",
                    format!(
                        "device {} is not enrolled; enrol it with a token first",
                        batch.device
                    ),
                )));
            };
            if let Some(r) = &device.revoked {
                // Signed, so that the tablet destroys its data key only on
                // the word of the server it pinned at enrolment.
                let body = ErrorBody {
                    error: "device_revoked".into(),
                    message: format!("device {} was revoked at {}: {}", device.id, r.at, r.reason),
                    revocation: Some(RevocationNotice::sign(&st2.server_key, device.id, r.at)),
                };
                return Ok(Err((StatusCode::FORBIDDEN, Json(body)).into_response()));
            }
            let Ok(key) = VerifyingKey::from_bytes(&device.public_key) else {
                return Err(crate::store::StoreError::Corrupt("a device key"));
            };
            if !batch.verify_auth(&key) {
                return Ok(Err(error(
                    StatusCode::UNAUTHORIZED,
                    "bad_batch_auth",
                    "the batch header signature does not verify with this device's key",
                )));
            }
            if !batch.device_time.in_range() {
                return Ok(Err(error(
                    StatusCode::BAD_REQUEST,
                    "bad_batch",
                    format!(
                        "the device clock reads {}, outside the years 1900 to 2199; set the tablet's date and time",
                        batch.device_time.0
                    ),
                )));
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
        Ok(Ok(Err(refusal))) => return refusal,
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
