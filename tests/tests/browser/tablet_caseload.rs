//! The caseload in the tablet app (issue 17): the home screen's "Due"
//! list (overdue first, in words), a child picked by name in a home visit
//! (the reference filled in, named on "check your answers", the task then
//! shown done), and the register listing the room's children by name.
//!
//! The caseload is planted in the tablet's store through the agent's own
//! store calls (sealed with the data key, as a verified one is kept): this
//! scenario is about the screens; fetching and verifying a caseload from a
//! real server is the end-to-end tests' (`tests/e2e/caseload.rs`).

use hearth_agent::store::RecordStore;
use hearth_agent::unlock::{KeySource, open_store_with};
use hearth_e2e::agent::{Agent, PASSPHRASE};
use hearth_e2e::browser::Browser;
use hearth_shared::Timestamp;
use hearth_shared::caseload::{Caseload, CaseloadChild, HouseholdMember, Task, TaskKind};

use crate::fixture::{Tablet, WORKER, open_and_unlock};

const DAY: i64 = 86_400;

#[allow(clippy::disallowed_methods)] // the test decides what real time is
fn today() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - now % DAY
}

fn child(name: &str, r: &str, group: Option<&str>, due_in_days: i64) -> CaseloadChild {
    CaseloadChild {
        child: r.into(),
        refs: vec![r.into()],
        name: name.into(),
        born: Some(Timestamp(today() - 400 * DAY)),
        expected: None,
        group: group.map(str::to_string),
        household: vec![HouseholdMember {
            name: "Dean Brown".into(),
            relationship: "father".into(),
        }],
        alerts: String::new(),
        tasks: vec![Task {
            kind: TaskKind::Visit,
            from: Timestamp(today() - 20 * DAY),
            due: Timestamp(today() + due_in_days * DAY),
            label: "Home visit (every 10 working days)".into(),
        }],
    }
}

/// Plants a caseload for this tablet: Amy due in 5 days, Ben overdue by 5,
/// both in the Rainbow room; Cat on the worker's own caseload.
fn plant(agent: &Agent) {
    let (store, _key) = open_store_with(agent.store(), KeySource::Passphrase(PASSPHRASE)).unwrap();
    let device = store.settings().unwrap().unwrap().device_id;
    let caseload = Caseload {
        device,
        issued_at: Timestamp(today()),
        children: vec![
            child("Amy Brown", "local:HV:amy", Some("Rainbow room"), 5),
            child("Ben Brown", "local:HV:ben", Some("Rainbow room"), -5),
            child("Cat <em>Cole</em>", "local:HV:cat", None, 30),
        ],
    };
    store
        .replace_caseload(&caseload, Timestamp(today()))
        .unwrap();
}

pub fn due_list_pick_by_name_and_the_rooms_register(browser: &mut Browser) {
    let tablet = Tablet::offline_seeded(plant);
    open_and_unlock(browser, &tablet);
    browser.goto(&tablet.at("/"));
    browser.wait_for("#due");
    browser.check_screen("tablet-home-due");
    let home = browser.page_text();
    let ben = home
        .find("Overdue since")
        .expect("an overdue task in words");
    let amy = home.find("Due ").expect("a due task");
    assert!(ben < amy, "overdue first: {home}");
    assert!(
        home.contains("Cat <em>Cole</em>"),
        "the name as text: {home}"
    );
    assert_eq!(browser.count("#due em"), 0, "no markup from a name");

    // A home visit for Ben, picked by name.
    browser.goto(&tablet.at("/forms/home_visit"));
    browser.wait_for("#f-children-0-pick");
    browser.axe("tablet-form-pick-child");
    browser.tap("#f-children-0-pick option[value=\"local:HV:ben\"]");
    browser.check_screen_at("tablet-form-pick-child", "#f-children");
    browser.fill("#f-headline", "Visit; Ben seen in the kitchen");
    browser.tap("label[for=\"f-access-announced\"]");
    browser.tap("label[for=\"f-child_seen-awake\"]");
    browser.tap("main button[name=_action][value=check]");
    browser.wait_until("check your answers", |b| b.url().ends_with("/check"));
    let check = browser.page_text();
    assert!(check.contains("Ben Brown (local:HV:ben)"), "{check}");
    browser.tap_text("Confirm and save");
    browser.wait_until("Saved", |b| b.page_text().contains("Saved"));
    let records = serde_json::to_string(&tablet.agent.list()).unwrap();
    assert!(records.contains("local:HV:ben"), "{records}");

    // Ben's visit is now done on this tablet, before any sync.
    browser.goto(&tablet.at("/"));
    browser.wait_for("#due");
    let home = browser.page_text();
    assert!(!home.contains("Overdue since"), "{home}");
    assert!(home.contains("not sent yet"), "{home}");

    // The register: the room's children by name, not Cat.
    browser.goto(&tablet.at(&format!("/register?author={WORKER}")));
    browser.wait_for("#child-local-HV-amy-present");
    browser.check_screen("tablet-register-caseload");
    let register = browser.page_text();
    assert!(
        register.contains("Amy Brown") && register.contains("Ben Brown"),
        "{register}"
    );
    assert!(
        !register.contains("Cole"),
        "Cat is not in the room: {register}"
    );
}
