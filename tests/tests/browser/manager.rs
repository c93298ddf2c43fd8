//! What the manager-side scenarios (`manager_*.rs`, issue 15) share: the
//! seeded data (made once per run, served from a private copy by each
//! scenario), breaking the glass, and reading the chronology's table.
//!
//! The pages' URLs, field ids and element ids are the page
//! contract (`/find`, `#reason`, `table#chronology`, `svg#timeline`, ...).

use std::path::PathBuf;
use std::sync::OnceLock;

use hearth_e2e::browser::{Browser, Viewport};
use hearth_e2e::manager::{self, Records, Site};
use serde_json::json;

/// A reason long enough (at least 10 characters) for the break-the-glass
/// form.
pub const REASON: &str = "Case review before Thursday's panel";

/// The heading of the refusal page the role extractors give (403).
pub const REFUSED: &str = "You cannot see this page";

/// A fresh web app on a private copy of the seeded data (the runner has
/// put the browser on the desktop viewport). The data is seeded on first
/// use (three tablets, five records, three accounts), into the test
/// target's temporary directory.
pub fn site(browser: &mut Browser) -> Site {
    static SEEDED: OnceLock<Records> = OnceLock::new();
    assert_eq!(
        browser.viewport(),
        Viewport::Desktop,
        "the runner's viewport"
    );
    let records = SEEDED.get_or_init(|| manager::seed(&seeded_dir()));
    Site::start(&seeded_dir(), records)
}

/// Where the seeded data directory is kept for the run.
fn seeded_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("manager-seeded")
}

/// The break-the-glass form for `child`, through the find page.
pub fn find(browser: &mut Browser, site: &Site, child: &str) {
    browser.goto(&site.at("/find"));
    browser.fill("#child", child);
    // The form's own button ("Find"; the header's link says "Find a child").
    browser.tap("main form button[type=submit]");
    browser.wait_for("#reason");
}

/// Fills the break-the-glass form on the page: `reason`, the purpose
/// `purpose` (its word), the family box if `family`; then asks for the
/// chronology.
pub fn state_reason(browser: &mut Browser, reason: &str, purpose: &str, family: bool) {
    browser.fill("#reason", reason);
    browser.tap(&format!("label[for=\"purpose-{purpose}\"]"));
    if family {
        browser.tap("label[for=\"family\"]");
    }
    browser.tap_text("Show the chronology");
}

/// Finds `child`, breaks the glass with [`REASON`] for `purpose`, and
/// waits for the chronology (its URL carries the grant).
pub fn open_chronology(
    browser: &mut Browser,
    site: &Site,
    child: &str,
    purpose: &str,
    family: bool,
) {
    find(browser, site, child);
    state_reason(browser, REASON, purpose, family);
    browser.wait_until("the chronology, with its grant in the URL", |b| {
        let url = b.url();
        url.contains(&format!("/children/{child}/chronology")) && url.contains("grant=")
    });
    browser.wait_for("table#chronology");
}

/// The record ids the chronology's rows link to, in order.
pub fn row_records(browser: &Browser) -> Vec<String> {
    let links = browser.js(
        "return Array.from(document.querySelectorAll('table#chronology tbody tr')) \
           .map(function (tr) { var a = tr.querySelector('a.record-link'); \
             return a ? new URL(a.href).pathname : ''; });",
        vec![],
    );
    links
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| {
            let path = p.as_str().unwrap_or_default();
            path.strip_prefix("/records/")
                .unwrap_or_else(|| panic!("a row without a.record-link to /records/: {path:?}"))
                .to_string()
        })
        .collect()
}

/// The visible text of each row of the chronology's table.
pub fn row_texts(browser: &Browser) -> Vec<String> {
    table_rows(browser, "table#chronology tbody")
        .into_iter()
        .map(|cells| cells.join(" | "))
        .collect()
}

/// The cells' visible text of each row under `css`.
pub fn table_rows(browser: &Browser, css: &str) -> Vec<Vec<String>> {
    let rows = browser.js(
        "var at = document.querySelector(arguments[0]); if (!at) { return null; } \
         return Array.from(at.querySelectorAll('tr')).map(function (tr) { \
           return Array.from(tr.cells).map(function (c) { return c.innerText.trim(); }); });",
        vec![json!(css)],
    );
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("no {css} on {}", browser.url()));
    rows.iter()
        .map(|r| {
            r.as_array()
                .expect("cells")
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect()
}

/// The count a counts table (`#counts-agency`, `#counts-kind`) gives
/// `what`: the last cell of the row whose first cell names it.
pub fn count_of(browser: &Browser, table: &str, what: &str) -> Option<u32> {
    table_rows(browser, table)
        .into_iter()
        .find(|cells| cells.first().is_some_and(|c| c.contains(what)))
        .and_then(|cells| cells.last()?.trim().parse().ok())
}

/// The records in the order the chronology shows them (by when they
/// happened), all five being in view.
pub fn all_in_order(r: &Records) -> Vec<String> {
    vec![
        r.home_visit.clone(),
        r.daily.clone(),
        r.voice.clone(),
        r.meeting.clone(),
        r.concern.clone(),
    ]
}

/// The path part of the page's URL.
pub fn path(browser: &Browser) -> String {
    browser
        .js("return window.location.pathname;", vec![])
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The page's query parameter `name`, if present.
pub fn query(browser: &Browser, name: &str) -> Option<String> {
    browser
        .js(
            "return new URLSearchParams(window.location.search).get(arguments[0]);",
            vec![json!(name)],
        )
        .as_str()
        .map(str::to_string)
}

/// Sets the form control `css` matches (a `<select>` or an `<input>`) to
/// `value` by script, with the events a user's change fires: a date
/// field's typed form depends on the browser's locale, its value does not.
/// A `<select>` must offer `value` as an option.
pub fn choose(browser: &mut Browser, css: &str, value: &str) {
    browser.wait_for(css);
    let set = browser.js(
        "var el = document.querySelector(arguments[0]); var v = arguments[1]; \
         if (el.tagName === 'SELECT' && \
             !Array.from(el.options).some(function (o) { return o.value === v; })) { \
           return 'no option ' + v + ' in ' + Array.from(el.options).map(function (o) { return o.value; }); } \
         el.value = v; \
         el.dispatchEvent(new Event('input', { bubbles: true })); \
         el.dispatchEvent(new Event('change', { bubbles: true })); \
         return el.value === v ? 'ok' : 'not set';",
        vec![json!(css), json!(value)],
    );
    assert_eq!(
        set.as_str(),
        Some("ok"),
        "set {css} to {value:?} on {}",
        browser.url()
    );
    browser.count_tap();
}

/// Which of `records` a list of ids holds, by name (for messages).
pub fn names(r: &Records, ids: &[String]) -> Vec<&'static str> {
    ids.iter()
        .map(|id| match id {
            x if *x == r.home_visit => "home_visit",
            x if *x == r.daily => "daily",
            x if *x == r.voice => "voice",
            x if *x == r.meeting => "meeting",
            x if *x == r.concern => "concern",
            _ => "unknown",
        })
        .collect()
}
