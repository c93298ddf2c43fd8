//! Practice signals in the manager's web app (issue 16): the Signals panel
//! above a family chronology, an evidence link jumping to its row, the
//! evidence ringed on the timeline, an acknowledgement refused then
//! recorded (the panel then shows who, when and the note), and the
//! caseload page (`/signals`) behind a reason, refused to an auditor.
//!
//! The seeded family already raises `concerns_accumulating` (a grade-4
//! home visit from health visiting, a hungry and injured child at the
//! nursery, a neglect concern from social care: three concern-type
//! entries from three agencies within 20 days). Each scenario adds a core
//! group without minutes from a social-care tablet of its own, which
//! raises `meetings_without_minutes` for the family.

use hearth_e2e::agent::Agent;
use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{AUDITOR, CHILD_A, CHILD_B, CSC, MANAGER, Site, sign_in};
use serde_json::json;

use crate::manager::{REASON, REFUSED, open_chronology, site};

/// A day in seconds.
const DAY: i64 = 86_400;

/// What the manager notes when acknowledging.
const NOTE: &str = "Chair asked to record minutes; reviewed at supervision";

/// The site with a core group about both children, five days before
/// seeding, its minutes not recorded (synced from a new social-care
/// tablet); the meeting's record id.
fn site_with_unminuted_core_group(browser: &mut Browser) -> (Site, String) {
    let site = site(browser);
    let agent = Agent::new(0);
    agent.init(CSC, "sw.signals");
    let token = site.server.enrol_token(CSC, "sw.signals");
    agent.enrol(&site.server.url(), &token, &site.server.fingerprint());
    let at = hearth_shared::Timestamp(site.records.seeded_at - 5 * DAY).to_string();
    let id = agent.record(&json!({
        "kind": "meeting",
        "children": [CHILD_A, CHILD_B],
        "occurred_at": at,
        "headline": "Core group; minutes not taken",
        "meeting_type": "core_group",
        "attendees": [{"name": "Social worker", "agency": CSC}],
        "decisions": "Plan reviewed",
        "minutes": "not_recorded",
    }));
    assert_eq!(agent.sync(), 0, "the social-care tablet's sync failed");
    (site, id)
}

/// The panel's section for `rule`.
fn signal(rule: &str) -> String {
    format!("section#signals section.signal[data-rule=\"{rule}\"]")
}

pub fn the_panel_links_evidence_and_takes_an_acknowledgement(browser: &mut Browser) {
    let (site, meeting) = site_with_unminuted_core_group(browser);
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    browser.wait_for("section#signals");
    for rule in ["concerns_accumulating", "meetings_without_minutes"] {
        assert!(browser.exists(&signal(rule)), "the {rule} signal is shown");
    }
    let minutes = signal("meetings_without_minutes");
    let text = browser.text(&minutes);
    assert!(text.contains("Not yet: open"), "{text}");
    assert!(
        text.contains(CHILD_A) && text.contains(CHILD_B),
        "the family view names both children: {text}"
    );
    assert!(
        browser.text("section#signals").contains("not a score"),
        "the panel says what a signal is"
    );
    // The panel comes before the table.
    let above = browser.js(
        "var p = document.querySelector('section#signals'), t = document.querySelector('table#chronology'); \
         return !!(p.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING);",
        vec![],
    );
    assert_eq!(above, true, "the panel is above the table");
    // The evidence is ringed on the timeline and named in the mark's title.
    assert!(browser.count("svg#timeline a.timeline__mark--evidence") >= 4);
    // A `<title>` is not rendered: its text is read through the DOM.
    let title = browser.js(
        "return document.querySelector('svg#timeline a.timeline__mark--evidence title').textContent;",
        vec![],
    );
    let title = title.as_str().unwrap_or_default();
    assert!(title.contains("(evidence for: "), "{title}");
    browser.check_screen_at("manager-signals", "section#signals");

    // The meeting's evidence link jumps to its row, which says so.
    browser.tap(&format!("{minutes} .signal__evidence a"));
    browser.wait_until("the evidence row is the target", |b| {
        b.url().ends_with(&format!("#entry-{meeting}"))
    });
    let row = browser.text("tr:target");
    assert!(row.contains("Core group; minutes not taken"), "{row}");
    assert!(row.contains("Evidence for:"), "{row}");

    // A note too short is refused beside its field and in the summary.
    let note = "#note-meetings_without_minutes";
    browser.fill(note, "noted");
    browser.tap(&format!("{minutes} form button[type=submit]"));
    browser.wait_for(".error-summary");
    assert!(browser.exists(&format!(".error-summary a[href=\"{note}\"]")));
    assert!(!browser.text(&format!("{note}-error")).trim().is_empty());
    assert_eq!(browser.value(note), "noted", "the note typed is kept");
    browser.check_screen("manager-signals-ack-refused");

    // A good note is recorded, and the panel shows it acknowledged.
    browser.fill(note, NOTE);
    browser.tap(&format!("{minutes} form button[type=submit]"));
    browser.wait_until("back on the chronology at the signals", |b| {
        b.url().contains("/chronology?") && b.url().ends_with("#signals")
    });
    browser.wait_for(&format!("{minutes}.signal--acknowledged"));
    let text = browser.text(&minutes);
    assert!(
        text.contains(MANAGER) && text.contains(NOTE),
        "by whom and the note: {text}"
    );
    assert!(
        !browser.exists(&format!("{minutes} form")),
        "no form once acknowledged"
    );
    assert!(
        browser.exists(&format!("{} form", signal("concerns_accumulating"))),
        "the other signal is still open"
    );
    browser.check_screen_at("manager-signals-acknowledged", &minutes);
}

pub fn the_caseload_lists_children_with_open_signals(browser: &mut Browser) {
    let (site, _) = site_with_unminuted_core_group(browser);
    sign_in(browser, &site, MANAGER);
    browser.tap("nav a[href=\"/signals\"]");
    browser.wait_for("#reason");
    browser.check_screen("manager-signals-caseload-reason");
    browser.fill("#reason", REASON);
    browser.tap("label[for=\"purpose-supervision\"]");
    browser.tap_text("Show the signals");
    browser.wait_for("table#caseload");
    let table = browser.text("table#caseload");
    for child in [CHILD_A, CHILD_B] {
        assert!(table.contains(child), "{child} is listed: {table}");
    }
    assert!(
        table.contains("Concerns") || table.contains("concerns"),
        "the rules in words: {table}"
    );
    browser.check_screen("manager-signals-caseload");
    // Each child leads to the break-the-glass form, the child filled in.
    browser.tap(&format!("table#caseload a[href=\"/find?child={CHILD_A}\"]"));
    browser.wait_for("#reason");
    assert!(browser.page_text().contains(CHILD_A));
    assert!(!browser.exists("table#chronology"), "a reason first");

    // An auditor may not see the caseload.
    sign_in(browser, &site, AUDITOR);
    assert!(!browser.exists("nav a[href=\"/signals\"]"));
    browser.goto(&site.at("/signals"));
    assert!(browser.page_text().contains(REFUSED));
}
