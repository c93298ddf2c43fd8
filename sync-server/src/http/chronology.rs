//! `GET /v1/children/{ref}/chronology`: an audited pull with a manager's or
//! administrator's bearer token.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearth_shared::ChildRef;
use hearth_shared::protocol::ErrorCode;
use serde::Deserialize;

use super::metrics::{Counters, Event};
use super::{AppState, Peer, error, internal};
use crate::audit::{PullError, PullRequest, check_reason, date_range, pull};
use crate::chronology::format::Format;
use crate::keys::token_hash;
use crate::store::{Store, Via};

/// The query string.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    /// Why.
    pub reason: Option<String>,
    /// The family view.
    #[serde(default)]
    pub family: bool,
    /// From, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// To, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// `json` (default), `csv` or `table`.
    pub format: Option<String>,
}

/// Logs and counts a refused bearer token, without the token (nor the
/// child asked for).
fn token_failure(counters: &Counters, peer: &Peer, why: &'static str) {
    if let Some(left_out) = counters.count(Event::TokenFailure) {
        tracing::warn!(%peer, why, left_out, "chronology request refused: no valid API token");
    }
}

/// The handler.
pub async fn chronology(
    State(st): State<AppState>,
    peer: Peer,
    Path(child): Path<String>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| token_hash(t.trim()));
    let Some(hash) = token else {
        token_failure(&st.counters, &peer, "no bearer token");
        return error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "send Authorization: Bearer <api token>",
        );
    };
    let Ok(Query(q)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "the query string is malformed; see docs/api.md",
        );
    };
    let st2 = st.clone();
    let result =
        tokio::task::spawn_blocking(move || -> Result<Response, crate::store::StoreError> {
            let started = std::time::Instant::now();
            let store = st2.store()?;
            let Some(user) = store.user_by_token(&hash)? else {
                token_failure(&st2.counters, &peer, "token not valid");
                return Ok(error(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    "the API token is not valid",
                ));
            };
            let reason = q.reason.unwrap_or_default();
            if let Err(e) = check_reason(&reason) {
                return Ok(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::ReasonRequired,
                    format!("{e}; add ?reason=..."),
                ));
            }
            let Ok(child) = child.parse::<ChildRef>() else {
                return Ok(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "the child reference must be nhs:<10 digits> or local:<issuer>:<id>",
                ));
            };
            let format = match q.format.as_deref() {
                None => Format::Json,
                Some(f) => match Format::parse(f) {
                    Some(f) => f,
                    None => {
                        return Ok(error(
                            StatusCode::BAD_REQUEST,
                            ErrorCode::BadRequest,
                            "format must be json, csv or table",
                        ));
                    }
                },
            };
            let range = match date_range(&st2.zone, q.from.as_deref(), q.to.as_deref()) {
                Ok(r) => r,
                Err(e) => {
                    return Ok(error(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::BadRequest,
                        e.to_string(),
                    ));
                }
            };
            let req = PullRequest {
                child,
                family: q.family,
                range,
                reason,
                who: user.name,
                via: Via::Http,
            };
            match pull(&*store, st2.clock.as_ref(), &req) {
                Ok(c) => {
                    let pulled = started.elapsed();
                    // Compact JSON over the wire; the CLI pretty-prints.
                    let body = format.render_compact(&c, &st2.zone);
                    let total = started.elapsed();
                    // The server's own time, for operators and for figure 7
                    // of docs/PERFORMANCE.md: the pull (authorisation, read,
                    // reconcile, access-log commit) and the rendering.
                    let timing = format!(
                        "pull;dur={:.1}, render;dur={:.1}, total;dur={:.1}",
                        pulled.as_secs_f64() * 1e3,
                        (total - pulled).as_secs_f64() * 1e3,
                        total.as_secs_f64() * 1e3
                    );
                    Ok((
                        [
                            (header::CONTENT_TYPE, format.content_type().to_string()),
                            (header::HeaderName::from_static("server-timing"), timing),
                        ],
                        body,
                    )
                        .into_response())
                }
                Err(PullError::Reason(e)) => Ok(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::ReasonRequired,
                    format!("{e}; add ?reason=..."),
                )),
                Err(
                    e @ (PullError::BadDate { .. }
                    | PullError::Reversed { .. }
                    | PullError::BadReader(_)),
                ) => Ok(error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    e.to_string(),
                )),
                Err(PullError::Store(e)) => Err(e),
            }
        })
        .await;
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => internal(&e),
        Err(e) => internal(&e),
    }
}
