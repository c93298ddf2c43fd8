//! Practice signals in the manager's web app (issue 16): prompts for
//! professional judgement, never a score.
//!
//! - [`panel`]: the "Signals" panel above a chronology's table (pure):
//!   each signal's title, what the rule found, why it matters, when, the
//!   children it concerns (family view), its evidence as links to the
//!   entries' rows on the page (`#entry-<record id>`), and either who
//!   acknowledged it, when and with what note, or an "Acknowledge" form.
//! - [`ack`]: `POST /children/{child}/signals/{rule}/ack`, under the
//!   grant that opened the page (its reason covers the acknowledgement),
//!   through [`crate::audit::acknowledge`], then back to the chronology.
//! - [`caseload`]: `/signals`, every child with an open signal, behind a
//!   reason and a purpose (the break-the-glass form's own fields).
//! - [`evidence_titles`]: which records are evidence for which signals,
//!   for the timeline's marks ([`super::timeline::Options::evidence`]).
//!
//! Every value (a note, an explanation, an agency code inside it) goes
//! through maud, which escapes it.

pub mod ack;
pub mod caseload;

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::{ChildRef, RecordId};
use maud::{Markup, html};

use super::Viewer;
use super::find::path_segment;
use super::layout::csrf_field;
use crate::chronology::Entry;
use crate::localtime::Zone;
use crate::signals::{Rule, Signal};

/// The hint at the top of the panel: what a signal is and is not.
pub const WHAT_A_SIGNAL_IS: &str = "Patterns across the records that a rule found. Each is a prompt to read the evidence and decide what it means for the child: it is not a score, and it hides or reorders nothing.";

/// An acknowledgement that was refused, to draw its form again: the rule,
/// the note as typed, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckDraft {
    /// The signal's rule.
    pub rule: Rule,
    /// The note as typed.
    pub note: String,
    /// What is wrong (a sentence).
    pub error: String,
}

/// What the panel needs: no store.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// Who is reading (the form's CSRF token).
    pub viewer: &'a Viewer,
    /// The child whose page it is (the grant's child).
    pub child: &'a ChildRef,
    /// The grant the page is read under.
    pub grant: &'a str,
    /// The family view: each signal says which children it concerns.
    pub family: bool,
    /// The children in view: an acknowledgement is for those of them the
    /// signal concerns (a family-wide signal read in one child's view is
    /// acknowledged for that child only).
    pub in_view: &'a [ChildRef],
    /// The signals, in the rules' order.
    pub signals: &'a [Signal],
    /// Every entry of the pull (to name the evidence), and whether each is
    /// on the page (a row to jump to) or filtered out.
    pub entries: &'a [Entry],
    /// The entries shown in the table.
    pub shown: &'a BTreeSet<RecordId>,
    /// Times are shown in this zone.
    pub zone: &'a Zone,
    /// A refused acknowledgement to draw again.
    pub draft: Option<&'a AckDraft>,
}

/// The `id` of the table row of the entry `id` (and of nothing else).
pub fn row_id(id: &RecordId) -> String {
    format!("entry-{id}")
}

/// The `id` of the note field of the form acknowledging `rule`'s signal.
pub fn note_id(rule: Rule) -> String {
    format!("note-{}", rule.as_str())
}

/// For each record that is evidence, the titles of the signals it is
/// evidence for, in the signals' order.
pub fn evidence_titles(signals: &[Signal]) -> BTreeMap<RecordId, Vec<String>> {
    let mut by: BTreeMap<RecordId, Vec<String>> = BTreeMap::new();
    for s in signals {
        for id in &s.evidence {
            let titles = by.entry(*id).or_default();
            if !titles.contains(&s.title) {
                titles.push(s.title.clone());
            }
        }
    }
    by
}

/// The children of a list, comma-separated.
fn children_list(children: &[ChildRef]) -> Markup {
    html! {
        @for (i, c) in children.iter().enumerate() {
            @if i > 0 { ", " }
            (c)
        }
    }
}

/// One piece of evidence: a link to its row when it is on the page, else
/// to its record (under the grant), said to be outside the view.
fn evidence_item(p: &Panel<'_>, id: &RecordId) -> Markup {
    let entry = p.entries.iter().find(|e| e.record_id == *id);
    let on_page = p.shown.contains(id);
    let href = if on_page {
        format!("#{}", path_segment(&row_id(id)))
    } else {
        format!("/records/{}?grant={}", id, path_segment(p.grant))
    };
    html! {
        li {
            a class="link" href=(href) {
                @match entry {
                    Some(e) => { (p.zone.show(e.occurred_at)) ", " (e.agency) ", " (e.kind.label()) ": " (e.headline) }
                    None => { "Record " (id) }
                }
            }
            @if !on_page { " (not in the rows shown: the filters leave it out)" }
        }
    }
}

/// The "Acknowledge" form for `s` (not printed).
fn ack_form(p: &Panel<'_>, s: &Signal) -> Markup {
    let id = note_id(s.rule);
    let draft = p.draft.filter(|d| d.rule == s.rule);
    let error = draft.map(|d| d.error.as_str());
    let action = format!(
        "/children/{}/signals/{}/ack",
        path_segment(&p.child.to_string()),
        s.rule.as_str()
    );
    let children: Vec<String> = s
        .children
        .iter()
        .filter(|c| p.in_view.contains(c))
        .map(ToString::to_string)
        .collect();
    html! {
        form class="signal__ack no-print" method="post" action=(action) novalidate {
            (csrf_field(p.viewer))
            input type="hidden" name="grant" value=(p.grant);
            input type="hidden" name="children" value=(children.join("\n"));
            div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                label class="label" for=(id) { "Your note" }
                div class="hint" id={ (id) "-hint" } {
                    "What you decided, or why no action is needed. At least 10 characters, on one line. It is kept with your name."
                }
                @if let Some(e) = error {
                    p class="error-message" id={ (id) "-error" } {
                        span class="visually-hidden" { "Error: " } (e)
                    }
                }
                textarea class={ "textarea" @if error.is_some() { " textarea--error" } } id=(id) name="note" rows="2"
                    aria-describedby={ (id) "-hint" @if error.is_some() { " " (id) "-error" } } {
                    (draft.map(|d| d.note.as_str()).unwrap_or_default())
                }
            }
            button class="button button--secondary" type="submit" { "Acknowledge" }
        }
    }
}

/// One row of a signal's summary list.
fn fact(key: &str, value: Markup) -> Markup {
    html! {
        div class="summary-list__row" {
            dt class="summary-list__key" { (key) }
            dd class="summary-list__value" { (value) }
        }
    }
}

/// One signal: a titled block with its facts and evidence.
fn signal(p: &Panel<'_>, i: usize, s: &Signal) -> Markup {
    let heading = format!("signal-{}-title", i + 1);
    html! {
        section class={ "signal" @if s.acknowledged.is_some() { " signal--acknowledged" } }
            id={ "signal-" (i + 1) } data-rule=(s.rule.as_str()) aria-labelledby=(heading) {
            h3 class="heading-s signal__title" id=(heading) { (s.title) }
            dl class="summary-list signal__facts" {
                (fact("What the rule found", html! { (s.explanation) }))
                (fact("Why it matters", html! { (s.learning_point) }))
                @if p.family {
                    (fact("Children", children_list(&s.children)))
                }
                (fact("First and newest evidence", html! {
                    (p.zone.show(s.first_seen)) " to " (p.zone.show(s.last_seen))
                }))
                (fact("Evidence", html! {
                    ol class="signal__evidence" {
                        @for id in &s.evidence { (evidence_item(p, id)) }
                    }
                }))
                (fact("Acknowledged", html! {
                    @match &s.acknowledged {
                        Some(a) => {
                            "By " strong { (a.by) } " on " (p.zone.show(a.at)) ": "
                            q class="signal__note" { (a.note) }
                        }
                        None => { "Not yet: open" }
                    }
                }))
            }
            @if s.acknowledged.is_none() { (ack_form(p, s)) }
        }
    }
}

/// The "Signals" panel (`section#signals`); nothing at all when there are
/// no signals.
pub fn panel(p: &Panel<'_>) -> Markup {
    let open = p
        .signals
        .iter()
        .filter(|s| s.acknowledged.is_none())
        .count();
    html! {
        @if !p.signals.is_empty() {
            section class="signals" id="signals" aria-labelledby="signals-title" {
                h2 class="heading-m" id="signals-title" { "Signals" }
                p class="hint" { (WHAT_A_SIGNAL_IS) }
                p class="signals__count" {
                    (p.signals.len()) " "
                    (if p.signals.len() == 1 { "signal" } else { "signals" })
                    ", " (open) " open."
                }
                @for (i, s) in p.signals.iter().enumerate() { (signal(p, i, s)) }
            }
        }
    }
}

#[cfg(test)]
mod tests;
