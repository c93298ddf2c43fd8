//! Find a child and break the glass: `GET /find` (the child's NHS number
//! or local reference), the form that asks why (a reason of at least 10
//! characters and a [`Purpose`]), and `POST /children/{child}/read`, which
//! makes a [`ReadGrant`] and sends the reader to the chronology.
//!
//! A grant is the reader's own, for one child (or the child's family),
//! and expires after [`GRANT_HOURS`]: every page read under it is written
//! to the access log with its reason and purpose before anything of the
//! child is shown ([`valid_grant`] checks it on each page). Finding a
//! child says nothing of whether records about them exist: that is behind
//! the glass.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hearth_shared::{ChildRef, Timestamp};
use maud::{Markup, html};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;

use super::layout::{csrf_field, error_summary, html, page, refusal};
use super::{Reader, Viewer};
use crate::audit::check_reason;
use crate::backend::Backend;
use crate::http::AppState;
use crate::store::{Purpose, ReadGrant, StoreError};

/// How long a grant admits reads: a working day.
pub const GRANT_HOURS: i64 = 8;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/find", get(find::<S>))
        .route("/children/{child}/read", post(read::<S>))
}

/// A child reference as a manager types it: `nhs:` or `local:` form, or a
/// bare NHS number (10 digits, spaces allowed). The error names the field
/// and the fix.
pub fn parse_child(input: &str) -> Result<ChildRef, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Enter the child's NHS number or local reference".into());
    }
    let bare = input.chars().all(|c| c.is_ascii_digit() || c == ' ');
    let text = if bare {
        format!("nhs:{input}")
    } else {
        input.to_string()
    };
    text.parse::<ChildRef>().map_err(|p| {
        format!(
            "The child reference {p}; enter a 10-digit NHS number (such as 943 476 5919), nhs:<10 digits> or local:<issuer>:<id>"
        )
    })
}

/// `s` as one path segment: every byte but unreserved characters and `:`
/// percent-encoded (a local reference may hold `/`, `?` or `#`).
pub fn path_segment(s: &str) -> String {
    hearth_shared::url::encode(s, b":")
}

/// Runs store work on a blocking thread; a store failure is a 500 page.
pub(super) async fn on_store<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    let failed = |why: String| {
        tracing::error!(%why, "web page: store failed");
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sorry, there is a problem with the service",
            "The records could not be read. Try again later; if it goes on, tell an administrator.",
        )
    };
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// The grant `id`, if it is `viewer`'s, unexpired at `now`, and (when
/// `child` is given) for that child. Anything else is `None`: a page then
/// asks for a reason again and shows nothing of the child.
pub fn valid_grant(
    grant: Option<ReadGrant>,
    viewer: &Viewer,
    child: Option<&ChildRef>,
    now: Timestamp,
) -> Option<ReadGrant> {
    grant.filter(|g| {
        g.user == viewer.name && g.expires_at > now && child.is_none_or(|c| *c == g.child)
    })
}

/// The query of `GET /find`.
#[derive(Debug, Default, Deserialize)]
struct FindQuery {
    child: Option<String>,
    name: Option<String>,
}

/// `GET /find`: the form; with `?child=`, the break-the-glass form for
/// that child (or the form again, with what is wrong); with `?name=`, the
/// children whose names match (a register read, logged).
async fn find<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    query: Result<Query<FindQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    if let Some(name) = q.name.filter(|n| !n.trim().is_empty()) {
        return by_name(st, viewer, name).await;
    }
    let asked = q.child;
    match asked.as_deref().map(parse_child) {
        None => html(find_page(&viewer, "", None)).into_response(),
        Some(Err(message)) => (
            StatusCode::BAD_REQUEST,
            html(find_page(
                &viewer,
                asked.as_deref().unwrap_or(""),
                Some(&message),
            )),
        )
            .into_response(),
        Some(Ok(child)) => html(glass_page(&viewer, &child, &Glass::default())).into_response(),
    }
}

/// `GET /find?name=`: the find page with the register's matches.
async fn by_name<S: Backend>(st: AppState<S>, viewer: Viewer, name: String) -> Response {
    let store = st.reads.clone();
    let who = viewer.name.clone();
    let text = name.trim().to_string();
    let found = on_store(move || {
        match crate::people::ops::find(store.as_ref(), st.clock.as_ref(), &who, &text) {
            Ok(found) => Ok(Ok(found)),
            Err(crate::people::ops::RegisterError::Store(e)) => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await;
    match found {
        Err(page) => page,
        Ok(Ok(found)) => html(find_page_with(
            &viewer,
            "",
            None,
            super::people::name_search(&name, Some(&found)),
        ))
        .into_response(),
        Ok(Err(message)) => (
            StatusCode::BAD_REQUEST,
            html(find_page_with(
                &viewer,
                "",
                None,
                html! { p class="error-message" { (message) } (super::people::name_search(&name, None)) },
            )),
        )
            .into_response(),
    }
}

/// The find form, with `value` and an error if any.
pub fn find_page(viewer: &Viewer, value: &str, error: Option<&str>) -> Markup {
    find_page_with(viewer, value, error, super::people::name_search("", None))
}

/// The find form, then `by_name` (the name search and its results).
pub fn find_page_with(
    viewer: &Viewer,
    value: &str,
    error: Option<&str>,
    by_name: Markup,
) -> Markup {
    let errors: Vec<(&str, &str)> = error.map(|e| ("child", e)).into_iter().collect();
    page(
        Some(viewer),
        if error.is_some() {
            "Error: Find a child"
        } else {
            "Find a child"
        },
        html! {
            (error_summary(&errors))
            h1 { "Find a child" }
            form method="get" action="/find" novalidate {
                div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                    label class="label" for="child" { "NHS number or local reference" }
                    div class="hint" id="child-hint" {
                        "For example 943 476 5919, nhs:9434765919 or local:LA-NORTH:C12345"
                    }
                    @if let Some(e) = error {
                        p class="error-message" id="child-error" {
                            span class="visually-hidden" { "Error: " } (e)
                        }
                    }
                    input class={ "input" @if error.is_some() { " input--error" } } id="child" name="child"
                        type="text" value=(value) autocomplete="off" spellcheck="false"
                        aria-describedby={ "child-hint" @if error.is_some() { " child-error" } };
                }
                button class="button" type="submit" { "Find" }
            }
            (by_name)
        },
    )
}

/// What the break-the-glass form shows: what was typed, and what is wrong.
#[derive(Debug, Default)]
pub struct Glass {
    /// The reason as typed.
    pub reason: String,
    /// The purpose picked.
    pub purpose: Option<Purpose>,
    /// The family box.
    pub family: bool,
    /// What is wrong with the reason.
    pub reason_error: Option<String>,
    /// What is wrong with the purpose.
    pub purpose_error: Option<String>,
    /// Why the form is shown again (an expired or foreign grant).
    pub notice: Option<&'static str>,
}

/// A message as a sentence: its first letter upper case.
pub(super) fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The reason and purpose fields of a break-the-glass form (`reason`,
/// radios `purpose`), filled in from `g` with their errors: the chronology's
/// form and the caseload's ([`super::signals::caseload`]) both draw them.
pub fn reason_and_purpose(g: &Glass) -> Markup {
    html! {
        div class={ "form-group" @if g.reason_error.is_some() { " form-group--error" } } {
            label class="label" for="reason" { "Reason" }
            div class="hint" id="reason-hint" { "At least 10 characters, on one line. For example: strategy meeting 12 March" }
            @if let Some(e) = &g.reason_error {
                p class="error-message" id="reason-error" {
                    span class="visually-hidden" { "Error: " } (e)
                }
            }
            textarea class={ "textarea" @if g.reason_error.is_some() { " textarea--error" } } id="reason" name="reason" rows="3"
                aria-describedby={ "reason-hint" @if g.reason_error.is_some() { " reason-error" } } { (g.reason) }
        }
        div class={ "form-group" @if g.purpose_error.is_some() { " form-group--error" } } {
            fieldset class="fieldset" aria-describedby=[g.purpose_error.as_ref().map(|_| "purpose-error")] {
                legend class="fieldset__legend" { "Purpose" }
                @if let Some(e) = &g.purpose_error {
                    p class="error-message" id="purpose-error" {
                        span class="visually-hidden" { "Error: " } (e)
                    }
                }
                div class="radios" {
                    @for p in Purpose::ALL {
                        div class="radios__item" {
                            input class="radios__input" type="radio" name="purpose" id={ "purpose-" (p.as_str()) }
                                value=(p.as_str()) checked[g.purpose == Some(*p)];
                            label class="radios__label" for={ "purpose-" (p.as_str()) } { (p.label()) }
                        }
                    }
                }
            }
        }
    }
}

/// The error summary's lines for `g`: each problem and the field it
/// links to.
pub fn glass_errors(g: &Glass) -> Vec<(&'static str, &str)> {
    let mut errors: Vec<(&str, &str)> = Vec::new();
    if let Some(e) = &g.reason_error {
        errors.push(("reason", e));
    }
    if let Some(e) = &g.purpose_error {
        errors.push(("purpose-strategy_discussion", e));
    }
    errors
}

/// The break-the-glass form for `child`.
pub fn glass_page(viewer: &Viewer, child: &ChildRef, g: &Glass) -> Markup {
    let errors = glass_errors(g);
    let action = format!("/children/{}/read", path_segment(&child.to_string()));
    let title = if errors.is_empty() {
        "Why are you reading these records?"
    } else {
        "Error: Why are you reading these records?"
    };
    page(
        Some(viewer),
        title,
        html! {
            (error_summary(&errors))
            @if let Some(n) = g.notice {
                div class="notification notification--error" role="status" { p { (n) } }
            }
            span class="caption" { "Child " (child) }
            h1 { "Why are you reading these records?" }
            p { "Your reason and its purpose are written to the access log before anything about the child is shown. Auditors read it." }
            form method="post" action=(action) novalidate {
                (csrf_field(viewer))
                (reason_and_purpose(g))
                div class="form-group" {
                    div class="checkboxes__item" {
                        input class="checkboxes__input" type="checkbox" id="family" name="family" value="1" checked[g.family];
                        label class="checkboxes__label" for="family" { "Include the child's family (siblings and linked children)" }
                    }
                }
                button class="button" type="submit" { "Show the chronology" }
            }
        },
    )
}

/// The fields of `POST /children/{child}/read`.
#[derive(Debug, Deserialize)]
struct ReadForm {
    reason: Option<String>,
    purpose: Option<String>,
    family: Option<String>,
}

/// A reason and a purpose as a form gave them, checked: the reason as
/// kept and the purpose, or a [`Glass`] with what is wrong (the reason as
/// typed, the purpose if one was picked) to draw the form again.
pub fn check_reason_and_purpose(
    reason: Option<&str>,
    purpose: Option<&str>,
) -> Result<(String, Purpose), Glass> {
    let raw = reason.unwrap_or_default();
    let purpose = purpose.and_then(|p| p.parse::<Purpose>().ok());
    match (check_reason(raw).map(str::to_string), purpose) {
        (Ok(reason), Some(purpose)) => Ok((reason, purpose)),
        (reason, purpose) => Err(Glass {
            reason_error: reason.err().map(|e| sentence(&e.to_string())),
            purpose_error: purpose
                .is_none()
                .then(|| "Choose the purpose of reading".to_string()),
            reason: raw.to_string(),
            purpose,
            ..Glass::default()
        }),
    }
}

/// The form checked: a grant's reason and purpose, or the form to show
/// again with what is wrong.
fn check_form(form: &ReadForm) -> Result<(String, Purpose, bool), Glass> {
    let family = form.family.as_deref() == Some("1");
    check_reason_and_purpose(form.reason.as_deref(), form.purpose.as_deref())
        .map(|(reason, purpose)| (reason, purpose, family))
        .map_err(|g| Glass { family, ..g })
}

/// A new grant id: 16 random bytes, 32 hex digits.
fn grant_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The child named in a route's path, or the find page (400) saying what
/// is wrong with it.
pub fn child_or_find_page(viewer: &Viewer, input: &str) -> Result<ChildRef, Box<Response>> {
    parse_child(input).map_err(|message| {
        Box::new(
            (
                StatusCode::BAD_REQUEST,
                html(find_page(viewer, input, Some(&message))),
            )
                .into_response(),
        )
    })
}

/// `POST /children/{child}/read`: makes the grant, then 303 to the
/// chronology; a refused reason or no purpose is the form again (400).
async fn read<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Path(child): Path<String>,
    axum::Form(form): axum::Form<ReadForm>,
) -> Response {
    let child = match child_or_find_page(&viewer, &child) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let (reason, purpose, family) = match check_form(&form) {
        Ok(ok) => ok,
        Err(glass) => {
            return (
                StatusCode::BAD_REQUEST,
                html(glass_page(&viewer, &child, &glass)),
            )
                .into_response();
        }
    };
    let now = st.clock.now();
    let grant = ReadGrant {
        id: grant_id(),
        user: viewer.name.clone(),
        child: child.clone(),
        family,
        reason,
        purpose,
        created_at: now,
        expires_at: Timestamp(now.0 + GRANT_HOURS * 3_600),
    };
    let to = format!(
        "/children/{}/chronology?grant={}",
        path_segment(&child.to_string()),
        grant.id
    );
    let store = st.reads.clone();
    match on_store(move || store.add_grant(&grant)).await {
        Ok(()) => Redirect::to(&to).into_response(),
        Err(page) => page,
    }
}

#[cfg(test)]
pub(crate) mod tests;
