//! The forms' routes. Every form is a draft from its first save: the form
//! posts to `/drafts/{id}` (the id is random, chosen when the empty form
//! is drawn), which saves the answers sealed and then, by the button
//! pressed (`_action`), stays (`save`, `add:…`, `autosave` from the
//! script), or checks them with the core and shows "check your answers"
//! (`check`). Only `POST /drafts/{id}/confirm` captures, through the
//! `record` command's own path ([`crate::commands::capture_record`]), and
//! the "Saved" page is drawn only after it returned; the draft is then
//! discarded and background sync asked to run.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /forms` | the record kinds, and the drafts to resume or discard |
//! | `GET /forms/{kind}` | a new, empty form (`?region=` adds an injury there) |
//! | `POST /drafts/{id}` | save the answers; then `_action` |
//! | `GET /drafts/{id}` | the form with the draft's answers |
//! | `GET /drafts/{id}/check` | check your answers |
//! | `POST /drafts/{id}/confirm` | capture, then "Saved" |
//! | `POST /drafts/{id}/discard` | delete the draft |

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hearth_shared::kinds::daily_presentation::BodyRegion;
use maud::{Markup, html};

use super::answers::{Answers, FieldError, check};
use super::draft::{
    Draft, draft_url, draw, draw_draft, load_or_page, locked, new_id, no_draft, page, parse_id,
    problem, saved_page, tablet_zone,
};
use super::render::check_page;
use super::spec::{FORM_KINDS, FormSpec};
use crate::app::{AppState, Unlocked, layout, security};
use crate::commands::{capture_record, record_defaults};

/// Drafts older than this many days are purged on unlock.
pub const DRAFT_DAYS: i64 = 14;

/// The forms' routes, merged into the app's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms", get(kinds))
        .route("/forms/{kind}", get(new_form))
        .route("/drafts", get(kinds))
        .route("/drafts/{id}", get(edit).post(save))
        .route("/drafts/{id}/check", get(check_answers))
        .route("/drafts/{id}/confirm", post(confirm))
        .route("/drafts/{id}/discard", post(discard))
        .merge(super::register::routes())
        .merge(super::correct::routes())
}

/// `GET /forms` and `/drafts`: the kinds, and the drafts.
async fn kinds(State(state): State<AppState>) -> Response {
    let now = state.clock().now();
    // Old drafts go on unlock (see [`purge_old_drafts`]) and, so that a
    // long-unlocked tablet never lists one, before every listing too.
    let listed = state.with_unlocked(|u| {
        purge_old_drafts(u, now)?;
        u.store.drafts()
    });
    let Some(drafts) = listed else {
        return locked();
    };
    let drafts: Vec<(u64, String, Draft)> = match drafts {
        Ok(d) => d
            .into_iter()
            .filter_map(|d| {
                let draft: Draft = serde_json::from_slice(&d.content).ok()?;
                Some((d.id, crate::app::localtime::date_time(d.saved_at), draft))
            })
            .collect(),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "Drafts", &e.to_string()),
    };
    page(StatusCode::OK, kinds_page(&drafts))
}

fn kinds_page(drafts: &[(u64, String, Draft)]) -> Markup {
    layout::page(
        "New record",
        html! {
            h1 class="heading-l" { "New record" }
            ul class="link-list" {
                @for k in FORM_KINDS { li { a href={ "/forms/" (k.as_str()) } id={ "new-" (k.as_str()) } { (k.label()) } } }
            }
            h2 class="heading-m" id="drafts" { "Drafts" }
            @if drafts.is_empty() { p { "No drafts." } }
            @for (id, saved, d) in drafts {
                div class="summary-list__row" {
                    p { a href=(draft_url(*id)) { (d.kind.label()) ": " (d.answers.get("headline")) } " (saved " (saved) ")" }
                    form method="post" action={ (draft_url(*id)) "/discard" } {
                        (security::csrf_field())
                        button class="button button--warning" type="submit" { "Discard" }
                    }
                }
            }
            p class="hint" { "Drafts are kept on this tablet only, encrypted, for " (DRAFT_DAYS) " days. They are not records and are never sent." }
        },
    )
}

/// `?region=` (the body map without scripts) and `?saved=`.
#[derive(Debug, Default, serde::Deserialize)]
struct FormQuery {
    region: Option<String>,
    saved: Option<String>,
}

/// Adds an injury at `region` (a core body region word) when there is room.
fn with_region(spec: &FormSpec, answers: &mut Answers, region: Option<&str>) {
    let Some(word) = region.filter(|w| w.parse::<BodyRegion>().is_ok()) else {
        return;
    };
    if spec.field("injuries[].body_region").is_none() {
        return;
    }
    let n = answers.entries("injuries");
    let cap = match spec.field("injuries").map(|f| &f.input) {
        Some(super::spec::Input::Group { items, .. }) => *items,
        _ => 0,
    };
    if n < cap {
        answers.set(&format!("injuries[{n}].body_region"), word);
    }
}

/// `GET /forms/{kind}`: an empty form, the time now, under a new draft id.
async fn new_form(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(q): Query<FormQuery>,
) -> Response {
    let Some(spec) = kind.parse().ok().and_then(FormSpec::of) else {
        return problem(
            StatusCode::NOT_FOUND,
            "No such form",
            "There is no form for that kind of record.",
        );
    };
    let mut answers = Answers::fresh(state.clock().now(), tablet_zone().as_ref());
    with_region(&spec, &mut answers, q.region.as_deref());
    page(
        StatusCode::OK,
        draw(
            &spec,
            &answers,
            &[],
            new_id(),
            false,
            &state.caseload_children(),
        ),
    )
}

/// `GET /drafts/{id}`: the form with the draft's answers.
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<FormQuery>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_draft(false);
    };
    let Some(loaded) = state.with_unlocked(|u| load_or_page(u, id)) else {
        return locked();
    };
    let mut draft = match loaded {
        Ok(d) => d,
        Err(page) => return *page,
    };
    let spec = draft.spec();
    with_region(&spec, &mut draft.answers, q.region.as_deref());
    page(
        StatusCode::OK,
        draw_draft(
            &draft,
            &spec,
            &[],
            id,
            q.saved.is_some(),
            &state.caseload_children(),
        ),
    )
}

/// `POST /drafts/{id}`: saves, then does what the button said.
async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_draft(false);
    };
    let field = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let Some(spec) = field("_kind")
        .and_then(|k| k.parse().ok())
        .and_then(FormSpec::of)
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "No such form",
            "The form did not say what kind of record it is.",
        );
    };
    let corrects = field("_corrects")
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let spec = match corrects {
        Some(_) => super::spec::with_reason(spec),
        None => spec,
    };
    let answers = Answers::from_pairs(&spec, &pairs);
    let author = field("_author")
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    let draft = Draft {
        kind: spec.kind,
        answers,
        author,
        corrects,
    };
    let content = serde_json::to_vec(&draft).expect("answers serialise");
    let now = state.clock().now();
    let Some(saved) = state.with_unlocked(|u| u.store.save_draft(id, now, &content)) else {
        return locked();
    };
    if let Err(e) = saved {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The draft was not saved",
            &e.to_string(),
        );
    }
    match field("_action").unwrap_or("save") {
        "autosave" => StatusCode::NO_CONTENT.into_response(),
        "check" => after_check(&state, &draft, id),
        a => match a.strip_prefix("add:") {
            Some(group) => Redirect::to(&format!(
                "{}#{}",
                draft_url(id),
                super::answers::field_id(group)
            ))
            .into_response(),
            None => Redirect::to(&format!("{}?saved=1", draft_url(id))).into_response(),
        },
    }
}

/// Checks the answers with the core: "check your answers", or the form
/// again with every problem.
fn after_check(state: &AppState, draft: &Draft, id: u64) -> Response {
    let spec = draft.spec();
    match verdict(state, draft) {
        None => locked(),
        Some(Ok(())) => Redirect::to(&format!("{}/check", draft_url(id))).into_response(),
        Some(Err(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            draw_draft(draft, &spec, &errors, id, false, &state.caseload_children()),
        ),
    }
}

/// The core's verdict on `answers` with this device's defaults.
fn verdict(state: &AppState, draft: &Draft) -> Option<Result<(), Vec<FieldError>>> {
    let dir = state.store_dir().to_path_buf();
    let (spec, answers) = (FormSpec::of(draft.kind)?, &draft.answers);
    if let Some(rid) = &draft.corrects {
        return state.with_unlocked(|u| super::correct::amend_verdict(state, u, draft, rid));
    }
    let author = draft.author.as_deref();
    state.with_unlocked(|u| {
        let defaults =
            record_defaults(&dir, &u.store, &u.settings, &u.key, author).map_err(|e| {
                vec![FieldError {
                    name: String::new(),
                    message: e.to_string(),
                }]
            })?;
        check(&spec, answers, tablet_zone().as_ref(), &defaults).map(|_| ())
    })
}

/// `GET /drafts/{id}/check`.
async fn check_answers(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_draft(false);
    };
    let draft = match state.with_unlocked(|u| load_or_page(u, id)) {
        None => return locked(),
        Some(Ok(d)) => d,
        Some(Err(page)) => return *page,
    };
    let spec = draft.spec();
    match verdict(&state, &draft) {
        None => locked(),
        Some(Err(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            draw_draft(
                &draft,
                &spec,
                &errors,
                id,
                false,
                &state.caseload_children(),
            ),
        ),
        Some(Ok(())) => {
            let zone = tablet_zone().name(state.clock().now());
            page(
                StatusCode::OK,
                check_page(
                    &spec,
                    &draft.answers,
                    &draft_url(id),
                    &zone,
                    &state.caseload_children(),
                ),
            )
        }
    }
}

/// Captures draft `id` through the `record` command's path; the record's
/// id once durable, and the draft discarded.
/// Returns the new record's id and the draft's picked author (a register
/// exception's).
fn capture_draft(
    state: &AppState,
    u: &mut Unlocked,
    id: u64,
) -> Result<(String, Option<String>), Box<Response>> {
    let draft = load_or_page(u, id)?;
    let spec = draft.spec();
    let dir = state.store_dir();
    let not_saved =
        |m: String| Box::new(problem(StatusCode::UNPROCESSABLE_ENTITY, "Not saved", &m));
    let recheck = || Box::new(Redirect::to(&format!("{}/check", draft_url(id))).into_response());
    let rid = if let Some(corrects) = &draft.corrects {
        super::correct::amend_verdict(state, u, &draft, corrects).map_err(|_| recheck())?;
        super::correct::capture_amendment(state, u, &draft, corrects)
    } else {
        let defaults = record_defaults(dir, &u.store, &u.settings, &u.key, draft.author.as_deref())
            .map_err(|e| not_saved(e.to_string()))?;
        let body = check(&spec, &draft.answers, tablet_zone().as_ref(), &defaults)
            .map_err(|_| recheck())?;
        capture_record(dir, &mut u.store, &u.key, state.clock(), &u.settings, body)
    }
    .map_err(|e| not_saved(e.to_string()))?;
    // The record is durable; a draft left behind would only be a copy.
    if let Err(e) = u.store.discard_draft(id) {
        tracing::warn!(error = %e, "a captured draft was not discarded");
    }
    Ok((rid.to_string(), draft.author))
}

/// `POST /drafts/{id}/confirm`: capture, then "Saved".
async fn confirm(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_draft(false);
    };
    let Some(result) = state.with_unlocked(|u| capture_draft(&state, u, id)) else {
        return locked();
    };
    let (rid, author) = match result {
        Ok(done) => done,
        Err(response) => return *response,
    };
    state.sync_soon();
    match author {
        // A register exception: straight back to the register, which
        // says "Saved" (the record is durable by now), saving a tap.
        Some(a) => Redirect::to(&super::register::saved_url(&a, &rid)).into_response(),
        None => saved_page(&rid),
    }
}

/// `POST /drafts/{id}/discard`.
async fn discard(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return no_draft(false);
    };
    match state.with_unlocked(|u| u.store.discard_draft(id)) {
        None => locked(),
        Some(Ok(_)) => Redirect::to("/forms#drafts").into_response(),
        Some(Err(e)) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not discarded",
            &e.to_string(),
        ),
    }
}

/// Purges drafts not saved for [`DRAFT_DAYS`] days; for the unlock step.
pub fn purge_old_drafts(
    u: &Unlocked,
    now: hearth_shared::Timestamp,
) -> Result<usize, crate::store::StoreError> {
    u.store
        .purge_drafts(hearth_shared::Timestamp(now.0 - DRAFT_DAYS * 86_400))
}

#[cfg(test)]
#[path = "routes_tests.rs"]
pub(crate) mod tests;
