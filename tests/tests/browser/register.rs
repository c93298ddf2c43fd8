//! The nursery register: 12 children, 10 present with nothing to note and
//! 2 exceptions, in at most 12 + 2 x 5 taps (the bound), each a
//! daily presentation captured through the record path.

use hearth_e2e::browser::Browser;
use hearth_shared::Timestamp;
use serde_json::json;

use crate::fixture::{Tablet, WORKER, open_and_unlock};

/// `n` valid NHS numbers (mod-11 check digit), as references.
fn children(n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut base = 401_023_213u32;
    while out.len() < n {
        base += 1;
        let digits: Vec<u32> = base
            .to_string()
            .chars()
            .map(|c| c.to_digit(10).unwrap())
            .collect();
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        out.push(format!("nhs:{base}{check}"));
    }
    out
}

/// The register row's button for `child` and `what`: `#child-` then the
/// reference with every character but letters, digits and `_` made `-`
/// (the forms' field-id rule), then `-` and `what`.
fn row(child: &str, what: &str) -> String {
    let id: String = child
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("#child-{id}-{what}")
}

#[allow(clippy::disallowed_methods)] // the test decides what real time is
fn yesterday() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Timestamp(now - 86_400).to_string()
}

/// An exception for `child`: its button, Continue, Confirm, and back to
/// the register: by the Saved page's link when it has one, else by hand
/// (counted as a tap all the same).
fn exception(browser: &mut Browser, tablet: &Tablet, child: &str, what: &str) {
    browser.tap(&row(child, what));
    browser.tap("main button[name=_action][value=check]");
    browser.tap_text("Confirm and save");
    browser.wait_until("the Saved page after Confirm", |b| {
        b.page_text().contains("Saved")
    });
    if browser.exists("main a[href^='/register']") {
        browser.tap("main a[href^='/register']");
    } else {
        browser.goto(&tablet.at(&format!("/register?author={WORKER}")));
        browser.count_tap();
    }
}

pub fn twelve_children_two_exceptions_within_the_tap_bound(browser: &mut Browser) {
    let kids = children(12);
    // Yesterday's register put these 12 on this tablet.
    let tablet = Tablet::offline_seeded(|agent| {
        let when = yesterday();
        for child in &kids {
            agent.record(&json!({
                "kind": "daily_presentation",
                "children": [child],
                "occurred_at": when,
                "headline": "Register",
                "attendance": "present",
            }));
        }
    });
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/register"));
    browser.wait_for("main h1");
    browser.check_screen("register-author");

    browser.reset_taps();
    browser.tap(&format!("#author-{WORKER}"));
    browser.wait_for(&row(&kids[0], "present"));
    browser.check_screen("register");
    for (i, child) in kids.iter().enumerate() {
        match i {
            3 => {
                exception(browser, &tablet, child, "hungry");
            }
            7 => {
                exception(browser, &tablet, child, "late");
            }
            _ => browser.tap(&row(child, "present")),
        }
        browser.wait_for("main h1");
    }
    let taps = browser.taps();
    println!("register: 12 children, 2 exceptions: {taps} taps (bound 22)");
    assert!(taps <= 12 + 2 * 5, "the register took {taps} taps");
    browser.check_screen("register-done");

    let records = tablet.agent.list();
    assert_eq!(
        records.len(),
        24,
        "12 from yesterday and 12 today: {records:?}"
    );
    let all = serde_json::to_string(&records).unwrap();
    for child in &kids {
        assert_eq!(
            all.matches(child.as_str()).count(),
            2,
            "{child} not recorded today: {all}"
        );
    }
}
