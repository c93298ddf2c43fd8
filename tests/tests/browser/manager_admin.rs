//! Administration in the manager's web app (issue 15): an admin unlinks a
//! family (with a reason) and the family view no longer holds the other
//! child; the admin pages list devices, users and quarantine; a manager
//! is refused them.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{ADMIN, AUDITOR, CHILD_A, CHILD_B, CSC, HV, MANAGER, NURSERY, sign_in};

use crate::manager::{REFUSED, all_in_order, names, open_chronology, path, row_records, site};

pub fn an_admin_unlinks_a_family(browser: &mut Browser) {
    let site = site(browser);
    let r = site.records.clone();
    sign_in(browser, &site, ADMIN);
    open_chronology(browser, &site, CHILD_A, "case_review", true);
    assert_eq!(
        row_records(browser),
        all_in_order(&r),
        "linked: the brother's concern is in view"
    );

    browser.goto(&site.at("/admin/families"));
    browser.wait_for("#child_a");
    browser.check_screen("manager-admin-families");
    browser.fill("#child_a", CHILD_A);
    browser.fill("#child_b", CHILD_B);
    browser.fill(
        "#reason",
        "Not one household: the home visit named a visiting cousin",
    );
    browser.js("window.hearthBeforeSubmit = true;", vec![]);
    browser.tap_text("Unlink");
    browser.wait_until("the page after the unlink", |b| {
        b.js("return !window.hearthBeforeSubmit;", vec![]) == true
    });
    assert!(
        !browser.exists(".error-summary"),
        "the unlink was refused: {}",
        browser.page_text()
    );
    let done = browser.page_text();
    assert!(done.contains(CHILD_A) && done.contains(CHILD_B), "{done}");
    browser.check_screen("manager-admin-families-unlinked");

    open_chronology(browser, &site, CHILD_A, "case_review", true);
    let shown = row_records(browser);
    let expected: Vec<String> = all_in_order(&r)
        .into_iter()
        .filter(|id| *id != r.concern)
        .collect();
    assert_eq!(
        shown,
        expected,
        "after the unlink, the family view holds only records naming A ({:?})",
        names(&r, &shown)
    );
}

pub fn admin_pages_list_devices_users_and_quarantine(browser: &mut Browser) {
    let site = site(browser);
    sign_in(browser, &site, ADMIN);
    browser.goto(&site.at("/admin/devices"));
    browser.wait_for("main table");
    let devices = browser.text("main table");
    for agency in [HV, NURSERY, CSC] {
        assert!(
            devices.contains(agency),
            "{agency}'s tablet is listed:\n{devices}"
        );
    }
    browser.check_screen("manager-admin-devices");

    browser.goto(&site.at("/admin/users"));
    browser.wait_for("main table");
    let users = browser.text("main");
    for user in [MANAGER, ADMIN, AUDITOR] {
        assert!(users.contains(user), "{user} is listed:\n{users}");
    }
    browser.check_screen("manager-admin-users");

    browser.goto(&site.at("/admin/quarantine"));
    browser.wait_for("main");
    assert!(
        browser.exists("main form"),
        "quarantine asks for a reason first"
    );
    browser.check_screen("manager-admin-quarantine");
}

pub fn a_manager_cannot_reach_the_admin_pages(browser: &mut Browser) {
    let site = site(browser);
    sign_in(browser, &site, MANAGER);
    for page in [
        "/admin/devices",
        "/admin/users",
        "/admin/families",
        "/admin/quarantine",
        "/access-log",
    ] {
        browser.goto(&site.at(page));
        browser.wait_for("main");
        assert_eq!(path(browser), page);
        let text = browser.page_text();
        assert!(
            text.contains(REFUSED),
            "a manager is refused {page}:\n{text}"
        );
        assert!(!browser.exists("main table"), "nothing listed on {page}");
    }
    browser.check_screen("manager-refused");
}
