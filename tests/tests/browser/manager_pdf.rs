//! The panel pack (issue 15): the family chronology, printed to PDF by the
//! real browser (WebDriver "Print Page", as "Save as PDF" does) from the
//! real server, its text read back with `pdftotext`: "Page N of M" on
//! every page, the title, the children, the reason and purpose, who
//! printed it, the timeline on page 1, the table's header row on the pages
//! it continues to, and nothing of the screen's navigation, forms or link
//! addresses.
//!
//! Written against the manager-side harness (`tests/src/manager.rs`,
//! `crate::manager`); registered in `main.rs` as
//! `manager_pdf::the_panel_pack_prints_to_pdf`.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{CHILD_A, CHILD_B, CSC, HV, MANAGER, NURSERY, sign_in};
use hearth_e2e::pdf;

use crate::manager::{REASON, open_chronology, site};

pub fn the_panel_pack_prints_to_pdf(browser: &mut Browser) {
    let site = site(browser);
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    // web.js shows the print button (hidden without script).
    browser.wait_for("button#print:not([hidden])");
    assert_eq!(browser.text("button#print"), "Print or save as PDF");

    let printed = browser.print_pdf();
    assert!(printed.starts_with(b"%PDF-"), "not a PDF");
    let Some(pages) = pdf::pages(&printed) else {
        return;
    };
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {} of {n}", i + 1)),
            "page {} has no \"Page {} of {n}\": {page}",
            i + 1,
            i + 1
        );
    }
    let all = pages.join("\n");

    // The first page: the pack's header and the whole timeline.
    let first = &pages[0];
    for said in [
        format!("Family chronology for {CHILD_A}"),
        format!("Reason {REASON}"),
        "Purpose Case review".to_string(),
        format!("Printed by {MANAGER} on "),
        "Key to the timeline".to_string(),
    ] {
        assert!(first.contains(&said), "page 1 lacks {said:?}: {first}");
    }
    // Both children, in the chronology's order (by reference).
    let (one, two) = if CHILD_A < CHILD_B {
        (CHILD_A, CHILD_B)
    } else {
        (CHILD_B, CHILD_A)
    };
    let children = format!("Children {one}, {two}");
    assert!(
        first.contains(&children),
        "page 1 lacks {children:?}: {first}"
    );
    for agency in [HV, NURSERY, CSC] {
        assert!(
            first.contains(agency),
            "page 1 lacks the {agency} lane: {first}"
        );
    }

    // The signals print above the table (their evidence names the
    // concern's headline too, so the table is found by its header).
    assert!(
        all.contains("Concerns are building up across agencies"),
        "the signals panel is not printed: {all}"
    );
    let table_starts = pages
        .iter()
        .position(|p| p.contains("Date and time") && p.contains("Headline"))
        .unwrap_or_else(|| panic!("no page holds the table's header: {all}"));
    // Every page the table continues onto repeats its header row.
    for (i, page) in pages.iter().enumerate().skip(table_starts + 1) {
        if page.contains("third hunger report") {
            assert!(
                page.contains("Date and time") && page.contains("Headline"),
                "page {} continues the table without its header: {page}",
                i + 1
            );
        }
    }
    assert!(
        all.contains("third hunger report"),
        "the concern's row: {all}"
    );

    // Paper has no navigation, forms, buttons or link addresses.
    for absent in [
        "Sign out",
        "Find a child",
        "Apply filters",
        "Print or save as PDF",
        "Skip the timeline",
        "/records/",
        "grant=",
        "https://",
    ] {
        assert!(!all.contains(absent), "{absent:?} printed: {all}");
    }
}
