//! The forms as HTML (maud, which escapes every value), after the GOV.UK
//! and NHS.UK patterns: a label, a hint, the error message beside the
//! field, large radios and checkboxes, byte counters (`data-max`; the
//! script counts live, and with scripts off the limit is still written
//! under the field), and "check your answers" with a Change link per
//! answer.

use maud::{Markup, html};

use super::answers::{Answers, FieldError, PICK, field_id};
use super::bodymap;
use super::spec::{FieldSpec, FormSpec, Input, word_label};
use crate::app::{layout, security};
use crate::caseload::ChildChoice;

/// The form's path for its drafts and the map's region links.
pub struct FormCtx<'a> {
    /// The spec.
    pub spec: &'a FormSpec,
    /// The answers so far.
    pub answers: &'a Answers,
    /// The problems found by the core.
    pub errors: &'a [FieldError],
    /// The zone's name, shown beside the time.
    pub zone: String,
    /// Where the form posts (`/drafts/{id}`).
    pub action: String,
    /// Whether to say "Draft saved" (after the Save draft button).
    pub saved: bool,
    /// The author picked from the staff list (the register), if any.
    pub author: Option<String>,
    /// For an amendment: the record it corrects.
    pub corrects: Option<String>,
    /// The caseload's children, offered by name in the children field.
    pub children: &'a [ChildChoice],
}

impl FormCtx<'_> {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.message.as_str())
    }
}

/// The link target of a problem: its field, or for a whole list or group
/// its first entry's fieldset.
pub fn target(spec: &FormSpec, name: &str) -> String {
    let id = field_id(name);
    // `observations[1].grade` is the spec's `observations[].grade`;
    // `children[0]` is an entry of the list `children`.
    let generic = match super::answers::split_entry(name) {
        Some((_, _, "")) => None,
        Some((g, _, f)) => Some(format!("{g}[].{f}")),
        None => Some(name.to_string()),
    };
    let input = generic.and_then(|g| spec.field(&g)).map(|f| &f.input);
    match input {
        Some(Input::When) => field_id("occurred_at.date"),
        Some(Input::Choice(w)) => format!("{id}-{}", w[0]),
        Some(Input::Scale { min, .. }) => format!("{id}-{min}"),
        Some(Input::YesNo | Input::Tick) => format!("{id}-yes"),
        _ => id,
    }
}

/// The whole form page.
pub fn form_page(ctx: &FormCtx<'_>) -> Markup {
    let title = ctx.spec.kind.label();
    let summary: Vec<(String, &str)> = ctx
        .errors
        .iter()
        .map(|e| (target(ctx.spec, &e.name), e.message.as_str()))
        .collect();
    let summary: Vec<(&str, &str)> = summary.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let errors_title;
    let page_title = if ctx.errors.is_empty() {
        title
    } else {
        errors_title = format!("Error: {title}");
        errors_title.as_str()
    };
    layout::page(
        page_title,
        html! {
            (layout::error_summary(&summary))
            @if ctx.saved { div class="notification" role="status" { p { "Draft saved. It is kept on this tablet, encrypted, until you save the record or discard it." } } }
            h1 class="heading-l" { (title) }
            form method="post" action=(ctx.action) novalidate data-draft=(ctx.action) {
                (security::csrf_field())
                input type="hidden" name="_kind" value=(ctx.spec.kind.as_str());
                @if let Some(c) = &ctx.corrects {
                    input type="hidden" name="_corrects" value=(c);
                    p class="body-s" { "Correcting record " strong { (c) } ". Change what was wrong; everything else stays as recorded." }
                }
                @if let Some(a) = &ctx.author {
                    input type="hidden" name="_author" value=(a);
                    p class="body-s" { "Recorded by " strong { (a) } }
                }
                @for f in &ctx.spec.fields { (field(ctx, f, f.name)) }
                div class="button-group" {
                    button class="button" type="submit" name="_action" value="check" { "Continue" }
                    button class="button button--secondary" type="submit" name="_action" value="save" { "Save draft" }
                }
            }
        },
    )
}

fn label_text(f: &FieldSpec) -> Markup {
    html! { (f.label) @if !f.required { " (optional)" } }
}

fn error_line(ctx: &FormCtx<'_>, name: &str) -> Markup {
    html! {
        @if let Some(m) = ctx.error(name) {
            p class="error-message" id={ (field_id(name)) "-error" } {
                span class="visually-hidden" { "Error: " } (m)
            }
        }
    }
}

fn hint(f: &FieldSpec, id: &str) -> Markup {
    html! { @if !f.hint.is_empty() { div class="hint" id={ (id) "-hint" } { (f.hint) } } }
}

fn described(f: &FieldSpec, id: &str, error: bool) -> String {
    let mut d = Vec::new();
    if !f.hint.is_empty() {
        d.push(format!("{id}-hint"));
    }
    if error {
        d.push(format!("{id}-error"));
    }
    d.join(" ")
}

/// One field, named `name` in the form (a group's field carries its
/// entry's index).
fn field(ctx: &FormCtx<'_>, f: &FieldSpec, name: &str) -> Markup {
    let id = field_id(name);
    let err = ctx.error(name).is_some();
    let group_class = if err {
        "form-group form-group--error"
    } else {
        "form-group"
    };
    match &f.input {
        Input::Line { .. } | Input::Area { .. } | Input::Number | Input::Time => html! {
            div class=(group_class) {
                label class="label" for=(id) { (label_text(f)) }
                (hint(f, &id)) (error_line(ctx, name))
                (text_input(f, name, &id, ctx.answers.get(name), err))
            }
        },
        Input::Choice(_) | Input::Scale { .. } | Input::YesNo | Input::Tick | Input::When => {
            html! {
                div class=(group_class) {
                    fieldset class="fieldset" aria-describedby=(described(f, &id, err)) {
                        legend class="fieldset__legend" { (label_text(f)) }
                        (hint(f, &id)) (error_line(ctx, name))
                        (choices(ctx, f, name, &id))
                    }
                }
            }
        }
        Input::List { items, max } => list(ctx, f, name, *items, *max),
        Input::Group { items, fields } => group(ctx, f, name, *items, fields),
    }
}

fn text_input(f: &FieldSpec, name: &str, id: &str, value: &str, err: bool) -> Markup {
    let class = if err { "input input--error" } else { "input" };
    let d = described(f, id, err);
    html! {
        @match &f.input {
            Input::Area { max, large } => {
                textarea class={ "textarea" @if *large { " textarea--large" } @if err { " input--error" } }
                    id=(id) name=(name) rows=(if *large { 12 } else { 5 }) data-max=(max)
                    aria-describedby=(d) { (value) }
                (counter(id, *max))
            }
            Input::Line { max } => {
                input class=(class) type="text" id=(id) name=(name) value=(value) data-max=(max)
                    aria-describedby=(d) autocomplete="off" spellcheck="false";
                (counter(id, *max))
            }
            Input::Time => input class={ (class) " input--width-5" } type="time" id=(id) name=(name)
                value=(value) aria-describedby=(d);
            _ => input class={ (class) " input--width-5" } type="text" inputmode="numeric" id=(id)
                name=(name) value=(value) aria-describedby=(d);
        }
    }
}

/// "Up to N bytes"; the script makes it "N bytes left" as the worker types.
fn counter(id: &str, max: usize) -> Markup {
    html! { p class="hint byte-count" id={ (id) "-count" } data-count-for=(id) aria-live="polite" { "Up to " (max) " bytes" } }
}

fn radio(name: &str, id: &str, value: &str, label: &str, checked: bool, kind: &str) -> Markup {
    let item_id = format!("{id}-{value}");
    let class = format!("{kind}__input");
    html! {
        div class={ (kind) "__item" } {
            input class=(class) type=(if kind == "radios" { "radio" } else { "checkbox" })
                id=(item_id) name=(name) value=(value) checked[checked];
            label class={ (kind) "__label" } for=(item_id) { (label) }
        }
    }
}

fn choices(ctx: &FormCtx<'_>, f: &FieldSpec, name: &str, id: &str) -> Markup {
    let now = ctx.answers.get(name);
    html! {
        @match &f.input {
            Input::Choice(words) => div class="radios" {
                @for w in *words { (radio(name, id, w, &word_label(w), now == *w, "radios")) }
            },
            Input::Scale { min, max } => div class="radios radios--inline" {
                @for v in *min..=*max { (radio(name, id, &v.to_string(), &v.to_string(), now == v.to_string(), "radios")) }
            },
            Input::YesNo => div class="radios radios--inline" {
                (radio(name, id, "yes", "Yes", now == "yes", "radios"))
                (radio(name, id, "no", "No", now == "no", "radios"))
                (radio(name, id, "", "Not recorded", now.is_empty(), "radios"))
            },
            Input::Tick => div class="checkboxes" {
                (radio(name, id, "yes", f.label, !now.is_empty(), "checkboxes"))
            },
            _ => (when(ctx, id)),
        }
    }
}

fn when(ctx: &FormCtx<'_>, _id: &str) -> Markup {
    let (d, t) = ("occurred_at.date", "occurred_at.time");
    html! {
        div class="date-time" {
            div class="form-group" {
                label class="label" for=(field_id(d)) { "Date" }
                input class="input input--width-10" type="date" id=(field_id(d)) name=(d) value=(ctx.answers.get(d));
            }
            div class="form-group" {
                label class="label" for=(field_id(t)) { "Time (" (ctx.zone) ")" }
                input class="input input--width-5" type="time" id=(field_id(t)) name=(t) value=(ctx.answers.get(t));
            }
        }
    }
}

/// How many entries to show: those answered and one empty, at most `items`.
fn shown(ctx: &FormCtx<'_>, name: &str, items: usize) -> usize {
    (ctx.answers.entries(name) + 1).min(items)
}

/// A list of one-line entries. The children field, when there is a
/// caseload, offers each entry as a choice of the caseload's children by
/// name (the reference is its value), with the typed reference beside it
/// for a child not on the caseload.
fn list(ctx: &FormCtx<'_>, f: &FieldSpec, name: &str, items: usize, max: usize) -> Markup {
    let id = field_id(name);
    let err = ctx.error(name).is_some();
    let picker = name == "children" && !ctx.children.is_empty();
    html! {
        div class={ "form-group" @if err { " form-group--error" } } id=(id) {
            fieldset class="fieldset" {
                legend class="fieldset__legend" { (label_text(f)) }
                @if picker {
                    p class="hint" id={ (id) "-hint" } { "Choose each child by name from your caseload, or choose \"Not on my caseload\" and type the reference." }
                } @else { (hint(f, &id)) }
                (error_line(ctx, name))
                @for i in 0..shown(ctx, name, items) {
                    @let n = format!("{name}[{i}]");
                    @let nid = field_id(&n);
                    div class={ "form-group" @if ctx.error(&n).is_some() { " form-group--error" } } {
                        @if picker {
                            (child_pick(ctx, &n, &nid, i))
                        } @else {
                            label class="label" for=(nid) { (f.label) " " (i + 1) }
                            (error_line(ctx, &n))
                        }
                        @let value = if picker && picked(ctx, &n).is_some() { "" } else { ctx.answers.get(&n) };
                        input class="input" type="text" id=(nid) name=(n) value=(value)
                            data-max=(max) autocomplete="off" spellcheck="false";
                    }
                }
                (add_another(name, items, ctx))
            }
        }
    }
}

/// The caseload child entry `n` names (by any of its references).
fn picked<'a>(ctx: &FormCtx<'a>, n: &str) -> Option<&'a ChildChoice> {
    let current = ctx.answers.get(n);
    ctx.children
        .iter()
        .find(|c| c.refs.iter().any(|r| r == current))
}

/// Entry `n`'s choice of the caseload's children, then the label of the
/// typed reference that follows it.
fn child_pick(ctx: &FormCtx<'_>, n: &str, nid: &str, i: usize) -> Markup {
    let picked = picked(ctx, n);
    html! {
        label class="label" for={ (nid) "-pick" } { "Child " (i + 1) }
        (error_line(ctx, n))
        select class="select" id={ (nid) "-pick" } name={ (n) "." (PICK) } {
            option value="" selected[picked.is_none()] { "Not on my caseload (type the reference below)" }
            @for c in ctx.children {
                option value=(c.child) selected[picked.is_some_and(|p| p.child == c.child)] { (choice_text(c)) }
            }
        }
        label class="label" for=(nid) { "Or type the reference" }
    }
}

/// The children row of "check your answers" with each caseload child's
/// name before its reference: "Amy Brown (nhs:9434765919), local:X:y".
fn named_children(value: &str, children: &[ChildChoice]) -> String {
    value
        .split(", ")
        .map(
            |r| match children.iter().find(|c| c.refs.iter().any(|x| x == r)) {
                Some(c) => format!("{} ({r})", c.name),
                None => r.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Amy Brown (born 1 May 2026, Rainbow room)".
pub fn choice_text(c: &ChildChoice) -> String {
    let mut extra = Vec::new();
    if let Some(b) = c.born {
        extra.push(format!("born {}", crate::app::localtime::date_words(b)));
    }
    if let Some(g) = &c.group {
        extra.push(g.clone());
    }
    if extra.is_empty() {
        c.name.clone()
    } else {
        format!("{} ({})", c.name, extra.join(", "))
    }
}

fn add_another(name: &str, items: usize, ctx: &FormCtx<'_>) -> Markup {
    html! {
        @if ctx.answers.entries(name) + 1 < items {
            button class="button button--secondary" type="submit" name="_action" value={ "add:" (name) } { "Add another" }
        }
    }
}

fn group(
    ctx: &FormCtx<'_>,
    f: &FieldSpec,
    name: &str,
    items: usize,
    fields: &[FieldSpec],
) -> Markup {
    let id = field_id(name);
    let err = ctx.error(name).is_some();
    html! {
        div class={ "form-group" @if err { " form-group--error" } } id=(id) {
            h2 class="heading-m" { (label_text(f)) }
            (hint(f, &id)) (error_line(ctx, name))
            @if name == "injuries" { (bodymap::map()) }
            @for i in 0..shown(ctx, name, items) {
                fieldset class="fieldset panel" id={ (id) "-" (i) } {
                    legend class="fieldset__legend" { (f.label) " " (i + 1) }
                    @for s in fields { (field(ctx, s, &format!("{name}[{i}].{}", s.name))) }
                }
            }
            (add_another(name, items, ctx))
        }
    }
}

/// One answer as the check page shows it.
fn shown_answer(f: &FieldSpec, value: &str) -> String {
    match &f.input {
        Input::Choice(_) if !value.is_empty() => word_label(value),
        Input::Tick => (if value.is_empty() { "No" } else { "Yes" }).into(),
        Input::YesNo if value.is_empty() => "Not recorded".into(),
        Input::YesNo => word_label(value),
        _ => value.into(),
    }
}

/// Every answer, as (form name, label, shown value), groups flattened.
pub fn answer_rows(spec: &FormSpec, answers: &Answers) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for f in &spec.fields {
        match &f.input {
            Input::When => {
                let v = format!(
                    "{} {}",
                    answers.get("occurred_at.date"),
                    answers.get("occurred_at.time")
                );
                rows.push(("occurred_at".into(), f.label.into(), v));
            }
            Input::List { .. } => {
                let n = answers.entries(f.name);
                let v: Vec<&str> = (0..n)
                    .map(|i| answers.get(&format!("{}[{i}]", f.name)))
                    .collect();
                rows.push((format!("{}[0]", f.name), f.label.into(), v.join(", ")));
            }
            Input::Group { fields, .. } => {
                for i in 0..answers.entries(f.name) {
                    for s in fields {
                        let n = format!("{}[{i}].{}", f.name, s.name);
                        let label = format!("{} {}: {}", f.label, i + 1, s.label);
                        rows.push((n.clone(), label, shown_answer(s, answers.get(&n))));
                    }
                }
            }
            _ => rows.push((
                f.name.into(),
                f.label.into(),
                shown_answer(f, answers.get(f.name)),
            )),
        }
    }
    rows
}

/// "Check your answers": every answer with a Change link to its field,
/// and the Confirm button, which alone captures.
pub fn check_page(
    spec: &FormSpec,
    answers: &Answers,
    draft: &str,
    zone: &str,
    children: &[ChildChoice],
) -> Markup {
    let title = format!("Check your answers: {}", spec.kind.label());
    layout::page(
        &title,
        html! {
            h1 class="heading-l" { (title) }
            dl class="summary-list" {
                @for (name, label, value) in answer_rows(spec, answers) {
                    @let value = if name == "children[0]" { named_children(&value, children) } else { value };
                    div class="summary-list__row" {
                        dt class="summary-list__key" { (label) }
                        dd class="summary-list__value" {
                            @for line in value.lines() { (line) br; }
                            @if name == "occurred_at" { " (" (zone) ")" }
                        }
                        dd class="summary-list__actions" {
                            a href={ (draft) "#" (target(spec, &name)) } {
                                "Change" span class="visually-hidden" { " " (label) }
                            }
                        }
                    }
                }
            }
            h2 class="heading-m" { "Now save this record" }
            p { "Saving signs the record as evidence. It cannot be changed afterwards, only corrected by an amendment." }
            form method="post" action={ (draft) "/confirm" } {
                (security::csrf_field())
                button class="button" type="submit" { "Confirm and save" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::forms::spec::tests::valid;
    use hearth_shared::RecordKind;

    #[test]
    fn every_kind_renders_escaped_with_its_errors_beside_the_fields() {
        for kind in super::super::spec::FORM_KINDS {
            let spec = FormSpec::of(*kind).unwrap();
            let mut answers = valid(*kind);
            answers.set("headline", "<script>alert(1)</script>");
            let errors = [FieldError {
                name: "headline".into(),
                message: "headline is <b>wrong</b>".into(),
            }];
            let ctx = FormCtx {
                spec: &spec,
                answers: &answers,
                errors: &errors,
                zone: "Europe/London".into(),
                action: "/drafts/00000000000000ff".into(),
                saved: false,
                author: None,
                corrects: None,
                children: &[],
            };
            let html = form_page(&ctx).into_string();
            assert!(!html.contains("<script>alert"), "{kind}");
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(
                html.contains(r##"href="#f-headline""##),
                "{kind}: summary links the field"
            );
            assert!(
                html.contains(r#"id="f-headline-error""#),
                "{kind}: error beside the field"
            );
            assert!(html.contains("headline is &lt;b&gt;wrong&lt;/b&gt;"));
            assert!(
                html.contains(r#"data-max="120""#),
                "{kind}: headline counter"
            );
            assert!(html.contains("Time (Europe/London)"));
            assert!(html.len() < 60_000, "{kind}: {} bytes", html.len());
            for (name, _, _) in answer_rows(&spec, &answers) {
                let anchor = target(&spec, &name);
                assert!(
                    html.contains(&format!("id=\"{anchor}\"")),
                    "{kind}: no field with id {anchor} for {name}"
                );
            }
        }
    }

    #[test]
    fn the_check_page_lists_every_answer_with_a_change_link() {
        let spec = FormSpec::of(RecordKind::HomeVisit).unwrap();
        let answers = valid(RecordKind::HomeVisit);
        let html = check_page(&spec, &answers, "/drafts/1f", "UTC", &[]).into_string();
        assert!(html.contains(r##"href="/drafts/1f#f-observations-0-grade-1""##));
        assert!(html.contains(r##"href="/drafts/1f#f-access-announced""##));
        assert!(html.contains(r##"href="/drafts/1f#f-occurred_at-date""##));
        assert!(html.contains(r#"action="/drafts/1f/confirm""#));
        assert!(html.contains("Nutrition"));
    }
}
