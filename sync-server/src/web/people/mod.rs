//! The people register in the web app (issue 17):
//!
//! | page | who | what |
//! | --- | --- | --- |
//! | `/find?name=TEXT` | managers, admins | find a child by name ([`name_search`], drawn on the find page) |
//! | `/people/{Pn}` | managers, admins | the person page ([`page`]) |
//! | `/admin/people/{Pn}/identity/link`, `/unlink` | admins | link or unlink a reference, with a reason |
//! | `/admin/people/{Pn}/members/add`, `/end` | admins | add to or end a household membership |
//! | `/admin/people` | admins | add a person ([`add`]) |
//! | `/proposals` | managers, admins | family proposals, confirmed or rejected with a reason ([`proposals`]) |
//!
//! Every read and change goes through [`people::ops`] (the proposals
//! through [`crate::admin`]'s family link and unlink), as the CLI and the
//! HTTP API do: the same checks, the same messages, and the register log
//! written before the page is drawn. A POST answers with the page itself
//! (what was done at the top, or the problem beside its field), as the
//! administration pages do; every POST carries the session's CSRF token,
//! which the session guard checks.

pub mod add;
pub mod page;
pub mod proposals;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use hearth_shared::ChildRef;
use maud::{Markup, html};

use self::page::{Outcome, PersonForm, glass_href, person_href};
use super::admin::{Answer, Problem, answer};
use super::{Admin, Reader, Viewer};
use crate::backend::Backend;
use crate::chronology::format::names::date_words;
use crate::clock::Clock;
use crate::http::AppState;
use crate::people::ops::{self, PersonView, RegisterError};
use crate::people::{PersonId, RegisterRefusal};
use crate::store::{Store, StoreError};

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/people/{key}", get(person::<S>))
        .route("/admin/people/{key}/identity/link", post(link::<S>))
        .route("/admin/people/{key}/identity/unlink", post(unlink::<S>))
        .route("/admin/people/{key}/members/add", post(add_member::<S>))
        .route("/admin/people/{key}/members/end", post(end_member::<S>))
        .route("/admin/people", get(add::page::<S>).post(add::add::<S>))
        .route("/proposals", get(proposals::page::<S>))
        .route("/proposals/confirm", post(proposals::confirm::<S>))
        .route("/proposals/reject", post(proposals::reject::<S>))
}

/// A refused register call as a problem beside the form field it is
/// about (`fields` maps the call's field names to the form's ids;
/// anything else goes beside `default`); a store failure is passed on.
pub fn problem(
    e: RegisterError,
    fields: &[(&str, &str)],
    default: &str,
) -> Result<Problem, StoreError> {
    Ok(match e {
        RegisterError::Store(e) => return Err(e),
        RegisterError::BadInput { field, message } => {
            let id = fields
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(default, |(_, id)| id);
            (id.to_string(), format!("{field}: {message}"))
        }
        RegisterError::Refused(r) => (default.to_string(), r.to_string()),
    })
}

/// The "not found" or "cannot be shown" page for a person key.
fn no_person(viewer: &Viewer, key: &str, e: RegisterError) -> Answer {
    let status = match &e {
        RegisterError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        RegisterError::Refused(RegisterRefusal::NoSuchPerson(_)) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let (_, message) = problem(e, &[], "key")?;
    let body = super::layout::page(
        Some(viewer),
        "No such person",
        html! {
            h1 class="heading-l" { "No such person" }
            p { "The register has no person " strong { (key) } ": " (message) }
            p { a href="/find" { "Find a child by name" } }
        },
    );
    Ok((status, body))
}

/// The person page for `key` (`Pn` or a reference), read through the
/// register log, with `outcome` at the top.
pub fn show<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    key: &str,
    outcome: Outcome,
) -> Answer {
    match ops::show(store, clock, &viewer.name, key) {
        Ok(v) => {
            let status = super::admin::status_of(&outcome.problems);
            Ok((status, page::render(viewer, &v, &outcome)))
        }
        Err(e) => no_person(viewer, key, e),
    }
}

/// `GET /people/{key}`.
async fn person<S: Backend>(
    Reader(viewer): Reader,
    State(state): State<AppState<S>>,
    Path(key): Path<String>,
) -> Response {
    answer(state, move |st| {
        show(
            st.store(),
            st.clock.as_ref(),
            &viewer,
            &key,
            Outcome::default(),
        )
    })
    .await
}

/// The person `key` names, with the page to answer if none.
fn resolve<S: Store>(store: &S, key: &str) -> Result<PersonId, RegisterError> {
    ops::resolve(&store.register().map_err(RegisterError::Store)?, key)
}

/// Links (`linked`) or unlinks the form's reference to the person `key`.
pub fn identity<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    key: &str,
    form: PersonForm,
    linked: bool,
) -> Answer {
    let view = match ops::show(store, clock, &viewer.name, key) {
        Ok(v) => v,
        Err(e) => return no_person(viewer, key, e),
    };
    let mut outcome = Outcome::default();
    match form.other.trim().parse::<ChildRef>() {
        Err(p) => outcome.problems.push((
            "other".into(),
            format!("The reference {p}; give nhs:<10 digits> or local:<issuer>:<id>"),
        )),
        Ok(other) => {
            let class: std::collections::BTreeSet<ChildRef> = view.refs.iter().cloned().collect();
            let Some(own) = crate::people::preferred_ref(&class).cloned() else {
                outcome.problems.push((
                    "other".into(),
                    "This person has no reference to link".into(),
                ));
                return Ok(finish(store, clock, viewer, key, outcome, form));
            };
            let done = if linked {
                ops::link_identity(store, clock, &viewer.name, &own, &other, &form.reason)
            } else {
                ops::unlink_identity(store, clock, &viewer.name, &own, &other, &form.reason)
            };
            match done {
                Ok(()) => {
                    outcome.done = Some(if linked {
                        (
                            "Linked".into(),
                            format!(
                                "{other} and {own} now name the same child: the chronology of either shows the records made under both."
                            ),
                        )
                    } else {
                        (
                            "Unlinked".into(),
                            format!("{other} and {own} are no longer linked."),
                        )
                    });
                }
                Err(e) => outcome
                    .problems
                    .push(problem(e, &[("reason", "reason")], "other")?),
            }
        }
    }
    Ok(finish(store, clock, viewer, key, outcome, form))
}

/// The page after a change: with the form again if it was refused.
fn finish<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    key: &str,
    mut outcome: Outcome,
    form: PersonForm,
) -> (StatusCode, Markup) {
    if !outcome.problems.is_empty() {
        outcome.form = form;
    }
    match show(store, clock, viewer, key, outcome) {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "person page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                html! { p { "The page could not be drawn; check the register before you try again." } },
            )
        }
    }
}

/// Adds the person `key` to the form's household from its date (`end`:
/// ends their membership on it).
pub fn membership<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    key: &str,
    form: PersonForm,
    end: bool,
) -> Answer {
    let id = match resolve(store, key) {
        Ok(id) => id,
        Err(e) => return no_person(viewer, key, e),
    };
    let mut outcome = Outcome::default();
    let household = form.household.trim().to_string();
    let done =
        ops::parse_date(if end { "until" } else { "from" }, form.date.trim()).and_then(|d| {
            if end {
                ops::end_member(store, clock, &viewer.name, &household, id, d)
            } else {
                ops::add_member(store, clock, &viewer.name, &household, id, d)
            }
            .map(|()| date_words(d))
        });
    match done {
        Ok(day) => {
            outcome.done = Some(if end {
                (
                    "Membership ended".into(),
                    format!("{id} no longer lives in {household} after {day}."),
                )
            } else {
                (
                    "Added to the household".into(),
                    format!("{id} lives in {household} from {day}."),
                )
            });
        }
        Err(e) => outcome.problems.push(problem(
            e,
            &[
                ("from", "date"),
                ("until", "date"),
                ("household", "household"),
            ],
            "household",
        )?),
    }
    Ok(finish(store, clock, viewer, key, outcome, form))
}

macro_rules! person_post {
    ($(#[$m:meta])* $name:ident, $work:ident, $flag:expr) => {
        $(#[$m])*
        async fn $name<S: Backend>(
            Admin(viewer): Admin,
            State(state): State<AppState<S>>,
            Path(key): Path<String>,
            Form(form): Form<PersonForm>,
        ) -> Response {
            answer(state, move |st| {
                $work(st.store(), st.clock.as_ref(), &viewer, &key, form, $flag)
            })
            .await
        }
    };
}

person_post!(
    /// `POST /admin/people/{key}/identity/link`.
    link, identity, true
);
person_post!(
    /// `POST /admin/people/{key}/identity/unlink`.
    unlink, identity, false
);
person_post!(
    /// `POST /admin/people/{key}/members/add`.
    add_member, membership, false
);
person_post!(
    /// `POST /admin/people/{key}/members/end`.
    end_member, membership, true
);

/// The find page's name search: its form, and (when a name was given)
/// the people whose names match, each with date of birth, references and
/// links to the break-the-glass form of each reference and to the person
/// page. A search is a read of the register, logged by [`ops::find`].
pub fn name_search(value: &str, found: Option<&[PersonView]>) -> Markup {
    html! {
        h2 class="heading-m" { "Find by name" }
        form method="get" action="/find" novalidate {
            div class="form-group" {
                label class="label" for="name" { "Name" }
                div class="hint" id="name-hint" { "Part of the child's name, such as Brown" }
                input class="input" id="name" name="name" type="text" value=(value)
                    autocomplete="off" spellcheck="false" aria-describedby="name-hint";
            }
            button class="button button--secondary" type="submit" { "Find by name" }
        }
        @if let Some(found) = found {
            @let children: Vec<&PersonView> = found.iter().filter(|v| v.person.child).collect();
            @if children.is_empty() {
                p id="name-results" role="status" { "No child in the register has a name or reference with " strong { (value) } " in it." }
            } @else {
                table class="table" id="name-results" {
                    caption class="table__caption" {
                        @if children.len() == 1 { "1 child whose name or reference has " } @else { (children.len()) " children whose names or references have " }
                        (value) " in it"
                    }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Date of birth" } th scope="col" { "References" } } }
                    tbody {
                        @for v in &children {
                            tr {
                                td { a href=(person_href(&v.person)) { (v.person.name) } }
                                td { (page::date_cell(&v.person)) }
                                td {
                                    @for (i, r) in v.refs.iter().enumerate() {
                                        @if i > 0 { br; }
                                        a href=(glass_href(r)) { span class="visually-hidden" { "Read the records of " (v.person.name) ": " } (r) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
