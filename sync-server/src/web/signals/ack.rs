//! `POST /children/{child}/signals/{rule}/ack`: a manager acknowledges a
//! signal from the chronology page, with a note.
//!
//! The form carries the page's grant: the acknowledgement is made only
//! under a grant that is the reader's own, unexpired and for this child
//! (the reason that opened the page covers it), and only for children in
//! that grant's view. Each child the signal concerns (a family-wide
//! signal names several) is acknowledged through
//! [`crate::audit::acknowledge`], the command's own step (`signals ack`),
//! which checks the note and logs it. Then 303 back to the chronology at
//! `#signals`, which shows the acknowledgement; a refused note draws the
//! page again (400) with the error in the form's group.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hearth_shared::ChildRef;
use maud::Markup;
use serde::Deserialize;

use super::AckDraft;
use crate::audit::{AckError, AckRequest, acknowledge};
use crate::backend::Backend;
use crate::chronology::{DateRange, family_of};
use crate::clock::Clock;
use crate::http::AppState;
use crate::signals::{Config, Rule};
use crate::store::{StoreError, Via};
use crate::web::chronology::{ask_again, pull_view, render_page};
use crate::web::find::{child_or_find_page, on_store, path_segment, sentence, valid_grant};
use crate::web::layout::{html, refusal};
use crate::web::{Reader, Viewer};

/// The fields of the form. Every one is optional to serde, so that a
/// missing one gets this page's message, not axum's.
#[derive(Debug, Default, Deserialize)]
pub struct AckForm {
    /// The grant the page was read under.
    #[serde(default)]
    pub grant: String,
    /// The manager's note.
    #[serde(default)]
    pub note: String,
    /// The children the signal concerns, one a line (the page's own child
    /// when none).
    #[serde(default)]
    pub children: String,
}

/// What the acknowledgement came to.
#[derive(Debug)]
pub enum Outcome {
    /// Recorded: go back to this address.
    Done(String),
    /// No valid grant: ask for a reason again.
    AskAgain(ChildRef),
    /// Refused: the chronology page again, with the form's error.
    Page(Markup),
}

/// The children to acknowledge for: those the form names (or the page's
/// child), each in the grant's view; `None` if one is not.
pub(super) fn targets(
    form: &AckForm,
    view: &BTreeSet<ChildRef>,
    page_child: &ChildRef,
) -> Option<Vec<ChildRef>> {
    let named: Vec<&str> = form
        .children
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if named.is_empty() {
        return Some(vec![page_child.clone()]);
    }
    named
        .into_iter()
        .map(|l| l.parse::<ChildRef>().ok().filter(|c| view.contains(c)))
        .collect()
}

/// The work: the grant checked, each child acknowledged, or the page again
/// with what is wrong.
pub fn work<S: Backend>(
    st: &AppState<S>,
    viewer: &Viewer,
    child: ChildRef,
    rule: Rule,
    form: &AckForm,
) -> Result<Outcome, StoreError> {
    let (store, clock, rules) = (st.store(), st.clock.as_ref(), &*st.signals);
    let Some(grant) = valid_grant(store.grant(&form.grant)?, viewer, Some(&child), clock.now())
    else {
        return Ok(Outcome::AskAgain(child));
    };
    let view = if grant.family {
        family_of(&grant.child, &store.family_links()?)
    } else {
        BTreeSet::from([grant.child.clone()])
    };
    let problem = match targets(form, &view, &grant.child) {
        None => Some(format!(
            "This {} signal concerns a child outside the records you are reading; read the chronology again",
            rule.as_str()
        )),
        Some(children) => first_refusal(store, clock, rules, viewer, rule, &form.note, children)?,
    };
    let Some(error) = problem else {
        return Ok(Outcome::Done(format!(
            "/children/{}/chronology?grant={}#signals",
            path_segment(&grant.child.to_string()),
            path_segment(&grant.id)
        )));
    };
    let draft = AckDraft {
        rule,
        note: form.note.clone(),
        error,
    };
    Ok(
        match pull_view(
            store,
            clock,
            rules,
            viewer,
            &grant.id,
            child,
            DateRange::default(),
        )? {
            Ok((grant, c)) => Outcome::Page(render_page(
                viewer,
                &grant,
                &c,
                &st.zone,
                clock.now(),
                &draft,
            )),
            Err(child) => Outcome::AskAgain(child),
        },
    )
}

/// Acknowledges `rule` for each child in turn; the first refusal's
/// message (the rest are not tried), or `None` when all were recorded.
fn first_refusal<S: Backend>(
    store: &S,
    clock: &dyn Clock,
    rules: &Config,
    viewer: &Viewer,
    rule: Rule,
    note: &str,
    children: Vec<ChildRef>,
) -> Result<Option<String>, StoreError> {
    for child in children {
        let req = AckRequest {
            child,
            rule,
            note: note.to_string(),
            who: viewer.name.clone(),
            via: Via::Web,
        };
        match acknowledge(store, clock, rules, &req) {
            Ok(_) => {}
            Err(AckError::Store(e)) => return Err(e),
            Err(AckError::NoSuchSignal { child, .. }) => {
                return Ok(Some(format!(
                    "{child} no longer has this signal as it was shown (new records may have changed it); read the signals again below"
                )));
            }
            Err(e) => return Ok(Some(sentence(&e.to_string()))),
        }
    }
    Ok(None)
}

/// `POST /children/{child}/signals/{rule}/ack`.
pub async fn post<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Path((child, rule)): Path<(String, String)>,
    Form(form): Form<AckForm>,
) -> Response {
    let child = match child_or_find_page(&viewer, &child) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let Ok(rule) = rule.parse::<Rule>() else {
        return refusal(
            StatusCode::NOT_FOUND,
            "No such signal",
            "Hearth has no rule of that name. Go back to the chronology and use its form.",
        );
    };
    let who = viewer.clone();
    let done = on_store(move || work(&st, &who, child, rule, &form)).await;
    match done {
        Err(page) => page,
        Ok(Outcome::Done(to)) => Redirect::to(&to).into_response(),
        Ok(Outcome::AskAgain(child)) => ask_again(
            &viewer,
            &child,
            Some(
                "Your reason to read these records has expired, or the link is not yours. State your reason again, then acknowledge the signal.",
            ),
        ),
        Ok(Outcome::Page(page)) => (StatusCode::BAD_REQUEST, html(page)).into_response(),
    }
}
