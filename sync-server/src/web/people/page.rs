//! The person page (`/people/{Pn}`), pure: a [`PersonView`] in, the page
//! out. Name, date of birth (or expected date), sex, every reference of
//! the child's identity class (each a link to the break-the-glass form:
//! the register says who a child is, the chronology behind the glass says
//! what happened), households now and before, and relationships. An
//! administrator also gets the forms that change them: link or unlink
//! another reference (with a reason), add to or end a household
//! membership.
//!
//! Every value is untrusted text (a name may come from a CSV file of
//! another system) and goes through maud, which escapes it.

use hearth_shared::ChildRef;
use maud::{Markup, html};

use crate::chronology::format::names::date_words;
use crate::people::ops::PersonView;
use crate::people::{Membership, Person};
use crate::web::Viewer;
use crate::web::admin::{Problem, admin_page, confirmation, reason_field, text_field};
use crate::web::find::path_segment;
use crate::web::layout::csrf_field;

/// The values of the person page's forms, filled in again after a refusal.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct PersonForm {
    /// The other reference of an identity link or unlink.
    #[serde(default)]
    pub other: String,
    /// The household's name.
    #[serde(default)]
    pub household: String,
    /// The membership's date (`YYYY-MM-DD`): from, or until.
    #[serde(default)]
    pub date: String,
    /// Why (identity changes).
    #[serde(default)]
    pub reason: String,
}

/// What the page says above its content: what was done, or the problems.
#[derive(Default)]
pub struct Outcome {
    /// What was done: a title and a sentence.
    pub done: Option<(String, String)>,
    /// What was refused, by field id.
    pub problems: Vec<Problem>,
    /// The forms' values.
    pub form: PersonForm,
}

/// The person's URL.
pub fn person_href(p: &Person) -> String {
    format!("/people/{}", p.id)
}

/// The break-the-glass form's URL for `r`.
pub fn glass_href(r: &ChildRef) -> String {
    format!(
        "/find?child={}",
        hearth_shared::url::encode(&r.to_string(), b":")
    )
}

/// "born 3 March 2024", "expected 1 December 2026", or nothing.
pub fn dates(p: &Person) -> String {
    match (p.born, p.expected) {
        (Some(b), _) => format!("born {}", date_words(b)),
        (None, Some(e)) => format!("expected {}", date_words(e)),
        (None, None) => String::new(),
    }
}

/// The date of birth in words, "expected 1 December 2026" for an unborn
/// child, or "not recorded".
pub fn date_cell(p: &Person) -> String {
    match (p.born, p.expected) {
        (Some(b), _) => date_words(b),
        (None, Some(e)) => format!("expected {}", date_words(e)),
        (None, None) => "not recorded".into(),
    }
}

fn memberships_table(id: &str, caption: &str, rows: &[&Membership]) -> Markup {
    html! {
        @if rows.is_empty() { p id=(id) { "None." } } @else {
            table class="table" id=(id) {
                caption class="visually-hidden" { (caption) }
                thead { tr { th scope="col" { "Household" } th scope="col" { "From" } th scope="col" { "Until" } } }
                tbody {
                    @for m in rows {
                        tr { td { (m.household) } td { (date_words(m.from)) }
                             td { @if let Some(u) = m.until { (date_words(u)) } @else { "now" } } }
                    }
                }
            }
        }
    }
}

/// The facts: kind, id, dates, sex and references.
fn facts(v: &PersonView) -> Markup {
    let p = &v.person;
    html! {
        dl class="summary-list" id="person-facts" {
            div class="summary-list__row" {
                dt class="summary-list__key" { "Register id" }
                dd class="summary-list__value" { (p.id) }
            }
            @if p.child {
                div class="summary-list__row" {
                    dt class="summary-list__key" { @if p.born.is_none() && p.expected.is_some() { "Expected" } @else { "Date of birth" } }
                    dd class="summary-list__value" {
                        @if let Some(b) = p.born { (date_words(b)) }
                        @else if let Some(e) = p.expected { (date_words(e)) " (unborn)" }
                        @else { "not recorded" }
                    }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "Sex" }
                    dd class="summary-list__value" { @if let Some(s) = p.sex { (s.as_str()) } @else { "not recorded" } }
                }
                div class="summary-list__row" {
                    dt class="summary-list__key" { "References" }
                    dd class="summary-list__value" {
                        ul class="list" id="person-refs" {
                            @for r in &v.refs {
                                li { a href=(glass_href(r)) { (r) } " "
                                     @if !p.refs.contains(r) { span class="hint" { "(linked)" } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The relationships: the adult's children, or the child's adults.
fn relations(v: &PersonView) -> Markup {
    html! {
        h2 class="heading-m" { "Relationships" }
        @if v.relations.is_empty() { p id="person-relations" { "None recorded." } } @else {
            ul class="list" id="person-relations" {
                @for (r, other) in &v.relations {
                    li { a href=(person_href(other)) { (other.name) } " (" (other.id) "): " (r.as_str())
                         @if other.child { " of this child's" } }
                }
            }
        }
    }
}

/// An administrator's forms for the person.
fn admin_forms(v: &PersonView, viewer: &Viewer, outcome: &Outcome) -> Markup {
    let p = &v.person;
    let f = &outcome.form;
    let base = format!("/admin/people/{}", path_segment(&p.id.to_string()));
    html! {
        @if p.child {
            h2 class="heading-m" { "Link or unlink a reference" }
            p { "Say that another reference (a nursery's local reference, or the NHS number given at birth) names this child: "
                "the chronology of either then shows the records made under both. Unlinking undoes it." }
            form method="post" action={ (base) "/identity/link" } novalidate {
                (csrf_field(viewer))
                (text_field("other", "The other reference", "nhs: and 10 digits, or local:, the issuer, : and their id", &f.other, &outcome.problems))
                (reason_field("reason", "Why?", &f.reason, &outcome.problems))
                div class="button-group" {
                    button class="button" type="submit" { "Link" }
                    button class="button button--warning" type="submit" formaction={ (base) "/identity/unlink" } { "Unlink" }
                }
            }
        }
        h2 class="heading-m" { "Household membership" }
        form method="post" action={ (base) "/members/add" } novalidate {
            (csrf_field(viewer))
            (text_field("household", "Household", "The household's name, as the register knows it", &f.household, &outcome.problems))
            (text_field("date", "Date", "YYYY-MM-DD: from when they live there, or until when they lived there", &f.date, &outcome.problems))
            div class="button-group" {
                button class="button" type="submit" { "Add to the household" }
                button class="button button--secondary" type="submit" formaction={ (base) "/members/end" } { "End the membership" }
            }
        }
    }
}

/// The person page.
pub fn render(viewer: &Viewer, v: &PersonView, outcome: &Outcome) -> Markup {
    let p = &v.person;
    let now: Vec<&Membership> = v.memberships.iter().filter(|m| m.until.is_none()).collect();
    let before: Vec<&Membership> = v.memberships.iter().filter(|m| m.until.is_some()).collect();
    let content = html! {
        @if let Some((title, body)) = &outcome.done { (confirmation(title, html! { p { (body) } })) }
        span class="caption" { @if p.child { "Child" } @else { "Adult" } }
        h1 class="heading-l" id="person-name" { (p.name) @let d = dates(p); @if !d.is_empty() { ", " (d) } }
        (facts(v))
        @if p.child {
            p { "To read this child's records, open one of their references: you will be asked why first." }
        }
        h2 class="heading-m" { "Household now" }
        (memberships_table("households-now", "Households now", &now))
        h2 class="heading-m" { "Households before" }
        (memberships_table("households-before", "Households before", &before))
        (relations(v))
        @if viewer.role.administers() { (admin_forms(v, viewer, outcome)) }
    };
    admin_page(viewer, &p.name, &outcome.problems, content)
}
