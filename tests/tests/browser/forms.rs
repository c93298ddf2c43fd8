//! The record forms in the browser: a home visit that background sync
//! delivers to the real server's chronology, every field error at once,
//! an injury through the body map, a voice record from a draft that
//! survived `kill -9` of the agent, and the nursery register's taps.

use std::time::{Duration, Instant};

use hearth_e2e::browser::Browser;

use crate::fixture::{Tablet, open_and_unlock, open_fresh, unlock};

/// Child A and her brother B (valid NHS numbers).
const CHILD_A: &str = "nhs:9434765919";
const CHILD_B: &str = "nhs:4010232137";

/// Taps the label of the radio or checkbox with HTML id `id` (the input
/// itself may be drawn by its label).
fn choose(browser: &mut Browser, id: &str) {
    browser.tap(&format!("label[for=\"{id}\"]"));
}

/// Taps the form's Continue button and expects "check your answers".
fn continue_to_check(browser: &mut Browser) {
    browser.tap("main button[name=_action][value=check]");
    browser.wait_until("Continue leads to check your answers", |b| {
        b.url().ends_with("/check")
    });
}

/// On "check your answers": Confirm, and expect "Saved".
fn confirm(browser: &mut Browser) {
    browser.tap_text("Confirm and save");
    browser.wait_until("the Saved page after Confirm", |b| {
        b.page_text().contains("Saved")
    });
}

/// Waits until `check` holds, for at most `secs`.
fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "not within {secs} s: {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub fn home_visit_two_children_grade_4_reaches_the_server(browser: &mut Browser) {
    let tablet = Tablet::enrolled();
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/forms/home_visit"));
    browser.wait_for("#f-children-0");
    browser.check_screen("form-home-visit");

    browser.fill("#f-children-0", CHILD_A);
    browser.tap("main button[value=\"add:children\"]");
    browser.fill("#f-children-1", CHILD_B);
    assert_eq!(
        browser.value("#f-children-0"),
        CHILD_A,
        "Add another lost the first child"
    );
    let headline = "Browser test: home visit, kitchen bare";
    browser.fill("#f-headline", headline);
    choose(browser, "f-access-unannounced");
    choose(browser, "f-present-0-role-mother");
    choose(browser, "f-child_seen-awake");
    choose(browser, "f-observations-0-domain-nutrition");
    choose(browser, "f-observations-0-grade-4");
    continue_to_check(browser);
    let text = browser.page_text();
    for expected in [CHILD_A, CHILD_B, headline, "Nutrition"] {
        assert!(
            text.contains(expected),
            "check your answers lacks {expected:?}: {text}"
        );
    }
    browser.check_screen("check-answers");
    confirm(browser);
    browser.check_screen("saved");

    // Nobody presses sync: the app's background sync delivers it, and the
    // real server's chronology shows it for both children.
    let server = tablet.server();
    for child in [CHILD_A, CHILD_B] {
        eventually(60, "the home visit in the server's chronology", || {
            server
                .chronology_json(child, false)
                .to_string()
                .contains(headline)
        });
    }
    let chronology = server.chronology_json(CHILD_A, false).to_string();
    assert!(chronology.contains("home_visit"), "{chronology}");
    // And the tablet knows: its indicator says synced, nothing waits.
    eventually(30, "the home screen to show the sync", || {
        browser.goto(&tablet.at("/"));
        let text = browser.page_text();
        text.contains("Synced") && text.contains("0\nwaiting to send")
    });
    browser.check_screen("home-after-sync");
}

pub fn every_field_error_at_once(browser: &mut Browser) {
    let tablet = Tablet::offline();
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/forms/home_visit"));
    browser.wait_for("#f-children-0");
    continue_on_empty(browser);
    browser.check_screen("form-errors");
}

/// Submits the empty form: every required field's error must be in the
/// summary, linking to the field, and beside the field, with one text.
fn continue_on_empty(browser: &mut Browser) {
    browser.tap("main button[name=_action][value=check]");
    browser.wait_for(".error-summary");
    let pairs = browser.js(
        r##"return [...document.querySelectorAll('.error-summary a[href^="#"]')].map(function (a) {
             var target = document.getElementById(a.getAttribute('href').slice(1));
             var group = target && (target.closest('.form-group') || target.closest('fieldset'));
             var beside = group ? [...group.querySelectorAll('.error-message')].map(function (e) {
                 return e.textContent.replace('Error:', '').trim(); }) : [];
             return { href: a.getAttribute('href'), summary: a.textContent.trim(), found: !!target, beside: beside };
           });"##,
        vec![],
    );
    let pairs = pairs.as_array().expect("summary links");
    let hrefs: Vec<&str> = pairs.iter().map(|p| p["href"].as_str().unwrap()).collect();
    // The home visit's required fields (the core's own list).
    for required in ["children", "headline", "access", "child_seen"] {
        assert!(
            hrefs
                .iter()
                .any(|h| h.starts_with(&format!("#f-{required}"))),
            "no error for {required} in the summary: {hrefs:?}"
        );
    }
    for p in pairs {
        assert!(
            p["found"].as_bool().unwrap(),
            "a summary link to nothing: {p}"
        );
        let summary = p["summary"].as_str().unwrap();
        let beside: Vec<&str> = p["beside"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap())
            .collect();
        assert!(
            beside
                .iter()
                .any(|b| b.contains(summary) || summary.contains(b)),
            "the error {summary:?} is not beside its field ({}): {beside:?}",
            p["href"]
        );
    }
}

pub fn injury_through_the_body_map(browser: &mut Browser) {
    let tablet = Tablet::offline();
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/forms/daily_presentation"));
    browser.wait_for("#f-children-0");
    browser.fill("#f-children-0", CHILD_A);
    browser.fill("#f-headline", "Browser test: bruise on the left arm");
    choose(browser, "f-attendance-present");
    // The body map: tapping the arm fills the injury's region.
    browser.tap("a#arm");
    eventually(10, "the body map to fill body_region", || {
        browser
            .js(
                "var r = document.getElementById('f-injuries-0-body_region-arm'); return !!(r && r.checked);",
                vec![],
            )
            .as_bool()
            .unwrap()
    });
    browser.check_screen_at("form-body-map", "main svg");
    browser.fill("#f-injuries-0-description", "Round bruise, 2 cm, yellowing");
    browser.fill("#f-injuries-0-carer_explanation", "Fell off the sofa");
    browser.fill("#f-injuries-0-child_account", "Fell down");
    continue_to_check(browser);
    let text = browser.page_text();
    for expected in [
        "Round bruise, 2 cm, yellowing",
        "Fell off the sofa",
        "Fell down",
        "Arm",
    ] {
        assert!(
            text.contains(expected),
            "check your answers lacks {expected:?}: {text}"
        );
    }
    confirm(browser);
    let records = tablet.agent.list();
    let all = serde_json::to_string(&records).unwrap();
    assert_eq!(records.len(), 1, "{all}");
    assert!(all.contains("daily_presentation"), "{all}");
}

pub fn voice_record_from_a_draft_that_survived_kill_9(browser: &mut Browser) {
    let mut tablet = Tablet::offline();
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/forms/voice"));
    browser.wait_for("#f-words");
    browser.check_screen("form-voice");
    let words = "I don't like it when the shouting starts";
    browser.fill("#f-children-0", CHILD_A);
    browser.fill("#f-headline", "Browser test: told me about the shouting");
    choose(browser, "f-mode-words");
    browser.fill("#f-words", words);
    // Saved as a draft (sealed in the store), then nothing more.
    browser.tap("main button[name=_action][value=save]");
    browser.wait_for("#f-words");
    let draft_url = browser.url();
    assert!(
        draft_url.contains("/drafts/"),
        "Save draft went to {draft_url}"
    );
    assert_eq!(browser.value("#f-words"), words);

    // A dead battery: the agent is killed mid-form and comes back.
    tablet.kill_and_restart();
    open_fresh(browser, &tablet);
    unlock(browser);
    browser.goto(&tablet.at("/forms"));
    browser.wait_for("main");
    browser.check_screen("forms-and-drafts");
    let text = browser.page_text();
    assert!(
        text.contains("Voice of the child"),
        "no draft to resume: {text}"
    );
    browser.goto(draft_url.split('?').next().unwrap());
    browser.wait_for("#f-words");
    assert_eq!(
        browser.value("#f-words"),
        words,
        "the draft lost the child's words"
    );
    assert_eq!(browser.value("#f-children-0"), CHILD_A);

    browser.fill("#f-action", "Talked with mum; referred to the family hub");
    continue_to_check(browser);
    confirm(browser);
    let records = tablet.agent.list();
    let all = serde_json::to_string(&records).unwrap();
    assert_eq!(records.len(), 1, "{all}");
}

pub fn amendment_from_the_record_page(browser: &mut Browser) {
    let mut rid = String::new();
    let tablet = Tablet::offline_seeded(|agent| {
        rid = agent.record(&serde_json::json!({
            "kind": "concern",
            "children": [CHILD_A],
            "occurred_at": "2026-11-20T08:00:00Z",
            "headline": "Bruise on arm",
            "category": "physical",
            "seen_or_said": "A bruise",
            "action": "none",
            "action_detail": "watch",
        }));
    });
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/records"));
    browser.wait_for("main h1");
    assert!(
        browser.page_text().contains("Bruise on arm"),
        "{}",
        browser.page_text()
    );
    browser.check_screen("records");
    browser.goto(&tablet.at(&format!("/records/{rid}")));
    browser.wait_for("#amend");
    browser.check_screen("record");

    browser.tap("#amend");
    browser.wait_for("#f-reason");
    // It starts from the original.
    assert_eq!(browser.value("#f-headline"), "Bruise on arm");
    assert!(browser.value("#f-seen_or_said").contains("A bruise"));
    browser.check_screen("form-amend");
    browser.fill("#f-seen_or_said", "A bruise, 2 cm, yellow");
    browser.fill("#f-reason", "size and colour added");
    continue_to_check(browser);
    let text = browser.page_text();
    assert!(text.contains("size and colour added"), "{text}");
    confirm(browser);

    let records = tablet.agent.list();
    let all = serde_json::to_string(&records).unwrap();
    assert_eq!(records.len(), 2, "the original and its amendment: {all}");
}
