//! The record behind a chronology line, and the timeline that links to it
//! (issue 15): a child's words verbatim, an injury with its body region and
//! both explanations, care grades, a meeting's absent agency and decisions;
//! the timeline's marks linking to their records; and HTML injected in a
//! headline shown as text, never run.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{
    ABSENT_AGENCY, ACTION_DETAIL, CARER_EXPLANATION, CHILD_A, CHILD_ACCOUNT, CHILD_WORDS, CSC,
    DECISIONS, HV, IMG_INJECTION, INJURY, MANAGER, NURSERY, SCRIPT_INJECTION, sign_in,
};
use serde_json::json;

use crate::manager::{open_chronology, path, query, row_records, row_texts, site};

/// Taps the link to record `id` matched by `css_class` (`a.record-link`
/// in the table, `a.timeline__mark` in the timeline) and waits for its
/// page.
fn open_record(browser: &mut Browser, selector: &str, id: &str) {
    browser.tap(&format!("{selector}[href^=\"/records/{id}?\"]"));
    browser.wait_until("the record's page", |b| path(b) == format!("/records/{id}"));
    browser.wait_for("#provenance");
}

pub fn record_detail_shows_the_childs_words_and_an_injury(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    let chronology = browser.url();
    let grant = query(browser, "grant").expect("a grant");

    // The nursery's line reads "Arrived with grandmother"; behind it, a
    // hungry child with a bruise under the eye.
    open_record(browser, "table#chronology a.record-link", &r.daily);
    assert_eq!(query(browser, "grant").as_deref(), Some(grant.as_str()));
    let injuries = browser.text("#injuries");
    for said in [INJURY, CARER_EXPLANATION, CHILD_ACCOUNT] {
        assert!(
            injuries.contains(said),
            "#injuries shows {said:?}:\n{injuries}"
        );
    }
    assert!(
        injuries.to_lowercase().contains("face"),
        "the body region:\n{injuries}"
    );
    let page = browser.page_text();
    assert!(page.contains(NURSERY), "{page}");
    assert!(
        page.to_lowercase().contains("hungry"),
        "hunger is shown:\n{page}"
    );
    let provenance = browser.text("#provenance");
    assert!(
        provenance.contains("Signature verified on receipt"),
        "{provenance}"
    );
    browser.check_screen("manager-record-injury");
    browser.check_screen_at("manager-record-injury-detail", "#injuries");

    browser.goto(&chronology);
    open_record(browser, "table#chronology a.record-link", &r.voice);
    let words = browser.text("#child-words");
    assert!(words.contains(CHILD_WORDS), "verbatim:\n{words}");
    browser.check_screen("manager-record-voice");

    browser.goto(&chronology);
    open_record(browser, "table#chronology a.record-link", &r.home_visit);
    let grades = browser.text("#care-grades");
    assert!(
        grades.to_lowercase().contains("nutrition") && grades.contains('4'),
        "the grades:\n{grades}"
    );
    assert!(browser.page_text().contains(HV));
}

pub fn a_timeline_mark_opens_its_record(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "strategy_discussion", true);
    browser.wait_for("svg#timeline");
    let svg = browser.js(
        "var s = document.querySelector('svg#timeline'); \
         var by = s.getAttribute('aria-describedby'); \
         var label = s.getAttribute('aria-labelledby'); \
         return { role: s.getAttribute('role'), \
                  labelled: !!(label && document.getElementById(label.split(' ')[0])), \
                  described: !!(by && document.getElementById(by.split(' ')[0])), \
                  text: s.textContent, \
                  marks: Array.from(s.querySelectorAll('a.timeline__mark')).map(function (a) { \
                    return { href: a.getAttribute('href'), title: !!a.querySelector('title') }; }) };",
        vec![],
    );
    // `group`, not the contract's first `img`: links inside an image are a
    // serious axe violation (nested-interactive); either way it is named
    // and described.
    assert!(
        matches!(svg["role"].as_str(), Some("group" | "img")),
        "the timeline is one named graphic: role {}",
        svg["role"]
    );
    assert_eq!(svg["labelled"], true, "aria-labelledby names an element");
    assert_eq!(
        svg["described"], true,
        "aria-describedby names the text equivalent"
    );
    let text = svg["text"].as_str().unwrap_or_default();
    for agency in [HV, NURSERY, CSC] {
        assert!(text.contains(agency), "a lane for {agency}: {text}");
    }
    let marks = svg["marks"].as_array().expect("marks");
    let mut linked: Vec<String> = marks
        .iter()
        .map(|m| {
            assert_eq!(m["title"], true, "each mark has a <title>: {m}");
            let href = m["href"].as_str().unwrap_or_default();
            let (p, q) = href.split_once('?').unwrap_or((href, ""));
            assert!(
                q.contains("grant="),
                "a mark's link carries the grant: {href}"
            );
            p.strip_prefix("/records/").unwrap_or(p).to_string()
        })
        .collect();
    linked.sort();
    let mut expected = row_records(browser);
    expected.sort();
    assert_eq!(linked, expected, "one mark per record in view");
    browser.check_screen_at("manager-timeline", "svg#timeline");

    open_record(browser, "svg#timeline a.timeline__mark", &r.meeting);
    let meeting = browser.text("#meeting");
    assert!(
        meeting.contains(ABSENT_AGENCY),
        "the absent agency:\n{meeting}"
    );
    assert!(meeting.contains(DECISIONS), "the decisions:\n{meeting}");
    browser.check_screen("manager-record-meeting");
}

/// The page runs none of the injected HTML: no dialog open, no image or
/// handler made from it, no script holding it.
fn assert_inert(browser: &Browser, page: &str) {
    assert_eq!(browser.open_dialog(), None, "a dialog opened on {page}");
    let made = browser.js(
        "return { imgs: document.querySelectorAll('img[src=\"x\"], [onerror]').length, \
                  scripts: Array.from(document.scripts).filter(function (s) { \
                    return s.textContent.indexOf('alert(') >= 0; }).length };",
        vec![],
    );
    assert_eq!(
        made["imgs"],
        json!(0),
        "an element was made from the headline on {page}"
    );
    assert_eq!(
        made["scripts"],
        json!(0),
        "a script was made from the headline on {page}"
    );
}

pub fn html_in_a_headline_is_shown_as_text(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, MANAGER);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    assert_inert(browser, "the chronology");
    let shown = row_records(browser);
    let at = shown
        .iter()
        .position(|s| *s == r.concern)
        .expect("the concern is shown");
    let row = &row_texts(browser)[at];
    assert!(
        row.contains(SCRIPT_INJECTION) && row.contains(IMG_INJECTION),
        "the headline is shown as the text it is: {row}"
    );
    open_record(browser, "table#chronology a.record-link", &r.concern);
    assert_inert(browser, "the record");
    let page = browser.page_text();
    assert!(
        page.contains(SCRIPT_INJECTION) && page.contains(IMG_INJECTION),
        "{page}"
    );
    assert!(page.contains(ACTION_DETAIL), "the action taken:\n{page}");
    browser.check_screen("manager-record-concern");
}
