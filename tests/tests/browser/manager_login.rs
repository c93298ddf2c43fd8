//! Signing in to the manager's web app (issue 15): a shared link opened
//! without a session goes to the sign-in page; a wrong password is refused
//! without saying which part was wrong; the right one goes back to the
//! link; a manager starts at "Find a child"; signing out ends the session.

use hearth_e2e::browser::Browser;
use hearth_e2e::manager::{CHILD_A, MANAGER, PASSWORD};

use crate::manager::{path, query, site};

pub fn sign_in_wrong_then_right_then_out(browser: &mut Browser) {
    let site = site(browser);
    // A link someone shared, opened without a session: the browser is
    // sent to sign in, and comes back to the link afterwards.
    let shared = format!("/find?child={CHILD_A}");
    browser.goto(&site.at("/login"));
    browser.forget_cookies();
    browser.goto(&site.at(&shared));
    browser.wait_until("sent to the sign-in page", |b| path(b) == "/login");
    browser.wait_for("#name");
    assert_eq!(browser.value("#password").len(), 0);
    let kind = browser.js("return document.querySelector('#password').type;", vec![]);
    assert_eq!(
        kind.as_str(),
        Some("password"),
        "the password field hides what is typed"
    );
    browser.check_screen("manager-login");

    browser.fill("#name", MANAGER);
    browser.fill("#password", "not the password at all");
    browser.tap_text("Sign in");
    browser.wait_for(".error-summary");
    let summary = browser.text(".error-summary");
    assert!(
        summary.contains("The user name or password is wrong"),
        "{summary}"
    );
    assert_eq!(path(browser), "/login", "a wrong password signs nobody in");
    browser.check_screen("manager-login-refused");

    browser.fill("#name", MANAGER);
    browser.fill("#password", PASSWORD);
    browser.tap_text("Sign in");
    browser.wait_until("back at the shared link", |b| {
        path(b) == "/find" && query(b, "child").as_deref() == Some(CHILD_A)
    });
    // The link asked for a child: the break-the-glass form, nothing more.
    browser.wait_for("#reason");
    assert!(!browser.exists("table#chronology"));
    let page = browser.page_text();
    assert!(
        page.contains(MANAGER),
        "the header says who is signed in:\n{page}"
    );
    browser.goto(&site.at("/"));
    browser.wait_until("a manager starts at Find a child", |b| path(b) == "/find");
    browser.wait_for("#child");
    browser.check_screen("manager-find");

    browser.tap_text("Sign out");
    browser.wait_until("signed out, at the sign-in page", |b| path(b) == "/login");
    browser.goto(&site.at("/find"));
    browser.wait_until("signed out: a page sends the browser to sign in", |b| {
        path(b) == "/login"
    });
}
