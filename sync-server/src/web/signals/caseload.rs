//! `/signals`: the caseload view, for managers and administrators
//! ([`Reader`]; an auditor is refused). This is how a manager finds the
//! family that nobody has put together.
//!
//! `GET` asks why (the break-the-glass form's own reason and purpose
//! fields, [`reason_and_purpose`]); `POST` reads through
//! [`crate::audit::caseload`] (via `web`), which writes one access-log row
//! naming every child it discloses before the list is shown: each child
//! with an open signal, the rules in words and the newest evidence date,
//! most recent first. Each child links to the find page with the child
//! filled in, so reading their records takes a reason of its own.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::audit::{PullError, caseload};
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::signals::refresh::CaseloadRow;
use crate::signals::{Config, Rule};
use crate::store::{Purpose, StoreError, Via};
use crate::web::find::{
    Glass, check_reason_and_purpose, glass_errors, on_store, path_segment, reason_and_purpose,
    sentence,
};
use crate::web::layout::{csrf_field, error_summary, html, page};
use crate::web::{Reader, Viewer};

/// This page's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new().route("/signals", get(ask).post(show::<S>))
}

/// The page's heading.
const TITLE: &str = "Signals across the caseload";

/// The reason form, filled in from `g` with its errors.
pub fn ask_page(viewer: &Viewer, g: &Glass) -> Markup {
    let errors = glass_errors(g);
    let title = if errors.is_empty() {
        TITLE.to_string()
    } else {
        format!("Error: {TITLE}")
    };
    page(
        Some(viewer),
        &title,
        html! {
            (error_summary(&errors))
            h1 { (TITLE) }
            p { "Every child with an open signal: a pattern across records that a rule found and no manager has acknowledged. Signals are prompts to read the records, never scores." }
            p { "The list names children, so your reason and its purpose are written to the access log, with every child the list shows, before it is shown. Reading a child's records then asks for a reason of its own." }
            form method="post" action="/signals" novalidate {
                (csrf_field(viewer))
                (reason_and_purpose(g))
                button class="button" type="submit" { "Show the signals" }
            }
        },
    )
}

/// A rule in words: the title of the row's signal of that rule.
fn rule_words(row: &CaseloadRow, rule: Rule) -> String {
    row.signals
        .iter()
        .find(|s| s.rule == rule && s.acknowledged.is_none())
        .or_else(|| row.signals.iter().find(|s| s.rule == rule))
        .map_or_else(|| rule.as_str().replace('_', " "), |s| s.title.clone())
}

/// The list, most recent evidence first (whatever order `rows` came in).
pub fn list_page(
    viewer: &Viewer,
    zone: &Zone,
    reason: &str,
    purpose: Purpose,
    rows: &[CaseloadRow],
) -> Markup {
    let mut rows: Vec<&CaseloadRow> = rows.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.newest_evidence));
    page(
        Some(viewer),
        TITLE,
        html! {
            h1 { (TITLE) }
            dl class="summary-list" {
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Your reason" }
                    dd class="summary-list__value" { (reason) " (" (purpose.label()) ")" }
                }
            }
            @if rows.is_empty() {
                p class="caseload__empty" role="status" { "No child has an open signal. Every signal has been acknowledged, or no rule has found a pattern." }
            } @else {
                p class="caseload__count" role="status" {
                    (rows.len()) " " (if rows.len() == 1 { "child has" } else { "children have" }) " an open signal."
                }
                div class="table-wrap" {
                    table class="table caseload-table" id="caseload" {
                        caption class="table__caption" { "Children with open signals, newest evidence first. Times in " (zone.name()) "." }
                        thead {
                            tr {
                                th scope="col" { "Child" }
                                th scope="col" { "Open signals" }
                                th scope="col" { "Newest evidence" }
                            }
                        }
                        tbody {
                            @for r in &rows {
                                tr {
                                    td {
                                        a class="link" href={ "/find?child=" (path_segment(&r.child.to_string())) } {
                                            (r.child) span class="visually-hidden" { ": read their records" }
                                        }
                                    }
                                    td {
                                        ul class="signal__rules" {
                                            @for rule in &r.rules { li { (rule_words(r, *rule)) } }
                                        }
                                    }
                                    td class="nowrap" { (zone.show(r.newest_evidence)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /signals`: the reason form.
async fn ask(Reader(viewer): Reader) -> Response {
    html(ask_page(&viewer, &Glass::default())).into_response()
}

/// The fields of `POST /signals`.
#[derive(Debug, Default, Deserialize)]
pub struct CaseloadForm {
    /// Why.
    pub reason: Option<String>,
    /// The purpose's word.
    pub purpose: Option<String>,
}

/// The work: the form checked, the audited read, the page and its status.
pub fn read<S: Backend>(
    store: &S,
    clock: &dyn Clock,
    rules: &Config,
    zone: &Zone,
    viewer: &Viewer,
    form: &CaseloadForm,
) -> Result<(StatusCode, Markup), StoreError> {
    let (reason, purpose) =
        match check_reason_and_purpose(form.reason.as_deref(), form.purpose.as_deref()) {
            Ok(ok) => ok,
            Err(g) => return Ok((StatusCode::BAD_REQUEST, ask_page(viewer, &g))),
        };
    match caseload(
        store,
        clock,
        rules,
        &viewer.name,
        &reason,
        Some(purpose),
        Via::Web,
    ) {
        Ok(rows) => Ok((
            StatusCode::OK,
            list_page(viewer, zone, &reason, purpose, &rows),
        )),
        Err(PullError::Store(e)) => Err(e),
        Err(e) => {
            let g = Glass {
                reason: reason.clone(),
                purpose: Some(purpose),
                reason_error: Some(sentence(&e.to_string())),
                ..Glass::default()
            };
            Ok((StatusCode::BAD_REQUEST, ask_page(viewer, &g)))
        }
    }
}

/// `POST /signals`: the list (`no-store`: it names children).
async fn show<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Form(form): Form<CaseloadForm>,
) -> Response {
    let store = st.reads.clone();
    let clock = st.clock.clone();
    let rules = st.signals.clone();
    let zone = st.zone.clone();
    let who = viewer.clone();
    let done = on_store(move || read(&*store, clock.as_ref(), &rules, &zone, &who, &form)).await;
    let mut response = match done {
        Ok((status, markup)) => (status, html(markup)).into_response(),
        Err(page) => page,
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
