//! Corrections from the record's page: `/records/{id}/amend` (the kind's
//! form, filled from the latest version of the record, plus "why") and
//! `/records/{id}/retract` ("entered in error", with why). Both capture
//! through the `amend` command's own path ([`crate::commands::amend_record`]:
//! the same refusals, [`crate::amend::amended_body`], the record path).
//!
//! An amendment is a draft like any form (see [`super::routes`]), which
//! also carries the record it corrects; the reason is its form's first
//! field, `reason` (id `f-reason`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hearth_shared::json::body_to_json;
use hearth_shared::kinds::{Detail, Revision};
use hearth_shared::{Body, RecordId};
use maud::{Markup, html};
use serde_json::Value;

use super::answers::{Answers, FieldError};
use super::draft::{Draft, draw_draft, new_id, page, problem, saved_page, tablet_zone};
use super::spec::{FormSpec, Input, cap, with_reason};
use super::zone::Zone;
use crate::amend::Changes;
use crate::app::{AppState, Unlocked, layout, security};
use crate::commands::{CommandError, amend_record, latest_record};
use crate::store::RecordStore;

/// The correction routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/records/{id}/amend", get(amend_form))
        .route("/records/{id}/retract", get(retract_form).post(retract))
}

/// A JSON value as a form answer.
fn text_of(input: &Input, v: &Value) -> String {
    match (input, v) {
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => n.to_string(),
        (Input::YesNo, Value::Bool(b)) => (if *b { "yes" } else { "no" }).into(),
        (Input::Tick, Value::Bool(true)) => "yes".into(),
        _ => String::new(),
    }
}

/// The answers that give back `body` (the inverse of
/// [`super::answers::to_json`]), local times in `zone`.
pub fn answers_of(spec: &FormSpec, body: &Body, zone: &dyn Zone) -> Answers {
    let json = body_to_json(body);
    let mut a = Answers::default();
    let (date, time) = zone.local(body.occurred_at);
    a.set("occurred_at.date", &date);
    a.set("occurred_at.time", &time);
    for f in &spec.fields {
        let v = json.get(f.name).unwrap_or(&Value::Null);
        match (&f.input, v) {
            (Input::When, _) => {}
            (Input::List { .. }, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    a.set(&format!("{}[{i}]", f.name), &text_of(&f.input, item));
                }
            }
            (Input::Group { fields, .. }, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    for s in fields {
                        let v = item.get(s.name).unwrap_or(&Value::Null);
                        a.set(
                            &format!("{}[{i}].{}", f.name, s.name),
                            &text_of(&s.input, v),
                        );
                    }
                }
            }
            (input, v) => a.set(f.name, &text_of(input, v)),
        }
    }
    a
}

/// What the `amend` command is asked to change, from the form: every
/// field (unchanged ones are the original's anyway).
pub fn changes_of(spec: &FormSpec, answers: &Answers, zone: &dyn Zone) -> Changes {
    let Value::Object(mut json) = super::answers::to_json(spec, answers, zone) else {
        unreachable!("to_json makes an object")
    };
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let children = match json.remove("children") {
        Some(Value::Array(c)) => c.into_iter().filter_map(|v| text(Some(v))).collect(),
        _ => Vec::new(),
    };
    json.remove("kind");
    Changes {
        reason: text(json.remove("reason")).unwrap_or_default(),
        entered_in_error: false,
        children,
        occurred_at: text(json.remove("occurred_at")),
        headline: text(json.remove("headline")),
        fields: json,
    }
}

/// The body a correction starts from: the record's, or for a revision
/// the corrected record it carries (with its common fields).
fn form_body(body: Body) -> Option<Body> {
    match &body.detail {
        Detail::Revision(r) => {
            let detail = r.revised.detail()?;
            Some(Body { detail, ..body })
        }
        Detail::Amendment(_) => None,
        _ => Some(body),
    }
}

/// The latest version of record `text` and its body, on this device.
fn latest(u: &Unlocked, text: &str) -> Result<(RecordId, Body), String> {
    let rid: RecordId = text
        .parse()
        .map_err(|_| "That is not a record id.".to_string())?;
    let latest = latest_record(&u.store, rid).map_err(|e| e.to_string())?;
    let record = u
        .store
        .get(latest.seq)
        .map_err(|e| e.to_string())?
        .filter(|_| rid.device == u.settings.device_id)
        .ok_or_else(|| format!("Record {latest} is not held on this tablet."))?;
    let body = record.envelope().map_err(|e| e.to_string())?.body;
    Ok((latest, body))
}

/// `GET /records/{id}/amend`: the form, from the latest version.
async fn amend_form(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(found) = state.with_unlocked(|u| latest(u, &id)) else {
        return Redirect::to("/unlock").into_response();
    };
    let (rid, body) = match found {
        Ok(x) => x,
        Err(e) => return problem(StatusCode::NOT_FOUND, "Cannot correct this record", &e),
    };
    if rid.to_string() != id {
        return Redirect::to(&format!("/records/{rid}/amend")).into_response();
    }
    let Some(body) = form_body(body) else {
        return problem(
            StatusCode::CONFLICT,
            "Cannot correct this record",
            "It is a retraction or an old-style amendment; correct the record it names, or use the command line's amend.",
        );
    };
    let Some(spec) = FormSpec::of(body.detail.kind()).map(with_reason) else {
        return problem(
            StatusCode::CONFLICT,
            "Cannot correct this record",
            "It has no form.",
        );
    };
    let draft = Draft {
        kind: body.detail.kind(),
        answers: answers_of(&spec, &body, tablet_zone().as_ref()),
        author: None,
        corrects: Some(rid.to_string()),
    };
    page(
        StatusCode::OK,
        draw_draft(
            &draft,
            &spec,
            &[],
            new_id(),
            false,
            &state.caseload_children(),
        ),
    )
}

/// The core's verdict on an amendment draft: the kind's fields checked
/// with every problem (as any form), then the whole correction built by
/// the `amend` command's [`crate::amend::amended_body`].
pub(super) fn amend_verdict(
    state: &AppState,
    u: &Unlocked,
    draft: &Draft,
    rid: &str,
) -> Result<(), Vec<FieldError>> {
    let one = |name: &str, message: String| {
        vec![FieldError {
            name: name.into(),
            message,
        }]
    };
    let (latest_id, original) = latest(u, rid).map_err(|e| one("", e))?;
    let spec = draft.spec();
    let zone = tablet_zone();
    let defaults = crate::commands::record_defaults(
        state.store_dir(),
        &u.store,
        &u.settings,
        &u.key,
        draft.author.as_deref(),
    )
    .map_err(|e| one("", e.to_string()))?;
    let base = FormSpec::of(draft.kind).expect("a kind with a form");
    super::answers::check(&base, &draft.answers, zone.as_ref(), &defaults)?;
    let changes = changes_of(&spec, &draft.answers, zone.as_ref());
    crate::amend::amended_body(latest_id, &original, &changes, &defaults)
        .map(|_| ())
        .map_err(|e| {
            let m = e.to_string();
            one(if m.contains("reason") { "reason" } else { "" }, m)
        })
}

/// Captures an amendment draft through the `amend` command's path.
pub(super) fn capture_amendment(
    state: &AppState,
    u: &mut Unlocked,
    draft: &Draft,
    rid: &str,
) -> Result<RecordId, CommandError> {
    let rid: RecordId = rid.parse().map_err(|_| CommandError::NothingToRecord)?;
    let changes = changes_of(&draft.spec(), &draft.answers, tablet_zone().as_ref());
    let dir = state.store_dir();
    amend_record(
        dir,
        &mut u.store,
        &u.key,
        state.clock(),
        &u.settings,
        rid,
        &changes,
        draft.author.as_deref(),
    )
}

fn retract_page(id: &str, summary: &str, reason: &str, error: Option<&str>) -> Markup {
    let max = cap(|r: &Revision| &r.reason);
    let errors: Vec<(&str, &str)> = error.map(|e| ("f-reason", e)).into_iter().collect();
    layout::page(
        "Mark as entered in error",
        html! {
            (layout::error_summary(&errors))
            h1 class="heading-l" { "Mark record " (id) " as entered in error" }
            p { (summary) }
            p { "The record is not deleted: it stays in the chronology, struck through, with who retracted it, when and why." }
            form method="post" action={ "/records/" (id) "/retract" } novalidate {
                (security::csrf_field())
                div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                    label class="label" for="f-reason" { "Why was it entered in error?" }
                    @if let Some(e) = error { p class="error-message" id="f-reason-error" { (e) } }
                    input class="input" type="text" id="f-reason" name="reason" value=(reason) data-max=(max);
                    p class="hint byte-count" id="f-reason-count" { "Up to " (max) " bytes" }
                }
                button class="button button--warning" type="submit" { "Mark as entered in error" }
            }
        },
    )
}

/// `GET /records/{id}/retract`.
async fn retract_form(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(found) = state.with_unlocked(|u| latest(u, &id)) else {
        return Redirect::to("/unlock").into_response();
    };
    match found {
        Ok((_, body)) => {
            let summary = format!("{}: {}", body.detail.kind().label(), body.headline.as_str());
            page(StatusCode::OK, retract_page(&id, &summary, "", None))
        }
        Err(e) => problem(StatusCode::NOT_FOUND, "Cannot retract this record", &e),
    }
}

#[derive(Debug, serde::Deserialize)]
struct RetractForm {
    reason: String,
}

/// `POST /records/{id}/retract`: the retraction, through `amend`'s path.
async fn retract(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RetractForm>,
) -> Response {
    let Ok(rid) = id.parse::<RecordId>() else {
        return problem(
            StatusCode::NOT_FOUND,
            "No such record",
            "That is not a record id.",
        );
    };
    let changes = Changes {
        reason: f.reason.clone(),
        entered_in_error: true,
        ..Changes::default()
    };
    let dir = state.store_dir().to_path_buf();
    let Some(result) = state.with_unlocked(|u| {
        amend_record(
            &dir,
            &mut u.store,
            &u.key,
            state.clock(),
            &u.settings,
            rid,
            &changes,
            None,
        )
    }) else {
        return Redirect::to("/unlock").into_response();
    };
    match result {
        Ok(new) => {
            state.sync_soon();
            saved_page(&new.to_string())
        }
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            retract_page(&id, "", &f.reason, Some(&e.to_string())),
        ),
    }
}
