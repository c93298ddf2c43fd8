//! Practice signals over the API (issue 16), with the chronology's
//! bearer token, role, reason and error conventions
//! ([`super::chronology`]):
//!
//! - `GET /v1/children/{ref}/signals?reason=…[&family=true]`: an audited
//!   pull ([`crate::audit::pull`]) answering only the signals;
//! - `GET /v1/signals?reason=…`: the caseload ([`crate::audit::caseload`],
//!   one access-log row naming every child disclosed);
//! - `POST /v1/children/{ref}/signals/{rule}/ack` with `{"note": "…"}`:
//!   [`crate::audit::acknowledge`].

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use hearth_shared::protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::chronology::{bearer, child_ref, chronology_reader, reason_required};
use super::{ApiError, AppState, Peer, error::blocking};
use crate::audit::{self, AckError, AckRequest, PullRequest, check_reason};
use crate::backend::Backend;
use crate::chronology::format::signals_json;
use crate::signals::refresh::CaseloadRow;
use crate::signals::{Acknowledgement, Rule};
use crate::store::Via;

/// The most bytes an acknowledgement's body may have (a note is at most
/// 1,000 bytes).
pub const MAX_ACK_BYTES: usize = 4_096;

/// The query string of a signals read.
#[derive(Debug, Deserialize)]
pub struct SignalsQuery {
    /// Why.
    pub reason: Option<String>,
    /// The family view (a child's signals only).
    #[serde(default)]
    pub family: bool,
}

/// An acknowledgement's body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// What was decided, or why no action is needed.
    pub note: String,
}

impl From<AckError> for ApiError {
    fn from(e: AckError) -> Self {
        match e {
            e @ (AckError::Note(_) | AckError::BadReader(_)) => {
                ApiError::bad_request(e.to_string())
            }
            e @ AckError::NoSuchSignal { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, e.to_string())
            }
            AckError::Store(e) => e.into(),
        }
    }
}

/// The caseload in JSON: `{"children": [{"child", "rules",
/// "newest_evidence"}]}`, newest evidence first. A list, as the web app's
/// caseload page is: each child's signals and their evidence are read with
/// a reason of their own (`GET /v1/children/{ref}/signals`), and leaving
/// them out keeps the answer small (10,000 children's signals with their
/// evidence were 46 MB).
pub(crate) fn caseload_json(rows: &[CaseloadRow]) -> Value {
    let children: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "child": r.child.to_string(),
                "rules": r.rules.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "newest_evidence": r.newest_evidence,
            })
        })
        .collect();
    json!({ "children": children })
}

/// An acknowledgement in JSON, as kept.
pub(crate) fn ack_json(a: &Acknowledgement) -> Value {
    json!({
        "child": a.child.to_string(),
        "rule": a.rule.as_str(),
        "by": a.by,
        "at": a.at,
        "note": a.note,
        "evidence": a.evidence.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn query(q: Result<Query<SignalsQuery>, QueryRejection>) -> Result<SignalsQuery, ApiError> {
    let Ok(Query(q)) = q else {
        return Err(ApiError::bad_request(
            "the query string is malformed; see docs/api.md",
        ));
    };
    check_reason(q.reason.as_deref().unwrap_or_default()).map_err(reason_required)?;
    Ok(q)
}

/// `GET /v1/children/{ref}/signals`.
pub async fn child_signals<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    Path(child): Path<String>,
    headers: HeaderMap,
    q: Result<Query<SignalsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let hash = bearer(&headers, &st.counters, &peer)?;
    blocking(move || {
        let user = chronology_reader(&st, &peer, &hash)?;
        let q = query(q)?;
        let req = PullRequest {
            child: child_ref(&child)?,
            family: q.family,
            range: Default::default(),
            reason: q.reason.unwrap_or_default(),
            who: user.name,
            via: Via::Http,
            purpose: None,
        };
        let c = audit::pull(st.store(), st.clock.as_ref(), &st.signals, &req)?;
        Ok(Json(json!({
            "child": c.child.to_string(),
            "family": c.family,
            "children": c.children.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "signals": signals_json(&c.signals),
        })))
    })
    .await
}

/// `GET /v1/signals`: the caseload.
pub async fn caseload<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
    q: Result<Query<SignalsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let hash = bearer(&headers, &st.counters, &peer)?;
    blocking(move || {
        let user = chronology_reader(&st, &peer, &hash)?;
        let q = query(q)?;
        let rows = audit::caseload(
            st.store(),
            st.clock.as_ref(),
            &st.signals,
            &user.name,
            q.reason.as_deref().unwrap_or_default(),
            None,
            Via::Http,
        )?;
        Ok(Json(caseload_json(&rows)))
    })
    .await
}

/// `POST /v1/children/{ref}/signals/{rule}/ack`.
pub async fn acknowledge<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    Path((child, rule)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<AckBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let hash = bearer(&headers, &st.counters, &peer)?;
    blocking(move || {
        let user = chronology_reader(&st, &peer, &hash)?;
        let child = child_ref(&child)?;
        let rule = rule.parse::<Rule>().map_err(|_| {
            ApiError::bad_request(format!(
                "no rule is called \"{rule}\"; the rules are {}",
                Rule::WORDS.join(", ")
            ))
        })?;
        let Ok(Json(body)) = body else {
            return Err(ApiError::bad_request(
                "the body must be JSON {\"note\": \"what was decided\"} (Content-Type: application/json)",
            ));
        };
        let req = AckRequest {
            child,
            rule,
            note: body.note,
            who: user.name,
            via: Via::Http,
        };
        let ack = audit::acknowledge(st.store(), st.clock.as_ref(), &st.signals, &req)?;
        Ok((StatusCode::CREATED, Json(ack_json(&ack))))
    })
    .await
}
