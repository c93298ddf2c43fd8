//! The timeline picture of a chronology: inline SVG drawn on the server
//! (no chart library, nothing downloaded), the picture the review lacked.
//!
//! - [`svg`] (and [`svg_with`], which takes [`Options`]): one horizontal
//!   lane per agency, labelled; time across, with date ticks at local
//!   midnights in the viewer's zone ([`axis`]); a mark per record, shaped
//!   by kind ([`shapes`]) and filled where flagged (hollow otherwise, so
//!   black-and-white print still shows which); meetings as bands across
//!   every lane; each mark an SVG link (`a.timeline__mark`) to its record
//!   with a `<title>` naming the date, agency, kind, headline and flags.
//!   A key (shapes, filled, band) follows the picture. A record that is
//!   evidence for a practice signal is ringed, and its `<title>` says
//!   "evidence for: <the signals' titles>" ([`Options::evidence`]).
//! - Zoom is the page's date-range filter: the picture spans the filter's
//!   `from`..`to` when given ([`Options::range`]), else its records'.
//!   [`zoom`] gives the earlier, later and wider periods for links.
//!
//! Accessibility: the `<svg id="timeline">` is `role="group"`, named by
//! its `<title>` and described by its `<desc>`, which points at the
//! chronology table (the text equivalent). Not `role="img"`: an image's
//! children are presentational, and links inside one are a serious axe
//! violation (`nested-interactive`; checked with axe-core 4.14). Each link
//! is named by its `<title>` child (SVG-AAM). A "Skip the timeline" link
//! lets a keyboard user pass its marks.
//!
//! Content Security Policy: `style-src 'self'` forbids `style=`
//! attributes, so every colour and stroke comes from `timeline.css`
//! through classes; only geometry is written as attributes. Every value
//! goes through maud, which escapes it.

pub mod axis;
pub mod shapes;

use std::collections::BTreeMap;

use hearth_shared::{RecordId, RecordKind, Timestamp};
use maud::{Markup, html};

use self::axis::{Axis, ticks};
use self::shapes::Shape;
use crate::chronology::{DateRange, Entry};
use crate::localtime::Zone;

/// The picture's width in SVG units (it scales to the page's width).
const WIDTH: f64 = 800.0;
/// Room on the left for the agencies' names.
const GUTTER: f64 = 150.0;
/// Room on the right, so that the last mark and tick label fit.
const RIGHT: f64 = 24.0;
/// Above the first lane.
const TOP: f64 = 6.0;
/// A lane's height: three rows of marks.
const LANE: f64 = 44.0;
/// Below the last lane: the date ticks' labels.
const BOTTOM: f64 = 30.0;
/// The vertical offsets of a lane's rows of marks from its middle: marks
/// closer than [`MIN_GAP`] in time move to the next row instead of
/// hiding one another.
const ROWS: [f64; 3] = [0.0, -13.0, 13.0];
/// The horizontal room one mark needs in its row.
const MIN_GAP: f64 = 11.0;
/// A meeting band's width.
const BAND: f64 = 5.0;
/// The radius of the ring around a mark that is evidence for a signal.
const EVIDENCE_RING: f64 = 7.5;
/// The longest agency name drawn in the gutter (the rest, with "…").
const LABEL_CHARS: usize = 20;

/// How the timeline is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The span drawn: the page's date filter (`from`, `to`), so that the
    /// picture shows the dates asked for. Unset ends follow the records.
    pub range: DateRange,
    /// The records that are evidence for practice signals, each with the
    /// signals' titles: their marks are ringed, and their `<title>` says
    /// "evidence for: …" ([`crate::web::signals::evidence_titles`]).
    pub evidence: Option<&'a BTreeMap<RecordId, Vec<String>>>,
}

/// The timeline of `entries` (the view, already filtered), each mark
/// linking to `href(entry)`, spanning the entries' own dates.
pub fn svg(entries: &[&Entry], zone: &Zone, href: &dyn Fn(&Entry) -> String) -> Markup {
    svg_with(entries, zone, href, Options::default())
}

/// [`svg`], drawn as `options` say.
pub fn svg_with(
    entries: &[&Entry],
    zone: &Zone,
    href: &dyn Fn(&Entry) -> String,
    options: Options<'_>,
) -> Markup {
    let lanes = lanes(entries);
    let height = TOP + LANE * lanes.len().max(1) as f64 + BOTTOM;
    let first = entries.iter().map(|e| e.occurred_at.0).min().unwrap_or(0);
    let last = entries.iter().map(|e| e.occurred_at.0).max().unwrap_or(0);
    let axis = Axis::new(first, last, options.range, GUTTER, WIDTH - GUTTER - RIGHT);
    let bottom = TOP + LANE * lanes.len().max(1) as f64;
    let none = BTreeMap::new();
    let evidence = options.evidence.unwrap_or(&none);
    html! {
        div class="timeline" {
            a class="timeline__skip" href="#timeline-key" { "Skip the timeline" }
            svg id="timeline" class="timeline__svg" xmlns="http://www.w3.org/2000/svg"
                viewBox={ "0 0 " (WIDTH) " " (num(height)) }
                role="group" aria-labelledby="timeline-title" aria-describedby="timeline-desc" {
                title id="timeline-title" { (title(entries, lanes.len(), zone)) }
                desc id="timeline-desc" {
                    "One lane per agency, time across. A mark's shape is the kind of record \
                     (see the key below the picture); a filled mark is flagged, a hollow one \
                     is not. Meetings are bands across every lane. A ringed mark is evidence \
                     for a practice signal. Each mark links to its record. The same records \
                     are listed, in words, in the chronology table."
                }
                (shapes::defs())
                (lane_backgrounds(&lanes))
                (grid(&axis, zone, bottom))
                (bands(entries, &axis, bottom))
                @if entries.is_empty() {
                    text class="timeline__empty" x=(num(WIDTH / 2.0)) y=(num(TOP + LANE / 2.0)) {
                        "No records in this view."
                    }
                }
                (marks(entries, &lanes, &axis, zone, href, evidence))
            }
            (key(entries.iter().any(|e| evidence.contains_key(&e.record_id))))
        }
    }
}

/// The agencies in view, sorted, each with its lane's index.
fn lanes<'a>(entries: &[&'a Entry]) -> BTreeMap<&'a str, usize> {
    let mut lanes: BTreeMap<&str, usize> = entries.iter().map(|e| (e.agency.as_str(), 0)).collect();
    for (i, lane) in lanes.values_mut().enumerate() {
        *lane = i;
    }
    lanes
}

/// The picture's name: how many records, agencies and which dates.
fn title(entries: &[&Entry], agencies: usize, zone: &Zone) -> String {
    let (Some(first), Some(last)) = (
        entries.iter().map(|e| e.occurred_at).min(),
        entries.iter().map(|e| e.occurred_at).max(),
    ) else {
        return "Timeline: no records in this view".to_string();
    };
    format!(
        "Timeline of {} record{} from {} agenc{}, {} to {}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        agencies,
        if agencies == 1 { "y" } else { "ies" },
        zone.date(first),
        zone.date(last)
    )
}

/// A coordinate with one decimal place (enough at this size, and short).
fn num(v: f64) -> String {
    format!("{v:.1}")
}

fn lane_top(lane: usize) -> f64 {
    TOP + LANE * lane as f64
}

/// The lanes' stripes and their agencies' names.
fn lane_backgrounds(lanes: &BTreeMap<&str, usize>) -> Markup {
    html! {
        @for (agency, &i) in lanes {
            rect class={ "timeline__lane" @if i % 2 == 1 { " timeline__lane--alt" } }
                x="0" y=(num(lane_top(i))) width=(WIDTH) height=(LANE) {}
            text class="timeline__lane-label" x="6" y=(num(lane_top(i) + LANE / 2.0 + 4.0)) {
                @if agency.chars().count() > LABEL_CHARS {
                    title { (agency) }
                    (agency.chars().take(LABEL_CHARS - 1).collect::<String>()) "…"
                } @else {
                    (agency)
                }
            }
        }
    }
}

/// The date ticks: a grid line across the lanes and a label beneath.
fn grid(axis: &Axis, zone: &Zone, bottom: f64) -> Markup {
    html! {
        line class="timeline__axis" x1=(GUTTER) x2=(WIDTH - RIGHT) y1=(num(bottom)) y2=(num(bottom)) {}
        @for t in ticks(axis, zone) {
            @let x = num(axis.x(t.at));
            line class="timeline__tick" x1=(x) x2=(x) y1=(TOP) y2=(num(bottom + 4.0)) {}
            text class="timeline__tick-label" x=(x) y=(num(bottom + 18.0)) { (t.label) }
        }
    }
}

/// A band across every lane for each meeting.
fn bands(entries: &[&Entry], axis: &Axis, bottom: f64) -> Markup {
    html! {
        @for e in entries.iter().filter(|e| e.kind == RecordKind::Meeting) {
            rect class="timeline__band" x=(num(axis.x(e.occurred_at) - BAND / 2.0)) y=(TOP)
                width=(BAND) height=(num(bottom - TOP)) {}
        }
    }
}

/// What a mark's `<title>` says: date and time (zone), agency, kind,
/// headline, its flags in words, and the signals it is evidence for.
fn mark_title(e: &Entry, zone: &Zone, signals: Option<&Vec<String>>) -> String {
    let mut s = format!(
        "{}, {}, {}: {}",
        zone.show(e.occurred_at),
        e.agency,
        e.kind.label(),
        e.headline
    );
    if !e.flags.is_empty() {
        s.push_str(" (flagged: ");
        for (i, f) in e.flags.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&f.as_str().replace('_', " "));
        }
        s.push(')');
    }
    if let Some(titles) = signals {
        s.push_str(" (evidence for: ");
        s.push_str(&titles.join("; "));
        s.push(')');
    }
    s
}

/// Where each mark goes: `(index into entries, x, y)`, earliest first.
/// Within a lane, a mark too close to the one before it in its row
/// moves to the next row; when all are taken, to the row free longest.
fn place(entries: &[&Entry], lanes: &BTreeMap<&str, usize>, axis: &Axis) -> Vec<(usize, f64, f64)> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].occurred_at);
    // Per lane, how far right each row is taken.
    let mut taken = vec![[f64::NEG_INFINITY; ROWS.len()]; lanes.len()];
    order
        .into_iter()
        .map(|i| {
            let e = entries[i];
            let lane = lanes[e.agency.as_str()];
            let x = axis.x(e.occurred_at);
            let rows = &mut taken[lane];
            let row = (0..ROWS.len())
                .find(|&r| x >= rows[r] + MIN_GAP)
                .unwrap_or_else(|| {
                    (0..ROWS.len())
                        .min_by(|&a, &b| rows[a].total_cmp(&rows[b]))
                        .unwrap_or(0)
                });
            rows[row] = x;
            (i, x, lane_top(lane) + LANE / 2.0 + ROWS[row])
        })
        .collect()
}

/// Every mark: an SVG link to its record, named by its `<title>`.
fn marks(
    entries: &[&Entry],
    lanes: &BTreeMap<&str, usize>,
    axis: &Axis,
    zone: &Zone,
    href: &dyn Fn(&Entry) -> String,
    evidence: &BTreeMap<RecordId, Vec<String>>,
) -> Markup {
    html! {
        @for (i, x, y) in place(entries, lanes, axis) {
            @let e = entries[i];
            @let signals = evidence.get(&e.record_id);
            a class={ "timeline__mark" @if !e.flags.is_empty() { " timeline__mark--flagged" } @if signals.is_some() { " timeline__mark--evidence" } }
                href=(href(e)) {
                title { (mark_title(e, zone, signals)) }
                @if signals.is_some() {
                    circle class="timeline__ring" cx=(num(x)) cy=(num(y)) r=(num(EVIDENCE_RING)) {}
                }
                use href=(Shape::of(e.kind).href()) x=(num(x)) y=(num(y)) {}
            }
        }
    }
}

/// The key: each shape with its kind, filled and hollow, the band, and
/// the ring of evidence when `evidence` (some mark is ringed).
fn key(evidence: bool) -> Markup {
    html! {
        div class="timeline__key" id="timeline-key" tabindex="-1" {
            p class="timeline__key-title" { "Key to the timeline" }
            ul class="timeline__key-list" {
                @for s in Shape::ALL {
                    li { (key_shape(s, false)) (s.kind().label()) }
                }
                li { (key_shape(Shape::Circle, true)) "Filled: flagged (any kind)" }
                li { (key_shape(Shape::Circle, false)) "Hollow: no flags" }
                li {
                    svg class="timeline__key-shape" viewBox="-8 -8 16 16" aria-hidden="true" focusable="false" {
                        rect class="timeline__band" x="-2.5" y="-8" width="5" height="16" {}
                    }
                    "Band across every lane: a meeting"
                }
                @if evidence {
                    li {
                        svg class="timeline__key-shape" viewBox="-8 -8 16 16" aria-hidden="true" focusable="false" {
                            circle class="timeline__ring" cx="0" cy="0" r=(num(EVIDENCE_RING)) {}
                        }
                        "Ringed: evidence for a signal (see Signals above)"
                    }
                }
            }
        }
    }
}

fn key_shape(s: Shape, flagged: bool) -> Markup {
    html! {
        svg class={ "timeline__key-shape" @if flagged { " timeline__mark--flagged" } @else { " timeline__mark" } }
            viewBox="-8 -8 16 16" aria-hidden="true" focusable="false" {
            use href=(s.href()) {}
        }
    }
}

/// The periods around a view, for zoom links: as long as the view, just
/// before and just after it, and one three times as long around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zoom {
    /// The same length of time, ending the day before `from`.
    pub earlier: (jiff::civil::Date, jiff::civil::Date),
    /// The same length of time, starting the day after `to`.
    pub later: (jiff::civil::Date, jiff::civil::Date),
    /// Three times as long, centred on the view.
    pub wider: (jiff::civil::Date, jiff::civil::Date),
}

/// The periods around the local dates `from..=to` (the page's filter),
/// or `None` if they are out of the calendar's range.
pub fn zoom(from: jiff::civil::Date, to: jiff::civil::Date) -> Option<Zoom> {
    use jiff::ToSpan;
    let (from, to) = if to < from { (to, from) } else { (from, to) };
    let days = i64::from(from.until(to).ok()?.get_days()) + 1;
    let day = |d: jiff::civil::Date, n: i64| d.checked_add(n.days()).ok();
    Some(Zoom {
        earlier: (day(from, -days)?, day(from, -1)?),
        later: (day(to, 1)?, day(to, days)?),
        wider: (day(from, -days)?, day(to, days)?),
    })
}

/// A timestamp's local date, for [`zoom`] when the page has no filter.
pub fn local_date(zone: &Zone, t: Timestamp) -> Option<jiff::civil::Date> {
    zone.date(t).parse().ok()
}

#[cfg(test)]
mod tests;
