//! The chronology page: `GET /children/{child}/chronology?grant=G` with
//! its filters (`from`, `to`, `agency`, `kind`, `flag`, kept in the URL so
//! a view can be shared and audited), the counts per agency and per kind,
//! the timeline picture ([`super::timeline::svg`]) and the table, each
//! headline linking to the record behind it.
//!
//! Every page is an audited pull ([`crate::audit::pull`], via `web`, with
//! the grant's reason and purpose): the read is in the access log before
//! the page is sent. No grant, or one that is not this reader's, not for
//! this child, or expired, gets the break-the-glass form again and
//! nothing of the child.
//!
//! [`render`] is pure (no store): the benchmark and the tests call it.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};
use maud::{Markup, html};
use serde::Deserialize;

use super::find::{
    Glass, find_page, glass_page, on_store, parse_child, path_segment, sentence, valid_grant,
};
use super::layout::{error_summary, html, page};
use super::pack::Names;
use super::signals::{self, AckDraft};
use super::{Reader, Viewer, timeline};
use crate::audit::{PullError, PullRequest, day_range, pull};
use crate::backend::Backend;
use crate::chronology::{Chronology, DateRange, Entry, Flag};
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{ReadGrant, Via};

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/children/{child}/chronology", get(chronology::<S>))
        .route(
            "/children/{child}/signals/{rule}/ack",
            post(signals::ack::post::<S>),
        )
}

/// A flag in words, and what it means (the glossary under the table).
pub const fn flag_words(f: Flag) -> (&'static str, &'static str) {
    match f {
        Flag::LateEntry => ("Late entry", "Recorded long after the event it describes."),
        Flag::NoAction => (
            "No action",
            "The child's voice was recorded with no action taken or planned.",
        ),
        Flag::MinutesNotRecorded => (
            "Minutes not recorded",
            "Nobody recorded the meeting's minutes.",
        ),
        Flag::WasNotBrought => (
            "Was not brought",
            "The child was not brought to a developmental review.",
        ),
        Flag::Disputed => (
            "Disputed",
            "Another record from the same device conflicts with this one (a fork): read both.",
        ),
        Flag::Unresolved => ("Unresolved", "The escalation is not resolved."),
        Flag::Amended => (
            "Amended",
            "Corrected after it was recorded: the record shows the original and the reason.",
        ),
        Flag::FutureDated => (
            "Dated after it was recorded",
            "The event is dated after the device recorded it (clock corrected): check the date.",
        ),
        Flag::EnteredInError => (
            "Entered in error",
            "Retracted by its device: kept and shown struck through, never deleted.",
        ),
        Flag::CorrectsUnknownRecord => (
            "Correction waiting",
            "Corrects a record the server has not received yet; applied when it arrives.",
        ),
        Flag::Hungry => ("Hungry", "The child arrived hungry."),
        Flag::HygieneConcern => (
            "Hygiene concern",
            "The child's hygiene gave concern on arrival.",
        ),
        Flag::ClothingConcern => (
            "Clothing concern",
            "The child's clothing gave concern (unsuitable, dirty or not enough).",
        ),
        Flag::NappyConcern => (
            "Nappy concern",
            "The child's nappy gave concern (not changed, or soiled on arrival).",
        ),
        Flag::AbsentUnexplained => (
            "Absent, unexplained",
            "The child was absent and nobody explained why.",
        ),
        Flag::Injury => (
            "Injury",
            "An injury was recorded: the record shows where on the body, and both explanations.",
        ),
        Flag::Grade4Or5 => (
            "Grade 4 or 5",
            "An area of care was graded 4 or 5: serious concern about the care the child receives.",
        ),
        Flag::BelowThreshold => (
            "Below threshold",
            "A developmental domain was below the threshold: needs further assessment.",
        ),
        Flag::ChildNotSeen => (
            "Child not seen",
            "The child was not seen at the home visit: the record says why.",
        ),
        Flag::NoAccess => ("No access", "The worker could not get into the home."),
    }
}

/// The filters of a view, as the URL gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// From (a local day, `YYYY-MM-DD`), as given.
    pub from: Option<String>,
    /// To (a local day), as given.
    pub to: Option<String>,
    /// One agency.
    pub agency: Option<String>,
    /// One kind.
    pub kind: Option<RecordKind>,
    /// One flag.
    pub flag: Option<Flag>,
}

impl Filters {
    /// Whether `e` is in the view (the dates are applied by the pull).
    pub fn admits(&self, e: &Entry) -> bool {
        self.agency.as_deref().is_none_or(|a| e.agency == a)
            && self.kind.is_none_or(|k| e.kind == k)
            && self.flag.is_none_or(|f| e.flags.contains(&f))
    }

    /// The query string of this view under `grant` (`grant=..&from=..`).
    pub fn query(&self, grant: &str) -> String {
        let mut q = format!("grant={}", path_segment(grant));
        let mut add = |name: &str, v: Option<&str>| {
            if let Some(v) = v {
                q.push_str(&format!("&{name}={}", path_segment(v)));
            }
        };
        add("from", self.from.as_deref());
        add("to", self.to.as_deref());
        add("agency", self.agency.as_deref());
        add("kind", self.kind.map(|k| k.as_str()));
        add("flag", self.flag.map(|f| f.as_str()));
        q
    }
}

/// What the chronology page shows: everything [`render`] needs, no store.
#[derive(Debug, Clone, Copy)]
pub struct ChronologyView<'a> {
    /// Who is reading.
    pub viewer: &'a Viewer,
    /// Under which grant (its reason and purpose are shown).
    pub grant: &'a ReadGrant,
    /// The pull (dates applied).
    pub chronology: &'a Chronology,
    /// The filters.
    pub filters: &'a Filters,
    /// The zone times are shown in.
    pub zone: &'a Zone,
    /// The dates the pull was asked for (the `from` and `to` filters).
    pub range: DateRange,
    /// When the page is drawn (the panel pack's "printed on").
    pub now: Timestamp,
}

/// The link to the record behind `e`, under `grant`.
pub fn record_href(e: &Entry, grant: &str) -> String {
    format!("/records/{}?grant={}", e.record_id, path_segment(grant))
}

/// Entries per key, in key order.
fn counts<'a>(entries: &[&'a Entry], key: impl Fn(&'a Entry) -> &'a str) -> Vec<(&'a str, usize)> {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for e in entries {
        *by.entry(key(e)).or_default() += 1;
    }
    by.into_iter().collect()
}

/// One counts table: `id`, its caption, the key's heading, the counts.
fn count_table(id: &str, caption: &str, key: &str, counts: &[(&str, usize)]) -> Markup {
    html! {
        table class="table counts-table" id=(id) {
            caption class="table__caption" { (caption) }
            thead { tr { th scope="col" { (key) } th scope="col" class="numeric" { "Entries" } } }
            tbody {
                @for (k, n) in counts {
                    tr { th scope="row" { (k) } td class="numeric" { (n) } }
                }
            }
        }
    }
}

/// The counts tables (`#counts-agency`, `#counts-kind`).
fn counts_tables(entries: &[&Entry]) -> Markup {
    let agencies = counts(entries, |e| e.agency.as_str());
    let kinds = counts(entries, |e| e.kind.label());
    html! {
        div class="counts-tables" {
            (count_table("counts-agency", "Entries by agency", "Agency", &agencies))
            (count_table("counts-kind", "Entries by kind", "Kind", &kinds))
        }
    }
}

/// The filter form (a GET form: the view stays in the URL).
fn filter_form(view: &ChronologyView<'_>, action: &str) -> Markup {
    let f = view.filters;
    let agencies: BTreeSet<&str> = view
        .chronology
        .entries
        .iter()
        .map(|e| e.agency.as_str())
        .chain(f.agency.as_deref())
        .collect();
    html! {
        form class="filters" method="get" action=(action) {
            input type="hidden" name="grant" value=(view.grant.id);
            div class="filters__row" {
                div class="form-group filters__item" {
                    label class="label" for="from" { "From" }
                    input class="input" type="date" id="from" name="from" value=[f.from.as_deref()];
                }
                div class="form-group filters__item" {
                    label class="label" for="to" { "To" }
                    input class="input" type="date" id="to" name="to" value=[f.to.as_deref()];
                }
                div class="form-group filters__item" {
                    label class="label" for="agency" { "Agency" }
                    select class="select" id="agency" name="agency" {
                        option value="" { "All agencies" }
                        @for a in &agencies {
                            option value=(a) selected[f.agency.as_deref() == Some(*a)] { (a) }
                        }
                    }
                }
                div class="form-group filters__item" {
                    label class="label" for="kind" { "Kind" }
                    select class="select" id="kind" name="kind" {
                        option value="" { "All kinds" }
                        @for k in RecordKind::ALL {
                            option value=(k.as_str()) selected[f.kind == Some(*k)] { (k.label()) " (" (k.as_str()) ")" }
                        }
                    }
                }
                div class="form-group filters__item" {
                    label class="label" for="flag" { "Flag" }
                    select class="select" id="flag" name="flag" {
                        option value="" { "Any or none" }
                        @for fl in Flag::ALL {
                            option value=(fl.as_str()) selected[f.flag == Some(*fl)] { (flag_words(*fl).0) }
                        }
                    }
                }
            }
            button class="button" type="submit" { "Apply filters" }
            " "
            a class="link" href={ (action) "?grant=" (path_segment(&view.grant.id)) } { "Clear filters" }
        }
    }
}

/// The flags of an entry in words, each linked to its explanation.
fn flag_tags(e: &Entry) -> Markup {
    html! {
        @if e.flags.is_empty() {
            span class="visually-hidden" { "None" }
        } @else {
            ul class="flag-list" {
                @for f in &e.flags {
                    @let (words, why) = flag_words(*f);
                    li { a class={ "flag-tag flag-tag--" (f.as_str()) } href={ "#flag-" (f.as_str()) } title=(why) { (words) } }
                }
            }
        }
    }
}

/// One row of the table (`tr#entry-<record id>`, which the signals'
/// evidence links jump to), saying which signals it is evidence for.
fn row(e: &Entry, names: &Names, zone: &Zone, grant: &str, evidence: &Evidence) -> Markup {
    let (date, time, abbr) = zone.parts(e.occurred_at);
    let retracted = e.flags.contains(&Flag::EnteredInError);
    let signals = evidence.get(&e.record_id);
    html! {
        tr id=(signals::row_id(&e.record_id)) class=[retracted.then_some("entry--retracted")] {
            td class="nowrap" { time datetime=(e.occurred_at) { (date) " " (time) " " (abbr) } }
            td {
                @for (i, c) in e.children.iter().enumerate() {
                    @if i > 0 { br; }
                    (child_name(c, names))
                }
            }
            td { (e.agency) }
            td {
                (e.author)
                @if e.worker != e.author { " (via " (e.worker) ")" }
            }
            td { (e.kind.label()) }
            td {
                a class="record-link" href=(record_href(e, grant)) {
                    @if retracted {
                        span class="visually-hidden" { "Entered in error: " }
                        del { (e.headline) }
                    } @else {
                        (e.headline)
                    }
                }
            }
            td {
                (flag_tags(e))
                @if let Some(titles) = signals {
                    p class="signal-evidence" { "Evidence for: " (titles.join("; ")) }
                }
            }
        }
    }
}

/// The glossary of flags the table links to.
fn glossary() -> Markup {
    html! {
        h2 class="heading-m" id="flags" { "What the flags mean" }
        dl class="flag-glossary" {
            @for f in Flag::ALL {
                @let (words, why) = flag_words(*f);
                div class="flag-glossary__item" id={ "flag-" (f.as_str()) } {
                    dt { span class={ "flag-tag flag-tag--" (f.as_str()) } { (words) } }
                    dd { (why) }
                }
            }
        }
    }
}

/// The panel pack's print-only header ([`super::pack`]) and its "Print or
/// save as PDF" button, from what the view holds.
fn panel_pack(view: &ChronologyView<'_>, entries: &[&Entry]) -> (Markup, Markup) {
    let c = view.chronology;
    let header = super::pack::header(&super::pack::Pack {
        child: &c.child,
        children: &c.children,
        names: &c.names,
        family: c.family,
        range: view.range,
        shown: entries
            .first()
            .zip(entries.last())
            .map(|(a, b)| (a.occurred_at, b.occurred_at)),
        records: entries.len(),
        reason: &view.grant.reason,
        purpose: view.grant.purpose,
        printed_by: &view.viewer.name,
        printed_at: view.now,
        zone: view.zone,
    });
    (header, super::pack::print_button())
}

/// What is in view and why: the children, the reason, the grant's end.
fn about(view: &ChronologyView<'_>) -> Markup {
    let c = view.chronology;
    html! {
        dl class="summary-list chronology__about" {
            div class="summary-list__row" {
                dt class="summary-list__key" { "Children in view" }
                dd class="summary-list__value" {
                    @for (i, ch) in c.children.iter().enumerate() {
                        @if i > 0 { ", " }
                        (child_name(ch, &c.names))
                    }
                }
            }
            div class="summary-list__row" {
                dt class="summary-list__key" { "Your reason" }
                dd class="summary-list__value" { (view.grant.reason) " (" (view.grant.purpose.label()) ")" }
            }
            div class="summary-list__row" {
                dt class="summary-list__key" { "Reading allowed until" }
                dd class="summary-list__value" { (view.zone.show(view.grant.expires_at)) }
            }
        }
    }
}

/// A child as a row or the summary shows it: the register's name, then
/// the reference (`span.child-ref`); the reference alone if the register
/// does not know it. Escaped by maud like every value.
pub fn child_name(r: &ChildRef, names: &Names) -> Markup {
    html! {
        @if let Some(l) = names.get(r) {
            span class="child-name" { (l.name) } " " span class="child-ref" { "(" (r) ")" }
        } @else {
            span class="child-ref" { (r) }
        }
    }
}

/// The table of `entries` (`table#chronology`).
fn table(
    entries: &[&Entry],
    names: &Names,
    zone: &Zone,
    grant: &str,
    evidence: &Evidence,
) -> Markup {
    html! {
        div class="table-wrap" {
            table class="table chronology-table" id="chronology" {
                caption class="table__caption" { "Entries, earliest first. Times in " (zone.name()) "." }
                thead {
                    tr {
                        th scope="col" { "Date and time" }
                        th scope="col" { "Child" }
                        th scope="col" { "Agency" }
                        th scope="col" { "Author" }
                        th scope="col" { "Kind" }
                        th scope="col" { "Headline" }
                        th scope="col" { "Flags" }
                    }
                }
                tbody {
                    @for e in entries {
                        (row(e, names, zone, grant, evidence))
                    }
                }
            }
        }
    }
}

/// For each record that is evidence, the titles of its signals.
type Evidence = BTreeMap<RecordId, Vec<String>>;

/// The chronology page. Pure: the same view gives the same page.
pub fn render(view: &ChronologyView<'_>) -> Markup {
    render_with(view, None)
}

/// [`render`], with a refused acknowledgement drawn again in its form
/// (and the error summary at the top linking to its note).
pub fn render_with(view: &ChronologyView<'_>, draft: Option<&AckDraft>) -> Markup {
    let c = view.chronology;
    let grant = &view.grant.id;
    let entries: Vec<&Entry> = c
        .entries
        .iter()
        .filter(|e| view.filters.admits(e))
        .collect();
    let action = format!(
        "/children/{}/chronology",
        path_segment(&c.child.to_string())
    );
    let title = super::pack::title_of(c.family, &c.child, &c.names);
    let href = |e: &Entry| record_href(e, grant);
    let (pack_header, print_button) = panel_pack(view, &entries);
    let evidence = signals::evidence_titles(&c.signals);
    let shown: BTreeSet<RecordId> = entries.iter().map(|e| e.record_id).collect();
    let panel = signals::panel(&signals::Panel {
        viewer: view.viewer,
        child: &c.child,
        grant,
        family: c.family,
        in_view: &c.children,
        signals: &c.signals,
        entries: &c.entries,
        shown: &shown,
        zone: view.zone,
        draft,
    });
    let note = draft.map(|d| (signals::note_id(d.rule), d.error.as_str()));
    let errors: Vec<(&str, &str)> = note.iter().map(|(f, m)| (f.as_str(), *m)).collect();
    let head = if draft.is_some() {
        format!("Error: {title}")
    } else {
        title.clone()
    };
    let options = timeline::Options {
        range: view.range,
        evidence: Some(&evidence),
    };
    page(
        Some(view.viewer),
        &head,
        html! {
            div class="width-container--wide chronology" {
                (error_summary(&errors))
                (pack_header)
                h1 { (title) }
                (print_button)
                (about(view))
                (filter_form(view, &action))
                p class="chronology__shown" role="status" {
                    "Showing " strong { (entries.len()) } " of " (c.entries.len()) " entries"
                    @if view.filters.from.is_some() || view.filters.to.is_some() { " in the dates chosen" }
                    "."
                }
                p class="chronology__share" {
                    a href={ (action) "?" (view.filters.query(grant)) } { "Link to this view" }
                    " (only you can open it: another reader states their own reason)"
                }
                (panel)
                (counts_tables(&entries))
                (timeline::svg_with(&entries, view.zone, &href, options))
                (table(&entries, &c.names, view.zone, grant, &evidence))
                @if entries.is_empty() {
                    p { "No entries match. Change the filters or clear them." }
                }
                (glossary())
            }
        },
    )
}

/// The query of the chronology page.
#[derive(Debug, Default, Deserialize)]
struct ChronologyQuery {
    grant: Option<String>,
    from: Option<String>,
    to: Option<String>,
    agency: Option<String>,
    kind: Option<String>,
    flag: Option<String>,
}

/// A field of a GET form: an empty value is no value.
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The filters of `q`, or the problems, each `(field id, message)`.
fn filters_of(q: ChronologyQuery) -> Result<Filters, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let kind = given(q.kind).and_then(|k| {
        k.parse::<RecordKind>()
            .map_err(|_| {
                errors.push((
                    "kind",
                    format!("The kind \"{k}\" is not one Hearth records; choose one from the list"),
                ))
            })
            .ok()
    });
    let flag = given(q.flag).and_then(|f| {
        f.parse::<Flag>()
            .map_err(|_| {
                errors.push((
                    "flag",
                    format!("The flag \"{f}\" is not one Hearth shows; choose one from the list"),
                ))
            })
            .ok()
    });
    let filters = Filters {
        from: given(q.from),
        to: given(q.to),
        agency: given(q.agency),
        kind,
        flag,
    };
    if errors.is_empty() {
        Ok(filters)
    } else {
        Err(errors)
    }
}

/// The page for filters that could not be read: what is wrong, a way back,
/// nothing of the child (nothing was pulled).
fn bad_filters(viewer: &Viewer, action: &str, grant: &str, errors: &[(&str, String)]) -> Response {
    let list: Vec<(&str, &str)> = errors.iter().map(|(f, m)| (*f, m.as_str())).collect();
    let body = page(
        Some(viewer),
        "Error: Chronology",
        html! {
            (error_summary(&list))
            h1 { "The filters could not be used" }
            p { a href={ (action) "?grant=" (path_segment(grant)) } { "Show the chronology without filters" } }
        },
    );
    (StatusCode::BAD_REQUEST, html(body)).into_response()
}

/// The break-the-glass form again, with why (nothing of the child shown).
pub(super) fn ask_again(
    viewer: &Viewer,
    child: &ChildRef,
    notice: Option<&'static str>,
) -> Response {
    let status = if notice.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    let glass = Glass {
        notice,
        ..Glass::default()
    };
    (status, html(glass_page(viewer, child, &glass))).into_response()
}

/// The grant `grant_id` checked for `who` and `child`, then the audited
/// pull under it; `Err(child)` when the grant does not admit the read
/// (ask for a reason again).
pub(super) fn pull_view<S: Backend>(
    store: &S,
    clock: &dyn crate::clock::Clock,
    rules: &crate::signals::Config,
    who: &Viewer,
    grant_id: &str,
    child: ChildRef,
    range: DateRange,
) -> Result<Result<(ReadGrant, Chronology), ChildRef>, crate::store::StoreError> {
    let Some(grant) = valid_grant(store.grant(grant_id)?, who, Some(&child), clock.now()) else {
        return Ok(Err(child));
    };
    let req = PullRequest {
        child: grant.child.clone(),
        family: grant.family,
        range,
        reason: grant.reason.clone(),
        who: who.name.clone(),
        via: Via::Web,
        purpose: Some(grant.purpose),
    };
    match pull(store, clock, rules, &req) {
        Ok(c) => Ok(Ok((grant, c))),
        Err(PullError::Store(e)) => Err(e),
        // The grant's reason passed when it was made; rules that
        // tightened since refuse it: ask again.
        Err(_) => Ok(Err(grant.child)),
    }
}

/// The whole chronology (no filters) read under `grant`, with a refused
/// acknowledgement drawn again.
pub(super) fn render_page(
    viewer: &Viewer,
    grant: &ReadGrant,
    chronology: &Chronology,
    zone: &Zone,
    now: Timestamp,
    draft: &AckDraft,
) -> Markup {
    let view = ChronologyView {
        viewer,
        grant,
        chronology,
        filters: &Filters::default(),
        zone,
        range: DateRange::default(),
        now,
    };
    render_with(&view, Some(draft))
}

/// `GET /children/{child}/chronology`.
async fn chronology<S: Backend>(
    State(st): State<AppState<S>>,
    Reader(viewer): Reader,
    Path(child): Path<String>,
    query: Result<Query<ChronologyQuery>, QueryRejection>,
) -> Response {
    let Ok(child) = parse_child(&child) else {
        let message = "The child reference in the address is not valid; find the child again";
        return (
            StatusCode::BAD_REQUEST,
            html(find_page(&viewer, &child, Some(message))),
        )
            .into_response();
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let Some(grant_id) = given(q.grant.clone()) else {
        return ask_again(&viewer, &child, None);
    };
    let action = format!("/children/{}/chronology", path_segment(&child.to_string()));
    let filters = match filters_of(q) {
        Ok(f) => f,
        Err(errors) => return bad_filters(&viewer, &action, &grant_id, &errors),
    };
    let range = match day_range(
        &st.zone,
        filters.from.as_deref(),
        filters.to.as_deref(),
        ["from", "to"],
    ) {
        Ok(r) => r,
        Err(e) => {
            let field = if matches!(&e, PullError::BadDate { which: "to", .. }) {
                "to"
            } else {
                "from"
            };
            let message = sentence(&e.to_string());
            return bad_filters(&viewer, &action, &grant_id, &[(field, message)]);
        }
    };
    let store = st.reads.clone();
    let clock = st.clock.clone();
    let rules = st.signals.clone();
    let who = viewer.clone();
    let pulled = on_store(move || {
        pull_view(
            &*store,
            clock.as_ref(),
            &rules,
            &who,
            &grant_id,
            child,
            range,
        )
    })
    .await;
    match pulled {
        Err(page) => page,
        Ok(Err(child)) => ask_again(
            &viewer,
            &child,
            Some(
                "Your reason to read these records has expired, or the link is not yours. State your reason again.",
            ),
        ),
        Ok(Ok((grant, c))) => {
            let view = ChronologyView {
                viewer: &viewer,
                grant: &grant,
                chronology: &c,
                filters: &filters,
                zone: &st.zone,
                range,
                now: st.clock.now(),
            };
            html(render(&view)).into_response()
        }
    }
}

#[cfg(test)]
mod tests;
