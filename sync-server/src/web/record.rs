//! The record behind a chronology line: `GET /records/{id}?grant=G`, every
//! field laid out to read ([`fields`]), with where it came from
//! (`#provenance`) and every amendment (`#amendments`); and
//! `GET /v1/records/{id}?reason=...`, the same as JSON ([`json`]), for a
//! session or an API token.
//!
//! Both are audited reads ([`crate::record::read`]): the record must be in
//! the reader's view (the grant's child or family for the page; the
//! children it names for the API), and the read is in the access log
//! before anything is sent. A record not in view gets the same answer as
//! one that does not exist.
//!
//! [`render`] and [`json`] are pure.

pub mod fields;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hearth_shared::RecordId;
use hearth_shared::printable::json_escaped;
use hearth_shared::protocol::ErrorCode;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::chronology::flag_words;
use super::find::{on_store, path_segment, sentence, valid_grant};
use super::layout::{html, page, refusal};
use super::{Reader, Viewer};
use crate::backend::Backend;
use crate::chronology::Flag;
use crate::chronology::format::detail;
use crate::http::{ApiError, AppState};
use crate::localtime::Zone;
use crate::record::{ReadError, RecordRequest, RecordView, Scope, read};
use crate::store::{ReadGrant, Via};

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/records/{id}", get(record_page::<S>))
        .route("/v1/records/{id}", get(record_json::<S>))
}

/// What the record page shows: everything [`render`] needs, no store.
#[derive(Debug, Clone, Copy)]
pub struct RecordPage<'a> {
    /// Who is reading.
    pub viewer: &'a Viewer,
    /// Under which grant.
    pub grant: &'a ReadGrant,
    /// The record read.
    pub view: &'a RecordView,
    /// The zone times are shown in.
    pub zone: &'a Zone,
}

/// A time as people read it, with the instant for machines.
fn when(t: hearth_shared::Timestamp, zone: &Zone) -> Markup {
    html! { time datetime=(t) { (zone.show(t)) } }
}

/// `#provenance`: where the record came from and when.
fn provenance(v: &RecordView, zone: &Zone) -> Markup {
    let f = &v.stored.filed;
    html! {
        section id="provenance" aria-labelledby="provenance-title" {
            h2 class="heading-m" id="provenance-title" { "Where this record came from" }
            dl class="summary-list" {
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Captured (device clock)" }
                    dd class="summary-list__value" { (when(v.stored.device_time, zone)) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Captured (corrected time)" }
                    dd class="summary-list__value" {
                        (when(f.corrected_time, zone))
                        @if f.corrected_time != v.stored.device_time {
                            " (the device's clock was "
                            (f.corrected_time.0.abs_diff(v.stored.device_time.0))
                            " seconds out)"
                        }
                    }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Received (synced)" }
                    dd class="summary-list__value" { (when(f.received_at, zone)) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Device" }
                    dd class="summary-list__value" { (f.line.id.device) ", record " (f.line.id.seq) " of its chain" }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Device's agency and worker" }
                    dd class="summary-list__value" { (f.line.agency) ", " (f.worker) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Author" }
                    dd class="summary-list__value" { (f.line.author) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Signature" }
                    dd class="summary-list__value" { strong { "Signature verified on receipt" } " (the device's key; the bytes are kept as received)" }
                }
            }
        }
    }
}

/// `#amendments`: the original and every correction, with its reason.
fn amendments(v: &RecordView, zone: &Zone) -> Markup {
    let versions = v
        .entry
        .amended
        .as_ref()
        .map_or(&[][..], |a| &a.versions[..]);
    html! {
        section id="amendments" aria-labelledby="amendments-title" {
            h2 class="heading-m" id="amendments-title" { "Amendments" }
            @if versions.is_empty() {
                p { "This record has not been amended." }
            } @else {
                ol class="versions" {
                    @for (i, ver) in versions.iter().enumerate() {
                        li class="versions__item" {
                            h3 class="heading-s" {
                                @if i == 0 { "The original" } @else { "Correction " (i) }
                                " (" (ver.record_id) ")"
                            }
                            dl class="summary-list" {
                                div class="summary-list__row" {
                                    dt class="summary-list__key" { "Headline" }
                                    dd class="summary-list__value" { (ver.headline) }
                                }
                                div class="summary-list__row" {
                                    dt class="summary-list__key" { "Happened" }
                                    dd class="summary-list__value" { (when(ver.occurred_at, zone)) }
                                }
                                div class="summary-list__row" {
                                    dt class="summary-list__key" { "Recorded by" }
                                    dd class="summary-list__value" { (ver.author) ", " (when(ver.recorded_at, zone)) }
                                }
                                @if let Some(reason) = &ver.reason {
                                    div class="summary-list__row" {
                                        dt class="summary-list__key" { "Why corrected" }
                                        dd class="summary-list__value" { (reason) }
                                    }
                                }
                                @if ver.entered_in_error {
                                    div class="summary-list__row" {
                                        dt class="summary-list__key" { "Correction" }
                                        dd class="summary-list__value" { "Entered in error" }
                                    }
                                }
                            }
                            @if let Some(d) = v.versions.get(i).and_then(|d| d.detail.as_ref()) {
                                details class="details" {
                                    summary class="details__summary" { "Every field of this version" }
                                    div class="details__text" { (fields::fields(d, &format!("v{i}-"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The record page. Pure: the same record gives the same page.
pub fn render(p: &RecordPage<'_>) -> Markup {
    let e = &p.view.entry;
    let back = format!(
        "/children/{}/chronology?grant={}",
        path_segment(&p.grant.child.to_string()),
        path_segment(&p.grant.id)
    );
    let retracted = e.flags.contains(&Flag::EnteredInError);
    let title = format!("{}: {}", e.kind.label(), e.headline);
    page(
        Some(p.viewer),
        &title,
        html! {
            a class="back-link" href=(back) { "Back to the chronology" }
            @if retracted {
                div class="notification notification--error" role="note" {
                    p { strong { "Entered in error." } " Its device retracted this record; it is kept, and shown as it was." }
                }
            }
            span class="caption" { (e.kind.label()) " · " (e.record_id) }
            h1 class=[retracted.then_some("retracted")] { (e.headline) }
            dl class="summary-list" {
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Happened" }
                    dd class="summary-list__value" { (when(e.occurred_at, p.zone)) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Children" }
                    dd class="summary-list__value" {
                        @for (i, c) in e.children.iter().enumerate() { @if i > 0 { ", " } (c) }
                    }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Agency" }
                    dd class="summary-list__value" { (e.agency) }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Author" }
                    dd class="summary-list__value" { (e.author) @if e.worker != e.author { " (on " (e.worker) "'s device)" } }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Flags" }
                    dd class="summary-list__value" {
                        @if e.flags.is_empty() {
                            "None"
                        } @else {
                            ul class="flag-list flag-list--explained" {
                                @for f in &e.flags {
                                    @let (words, why) = flag_words(*f);
                                    li { span class={ "flag-tag flag-tag--" (f.as_str()) } { (words) } " " (why) }
                                }
                            }
                        }
                    }
                }
            }
            @match &p.view.detail {
                Some(d) => (fields::fields(d, "")),
                None => p { "This record's fields could not be read back from its stored bytes. Tell an administrator." },
            }
            (provenance(p.view, p.zone))
            (amendments(p.view, p.zone))
        },
    )
}

/// The record as JSON: the line, `detail` (the same object a JSON
/// chronology entry carries), `provenance` and `versions`.
pub fn json(v: &RecordView) -> Value {
    let e = &v.entry;
    let f = &v.stored.filed;
    let versions: Vec<Value> = e
        .amended
        .as_ref()
        .map(|a| {
            a.versions
                .iter()
                .enumerate()
                .map(|(i, ver)| {
                    let mut o = serde_json::to_value(ver).expect("a version serializes");
                    if let (Value::Object(o), Some(d)) =
                        (&mut o, v.versions.get(i).and_then(|d| d.detail.as_ref()))
                    {
                        o.insert("detail".into(), detail::json(d));
                    }
                    o
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "record_id": e.record_id,
        "asked": v.asked,
        "kind": e.kind,
        "occurred_at": e.occurred_at,
        "agency": e.agency,
        "author": e.author,
        "device_worker": (e.worker != e.author).then_some(&e.worker),
        "headline": e.headline,
        "children": e.children,
        "flags": e.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "detail": v.detail.as_ref().map(detail::json),
        "provenance": {
            "device": f.line.id.device,
            "seq": f.line.id.seq.0,
            "device_time": v.stored.device_time,
            "corrected_time": f.corrected_time,
            "received_at": f.received_at,
            "late_entry": f.late_entry,
            "disputed": f.disputed,
            "signature": "verified_on_receipt",
        },
        "versions": versions,
    })
}

/// The query of the record page.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    grant: Option<String>,
}

/// The answer for a record not in view (or not stored): the same either way.
fn not_in_view() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "Record not found",
        "No record with this id is in the chronology you are reading. Go back to the chronology and follow a line's link.",
    )
}

/// `GET /records/{id}?grant=G`.
async fn record_page<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let Ok(id) = id.parse::<RecordId>() else {
        return not_in_view();
    };
    let grant_id = query.ok().and_then(|Query(q)| q.grant).unwrap_or_default();
    let store = st.reads.clone();
    let clock = st.clock.clone();
    let who = viewer.clone();
    let read = on_store(move || {
        let Some(grant) = valid_grant(store.grant(&grant_id)?, &who, None, clock.now()) else {
            return Ok(None);
        };
        let req = RecordRequest {
            id,
            scope: Scope::Grant {
                child: grant.child.clone(),
                family: grant.family,
            },
            reason: grant.reason.clone(),
            purpose: Some(grant.purpose),
            who: who.name.clone(),
            via: Via::Web,
        };
        match read(&*store, clock.as_ref(), &req) {
            Ok(v) => Ok(Some(Ok((grant, v)))),
            Err(ReadError::Store(e)) => Err(e),
            Err(e) => Ok(Some(Err(e))),
        }
    })
    .await;
    match read {
        Err(page) => page,
        Ok(None) => refusal(
            StatusCode::FORBIDDEN,
            "State your reason first",
            "Your reason to read these records has expired, or the link is not yours. Find the child and state your reason again.",
        ),
        Ok(Some(Err(ReadError::NotInView))) => not_in_view(),
        Ok(Some(Err(e))) => refusal(
            StatusCode::FORBIDDEN,
            "State your reason first",
            &sentence(&e.to_string()),
        ),
        Ok(Some(Ok((grant, view)))) => {
            let p = RecordPage {
                viewer: &viewer,
                grant: &grant,
                view: &view,
                zone: &st.zone,
            };
            html(render(&p)).into_response()
        }
    }
}

/// The query of `GET /v1/records/{id}`.
#[derive(Debug, Default, Deserialize)]
struct ApiQuery {
    reason: Option<String>,
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Reason(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ReasonRequired,
                format!("{e}; add ?reason=..."),
            ),
            ReadError::Reader(e) => ApiError::bad_request(e.to_string()),
            ReadError::NotInView => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no record with this id",
            ),
            ReadError::Store(e) => e.into(),
        }
    }
}

/// `GET /v1/records/{id}?reason=...`: the record as JSON, audited.
async fn record_json<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Path(id): Path<String>,
    query: Result<Query<ApiQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(q)) = query else {
        return Err(ApiError::bad_request(
            "the query string is malformed; see docs/api.md",
        ));
    };
    let reason = q.reason.unwrap_or_default();
    crate::audit::check_reason(&reason).map_err(ReadError::from)?;
    let id = id
        .parse::<RecordId>()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let req = RecordRequest {
        id,
        scope: Scope::Named,
        reason,
        purpose: None,
        who: viewer.name,
        via: Via::Http,
    };
    let store = st.reads.clone();
    let clock = st.clock.clone();
    let view = tokio::task::spawn_blocking(move || read(&*store, clock.as_ref(), &req))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let body = json_escaped(serde_json::to_string(&json(&view)).expect("record JSON serializes"));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[cfg(test)]
mod tests;
