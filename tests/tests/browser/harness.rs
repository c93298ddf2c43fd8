//! The harness itself can fail: axe-core is really run and its serious
//! violations fail a check, and taps are really counted.

use std::panic::{AssertUnwindSafe, catch_unwind};

use hearth_e2e::browser::Browser;

/// A page as a `data:` URL.
fn page(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

const CLEAN: &str = r#"<!doctype html><html lang="en"><head><title>Clean</title></head>
<body><main><h1>Clean page</h1><button type="button" id="b">Tap me</button></main></body></html>"#;

/// An image without alternative text and a field without a label: axe
/// calls both critical.
const BAD: &str = r#"<!doctype html><html lang="en"><head><title>Bad</title></head>
<body><main><h1>Bad page</h1><img src="x.png"><input type="text"></main></body></html>"#;

pub fn axe_fails_on_serious_violations(browser: &mut Browser) {
    browser.goto(&page(CLEAN));
    browser.axe("harness-clean");
    browser.goto(&page(BAD));
    eprintln!("(harness: the axe failure printed next is expected)");
    let failed = catch_unwind(AssertUnwindSafe(|| browser.axe("harness-bad")));
    let message = failed.expect_err("axe passed a page with an unlabelled image and field");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("image-alt"), "{message}");
    assert!(message.contains("label"), "{message}");
}

pub fn taps_are_counted(browser: &mut Browser) {
    browser.goto(&page(CLEAN));
    assert_eq!(browser.taps(), 0);
    browser.tap("#b");
    browser.tap_text("Tap me");
    assert_eq!(browser.taps(), 2);
}
