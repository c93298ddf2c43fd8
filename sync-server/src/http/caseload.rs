//! `POST /v1/caseload`: a device's caseload, signed (issue 17).
//!
//! The request ([`CaseloadRequest`], JSON) is signed with the device key
//! over the device id and its clock. Order of checks, as `/v1/sync`: the
//! device known and the signature its key's (else the one 401
//! `unauthenticated`, so a peer learns nothing of which devices exist),
//! then revocation (403 `device_revoked` with the signed notice, as sync
//! gives it, so the tablet wipes itself), then the clock: a request more
//! than [`REQUEST_WINDOW_SECONDS`] from the server's clock is refused (400
//! `bad_request`), so a captured request cannot be replayed later.
//!
//! The answer is the caseload ([`crate::caseload::load::read`]: the
//! enrolment's worker and staff, the device's groups) signed with the
//! receipt key ([`Caseload::sign`]), `application/x-hearth-caseload`. The
//! read of names is written to the register log (`device:<id>`,
//! `caseload`, the references sent) before the answer leaves.
//!
//! Test hook (feature `test-hooks` only): `HEARTH_TEST_TAMPER_CASELOAD=1`
//! flips one byte of the caseload's body after signing.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hearth_shared::Timestamp;
use hearth_shared::caseload::{
    CASELOAD_CONTENT_TYPE, Caseload, CaseloadRequest, REQUEST_WINDOW_SECONDS,
};

use super::sync::authenticate;
use super::{ApiError, AppState, Peer, error::blocking};
use crate::backend::Backend;
use crate::caseload::build::For;
use crate::caseload::load;

/// The largest request body: a device id, a time and a signature in JSON
/// need about 250 bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

/// The handler.
pub async fn caseload<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    body: Result<Json<CaseloadRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Ok(Json(req)) = body else {
        return Err(ApiError::bad_request(
            "the body must be a JSON caseload request {\"device\", \"device_time\", \"auth\"} (Content-Type: application/json)",
        ));
    };
    let now = st.clock.now();
    let st2 = st.clone();
    let caseload = blocking(move || answer(&st2, &peer, &req, now)).await?;
    let mut bytes = caseload.sign(&st.server_key);
    tamper(&mut bytes);
    Ok(([(header::CONTENT_TYPE, CASELOAD_CONTENT_TYPE)], bytes).into_response())
}

/// Authenticates the request, answers a revoked device or a clock out of
/// the window, and reads the caseload. Runs on a blocking thread.
fn answer<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    req: &CaseloadRequest,
    now: Timestamp,
) -> Result<Caseload, ApiError> {
    let (device, _) = authenticate(
        st,
        peer,
        req.device,
        "caseload request signature does not verify",
        |key| req.verify(key),
    )?;
    let skew = req.device_time.0.saturating_sub(now.0);
    if skew.unsigned_abs() > REQUEST_WINDOW_SECONDS.unsigned_abs() {
        return Err(ApiError::bad_request(format!(
            "device_time: the request's clock ({}) is {} seconds from the server's ({}); the limit is {REQUEST_WINDOW_SECONDS}; set the tablet's date and time, then sync again",
            req.device_time,
            skew.unsigned_abs(),
            now
        )));
    }
    let of = |setup: &_| For::device(device.id, &device.worker, &device.staff, setup);
    Ok(load::read(
        st.store(),
        of,
        device.id,
        &format!("device:{}", device.id),
        now,
    )?)
}

/// With `HEARTH_TEST_TAMPER_CASELOAD=1` (feature `test-hooks` only),
/// flips a byte in the middle of the signed caseload's body.
fn tamper(bytes: &mut [u8]) {
    #[cfg(feature = "test-hooks")]
    if std::env::var("HEARTH_TEST_TAMPER_CASELOAD").as_deref() == Ok("1") {
        let body = bytes
            .len()
            .saturating_sub(hearth_shared::signed::SIGNATURE_LEN);
        if let Some(b) = bytes.get_mut(body / 2) {
            *b ^= 0x01;
        }
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = bytes;
}
