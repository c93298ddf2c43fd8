//! The people register in the manager's web app (issue 17): an
//! administrator adds a child with a name and date of birth, finds her by
//! name, opens her person page, and breaks the glass from her reference;
//! the chronology's heading and rows then show her name beside the NHS
//! number. A name with markup in it is shown as text.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{ADMIN, CHILD_A, IMG_INJECTION, sign_in};

use crate::manager::{REASON, path, site, state_reason};

/// The child's name as the administrator types it.
const NAME: &str = "Amy Brown";

pub fn find_a_child_by_name_and_read_her_chronology(browser: &mut Browser) {
    let site = site(browser);
    sign_in(browser, &site, ADMIN);

    // Add her to the register.
    browser.goto(&site.at("/admin/people"));
    browser.wait_for("#name");
    browser.fill("#name", NAME);
    browser.fill("#refs", CHILD_A);
    browser.fill("#dob", "2024-03-03");
    browser.check_screen("manager-people-add");
    browser.tap("main form button[type=submit]");
    browser.wait_for("#confirmation");
    assert!(
        !browser.exists(".error-summary"),
        "the child was refused: {}",
        browser.page_text()
    );
    // And an adult whose name holds markup, which must stay text.
    browser.tap("label[for=\"kind-adult\"]");
    browser.fill("#name", &format!("Dean {IMG_INJECTION}"));
    browser.tap("main form button[type=submit]");
    browser.wait_for("#confirmation");

    // Find her by name.
    browser.goto(&site.at("/find"));
    browser.fill("#name", "brown");
    browser.tap_text("Find by name");
    browser.wait_for("table#name-results");
    let found = browser.text("table#name-results");
    assert!(found.contains(NAME), "{found}");
    assert!(found.contains("3 March 2024"), "{found}");
    assert!(found.contains(CHILD_A), "{found}");
    assert!(!found.contains("Dean"), "an adult is not a child: {found}");
    browser.check_screen("manager-people-find-by-name");

    // Her person page.
    browser.tap_text(NAME);
    browser.wait_for("#person-name");
    assert!(path(browser).starts_with("/people/P"), "{}", browser.url());
    let heading = browser.text("#person-name");
    assert_eq!(heading.trim(), format!("{NAME}, born 3 March 2024"));
    assert!(browser.text("#person-refs").contains(CHILD_A));
    assert!(
        browser.exists("#other"),
        "an administrator may link a reference"
    );
    // She lives at 12 Elm Road from birth: the household form.
    browser.fill("#household", "12 Elm Road (Brown)");
    browser.fill("#date", "2024-03-03");
    browser.tap_text("Add to the household");
    browser.wait_until("the household row", |b| {
        b.exists("#households-now") && b.text("#households-now").contains("12 Elm Road (Brown)")
    });
    assert!(
        browser.text("#households-now").contains("3 March 2024"),
        "{}",
        browser.text("#households-now")
    );
    browser.check_screen("manager-people-person");

    // Her reference leads behind the glass; the chronology names her.
    browser.tap(&format!("#person-refs a[href=\"/find?child={CHILD_A}\"]"));
    browser.wait_for("#reason");
    state_reason(browser, REASON, "case_review", false);
    browser.wait_for("table#chronology");
    let h1 = browser.text("h1");
    assert_eq!(
        h1.trim(),
        format!("Chronology for {NAME}, born 3 March 2024 ({CHILD_A})")
    );
    let rows = browser.text("table#chronology tbody");
    assert!(rows.contains(&format!("{NAME} ({CHILD_A})")), "{rows}");
    browser.check_screen("manager-people-chronology-named");

    // The markup in the adult's name made no element and ran nothing.
    browser.goto(&site.at("/find?name=Dean"));
    browser.wait_for("main");
    assert!(!browser.exists("main img"), "{}", browser.page_text());
}
