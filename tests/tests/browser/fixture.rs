//! What the scenarios share: a tablet (an initialised agent store, and
//! optionally a real server it is enrolled with), its app in the shared
//! browser, unlocked.

use hearth_e2e::agent::{Agent, PASSPHRASE};
use hearth_e2e::app::App;
use hearth_e2e::browser::Browser;
use hearth_e2e::server::Server;

/// The agency every test tablet belongs to.
pub const AGENCY: &str = "HV-NORTH";
/// The worker every test tablet is set up for.
pub const WORKER: &str = "hv-ada";

/// A set-up tablet, its running app, and the server when enrolled.
pub struct Tablet {
    /// The tablet's app (declared first: stopped before its store goes).
    pub app: App,
    /// The tablet's store and CLI.
    pub agent: Agent,
    /// The real server it syncs with, when enrolled.
    pub server: Option<Server>,
}

impl Tablet {
    /// A tablet set up with `init` (no server), its app started.
    pub fn offline() -> Self {
        Self::offline_seeded(|_| {})
    }

    /// Like [`Tablet::offline`], with `seed` run on the store (records
    /// captured by the CLI) before the app starts.
    pub fn offline_seeded(seed: impl FnOnce(&Agent)) -> Self {
        let agent = Agent::new(0);
        agent.init(AGENCY, WORKER);
        seed(&agent);
        let app = App::start(&agent);
        Self {
            app,
            agent,
            server: None,
        }
    }

    /// A new tablet with no store, and a fresh real `hearth-server` it is
    /// to be enrolled with (in the browser), its app started.
    pub fn blank_with_server() -> Self {
        let server = Server::start();
        let agent = Agent::new(0);
        let app = App::start(&agent);
        Self {
            app,
            agent,
            server: Some(server),
        }
    }

    /// A tablet set up and enrolled with a fresh real `hearth-server`.
    pub fn enrolled() -> Self {
        let server = Server::start();
        let agent = Agent::new(0);
        agent.init(AGENCY, WORKER);
        let token = server.enrol_token(AGENCY, WORKER);
        agent.enrol(&server.url(), &token, &server.fingerprint());
        let app = App::start(&agent);
        Self {
            app,
            agent,
            server: Some(server),
        }
    }

    /// The server (the tablet must be [`Tablet::enrolled`]).
    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("an enrolled tablet")
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.app.base())
    }

    /// Kills the app with SIGKILL and starts it again on the same port.
    pub fn kill_and_restart(&mut self) {
        self.app.kill9();
        self.app.restart(&self.agent);
    }
}

/// Opens the app at the address it printed, in a browser that holds no
/// cookie from an earlier app, and unlocks it with the passphrase.
pub fn open_and_unlock(browser: &mut Browser, tablet: &Tablet) {
    open_fresh(browser, tablet);
    unlock(browser);
}

/// Opens the app at the address it printed, with no cookie from an
/// earlier test's app (cookies ignore ports).
pub fn open_fresh(browser: &mut Browser, tablet: &Tablet) {
    browser.goto(tablet.app.open_url());
    browser.forget_cookies();
    browser.goto(tablet.app.open_url());
}

/// On the unlock screen: types the passphrase and unlocks.
pub fn unlock(browser: &mut Browser) {
    browser.wait_for("input[type=password]");
    assert!(
        browser.url().contains("/unlock"),
        "expected the unlock screen, at {}",
        browser.url()
    );
    browser.fill("input[type=password]", PASSPHRASE);
    browser.tap("main form button[type=submit]");
    // The unlock page itself has a `main`: wait for the navigation away.
    browser.wait_until(
        "the app past the unlock screen after the right passphrase",
        |b| !b.url().contains("/unlock"),
    );
    browser.wait_for("main");
}
