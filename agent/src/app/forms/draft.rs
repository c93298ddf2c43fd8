//! A draft (a form's answers, sealed in the store) and what every form
//! page is drawn with: the form of a draft, the plain problem page, the
//! "Saved" page, and the tablet's zone.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hearth_shared::RecordKind;
use maud::{Markup, html};

use super::answers::{Answers, FieldError};
use super::render::{FormCtx, form_page};
use super::spec::{FormSpec, with_reason};
use super::zone::{self, Zone};
use crate::app::{Unlocked, layout};
use crate::caseload::ChildChoice;

/// What a draft holds (sealed): its kind and answers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Draft {
    /// The record kind.
    pub kind: RecordKind,
    /// The answers so far.
    pub answers: Answers,
    /// The author picked from the staff list (the register); else the
    /// device's worker.
    #[serde(default)]
    pub author: Option<String>,
    /// For an amendment: the record it corrects.
    #[serde(default)]
    pub corrects: Option<String>,
}

impl Draft {
    /// The draft's form: its kind's, with the reason first for an
    /// amendment.
    pub fn spec(&self) -> FormSpec {
        let spec = FormSpec::of(self.kind).expect("a draft is of a kind with a form");
        match self.corrects {
            Some(_) => with_reason(spec),
            None => spec,
        }
    }
}

/// `/drafts/{id}`, the id as 16 hex digits.
pub fn draft_url(id: u64) -> String {
    format!("/drafts/{id:016x}")
}

/// A draft id from its 16 hex digits.
pub fn parse_id(text: &str) -> Option<u64> {
    (text.len() == 16)
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .filter(|id| *id > 0 && *id < 1 << 63)
}

/// A fresh random draft id.
pub fn new_id() -> u64 {
    use rand_core::RngCore;
    (rand_core::OsRng.next_u64() >> 1).max(1)
}

/// A page with `status`.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    (status, layout::html(markup)).into_response()
}

/// A plain page saying what went wrong.
pub fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    page(
        status,
        layout::page(
            title,
            html! {
                h1 class="heading-l" { (title) }
                p { (message) }
                p { a href="/forms" { "Back to the forms" } }
            },
        ),
    )
}

/// To the unlock page.
pub fn locked() -> Response {
    Redirect::to("/unlock").into_response()
}

/// The tablet's zone (see [`zone::system`]).
pub fn tablet_zone() -> Box<dyn Zone> {
    zone::system()
}

/// The form of `draft`, carrying its picked author.
pub fn draw_draft(
    draft: &Draft,
    spec: &FormSpec,
    errors: &[FieldError],
    id: u64,
    saved: bool,
    children: &[ChildChoice],
) -> Markup {
    let mut form = FormCtxOwned::new(spec, &draft.answers, errors, id, saved);
    form.children = children;
    form.author = draft.author.clone();
    form.corrects = draft.corrects.clone();
    form.render()
}

/// The form of `spec` with `answers`.
pub fn draw(
    spec: &FormSpec,
    answers: &Answers,
    errors: &[FieldError],
    id: u64,
    saved: bool,
    children: &[ChildChoice],
) -> Markup {
    let mut form = FormCtxOwned::new(spec, answers, errors, id, saved);
    form.children = children;
    form.render()
}

/// What [`draw`] builds a [`FormCtx`] from.
struct FormCtxOwned<'a> {
    spec: &'a FormSpec,
    answers: &'a Answers,
    errors: &'a [FieldError],
    id: u64,
    saved: bool,
    author: Option<String>,
    corrects: Option<String>,
    children: &'a [ChildChoice],
}

impl<'a> FormCtxOwned<'a> {
    fn new(
        spec: &'a FormSpec,
        answers: &'a Answers,
        errors: &'a [FieldError],
        id: u64,
        saved: bool,
    ) -> Self {
        Self {
            spec,
            answers,
            errors,
            id,
            saved,
            author: None,
            corrects: None,
            children: &[],
        }
    }

    fn render(&self) -> Markup {
        let zone = tablet_zone();
        let (date, time) = (
            self.answers.get("occurred_at.date"),
            self.answers.get("occurred_at.time"),
        );
        let at = zone
            .to_utc(date, time)
            .unwrap_or(hearth_shared::Timestamp(0));
        form_page(&FormCtx {
            spec: self.spec,
            answers: self.answers,
            errors: self.errors,
            zone: zone.name(at),
            action: draft_url(self.id),
            saved: self.saved,
            author: self.author.clone(),
            corrects: self.corrects.clone(),
            children: self.children,
        })
    }
}

/// Loads draft `id` from the unlocked store.
pub fn load(u: &Unlocked, id: u64) -> Result<Option<Draft>, String> {
    let Some(stored) = u.store.draft(id).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    serde_json::from_slice(&stored.content)
        .map(Some)
        .map_err(|e| format!("the draft cannot be read: {e}"))
}

/// "Saved": drawn only once the record is durable.
pub fn saved_page(rid: &str) -> Response {
    page(
        StatusCode::OK,
        layout::page(
            "Saved",
            html! {
                div class="panel panel--confirmation" {
                    h1 class="heading-xl" { "Saved" }
                    p { "Record " strong id="record-id" { (rid) } " is signed and stored on this tablet. It will be sent when the server can be reached." }
                }
                p { a href={ "/records/" (rid) } { "View the record" } }
                p { a href="/forms" { "Record something else" } }
            },
        ),
    )
}

/// "No such draft": one that never was, or (`gone`) one saved as a
/// record, discarded or purged.
pub fn no_draft(gone: bool) -> Response {
    let why = if gone {
        "That draft was saved as a record, discarded or purged."
    } else {
        "That draft does not exist."
    };
    problem(StatusCode::NOT_FOUND, "No such draft", why)
}

/// Draft `id`, or the page saying why there is none.
pub fn load_or_page(u: &Unlocked, id: u64) -> Result<Draft, Box<Response>> {
    match load(u, id) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(Box::new(no_draft(true))),
        Err(e) => Err(Box::new(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Draft",
            &e,
        ))),
    }
}
