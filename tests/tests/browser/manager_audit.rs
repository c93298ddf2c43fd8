//! The auditor in the manager's web app (issue 15): refused every
//! chronology and record, but reads the access log, which shows the
//! manager's reads with their reason and purpose.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{AUDITOR, CHILD_A, MANAGER, sign_in};

use crate::manager::{REASON, REFUSED, open_chronology, path, site, table_rows};

pub fn an_auditor_cannot_read_a_chronology_but_reads_the_access_log(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "supervision", true);
    let as_manager = browser.url();
    let record = format!("/records/{}?grant=1", r.daily);

    sign_in(browser, &site, AUDITOR);
    assert_eq!(
        path(browser),
        "/access-log",
        "an auditor starts at the access log"
    );
    for page in [
        as_manager.as_str(),
        &site.at(&format!("/children/{CHILD_A}/chronology")),
        &site.at("/find"),
        &site.at(&record),
    ] {
        browser.goto(page);
        browser.wait_for("main");
        let text = browser.page_text();
        assert!(
            text.contains(REFUSED),
            "an auditor is refused {page}:\n{text}"
        );
        assert!(
            !browser.exists("table#chronology") && !browser.exists("#provenance"),
            "nothing of the child on {page}"
        );
        assert!(!text.contains("Arrived with grandmother"), "{text}");
    }
    browser.check_screen("manager-auditor-refused");

    browser.goto(&site.at(&format!("/access-log?who={MANAGER}")));
    browser.wait_for("table#access-log");
    let rows = table_rows(browser, "table#access-log tbody");
    assert!(!rows.is_empty(), "the manager's reads are logged");
    let read = rows
        .iter()
        .map(|cells| cells.join(" | "))
        .find(|row| row.contains(REASON) && row.contains("Supervision"))
        .unwrap_or_else(|| panic!("no read with the reason and purpose: {rows:?}"));
    assert!(read.contains(MANAGER), "{read}");
    for row in &rows {
        assert!(
            row.join(" ").contains(MANAGER),
            "filtered to the manager: {row:?}"
        );
    }
    browser.check_screen("manager-access-log");
}
