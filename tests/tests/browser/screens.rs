//! Unlock, lock and the home screen, in the browser.

use hearth_e2e::browser::Browser;

use crate::fixture::{Tablet, open_fresh, unlock};

pub fn unlock_wrong_then_right_passphrase(browser: &mut Browser) {
    let tablet = Tablet::offline();
    open_fresh(browser, &tablet);
    browser.wait_for("input[type=password]");
    assert!(browser.url().contains("/unlock"), "{}", browser.url());
    browser.check_screen("unlock");

    // A wrong passphrase: an error, still locked.
    browser.fill("input[type=password]", "not the passphrase");
    browser.tap("form button[type=submit]");
    browser.wait_for("input[type=password]");
    assert!(browser.url().contains("/unlock"), "{}", browser.url());
    let text = browser.page_text();
    assert!(
        text.to_lowercase().contains("passphrase"),
        "no error for a wrong passphrase: {text}"
    );
    browser.check_screen("unlock-error");

    unlock(browser);
    browser.check_screen("home");

    // Another browser session (a page without our cookie) is not let in.
    let other = tablet
        .app
        .raw(&format!("GET / HTTP/1.1\nHost: 127.0.0.1:{}", tablet.app.port()), "");
    assert!(
        (300..400).contains(&other.status),
        "an unauthenticated request saw the home screen: {other:?}"
    );
}
