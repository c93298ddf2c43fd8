//! Unlock, lock and the home screen, in the browser.

use hearth_e2e::browser::Browser;

use hearth_e2e::agent::PASSPHRASE;

use crate::fixture::{AGENCY, Tablet, WORKER, open_fresh, unlock};

pub fn unlock_wrong_then_right_passphrase(browser: &mut Browser) {
    let tablet = Tablet::offline();
    open_fresh(browser, &tablet);
    browser.wait_for("input[type=password]");
    assert!(browser.url().contains("/unlock"), "{}", browser.url());
    browser.check_screen("unlock");

    // A wrong passphrase: an error, still locked.
    browser.fill("input[type=password]", "not the passphrase");
    browser.tap("main form button[type=submit]");
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
    let other = tablet.app.raw(
        &format!("GET / HTTP/1.1\nHost: 127.0.0.1:{}", tablet.app.port()),
        "",
    );
    assert!(
        (300..400).contains(&other.status),
        "an unauthenticated request saw the home screen: {other:?}"
    );
}

pub fn first_run_set_up_and_enrol(browser: &mut Browser) {
    let tablet = Tablet::blank_with_server();
    open_fresh(browser, &tablet);
    browser.wait_for("#agency");
    assert!(browser.url().contains("/setup"), "{}", browser.url());
    browser.check_screen("setup");

    // Passphrases that differ: said beside the second one.
    browser.fill("#agency", AGENCY);
    browser.fill("#worker", WORKER);
    browser.fill("#new_passphrase", PASSPHRASE);
    browser.fill("#new_passphrase_again", "something else entirely");
    browser.tap("main form button[type=submit]");
    browser.wait_for(".error-summary, [role=alert]");
    let text = browser.page_text();
    assert!(text.contains("not the same"), "{text}");
    assert!(browser.url().contains("/setup"), "{}", browser.url());

    browser.fill("#new_passphrase", PASSPHRASE);
    browser.fill("#new_passphrase_again", PASSPHRASE);
    browser.tap("main form button[type=submit]");
    browser.wait_for("#server");
    assert!(browser.url().contains("/enrol"), "{}", browser.url());
    browser.check_screen("enrol");

    let server = tablet.server();
    let token = server.enrol_token(AGENCY, WORKER);
    browser.fill("#server", &server.url());
    browser.fill("#token", &token);
    browser.fill("#pin", &format!("sha256:{}", server.fingerprint()));
    browser.tap("main form button[type=submit]");
    browser.wait_until("enrolment leaves the enrol page", |b| {
        !b.url().contains("/enrol")
    });
    // Enrolled and still signed in: the home screen.
    assert!(
        !browser.url().contains("/unlock"),
        "locked after enrolling: {}",
        browser.url()
    );
    browser.goto(&tablet.at("/enrol"));
    let text = browser.page_text();
    assert!(text.contains("This tablet is connected"), "{text}");
    browser.check_screen("enrolled");

    // The store the browser made is the CLI's: it opens with the
    // passphrase and knows its server.
    let status = tablet.agent.run_ok(&["status", "--json"]);
    assert!(status.contains(&server.url()), "{status}");
}
