//! The nursery register (`/register`): a shared tablet at the door.
//!
//! The children listed are the room's from the caseload (issue 17: the
//! caseload's children that come through a group, else all of them), by
//! name; without a caseload, those this device has recorded daily
//! presentations for, by reference. The
//! author is picked once at the top from the staff list (the device's
//! worker and `staff.json`, via [`crate::commands::device_authors`]),
//! never typed, and carried in the page's links.
//!
//! - **Present** (one tap): a daily presentation "present, nothing to
//!   note", arrival now, captured at once through the `record` command's
//!   path; the row then says it is recorded.
//! - **An exception** (late, hungry, hygiene, clothing, nappy, injury,
//!   absent with or without a reason): opens that child's daily
//!   presentation form with the exception filled in, then Continue,
//!   then Confirm on "check your answers".
//!
//! After Confirm, an exception goes straight back to the register, which
//! says "Saved" with the record's id (drawn after the capture returned).
//!
//! Taps for 12 children with 2 exceptions: 1 (author, once) + 10
//! (Present) + per exception 3 (the exception, Continue, Confirm), plus
//! 1 to focus a text box where one must be typed (an absence reason, an
//! injury's description) and 1 for the body map (an injury): late and
//! hungry make 1 + 10 + 3 + 3 = 17; the worst, two injuries, 1 + 10 + 5
//! + 5 = 21; the budget is 12 + 2 × 5 = 22.

use std::collections::BTreeSet;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hearth_shared::kinds::Detail;
use hearth_shared::{RecordKind, Timestamp};
use maud::{Markup, html};

use super::answers::{Answers, check};
use super::draft::{Draft, draw_draft, new_id, page, problem, tablet_zone};
use super::spec::FormSpec;
use crate::app::{AppState, Unlocked, layout, security};
use crate::caseload::{ChildChoice, choices};
use crate::commands::{capture_record, device_authors, record_defaults};
use crate::store::RecordStore;

/// An exception: its word, its button's text, and the answers it fills in.
type Exception = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The exceptions.
const EXCEPTIONS: &[Exception] = &[
    ("late", "Late", &[("attendance", "late")]),
    (
        "hungry",
        "Hungry",
        &[("attendance", "present"), ("hungry", "yes")],
    ),
    (
        "hygiene",
        "Hygiene",
        &[("attendance", "present"), ("hygiene_concern", "yes")],
    ),
    (
        "clothing",
        "Clothing",
        &[("attendance", "present"), ("clothing_concern", "yes")],
    ),
    (
        "nappy",
        "Nappy",
        &[("attendance", "present"), ("nappy_concern", "yes")],
    ),
    ("injury", "Injury", &[("attendance", "present")]),
    (
        "absent_with_reason",
        "Absent, reason given",
        &[("attendance", "absent_with_reason")],
    ),
    (
        "absent_unexplained",
        "Absent, no reason",
        &[("attendance", "absent_unexplained")],
    ),
];

/// The register's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", get(register))
        .route("/register/present", post(present))
        .route("/register/exception", get(exception))
}

#[derive(Debug, Default, serde::Deserialize)]
struct RegisterQuery {
    author: Option<String>,
    child: Option<String>,
    what: Option<String>,
    saved: Option<String>,
}

/// The register for `author`, saying record `rid` was saved.
pub fn saved_url(author: &str, rid: &str) -> String {
    format!("/register?author={}&saved={}", enc(author), enc(rid))
}

/// A child's row: its reference, its name (from the caseload), and
/// whether a presentation is recorded for it today (local).
struct Row {
    child: String,
    name: Option<String>,
    today: bool,
}

fn local_date(t: Timestamp) -> String {
    tablet_zone().local(t).0
}

/// The register's children: with a caseload, the room's (the caseload's
/// children that come through a group; if none do, all of them) by name;
/// without one, the children with daily presentations on this device.
/// Each says whether a presentation names it (under any of its
/// references) today.
fn rows(u: &Unlocked, now: Timestamp) -> Result<Vec<Row>, String> {
    let today = local_date(now);
    let mut all = BTreeSet::new();
    let mut done = BTreeSet::new();
    for r in u.store.all().map_err(|e| e.to_string())? {
        let body = r.envelope().map_err(|e| e.to_string())?.body;
        if !matches!(body.detail, Detail::DailyPresentation(_)) {
            continue;
        }
        let on_day = local_date(body.occurred_at) == today;
        for c in body.children.iter() {
            all.insert(c.to_string());
            if on_day {
                done.insert(c.to_string());
            }
        }
    }
    let caseload = u.store.caseload().map_err(|e| e.to_string())?;
    if let Some(caseload) = caseload {
        return Ok(room(&choices(&caseload))
            .into_iter()
            .map(|c| Row {
                today: c.refs.iter().any(|r| done.contains(r)),
                child: c.child.clone(),
                name: Some(c.name.clone()),
            })
            .collect());
    }
    Ok(all
        .into_iter()
        .map(|child| Row {
            today: done.contains(&child),
            child,
            name: None,
        })
        .collect())
}

/// The room's children: those on the caseload through a group, or all of
/// them if none is.
fn room(children: &[ChildChoice]) -> Vec<&ChildChoice> {
    let grouped: Vec<&ChildChoice> = children.iter().filter(|c| c.group.is_some()).collect();
    if grouped.is_empty() {
        children.iter().collect()
    } else {
        grouped
    }
}

fn row_id(child: &str) -> String {
    super::answers::field_id(child).replacen("f-", "child-", 1)
}

/// `s` as a query value.
fn enc(s: &str) -> String {
    hearth_shared::url::encode(s, b"")
}

/// `GET /register`.
async fn register(State(state): State<AppState>, Query(q): Query<RegisterQuery>) -> Response {
    let dir = state.store_dir().to_path_buf();
    let now = state.clock().now();
    let Some(found) = state.with_unlocked(|u| {
        let authors =
            device_authors(&dir, &u.store, &u.settings, &u.key).map_err(|e| e.to_string())?;
        Ok::<_, String>((authors, rows(u, now)?))
    }) else {
        return Redirect::to("/unlock").into_response();
    };
    let (authors, rows) = match found {
        Ok(x) => x,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "Register", &e),
    };
    let author = q.author.filter(|a| authors.contains(a));
    page(
        StatusCode::OK,
        register_page(&authors, author.as_deref(), &rows, q.saved.as_deref()),
    )
}

fn register_page(
    authors: &[String],
    author: Option<&str>,
    rows: &[Row],
    saved: Option<&str>,
) -> Markup {
    layout::page(
        "Register",
        html! {
            @if let Some(rid) = saved {
                div class="notification" role="status" { p { "Saved: record " strong id="record-id" { (rid) } "." } }
            }
            h1 class="heading-l" { "Register" }
            h2 class="heading-m" { "Who is recording?" }
            ul class="link-list author-list" {
                @for a in authors {
                    li { a class={ "button" @if Some(a.as_str()) != author { " button--secondary" } } id={ "author-" (a) }
                        href={ "/register?author=" (enc(a)) } aria-current=[(Some(a.as_str()) == author).then_some("true")] { (a) } }
                }
            }
            @if let Some(author) = author {
                @if rows.is_empty() {
                    p { "No children yet. Children appear here once this tablet has recorded a daily presentation for them." }
                }
                table class="table register" {
                    caption class="visually-hidden" { "Children" }
                    thead { tr { th scope="col" { "Child" } th scope="col" { "Today" } th scope="col" { "Exceptions" } } }
                    tbody { @for r in rows { (row(author, r)) } }
                }
                p { a href="/forms/daily_presentation" { "Record a child not listed" } }
            } @else {
                p { "Choose who is recording first." }
            }
        },
    )
}

fn row(author: &str, r: &Row) -> Markup {
    html! {
        tr id=(row_id(&r.child)) {
            th scope="row" {
                @if let Some(name) = &r.name { (name) br; span class="hint" { (r.child) } }
                @else { (r.child) }
            }
            td {
                @if r.today { strong class="tag tag--synced" { "Recorded" } }
                @else {
                    form method="post" action="/register/present" {
                        (security::csrf_field())
                        input type="hidden" name="child" value=(r.child);
                        input type="hidden" name="author" value=(author);
                        button class="button" type="submit" id={ (row_id(&r.child)) "-present" } { "Present" }
                    }
                }
            }
            td {
                @for (word, text, _) in EXCEPTIONS {
                    a class="button button--secondary" id={ (row_id(&r.child)) "-" (word) }
                        href={ "/register/exception?child=" (enc(&r.child)) "&author=" (enc(author)) "&what=" (word) } { (text) }
                    " "
                }
            }
        }
    }
}

/// A daily presentation's answers for `child` now, with `extra`.
fn answers_for(child: &str, now: Timestamp, headline: &str, extra: &[(&str, &str)]) -> Answers {
    let mut a = Answers::fresh(now, tablet_zone().as_ref());
    a.set("children[0]", child);
    a.set("headline", headline);
    for (k, v) in extra {
        a.set(k, v);
    }
    if !a.get("attendance").starts_with("absent") {
        let time = a.get("occurred_at.time").to_string();
        a.set("arrival_time", &time);
    }
    a
}

#[derive(Debug, serde::Deserialize)]
struct PresentForm {
    child: String,
    author: String,
}

/// Captures "present, nothing to note" for one child.
fn capture_present(state: &AppState, u: &mut Unlocked, f: &PresentForm) -> Result<(), String> {
    let spec = FormSpec::of(RecordKind::DailyPresentation).expect("a form");
    let now = state.clock().now();
    let answers = answers_for(
        &f.child,
        now,
        "Present, nothing to note",
        &[("attendance", "present")],
    );
    let dir = state.store_dir();
    let defaults = record_defaults(dir, &u.store, &u.settings, &u.key, Some(&f.author))
        .map_err(|e| e.to_string())?;
    let body = check(&spec, &answers, tablet_zone().as_ref(), &defaults).map_err(|errs| {
        errs.into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    capture_record(dir, &mut u.store, &u.key, state.clock(), &u.settings, body)
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `POST /register/present`: one tap, one record; back to the register.
async fn present(
    State(state): State<AppState>,
    axum::Form(f): axum::Form<PresentForm>,
) -> Response {
    let Some(result) = state.with_unlocked(|u| capture_present(&state, u, &f)) else {
        return Redirect::to("/unlock").into_response();
    };
    match result {
        Ok(()) => {
            state.sync_soon();
            let to = format!("/register?author={}#{}", enc(&f.author), row_id(&f.child));
            Redirect::to(&to).into_response()
        }
        Err(e) => problem(StatusCode::UNPROCESSABLE_ENTITY, "Not recorded", &e),
    }
}

/// `GET /register/exception`: the child's short form with the exception
/// filled in.
async fn exception(State(state): State<AppState>, Query(q): Query<RegisterQuery>) -> Response {
    let (Some(child), Some(author), Some(what)) = (q.child, q.author, q.what) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Register",
            "Choose a child and an exception from the register.",
        );
    };
    let Some((_, text, extra)) = EXCEPTIONS.iter().find(|(w, _, _)| *w == what) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Register",
            "That is not one of the register's exceptions.",
        );
    };
    let spec = FormSpec::of(RecordKind::DailyPresentation).expect("a form");
    let draft = Draft {
        kind: RecordKind::DailyPresentation,
        answers: answers_for(&child, state.clock().now(), text, extra),
        author: Some(author),
        corrects: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exception_fills_only_core_fields_and_words() {
        let spec = FormSpec::of(RecordKind::DailyPresentation).unwrap();
        for (_, _, extra) in EXCEPTIONS {
            for (name, value) in *extra {
                let f = spec
                    .field(name)
                    .unwrap_or_else(|| panic!("{name} is not a field"));
                if let super::super::spec::Input::Choice(words) = f.input {
                    assert!(
                        words.contains(value),
                        "{value} is not a core word for {name}"
                    );
                }
            }
        }
    }
}
