//! `/proposals`: family links that records propose (a record of a
//! non-household kind naming several children, not yet linked, unlinked or
//! decided), for a manager or an administrator to confirm (`family link`)
//! or reject (`family unlink`), each with a reason kept in the family
//! history ([`crate::admin::link_family`], [`crate::admin::unlink_family`]).
//! Each child shows with the register's name (a read of the register,
//! written to its log before the page is drawn).

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use hearth_shared::ChildRef;
use maud::{Markup, html};

use crate::admin::{self, FamilyRequest};
use crate::backend::Backend;
use crate::chronology::family::{self, Proposal};
use crate::chronology::format::names::named;
use crate::clock::Clock;
use crate::people::{self, Label, RegisterEntry};
use crate::store::Store;
use crate::web::admin::families::PairForm;
use crate::web::admin::{
    Answer, Problem, admin_page, answer, confirmation, refusal_message, status_of,
};
use crate::web::layout::csrf_field;
use crate::web::{Reader, Viewer};

type Names = std::collections::BTreeMap<ChildRef, Label>;

/// `GET /proposals`.
pub async fn page<S: Backend>(
    Reader(viewer): Reader,
    State(state): State<crate::http::AppState<S>>,
) -> Response {
    answer(state, move |st| {
        list(st.store(), st.clock.as_ref(), &viewer, None, Vec::new())
    })
    .await
}

/// `POST /proposals/confirm`.
pub async fn confirm<S: Backend>(
    Reader(viewer): Reader,
    State(state): State<crate::http::AppState<S>>,
    Form(form): Form<PairForm>,
) -> Response {
    answer(state, move |st| {
        decide(st.store(), st.clock.as_ref(), &viewer, &form, true)
    })
    .await
}

/// `POST /proposals/reject`.
pub async fn reject<S: Backend>(
    Reader(viewer): Reader,
    State(state): State<crate::http::AppState<S>>,
    Form(form): Form<PairForm>,
) -> Response {
    answer(state, move |st| {
        decide(st.store(), st.clock.as_ref(), &viewer, &form, false)
    })
    .await
}

/// Confirms or rejects the form's pair as `viewer`, then the page.
pub fn decide<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    form: &PairForm,
    confirmed: bool,
) -> Answer {
    let pair = (
        form.child_a.trim().parse::<ChildRef>(),
        form.child_b.trim().parse::<ChildRef>(),
    );
    let (Ok(a), Ok(b)) = pair else {
        let problems = vec![(
            "proposals".to_string(),
            "The proposal's children could not be read; reload the page and try again".to_string(),
        )];
        return list(store, clock, viewer, None, problems);
    };
    let req = FamilyRequest {
        a: &a,
        b: &b,
        who: &viewer.name,
        reason: Some(&form.reason),
    };
    let done = if confirmed {
        admin::link_family(store, clock, &req)
    } else {
        admin::unlink_family(store, clock, &req).map(|_| ())
    };
    match done {
        Ok(()) => {
            tracing::info!(who = %viewer.name, confirmed, "family proposal decided on the web");
            let done = if confirmed {
                format!("{a} and {b} are linked: a family chronology of either shows both.")
            } else {
                format!("{a} and {b} are unlinked: records naming both no longer propose it.")
            };
            let title = if confirmed { "Confirmed" } else { "Rejected" };
            list(store, clock, viewer, Some((title, done)), Vec::new())
        }
        Err(e) => {
            let id = format!("reason-{}", form_id(&a, &b));
            list(store, clock, viewer, None, vec![(id, refusal_message(e)?)])
        }
    }
}

/// The id a proposal's form fields carry (unique on the page).
fn form_id(a: &ChildRef, b: &ChildRef) -> String {
    let clean = |r: &ChildRef| {
        r.to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    };
    format!("{}--{}", clean(a), clean(b))
}

/// The proposals page over what the store holds.
pub fn list<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    done: Option<(&str, String)>,
    problems: Vec<Problem>,
) -> Answer {
    let all = family::proposals(&store.family_links()?);
    let refs: Vec<ChildRef> = all
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    // Names are a read of the register: logged before they are shown.
    store.log_register(&RegisterEntry {
        at: clock.now(),
        who: viewer.name.clone(),
        action: "read".into(),
        detail: format!("family proposals ({} children named)", refs.len()),
        reason: String::new(),
    })?;
    let names = people::labels(&store.register()?, &refs);
    Ok((
        status_of(&problems),
        render(viewer, &all, &names, done, &problems),
    ))
}

fn proposal_row(viewer: &Viewer, p: &Proposal, names: &Names, problems: &[Problem]) -> Markup {
    let id = form_id(&p.a, &p.b);
    let reason_id = format!("reason-{id}");
    let error = crate::web::admin::problem_for(problems, &reason_id);
    html! {
        tr {
            td { (named(&p.a, names)) }
            td { (named(&p.b, names)) }
            td { (p.records.len()) @if p.records.len() == 1 { " record" } @else { " records" } }
            td {
                form method="post" action="/proposals/confirm" novalidate {
                    (csrf_field(viewer))
                    input type="hidden" name="child_a" value=(p.a);
                    input type="hidden" name="child_b" value=(p.b);
                    div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                        label class="label" for=(reason_id) { "Why?" }
                        @if let Some(e) = error {
                            p class="error-message" id={ (reason_id) "-error" } { span class="visually-hidden" { "Error: " } (e) }
                        }
                        input class="input" type="text" id=(reason_id) name="reason" autocomplete="off";
                    }
                    div class="button-group" {
                        button class="button" type="submit" { "Confirm" }
                        button class="button button--warning" type="submit" formaction="/proposals/reject" { "Reject" }
                    }
                }
            }
        }
    }
}

/// The proposals page.
pub fn render(
    viewer: &Viewer,
    all: &[Proposal],
    names: &Names,
    done: Option<(&str, String)>,
    problems: &[Problem],
) -> Markup {
    let content = html! {
        @if let Some((title, body)) = done { (confirmation(title, html! { p { (body) } })) }
        h1 class="heading-l" { "Family proposals" }
        p { "A record that names several children (other than a home visit, neglect summary or meeting, which link them) "
            "proposes that they are one family. Confirm to link them, or reject to keep them apart; "
            "either way your reason is kept in the family history." }
        @if all.is_empty() { p id="proposals" { "Nothing is proposed." } } @else {
            table class="table" id="proposals" {
                caption class="visually-hidden" { "Proposed family links" }
                thead { tr { th scope="col" { "Child" } th scope="col" { "Named with" }
                             th scope="col" { "Because of" } th scope="col" { "Decide" } } }
                tbody { @for p in all { (proposal_row(viewer, p, names, problems)) } }
            }
        }
    };
    admin_page(viewer, "Family proposals", problems, content)
}
