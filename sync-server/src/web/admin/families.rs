//! `/admin/families`: the family links in force (derived, as the
//! chronology derives them, from household records and administrators'
//! links, less the unlinks) and the family-links history; one form, fields
//! `child_a`, `child_b` and `reason`, whose buttons post to
//! `/admin/families/link` ("Link") and `/admin/families/unlink`
//! ("Unlink"), through the `family` command's functions
//! ([`admin::link_family`], [`admin::unlink_family`]).
//!
//! The web asks a reason for a link too (the command lets old scripts
//! link without one): every change a person makes here is explained in the
//! history.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use hearth_shared::ChildRef;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Answer, Problem, admin_page, answer, confirmation, reason_field, refusal_message, status_of,
    text_field,
};
use crate::admin::{self, AdminError, FamilyRequest};
use crate::backend::Backend;
use crate::chronology::family::{edges, pair};
use crate::clock::Clock;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{FamilyChange, Store};
use crate::web::{Admin, Viewer, layout};

/// The link and unlink form.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PairForm {
    /// One child, as `nhs:<10 digits>` or `local:<issuer>:<id>`.
    #[serde(default)]
    pub child_a: String,
    /// The other.
    #[serde(default)]
    pub child_b: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// A link in force and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInForce {
    /// One child.
    pub a: ChildRef,
    /// The other.
    pub b: ChildRef,
    /// An administrator linked them (else a household record names both).
    pub by_admin: bool,
}

/// What the page says above the lists.
#[derive(Default)]
pub struct Outcome {
    /// What was done.
    pub done: Option<(String, Markup)>,
    /// What was refused, by field id.
    pub problems: Vec<Problem>,
    /// The form's values, to fill in again after a refusal.
    pub form: PairForm,
}

/// `GET /admin/families`.
pub async fn page<S: Backend>(Admin(viewer): Admin, State(state): State<AppState<S>>) -> Response {
    answer(state, move |st| {
        list(st.store(), &st.zone, &viewer, Outcome::default())
    })
    .await
}

/// `POST /admin/families/link`.
pub async fn link<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Form(form): Form<PairForm>,
) -> Response {
    answer(state, move |st| {
        change(st.store(), st.clock.as_ref(), &st.zone, &viewer, form, true)
    })
    .await
}

/// `POST /admin/families/unlink`.
pub async fn unlink<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Form(form): Form<PairForm>,
) -> Response {
    answer(state, move |st| {
        change(
            st.store(),
            st.clock.as_ref(),
            &st.zone,
            &viewer,
            form,
            false,
        )
    })
    .await
}

/// A child reference from field `id`, or the command's message for it.
fn child(id: &str, value: &str, problems: &mut Vec<Problem>) -> Option<ChildRef> {
    match value.trim().parse::<ChildRef>() {
        Ok(c) => Some(c),
        Err(problem) => {
            problems.push((id.into(), format!("child \"{}\": {problem}", value.trim())));
            None
        }
    }
}

/// Links (`linked`) or unlinks the form's two children, as `viewer`, and
/// answers with the page: what was done, or the problems.
pub fn change<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    form: PairForm,
    linked: bool,
) -> Answer {
    let mut outcome = Outcome::default();
    let a = child("child_a", &form.child_a, &mut outcome.problems);
    let b = child("child_b", &form.child_b, &mut outcome.problems);
    if let (Some(a), Some(b)) = (a, b) {
        let req = FamilyRequest {
            a: &a,
            b: &b,
            who: &viewer.name,
            reason: Some(&form.reason),
        };
        let done = if linked {
            admin::link_family(store, clock, &req).map(|()| Vec::new())
        } else {
            admin::unlink_family(store, clock, &req)
        };
        match done {
            Ok(through) => {
                tracing::info!(who = %viewer.name, linked, "family changed on the web");
                outcome.done = Some(done_message(&a, &b, linked, &through));
            }
            Err(e) => {
                let field = match &e {
                    AdminError::Reason(_) => "reason",
                    AdminError::SameChild => "child_b",
                    _ => "child_a",
                };
                outcome.problems.push((field.into(), refusal_message(e)?));
            }
        }
    }
    if !outcome.problems.is_empty() {
        outcome.form = form;
    }
    list(store, zone, viewer, outcome)
}

fn done_message(
    a: &ChildRef,
    b: &ChildRef,
    linked: bool,
    through: &[ChildRef],
) -> (String, Markup) {
    if linked {
        return (
            "Linked".into(),
            html! { p { (a) " and " (b) " are in one family: a family chronology of either shows both." } },
        );
    }
    let through: Vec<String> = through.iter().map(ToString::to_string).collect();
    (
        "Unlinked".into(),
        html! {
            p { (a) " and " (b) " are unlinked: records naming both no longer link them until they are linked again." }
            @if !through.is_empty() {
                p { strong { "They are still in one family" } " through " (through.join(", "))
                    ": unlink those pairs too to separate them." }
            }
        },
    )
}

/// The families page over what the store holds.
pub fn list<S: Store>(store: &S, zone: &Zone, viewer: &Viewer, outcome: Outcome) -> Answer {
    let links = store.family_links()?;
    let by_admin: Vec<_> = links.linked.iter().map(|(a, b)| pair(a, b)).collect();
    let in_force: Vec<LinkInForce> = edges(&links)
        .into_iter()
        .map(|(a, b)| LinkInForce {
            by_admin: by_admin.contains(&(a.clone(), b.clone())),
            a,
            b,
        })
        .collect();
    let history = store.family_history()?;
    let status = status_of(&outcome.problems);
    Ok((status, render(viewer, zone, &in_force, &history, &outcome)))
}

/// The families page.
pub fn render(
    viewer: &Viewer,
    zone: &Zone,
    in_force: &[LinkInForce],
    history: &[FamilyChange],
    outcome: &Outcome,
) -> Markup {
    let f = &outcome.form;
    let hint = "nhs: and 10 digits, or local:, the issuer, : and their id";
    let content = html! {
        @if let Some((title, body)) = &outcome.done { (confirmation(title, body.clone())) }
        h1 class="heading-l" { "Families" }
        p { "A family chronology shows every child linked to the one asked about. Children are linked by a "
            "home visit, neglect summary or meeting that names them together, or by an administrator. "
            "Unlinking overrides both, now and for records that arrive later, until they are linked again." }
        form method="post" action="/admin/families/link" novalidate {
            (layout::csrf_field(viewer))
            (text_field("child_a", "One child", hint, &f.child_a, &outcome.problems))
            (text_field("child_b", "The other child", hint, &f.child_b, &outcome.problems))
            (reason_field("reason", "Why?", &f.reason, &outcome.problems))
            div class="button-group" {
                button class="button" type="submit" { "Link" }
                button class="button button--warning" type="submit" formaction="/admin/families/unlink" { "Unlink" }
            }
        }
        h2 class="heading-m" { "Links in force" }
        @if in_force.is_empty() { p id="family-links" { "No children are linked." } } @else {
            table class="table" id="family-links" {
                caption class="visually-hidden" { "Links in force" }
                thead { tr { th scope="col" { "Child" } th scope="col" { "Linked to" } th scope="col" { "Because" } } }
                tbody {
                    @for l in in_force {
                        tr { td { (l.a) } td { (l.b) }
                             td { @if l.by_admin { "an administrator linked them" } @else { "a household record names both" } } }
                    }
                }
            }
        }
        h2 class="heading-m" { "History" }
        @if history.is_empty() { p id="family-history" { "No administrator has linked or unlinked children." } } @else {
            table class="table" id="family-history" {
                caption class="visually-hidden" { "Every link and unlink, oldest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Change" } th scope="col" { "Children" }
                             th scope="col" { "Who" } th scope="col" { "Why" } } }
                tbody {
                    @for c in history {
                        tr { td { (zone.show(c.at)) } td { @if c.linked { "Linked" } @else { "Unlinked" } }
                             td { (c.a) " and " (c.b) } td { (c.who) }
                             td { @if c.reason.is_empty() { "(none given)" } @else { (c.reason) } } }
                    }
                }
            }
        }
    };
    admin_page(viewer, "Families", &outcome.problems, content)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::clock::FixedClock;
    use crate::store::Role;
    use crate::web::admin::testing::{INJECTIONS, NOW, inert, store, viewer};

    const ANNA: &str = "nhs:9434765919";
    const BEN: &str = "local:LA-NORTH:C 0042";
    const CARA: &str = "nhs:9876543210";

    fn form(a: &str, b: &str, reason: &str) -> PairForm {
        PairForm {
            child_a: a.into(),
            child_b: b.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn link_then_unlink_with_reasons_kept_in_the_history() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        for (a, b) in [(ANNA, BEN), (ANNA, CARA), (BEN, CARA)] {
            let (status, page) = change(
                &store,
                &clock,
                &zone,
                &admin,
                form(a, b, "siblings per the referral"),
                true,
            )
            .unwrap();
            assert_eq!(status, StatusCode::OK);
            assert!(page.into_string().contains("are in one family"));
        }
        let (status, page) = change(
            &store,
            &clock,
            &zone,
            &admin,
            form(ANNA, BEN, "not related: wrong referral"),
            false,
        )
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        // Still joined through Cara, and the page says so.
        assert!(page.contains("are unlinked"), "{page}");
        assert!(
            page.contains("still in one family") && page.contains(CARA),
            "{page}"
        );
        let history = store.family_history().unwrap();
        assert_eq!(history.len(), 4);
        assert_eq!(history[3].who, "root");
        assert_eq!(history[3].reason, "not related: wrong referral");
        assert!(!history[3].linked);
        assert!(page.contains("not related: wrong referral"));
        // In force: Anna and Cara, Ben and Cara, by an administrator.
        let table = &page[page.find(r#"id="family-links""#).unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert_eq!(
            table.matches("<tr>").count(),
            3,
            "a header and two links: {table}"
        );
        assert_eq!(table.matches(CARA).count(), 2, "{table}");
        assert_eq!(
            table.matches("an administrator linked them").count(),
            2,
            "{table}"
        );
    }

    #[test]
    fn a_refused_change_names_its_field_and_changes_nothing() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        for (f, field, message) in [
            (
                form("9434765918", BEN, "a good reason here"),
                "child_a",
                "child \"9434765918\"",
            ),
            (
                form(ANNA, "", "a good reason here"),
                "child_b",
                "child \"\"",
            ),
            (
                form(ANNA, ANNA, "a good reason here"),
                "child_b",
                "cannot be linked to itself",
            ),
            (form(ANNA, BEN, "short"), "reason", "visible characters"),
            (form(ANNA, BEN, ""), "reason", "a reason is required"),
        ] {
            for linked in [true, false] {
                let (status, page) =
                    change(&store, &clock, &zone, &admin, f.clone(), linked).unwrap();
                assert_eq!(status, StatusCode::BAD_REQUEST, "{f:?}");
                let page = page.into_string();
                assert!(
                    page.contains(&format!("href=\"#{field}\"")),
                    "{f:?}: {page}"
                );
                assert!(
                    page.contains(&maud::html! { (message) }.into_string()),
                    "{f:?}: {page}"
                );
                assert!(page.contains(&format!(
                    r#"value="{}""#,
                    maud::html! { (f.child_a) }.into_string()
                )));
            }
        }
        assert!(store.family_history().unwrap().is_empty());
    }

    #[test]
    fn a_hostile_reason_is_inert_in_the_history() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer(INJECTIONS[1], Role::Admin),
        );
        let reason = format!("because {}", INJECTIONS[0]);
        let (status, page) = change(
            &store,
            &clock,
            &zone,
            &admin,
            form(ANNA, BEN, &reason),
            true,
        )
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        assert!(inert(&page), "{page}");
        assert!(page.contains("because &lt;script&gt;"), "{page}");
    }
}
