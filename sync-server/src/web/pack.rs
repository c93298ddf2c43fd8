//! The panel pack: what printing a chronology page (or the browser's
//! "Save as PDF") gives a review panel. [`header`] is the print-only block
//! at the top of the first page: the child or children, the view, the
//! dates, the reason and purpose the glass was broken with, and who printed
//! it and when (in the server's zone). `assets/print.css` does the rest:
//! it hides the navigation and forms, keeps the timeline on the first
//! page, repeats the table's header row on every page, never cuts a row,
//! prints in black and white, and puts "Page N of M" in the page margin
//! (CSS `@page` margin boxes, `counter(page)` and `counter(pages)`).
//! [`print_button`] is the "Print or save as PDF" button (`#print`),
//! hidden until `web.js` wires it to `window.print()`: without script the
//! browser's own Print works the same.
//!
//! On screen the header is not shown (`display: none`, so a screen
//! reader skips it too: everything in it is on the page already).

use std::collections::BTreeMap;

use hearth_shared::{ChildRef, Timestamp};
use maud::{Markup, html};

use crate::chronology::DateRange;
use crate::chronology::format::names::{described, named};
use crate::localtime::Zone;
use crate::store::Purpose;

/// The register's label of each reference it knows.
pub type Names = BTreeMap<ChildRef, crate::people::Label>;

/// What the panel pack's header says.
#[derive(Debug, Clone, Copy)]
pub struct Pack<'a> {
    /// The child the chronology was asked for.
    pub child: &'a ChildRef,
    /// The children in view (the child alone, or the family).
    pub children: &'a [ChildRef],
    /// The register's names of those it knows (issue 17).
    pub names: &'a Names,
    /// Whether this is the family view.
    pub family: bool,
    /// The page's date filter (`from`, `to`), as the viewer gave it.
    pub range: DateRange,
    /// The first and last dates of the records in view, if any.
    pub shown: Option<(Timestamp, Timestamp)>,
    /// How many records are in view.
    pub records: usize,
    /// The reason given when the glass was broken.
    pub reason: &'a str,
    /// The purpose picked with it.
    pub purpose: Purpose,
    /// Who is printing (the viewer's user name).
    pub printed_by: &'a str,
    /// When the page was drawn (the server's clock).
    pub printed_at: Timestamp,
    /// The zone times are shown in.
    pub zone: &'a Zone,
}

/// The pack's title, the chronology page's own words: "Chronology for
/// Amy Brown, born 3 March 2024 (nhs:…)" or "Family chronology for …"
/// (the reference alone when the register does not know it).
pub fn title(pack: &Pack<'_>) -> String {
    title_of(pack.family, pack.child, pack.names)
}

/// [`title`] from its parts (the chronology page's heading).
pub fn title_of(family: bool, child: &ChildRef, names: &Names) -> String {
    format!(
        "{} for {}",
        if family {
            "Family chronology"
        } else {
            "Chronology"
        },
        described(child, names)
    )
}

/// The dates the pack covers, in words.
fn dates(pack: &Pack<'_>) -> String {
    let day = |t: Timestamp| pack.zone.date(t);
    let filter = match (pack.range.from, pack.range.to) {
        (Some(f), Some(t)) => Some(format!("{} to {}", day(f), day(t))),
        (Some(f), None) => Some(format!("from {}", day(f))),
        (None, Some(t)) => Some(format!("up to {}", day(t))),
        (None, None) => None,
    };
    let shown = pack
        .shown
        .map(|(a, b)| format!("records dated {} to {}", day(a), day(b)));
    match (filter, shown) {
        (Some(f), Some(s)) => format!("{f} (filtered; {s})"),
        (Some(f), None) => format!("{f} (filtered; no records)"),
        (None, Some(s)) => format!("All dates: {s}"),
        (None, None) => "All dates: no records".to_string(),
    }
}

/// The print-only header of the panel pack (`section.pack`).
pub fn header(pack: &Pack<'_>) -> Markup {
    html! {
        section class="pack" aria-label="Panel pack" {
            p class="pack__title" { (title(pack)) }
            dl class="pack__facts" {
                dt { @if pack.children.len() == 1 { "Child" } @else { "Children" } }
                dd {
                    @for (i, c) in pack.children.iter().enumerate() {
                        @if i > 0 { ", " }
                        (named(c, pack.names))
                    }
                }
                dt { "View" }
                dd {
                    @if pack.family { "The family: every child linked to " (named(pack.child, pack.names)) }
                    @else { "This child only" }
                }
                dt { "Dates" }
                dd { (dates(pack)) }
                dt { "Records" }
                dd { (pack.records) }
                dt { "Purpose" }
                dd { (pack.purpose.label()) }
                dt { "Reason" }
                dd class="pack__reason" { (pack.reason) }
                dt { "Printed by" }
                dd { (pack.printed_by) " on " (pack.zone.show(pack.printed_at)) }
            }
            p class="pack__note" {
                "This pack is a copy of the chronology as it stood when printed. Its reading was \
                 written to Hearth's access log with the reason above."
            }
        }
    }
}

/// The "Print or save as PDF" button (`#print`), hidden until `web.js`
/// shows it and wires it to `window.print()` (no inline handler: the
/// Content Security Policy forbids them).
pub fn print_button() -> Markup {
    html! {
        button id="print" type="button" class="button button--secondary print-button" hidden {
            "Print or save as PDF"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
        Timestamp::from_civil(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn the_header_names_the_children_dates_reason_purpose_and_printer() {
        let zone = Zone::default();
        let anna: ChildRef = "nhs:9434765919".parse().unwrap();
        let ben: ChildRef = "nhs:4010232137".parse().unwrap();
        let children = [anna.clone(), ben];
        let pack = Pack {
            child: &anna,
            children: &children,
            names: &Names::new(),
            family: true,
            range: DateRange {
                from: zone.day_start(2026, 3, 1),
                to: zone.day_end(2026, 3, 31),
            },
            shown: Some((at(2026, 3, 2, 10, 30), at(2026, 3, 20, 9, 0))),
            records: 5,
            reason: "Case review <script>alert(1)</script> for panel",
            purpose: Purpose::CaseReview,
            printed_by: "dsl.<b>patel</b>",
            printed_at: at(2026, 7, 1, 9, 30),
            zone: &zone,
        };
        let html = header(&pack).into_string();
        assert!(
            html.contains(r#"<p class="pack__title">Family chronology for nhs:9434765919</p>"#)
        );
        assert!(html.contains("<dt>Children</dt><dd>nhs:9434765919, nhs:4010232137</dd>"));
        assert!(html.contains(
            "2026-03-01 to 2026-03-31 (filtered; records dated 2026-03-02 to 2026-03-20)"
        ));
        assert!(html.contains("<dd>Case review</dd>"));
        assert!(html.contains("Case review &lt;script&gt;alert(1)&lt;/script&gt; for panel"));
        assert!(html.contains("dsl.&lt;b&gt;patel&lt;/b&gt; on 2026-07-01 10:30 BST"));
        assert!(!html.contains("<script") && !html.contains("<b>"));
        let one = Pack {
            children: std::slice::from_ref(&anna),
            names: &Names::new(),
            family: false,
            range: DateRange::default(),
            shown: None,
            records: 0,
            ..pack
        };
        let html = header(&one).into_string();
        assert!(html.contains("<dt>Child</dt>") && html.contains("This child only"));
        assert!(html.contains("All dates: no records"));
        assert_eq!(title(&one), "Chronology for nhs:9434765919");
    }

    #[test]
    fn the_print_button_waits_for_the_script() {
        let b = print_button().into_string();
        assert!(b.contains(r#"id="print""#) && b.contains(" hidden") && !b.contains("onclick"));
        assert!(b.contains("Print or save as PDF"));
        assert!(crate::web::assets::JS.contains("getElementById(\"print\")"));
    }
}
