//! [`Site`]: the manager's web app on a real `hearth-server serve` (HTTPS,
//! its own self-signed certificate), holding one family's records from
//! three agencies, for the manager-side browser tests
//! (`tests/tests/browser/manager*.rs`).
//!
//! - [`seed`] makes the data once, as `scripts/demo.sh` does: three tablets
//!   (`hearth-agent`) set up and enrolled with enrolment tokens, each
//!   record captured through the agent's `record` command (the core's
//!   capture path) and delivered by `sync`; then the accounts: a manager,
//!   an admin and an auditor, each password set by `user passwd` on stdin.
//! - [`Site::start`] serves a private copy of that data directory, so each
//!   scenario starts from the same records and changes nothing another
//!   sees (an admin's unlink, the access log).
//! - [`sign_in`] signs a user in through the sign-in page.
//!
//! The family: child A and her brother B. Health visiting saw both at home
//! (care grades); the nursery logged A arriving hungry with a bruise under
//! the eye (both explanations) and, the next day, A's own words; social
//! care held a strategy discussion about both (an agency absent, decisions)
//! and raised a concern about B (action taken) whose headline carries two
//! HTML injections.

use std::path::Path;

use serde_json::{Value, json};

use crate::agent::Agent;
use crate::browser::Browser;
use crate::server::Server;

/// Child A.
pub const CHILD_A: &str = "nhs:9434765919";
/// Child A's brother, in her family by the home visit that saw both.
pub const CHILD_B: &str = "nhs:4010232137";

/// The health-visiting agency (one record: the home visit).
pub const HV: &str = "HV-NORTH";
/// The nursery (two records: the daily presentation and the voice).
pub const NURSERY: &str = "NURSERY-12";
/// Children's social care (two records: the meeting and the concern).
pub const CSC: &str = "CSC-EAST";
/// The agency invited to the meeting that did not come.
pub const ABSENT_AGENCY: &str = "GP-PARK";

/// The child's words, verbatim, in the voice record.
pub const CHILD_WORDS: &str = "There was no tea at home and my tummy hurt all night";
/// The injury's description.
pub const INJURY: &str = "Purple bruise under the left eye, 2 cm";
/// What the carer said happened.
pub const CARER_EXPLANATION: &str = "Fell against the coffee table";
/// What the child said happened.
pub const CHILD_ACCOUNT: &str = "The door hit me";
/// The meeting's decisions.
pub const DECISIONS: &str = "Section 47 enquiry to start; nursery to report daily";
/// The concern's action detail.
pub const ACTION_DETAIL: &str = "Children's social care front door";
/// The first injection: a script element.
pub const SCRIPT_INJECTION: &str = "<script>alert(1)</script>";
/// The second: breaking out of an attribute into an image with a handler.
pub const IMG_INJECTION: &str = r#""><img src=x onerror=alert(2)>"#;

/// The manager's user name (role `manager`).
pub const MANAGER: &str = "manager.ross";
/// The administrator's (role `admin`).
pub const ADMIN: &str = "admin.okafor";
/// The auditor's (role `auditor`).
pub const AUDITOR: &str = "auditor.lee";
/// Every test account's password (at least 12 characters).
pub const PASSWORD: &str = "a long test password, never a real one";

/// A day in seconds.
const DAY: i64 = 86_400;

/// The seeded records' ids (as `RecordId` displays them) and when each
/// happened.
#[derive(Debug, Clone)]
pub struct Records {
    /// Health visiting's home visit, A and B, 20 days ago: grades.
    pub home_visit: String,
    /// The nursery's daily presentation, A, 10 days ago: hungry, injured.
    pub daily: String,
    /// The nursery's voice of the child, A, 9 days ago: her words.
    pub voice: String,
    /// Social care's strategy discussion, A and B, 3 days ago.
    pub meeting: String,
    /// Social care's concern, B only, a day ago: the injected headline.
    pub concern: String,
    /// "Now" when the data was seeded (seconds since the epoch): each
    /// record happened a whole number of days before it.
    pub seeded_at: i64,
}

impl Records {
    /// The date (`YYYY-MM-DD`, UTC) `days` days before seeding: for the
    /// date filters. The records are days apart, so a filter date at least
    /// a day from each does not depend on the server's time zone.
    pub fn date_days_ago(&self, days: i64) -> String {
        let t = hearth_shared::Timestamp(self.seeded_at - days * DAY).to_string();
        t[..10].to_string()
    }
}

/// The headline of the concern: both injections, as one line.
pub fn injected_headline() -> String {
    format!("Referral made {SCRIPT_INJECTION} {IMG_INJECTION} third hunger report")
}

/// Real seconds since the epoch.
#[allow(clippy::disallowed_methods)] // the test decides what real time is
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// A tablet of `agency`'s `worker`, set up and enrolled with `server`.
fn tablet(server: &Server, agency: &str, worker: &str) -> Agent {
    let agent = Agent::new(0);
    agent.init(agency, worker);
    let token = server.enrol_token(agency, worker);
    agent.enrol(&server.url(), &token, &server.fingerprint());
    agent
}

/// The common fields of a record of `kind` about `children`, `days_ago`.
fn record(kind: &str, children: &[&str], at: i64, days_ago: i64, headline: &str) -> Value {
    json!({
        "kind": kind,
        "children": children,
        "occurred_at": hearth_shared::Timestamp(at - days_ago * DAY).to_string(),
        "headline": headline,
    })
}

/// `base` with `fields` added.
fn with(mut base: Value, fields: Value) -> Value {
    let (Value::Object(b), Value::Object(f)) = (&mut base, fields) else {
        unreachable!("both are objects")
    };
    b.extend(f);
    base
}

/// Seeds a server data directory at `data` (created; removed first if it
/// is there) with the family's records and the three accounts, and
/// returns the records' ids. The server it runs is stopped on return.
pub fn seed(data: &Path) -> Records {
    use std::os::unix::fs::PermissionsExt;
    if data.exists() {
        std::fs::remove_dir_all(data).expect("remove the old seeded data");
    }
    std::fs::create_dir_all(data).expect("create the seeded data directory");
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
        .expect("make the data directory private");
    let listen = "127.0.0.1:0".parse().expect("an address");
    let mut server = Server::start_in(data.to_path_buf(), listen);
    let hv = tablet(&server, HV, "hv.jones");
    let nursery = tablet(&server, NURSERY, "dsl.patel");
    let csc = tablet(&server, CSC, "sw.khan");
    let t = now();
    let home_visit = hv.record(&with(
        record(
            "home_visit",
            &[CHILD_A, CHILD_B],
            t,
            20,
            "Unannounced visit; both children seen; little food in the house",
        ),
        json!({
            "access": "unannounced",
            "present": [{"role": "mother"}],
            "child_seen": "awake",
            "observations": [
                {"domain": "nutrition", "grade": 4, "note": "Fridge empty; no meal planned"},
                {"domain": "housing", "grade": 3},
            ],
        }),
    ));
    let daily = nursery.record(&with(
        record(
            "daily_presentation",
            &[CHILD_A],
            t,
            10,
            "Arrived with grandmother",
        ),
        json!({
            "attendance": "present",
            "brought_by": "Grandmother",
            "hungry": true,
            "injuries": [{
                "body_region": "face",
                "description": INJURY,
                "carer_explanation": CARER_EXPLANATION,
                "child_account": CHILD_ACCOUNT,
            }],
        }),
    ));
    let voice = nursery.record(&with(
        record(
            "voice",
            &[CHILD_A],
            t,
            9,
            "Talked about tea at home during snack",
        ),
        json!({
            "mode": "words",
            "words": CHILD_WORDS,
            "meaning": "May not be getting an evening meal",
        }),
    ));
    let meeting = csc.record(&with(
        record(
            "meeting",
            &[CHILD_A, CHILD_B],
            t,
            3,
            "Strategy discussion; GP absent",
        ),
        json!({
            "meeting_type": "strategy_discussion",
            "attendees": [
                {"name": "Social worker", "agency": CSC},
                {"name": "Health visitor", "agency": HV},
                {"name": "Nursery DSL", "agency": NURSERY},
            ],
            "absent_agencies": [ABSENT_AGENCY],
            "decisions": DECISIONS,
            "minutes": "recorded",
            "minutes_by": "Team administrator",
        }),
    ));
    let concern = csc.record(&with(
        record("concern", &[CHILD_B], t, 1, &injected_headline()),
        json!({
            "category": "neglect",
            "seen_or_said": "Hunger reported by nursery three times this month",
            "action": "referred",
            "action_detail": ACTION_DETAIL,
        }),
    ));
    for (name, agent) in [("hv", &hv), ("nursery", &nursery), ("csc", &csc)] {
        assert_eq!(agent.sync(), 0, "the {name} tablet's sync failed");
    }
    server.kill();
    for (name, role) in [(MANAGER, "manager"), (ADMIN, "admin"), (AUDITOR, "auditor")] {
        server.add_user(name, role);
        server.admin_with_input(&["user", "passwd", name], &format!("{PASSWORD}\n"));
    }
    Records {
        home_visit,
        daily,
        voice,
        meeting,
        concern,
        seeded_at: t,
    }
}

/// A running web app on a private copy of seeded data.
pub struct Site {
    /// The server (HTTPS on loopback, a self-signed certificate).
    pub server: Server,
    /// The seeded records.
    pub records: Records,
}

impl Site {
    /// Serves a private copy of the data directory `seeded` (made by
    /// [`seed`], which returned `records`).
    pub fn start(seeded: &Path, records: &Records) -> Self {
        Self {
            server: Server::start_copy_of(seeded),
            records: records.clone(),
        }
    }

    /// `https://127.0.0.1:PORT` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }
}

/// Opens the sign-in page of `site` with no cookie from an earlier test's
/// server (cookies ignore ports), signs `user` in with [`PASSWORD`], and
/// waits to leave the sign-in page.
pub fn sign_in(browser: &mut Browser, site: &Site, user: &str) {
    open_sign_in(browser, site);
    browser.fill("#name", user);
    browser.fill("#password", PASSWORD);
    browser.tap_text("Sign in");
    browser.wait_until("signed in: off the sign-in page", |b| {
        !b.url().contains("/login")
    });
}

/// Opens `site`'s sign-in page with no cookie from an earlier server.
pub fn open_sign_in(browser: &mut Browser, site: &Site) {
    browser.goto(&site.at("/login"));
    browser.forget_cookies();
    browser.goto(&site.at("/login"));
    browser.wait_for("#name");
}
