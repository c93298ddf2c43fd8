//! `POST /v1/sync`: a batch of one device's signed records.
//!
//! Order of checks: body size and the in-flight body budget
//! ([`super::admit::BodyBudget`]), postcard shape, record count, device
//! known and batch signature (which authenticates the clock report), then
//! revocation, then each record ([`crate::ingest::precheck_all`] here, off
//! the writer and on every core; the chain and the writes on the writer
//! thread). Receipts are signed only after the writer reports the commit.
//!
//! An unknown device and a signature that does not verify get the same
//! 401 `unauthenticated`, so an unauthenticated peer learns nothing about
//! which devices exist or are revoked; only a batch signed by a revoked
//! device is told of its revocation (and why).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use ed25519_dalek::VerifyingKey;
use hearth_shared::protocol::{
    ErrorBody, ErrorCode, RevocationNotice, UploadBatch, UploadResponse, VerdictStatus,
};
use hearth_shared::wire::{Encoding, WireError};
use hearth_shared::{DeviceId, Timestamp};

use super::admit::{BodyError, Held};
use super::metrics::Event;
use super::wire::{RequestEncoding, inflate};
use super::{ApiError, AppState, Peer, error::blocking};
use crate::backend::Backend;
use crate::ingest::{BatchJob, precheck_all};
use crate::receipt::sign_receipts;
use crate::store::{Device, StoreError};

/// The answer to a batch that does not authenticate, whatever the cause.
fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        "this server does not recognise the batch's device and signature: check the server address, and that this device was enrolled here (else enrol it again with a new token)",
    )
}

pub(super) fn bad_batch(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadBatch, message)
}

/// The request body, read within the body limits and inflated if it came
/// compressed ([`super::wire`]); the budget it holds is released when the
/// guard drops. `/v1/sync` and `/v1/outbox` both read through here, so
/// both are bounded by the same limit and budget, compressed or not.
pub(super) async fn read_body<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    encoding: RequestEncoding,
    body: Body,
) -> Result<(Vec<u8>, Held), ApiError> {
    let limit = st.limits.max_body_bytes;
    let (raw, held) = st
        .budget
        .read(body, limit)
        .await
        .map_err(|e| body_refused(st, peer, e))?;
    match encoding.0 {
        Encoding::Identity => Ok((raw, held)),
        Encoding::Deflate => {
            // Up to `limit` bytes of inflating: on a blocking thread, not
            // an async worker, as [`super::wire`] compresses long answers.
            let (budget, counters) = (st.budget.clone(), st.counters.clone());
            let inflated = blocking(move || {
                let inflated = inflate(&budget, &counters, &raw, limit);
                // The compressed bytes' budget is returned here, the
                // inflated bytes' with the guard returned.
                drop((raw, held));
                Ok(inflated)
            })
            .await?;
            inflated.map_err(|e| match e {
                WireError::TooLarge { .. } => body_refused(st, peer, BodyError::TooLarge),
                WireError::Refused => body_refused(st, peer, BodyError::Busy),
                _ => bad_batch(format!("{e}; send the batch again")),
            })
        }
    }
}

/// The refusal of a body that was not read whole.
fn body_refused<S: Backend>(st: &AppState<S>, peer: &Peer, e: BodyError) -> ApiError {
    let limit = st.limits.max_body_bytes;
    match e {
        BodyError::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!(
                "the request body is over the limit of {limit} bytes (inflated, if compressed); send fewer records per batch"
            ),
        ),
        BodyError::Busy => {
            if let Some(left_out) = st.counters.count(Event::BodyRefused) {
                tracing::warn!(%peer, left_out, "batch refused: the in-flight body budget is spent");
            }
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Busy,
                "the server is receiving too much at once; nothing was stored; retry in a minute",
            )
            .retry_after(60)
        }
        BodyError::Read => bad_batch("the request body could not be read"),
    }
}

/// The refusal of a batch with more records than the server takes.
pub(super) fn too_many<S: Backend>(st: &AppState<S>, count: usize) -> Option<ApiError> {
    (count > st.limits.max_batch_records).then(|| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BatchTooLarge,
            format!(
                "the batch has {count} records; the limit is {}; send smaller batches",
                st.limits.max_batch_records
            ),
        )
    })
}

/// The batch, read within the body limits and decoded; the budget it holds
/// (now standing for the decoded batch) is released when the guard drops.
async fn read_batch<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    encoding: RequestEncoding,
    body: Body,
) -> Result<(UploadBatch, Held), ApiError> {
    let (body, held) = read_body(st, peer, encoding, body).await?;
    let batch = match postcard::take_from_bytes::<UploadBatch>(&body) {
        Ok((b, [])) => b,
        _ => {
            return Err(bad_batch(
                "the body is not a postcard UploadBatch (content type application/x-hearth-batch)",
            ));
        }
    };
    if let Some(refusal) = too_many(st, batch.records.len()) {
        return Err(refusal);
    }
    Ok((batch, held))
}

/// The answer to a batch that does not authenticate, logged and counted
/// with its cause (which the client is not told).
pub(super) fn not_authenticated<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    claimed: DeviceId,
    why: &'static str,
) -> ApiError {
    if let Some(left_out) = st.counters.count(Event::BatchAuthFailure) {
        tracing::warn!(%peer, claimed_device = %claimed, why, left_out, "batch refused: not authenticated");
    }
    unauthenticated()
}

/// The device `claimed` by a signed request and its key, if `verifies`
/// accepts its signature under the enrolled key: before anything is said
/// about the device, an unknown one or a bad signature (`bad_signature`, logged
/// only) is the uniform 401; then a revoked one gets 403 with the notice,
/// signed so that the tablet destroys its data key only on the word of the
/// server it pinned at enrolment. Shared by `/v1/sync` and `/v1/caseload`.
pub(super) fn authenticate<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    claimed: DeviceId,
    bad_signature: &'static str,
    verifies: impl FnOnce(&VerifyingKey) -> bool,
) -> Result<(Device, VerifyingKey), ApiError> {
    let device = st
        .store()
        .device(claimed)?
        .ok_or_else(|| not_authenticated(st, peer, claimed, "unknown device"))?;
    let key = VerifyingKey::from_bytes(&device.public_key)
        .map_err(|_| StoreError::Corrupt("a device key"))?;
    if !verifies(&key) {
        return Err(not_authenticated(st, peer, claimed, bad_signature));
    }
    if let Some(r) = &device.revoked {
        let body = ErrorBody {
            error: ErrorCode::DeviceRevoked,
            message: format!("device {} was revoked at {}: {}", device.id, r.at, r.reason),
            revocation: Some(RevocationNotice::sign(&st.server_key, device.id, r.at)),
        };
        return Err(ApiError::with_body(StatusCode::FORBIDDEN, body));
    }
    Ok((device, key))
}

/// Authenticates the batch, answers a revoked device, and prechecks each
/// record: the job for the writer. Runs on a blocking thread.
fn check<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    batch: UploadBatch,
    received_at: Timestamp,
) -> Result<BatchJob, ApiError> {
    let (device, key) = authenticate(
        st,
        peer,
        batch.device,
        "header signature does not verify",
        |key| batch.verify_auth(key),
    )?;
    if !batch.device_time.in_range() {
        return Err(bad_batch(format!(
            "the device clock reads {}, outside the years 1900 to 2199; set the tablet's date and time",
            batch.device_time.0
        )));
    }
    // Every core verifies (issue 20); verdicts stay per record, in order.
    let records = precheck_all(&key, batch.records, st.limits.max_record_bytes);
    hearth_shared::kill_point::reach("ingest.after-verify");
    Ok(BatchJob {
        device: device.id,
        device_time: batch.device_time,
        received_at,
        records,
        late_entry_secs: st.limits.late_entry_secs,
        quarantine_budget: st.limits.quarantine_budget_bytes,
    })
}

/// The handler.
pub async fn sync<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    encoding: RequestEncoding,
    body: Body,
) -> Result<Json<UploadResponse>, ApiError> {
    let start = std::time::Instant::now();
    let (batch, _held) = read_batch(&st, &peer, encoding, body).await?;
    let read = start.elapsed();
    let received_at = st.clock.now();
    let st2 = st.clone();
    let job = blocking(move || check(&st2, &peer, batch, received_at)).await?;
    let checked = start.elapsed();
    let answer = commit(&st, job).await;
    // Where a batch's time goes (issue 20): reading the body, the
    // signature checks, and the writer's commit with the receipts.
    tracing::debug!(
        read_ms = read.as_secs_f64() * 1e3,
        check_ms = (checked - read).as_secs_f64() * 1e3,
        commit_ms = (start.elapsed() - checked).as_secs_f64() * 1e3,
        "batch timing"
    );
    answer
}

/// Hands a checked job to the writer and answers with its verdicts and,
/// once the writer reports the commit, the signed receipts. The one ingest
/// path of `/v1/sync` and `/v1/outbox`.
pub(super) async fn commit<S: Backend>(
    st: &AppState<S>,
    job: BatchJob,
) -> Result<Json<UploadResponse>, ApiError> {
    let device = job.device;
    let (outcome, committed_at) = match st.writer.submit(job).await {
        Some(done) => done.map_err(|e| ApiError::internal(&e))?,
        None => return Err(ApiError::internal(&"the writer thread has stopped")),
    };
    // Committed: only now may the server acknowledge.
    let receipts = sign_receipts(&st.server_key, device, &outcome.held, committed_at);
    let count = |s: VerdictStatus| outcome.verdicts.iter().filter(|v| v.status == s).count();
    hearth_shared::kill_point::reach("receipt.before-send");
    tracing::info!(
        %device,
        accepted = count(VerdictStatus::Accepted),
        duplicate = count(VerdictStatus::Duplicate),
        quarantined = count(VerdictStatus::Quarantined),
        rejected = count(VerdictStatus::Rejected),
        "batch committed"
    );
    Ok(Json(UploadResponse {
        server_time: committed_at,
        clock_offset_seconds: outcome.clock_offset,
        verdicts: outcome.verdicts,
        receipts,
        outbox_key: Some(st.outbox.notice.clone()),
    }))
}
