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
use super::{ApiError, AppState, Peer, error::blocking};
use crate::audit::{PullError, PullRequest, check_reason, date_range, pull};
use crate::backend::Backend;
use crate::chronology::format::Format;
use crate::keys::token_hash;
use crate::localtime::Zone;
use crate::store::Via;

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
    /// JSON: each entry's `detail` (the record's own fields). Off by
    /// default: reading and decoding every record's stored bytes costs
    /// several times the pull itself (figure 7 of docs/PERFORMANCE.md).
    #[serde(default)]
    pub detail: bool,
}

/// Logs and counts a refused bearer token, without the token (nor the
/// child asked for).
fn token_failure(counters: &Counters, peer: &Peer, why: &'static str) {
    if let Some(left_out) = counters.count(Event::TokenFailure) {
        tracing::warn!(%peer, why, left_out, "chronology request refused: no valid API token");
    }
}

/// The bearer token's hash, or the refusal (logged and counted).
pub(super) fn bearer(
    headers: &HeaderMap,
    counters: &Counters,
    peer: &Peer,
) -> Result<String, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| token_hash(t.trim()));
    token.ok_or_else(|| {
        token_failure(counters, peer, "no bearer token");
        unauthorized("send Authorization: Bearer <api token>")
    })
}

/// The user holding the token `hash`, if their role reads chronologies
/// (a manager or an administrator); else the refusal.
pub(super) fn chronology_reader<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    hash: &str,
) -> Result<crate::store::User, ApiError> {
    let Some(user) = st.store().user_by_token(hash)? else {
        token_failure(&st.counters, peer, "token not valid");
        return Err(unauthorized("the API token is not valid"));
    };
    if !user.role.reads_chronologies() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this account may not read chronologies (an auditor reads the access log)",
        ));
    }
    Ok(user)
}

/// The child in a route, or the refusal naming its form.
pub(super) fn child_ref(child: &str) -> Result<ChildRef, ApiError> {
    child.parse::<ChildRef>().map_err(|_| {
        ApiError::bad_request("the child reference must be nhs:<10 digits> or local:<issuer>:<id>")
    })
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
}

pub(super) fn reason_required(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::ReasonRequired,
        format!("{e}; add ?reason=..."),
    )
}

impl From<PullError> for ApiError {
    fn from(e: PullError) -> Self {
        match e {
            PullError::Reason(e) => reason_required(e),
            e @ (PullError::BadDate { .. }
            | PullError::Reversed { .. }
            | PullError::BadReader(_)) => ApiError::bad_request(e.to_string()),
            PullError::Store(e) => e.into(),
        }
    }
}

/// What `who` asked for, checked in the order the API documents: reason,
/// child, format, dates.
fn parse_query(
    q: PullQuery,
    child: &str,
    zone: &Zone,
    who: String,
) -> Result<(Format, PullRequest), ApiError> {
    let reason = q.reason.unwrap_or_default();
    check_reason(&reason).map_err(reason_required)?;
    let child = child_ref(child)?;
    let format = match q.format.as_deref() {
        None => Format::Json,
        Some(f) => f
            .parse::<Format>()
            .map_err(|_| ApiError::bad_request("format must be json, csv or table"))?,
    };
    let range = date_range(zone, q.from.as_deref(), q.to.as_deref())?;
    Ok((
        format,
        PullRequest {
            child,
            family: q.family,
            range,
            reason,
            who,
            via: Via::Http,
            purpose: None,
        },
    ))
}

/// The audited pull and its rendering, on a blocking thread.
fn answer<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    hash: &str,
    child: &str,
    q: PullQuery,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let store = st.store();
    let user = chronology_reader(st, peer, hash)?;
    let detail = q.detail;
    let (format, req) = parse_query(q, child, &st.zone, user.name)?;
    let mut c = pull(store, st.clock.as_ref(), &st.signals, &req)?;
    // The CSV's panel columns always; JSON's `detail` when asked for.
    if format == Format::Csv || (format == Format::Json && detail) {
        crate::record::attach(store, &mut c)?;
    }
    let pulled = started.elapsed();
    // Compact JSON over the wire; the CLI pretty-prints.
    let body = format.render_compact(&c, &st.zone);
    let total = started.elapsed();
    // The server's own time, for operators and for figure 7 of
    // docs/PERFORMANCE.md: the pull (authorisation, read, reconcile,
    // access-log commit; for JSON and CSV, each record's own fields read
    // and decoded) and the rendering.
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

/// The handler.
pub async fn chronology<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    Path(child): Path<String>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let hash = bearer(&headers, &st.counters, &peer)?;
    let Ok(Query(q)) = query else {
        return Err(ApiError::bad_request(
            "the query string is malformed; see docs/api.md",
        ));
    };
    blocking(move || answer(&st, &peer, &hash, &child, q)).await
}
