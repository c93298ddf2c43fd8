//! Every field of a record's kind, laid out to read: [`fields`] draws the
//! sections a kind has (`#child-words`, `#injuries`, `#care-grades`,
//! `#outcomes`, `#meeting`, `#escalation`, and `#fields` for the rest).
//! Free text is shown verbatim (line breaks kept by the style sheet),
//! escaped by maud like every value.

use hearth_shared::kinds::concern::Concern;
use hearth_shared::kinds::daily_presentation::DailyPresentation;
use hearth_shared::kinds::developmental_review::{DevOutcome, DevelopmentalReview};
use hearth_shared::kinds::escalation::Escalation;
use hearth_shared::kinds::home_visit::HomeVisit;
use hearth_shared::kinds::meeting::{Meeting, Minutes};
use hearth_shared::kinds::neglect_summary::NeglectSummary;
use hearth_shared::kinds::vocabulary::PersonPresent;
use hearth_shared::kinds::voice::VoiceOfChild;
use hearth_shared::kinds::{Detail, Revised};
use maud::{Markup, html};

/// A vocabulary word as words: `absent_unexplained` → "Absent unexplained".
pub fn words(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        match c {
            '_' => out.push(' '),
            c if i == 0 => out.extend(c.to_uppercase()),
            c => out.push(c),
        }
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// One row of a summary list; nothing when `value` is empty.
fn row(key: &str, value: &str) -> Markup {
    html! {
        @if !value.trim().is_empty() {
            div class="summary-list__row" {
                dt class="summary-list__key" { (key) }
                dd class="summary-list__value" { (value) }
            }
        }
    }
}

/// Who was present, one per line.
fn present(people: &[PersonPresent]) -> String {
    people
        .iter()
        .map(|p| {
            if p.relationship.is_empty() {
                words(p.role.as_str())
            } else {
                format!("{} ({})", words(p.role.as_str()), p.relationship)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn opt(b: Option<bool>) -> &'static str {
    b.map_or("Not recorded", yes_no)
}

fn home_visit(v: &HomeVisit, p: &str) -> Markup {
    html! {
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "The visit" }
            dl class="summary-list" {
                (row("Access", &words(v.access.as_str())))
                (row("Who was present", &present(&v.present)))
                (row("Child seen", &words(v.child_seen.as_str())))
                (row("Why not seen", &v.not_seen_reason))
                (row("Seen alone", opt(v.seen_alone)))
                (row("Bedroom seen", opt(v.bedroom_seen)))
                (row("What was seen", &v.narrative))
            }
        }
        section id={ (p) "care-grades" } aria-labelledby={ (p) "care-grades-title" } {
            h2 class="heading-m" id={ (p) "care-grades-title" } { "Care grades" }
            @if v.observations.is_empty() {
                p { "No care domain was graded." }
            } @else {
                table class="table" {
                    caption class="visually-hidden" { "Care domain grades, 1 (good) to 5 (severe neglect)" }
                    thead { tr { th scope="col" { "Care domain" } th scope="col" { "Grade (1 to 5)" } th scope="col" { "Note" } } }
                    tbody {
                        @for o in v.observations.iter() {
                            tr class=[(o.grade.0 >= 4).then_some("grade--concern")] {
                                th scope="row" { (words(o.domain.as_str())) }
                                td { (o.grade.0) @if o.grade.0 >= 4 { " (a concern)" } }
                                td class="verbatim" { (o.note) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn daily_presentation(d: &DailyPresentation, p: &str) -> Markup {
    let concerns: Vec<&str> = [
        (d.hungry, "Hungry"),
        (d.hygiene_concern, "Hygiene"),
        (d.clothing_concern, "Clothing"),
        (d.nappy_concern, "Nappy"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    html! {
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "The day" }
            dl class="summary-list" {
                (row("Attendance", &words(d.attendance.as_str())))
                (row("Why absent", &d.absence_reason))
                (row("Arrived at", &d.arrival_time.map(|t| t.to_string()).unwrap_or_default()))
                (row("Brought by", &d.brought_by))
                (row("Collected by", &d.collected_by))
                (row("Hungry", yes_no(d.hungry)))
                (row("Concerns noticed", &if concerns.is_empty() { "None".to_string() } else { concerns.join(", ") }))
                (row("About the concerns", &d.concern_note))
            }
        }
        section id={ (p) "injuries" } aria-labelledby={ (p) "injuries-title" } {
            h2 class="heading-m" id={ (p) "injuries-title" } { "Injuries" }
            @if d.injuries.is_empty() {
                p { "No injury was recorded." }
            } @else {
                @for (i, injury) in d.injuries.iter().enumerate() {
                    h3 class="heading-s" { "Injury " (i + 1) ": " (words(injury.body_region.as_str())) }
                    dl class="summary-list" {
                        (row("Body region", &words(injury.body_region.as_str())))
                        (row("What was seen", &injury.description))
                        (row("Carer's explanation", if injury.carer_explanation.is_empty() { "None given" } else { &injury.carer_explanation }))
                        (row("Child's account", if injury.child_account.is_empty() { "None given" } else { &injury.child_account }))
                    }
                }
            }
        }
    }
}

fn voice(v: &VoiceOfChild, p: &str) -> Markup {
    html! {
        section id={ (p) "child-words" } aria-labelledby={ (p) "child-words-title" } {
            h2 class="heading-m" id={ (p) "child-words-title" } { "The child's voice (" (words(v.mode.as_str())) ")" }
            @if !v.words.is_empty() {
                p class="body-s" { "The child's own words, verbatim:" }
                blockquote class="child-words verbatim" { (v.words) }
            }
            @if !v.behaviour.is_empty() {
                p class="body-s" { "What the child did:" }
                blockquote class="child-words verbatim" { (v.behaviour) }
            }
        }
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "What it may mean, and what was done" }
            dl class="summary-list" {
                (row("Who was present", &present(&v.present)))
                (row("Seen alone", opt(v.seen_alone)))
                (row("What it may mean", &v.meaning))
                (row("Action", if v.action.trim().is_empty() { "No action recorded" } else { &v.action }))
            }
        }
    }
}

fn concern(c: &Concern, p: &str) -> Markup {
    html! {
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "The concern" }
            dl class="summary-list" {
                (row("Category", &words(c.category.as_str())))
                (row("What was seen or said", &c.seen_or_said))
                (row("Action", &words(c.action.as_str())))
                (row("Action detail", &c.action_detail))
            }
        }
    }
}

fn developmental_review(r: &DevelopmentalReview, p: &str) -> Markup {
    html! {
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "The review" }
            dl class="summary-list" {
                (row("Contact", &words(r.contact.as_str())))
                (row("Was not brought", yes_no(r.was_not_brought)))
                (row("Note", &r.note))
            }
        }
        section id={ (p) "outcomes" } aria-labelledby={ (p) "outcomes-title" } {
            h2 class="heading-m" id={ (p) "outcomes-title" } { "Developmental outcomes" }
            @if r.outcomes.is_empty() {
                p { "No outcome was recorded (the child was not brought)." }
            } @else {
                table class="table" {
                    caption class="visually-hidden" { "Outcome by developmental domain" }
                    thead { tr { th scope="col" { "Domain" } th scope="col" { "Outcome" } } }
                    tbody {
                        @for o in r.outcomes.iter() {
                            tr class=[(o.outcome == DevOutcome::BelowThreshold).then_some("grade--concern")] {
                                th scope="row" { (words(o.domain.as_str())) }
                                td { (words(o.outcome.as_str())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn meeting(m: &Meeting, p: &str) -> Markup {
    let absent: Vec<&str> = m.absent_agencies.iter().map(|a| a.as_str()).collect();
    html! {
        section id={ (p) "meeting" } aria-labelledby={ (p) "meeting-title" } {
            h2 class="heading-m" id={ (p) "meeting-title" } { "The meeting" }
            dl class="summary-list" {
                (row("Type", &words(m.meeting_type.as_str())))
                (row("Agencies absent", &if absent.is_empty() { "None".to_string() } else { absent.join(", ") }))
                (row("Decisions", if m.decisions.is_empty() { "None recorded" } else { &m.decisions }))
                (row("Minutes", if m.minutes == Minutes::Recorded { "Recorded" } else { "Not recorded" }))
                (row("Minutes taken by", &m.minutes_by))
            }
            table class="table" {
                caption class="table__caption" { "Who attended" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Agency" } } }
                tbody {
                    @for a in m.attendees.iter() {
                        tr { td { (a.name) } td { (a.agency) } }
                    }
                }
            }
        }
    }
}

fn escalation(e: &Escalation, p: &str) -> Markup {
    html! {
        section id={ (p) "escalation" } aria-labelledby={ (p) "escalation-title" } {
            h2 class="heading-m" id={ (p) "escalation-title" } { "The escalation" }
            dl class="summary-list" {
                (row("Stage", &format!("Stage {} of 4", e.stage)))
                (row("State", if e.resolved { "Resolved" } else { "Unresolved" }))
                (row("Raised by", &e.raised_by))
                (row("Raised with", &e.raised_with))
                (row("What is disputed", &words(e.disputed.as_str())))
                (row("The disagreement", &e.disagreement))
                (row("Outcome", if e.outcome.is_empty() { "None yet" } else { &e.outcome }))
            }
        }
    }
}

fn neglect_summary(n: &NeglectSummary, p: &str) -> Markup {
    html! {
        section id={ (p) "care-grades" } aria-labelledby={ (p) "care-grades-title" } {
            h2 class="heading-m" id={ (p) "care-grades-title" } { "Care grades" }
            table class="table" {
                caption class="visually-hidden" { "Area grades, 1 (good) to 5 (severe neglect)" }
                thead { tr { th scope="col" { "Area" } th scope="col" { "Grade (1 to 5)" } } }
                tbody {
                    @for g in n.grades.iter() {
                        tr class=[(g.grade.0 >= 4).then_some("grade--concern")] {
                            th scope="row" { (words(g.area.as_str())) }
                            td { (g.grade.0) @if g.grade.0 >= 4 { " (a concern)" } }
                        }
                    }
                }
            }
        }
        section id={ (p) "fields" } aria-labelledby={ (p) "fields-title" } {
            h2 class="heading-m" id={ (p) "fields-title" } { "The assessment" }
            dl class="summary-list" {
                (row("Visits drawn on", &n.visits.to_string()))
                (row("Assessor trained", yes_no(n.assessor_trained)))
                (row("Evidence", &n.evidence))
            }
        }
    }
}

/// The sections of `d`'s kind. A correction stored on its own (its
/// original has not arrived) shows what it corrects, why, and the
/// corrected fields.
pub fn fields(d: &Detail, p: &str) -> Markup {
    match d {
        Detail::HomeVisit(v) => home_visit(v, p),
        Detail::DailyPresentation(d) => daily_presentation(d, p),
        Detail::Voice(v) => voice(v, p),
        Detail::Concern(c) => concern(c, p),
        Detail::DevelopmentalReview(r) => developmental_review(r, p),
        Detail::Meeting(m) => meeting(m, p),
        Detail::Escalation(e) => escalation(e, p),
        Detail::NeglectSummary(n) => neglect_summary(n, p),
        Detail::Amendment(a) => html! {
            section id={ (p) "correction" } aria-labelledby={ (p) "correction-title" } {
                h2 class="heading-m" id={ (p) "correction-title" } { "The correction" }
                dl class="summary-list" {
                    (row("Corrects", &a.corrects.to_string()))
                    (row("Why", &a.reason))
                    (row("Correction", &a.correction))
                }
            }
        },
        Detail::Revision(r) => html! {
            section id={ (p) "correction" } aria-labelledby={ (p) "correction-title" } {
                h2 class="heading-m" id={ (p) "correction-title" } { "The correction" }
                dl class="summary-list" {
                    (row("Corrects", &r.corrects.to_string()))
                    (row("Why", &r.reason))
                    @if r.revised == Revised::EnteredInError {
                        (row("Correction", "Entered in error"))
                    }
                }
            }
            @if let Some(d) = r.revised.detail() {
                (fields(&d, p))
            }
        },
    }
}
