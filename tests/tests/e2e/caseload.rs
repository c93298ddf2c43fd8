//! Issue 17, caseloads and tasks (ISSUE17-CONTRACT.md, "Caseload for a
//! device", "Tasks", "Agent (device) behaviour"):
//!
//! - **the caseload reaches the device**: a health visitor's tablet and a
//!   nursery's shared tablet in a room group each get their own children
//!   only, with names, households and groups; the caseload is signed by
//!   the receipt key (checked here on the bytes of `POST /v1/caseload`),
//!   a tampered one (`HEARTH_TEST_TAMPER_CASELOAD=1`) is refused with a
//!   warning and the old one kept; an unassigned child, or a room the
//!   tablet leaves, is gone from the device at the next sync; a sentinel
//!   name is in no file of the agent's store;
//! - **tasks**: a visit plan every 10 working days, the last visit 30 days
//!   ago, is overdue on the device (and raises `child_not_seen`); a visit
//!   2 days ago leaves the next one due; a home visit captured on the
//!   device shows the task done before sync, and after the sync the
//!   server's caseload has the next visit due instead.

use hearth_e2e::agent::Agent;
use hearth_e2e::caseload::ProtocolDevice;
use hearth_e2e::people::{ADMIN, DAY, add_working_days, admin, date, midnight, register_log};
use hearth_e2e::server::Server;
use hearth_shared::DeviceId;
use hearth_shared::caseload::{CASELOAD_CONTENT_TYPE, Caseload, CaseloadRequest};
use serde_json::{Value, json};

use crate::fixture::{enrolled, home_visit, now};

const AMY: &str = "nhs:5251994508";
const ZEPH: &str = "nhs:7962342137";
/// A name that must never be in the agent's files in the clear.
const SENTINEL: &str = "Zephyrine Quillfeather";
const BEN: &str = "local:NURSERY-12:ben-k";
const EVE: &str = "nhs:4467181830";
const CARA: &str = "nhs:3849240797";
const FINN: &str = "nhs:6738687176";
const ROOM: &str = "Rainbow room";
const TAMPER: &str = "HEARTH_TEST_TAMPER_CASELOAD";

/// `person add` of a child.
fn child(server: &Server, r: &str, name: &str, dob: &str) {
    admin(
        server,
        &["person", "add", "--ref", r, "--name", name, "--dob", dob],
    );
}

/// `caseload assign|unassign --child R --worker W` (or `--group G`).
fn assign(server: &Server, verb: &str, r: &str, to: &str, who: &str) {
    admin(server, &["caseload", verb, "--child", r, to, who]);
}

/// `hearth-agent caseload --json`.
fn caseload(agent: &Agent) -> Value {
    let out = agent.run_ok(&["caseload", "--json"]);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("`hearth-agent caseload --json` prints JSON ({e}): {out}"))
}

/// The children of a caseload JSON (`{"children": [...], ...}`).
fn children(caseload: &Value) -> &Vec<Value> {
    caseload["children"]
        .as_array()
        .unwrap_or_else(|| panic!("the caseload JSON has a children array: {caseload}"))
}

/// The children's names, in the caseload's order (by name).
fn names(caseload: &Value) -> Vec<&str> {
    children(caseload)
        .iter()
        .map(|c| c["name"].as_str().expect("a child has a name"))
        .collect()
}

/// The child whose `child` (preferred reference) is `r`.
fn entry<'a>(caseload: &'a Value, r: &str) -> &'a Value {
    children(caseload)
        .iter()
        .find(|c| c["child"] == r)
        .unwrap_or_else(|| panic!("{r} is on the caseload: {caseload}"))
}

/// The files of the agent's store that hold `text` in the clear.
fn clear_text_files(agent: &Agent, text: &str) -> Vec<std::path::PathBuf> {
    hearth_e2e::people::files_containing(agent.store(), text.as_bytes())
}

/// A nursery's shared tablet: enrolled for the device name `worker`, with
/// `staff` who may author on it.
fn shared_tablet(server: &Server, agency: &str, worker: &str, staff: &str) -> Agent {
    let agent = Agent::new(0);
    agent.init(agency, worker);
    let out = server.admin_ok(&[
        "enrol-token",
        "--agency",
        agency,
        "--worker",
        worker,
        "--staff",
        staff,
    ]);
    let token = out.split_whitespace().last().expect("a token").to_string();
    agent.enrol(&server.url(), &token, &server.fingerprint());
    agent
}

#[test]
fn each_device_gets_its_own_signed_caseload_and_loses_a_child_when_unassigned() {
    let mut server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let room = shared_tablet(&server, "NURSERY-12", "rainbow-tablet", "dsl.patel");
    let room_id = room.device_id();

    // The register: Amy and her father at home; four other children.
    child(&server, AMY, "Amy Brown", "2021-03-15");
    let out = admin(
        &server,
        &["person", "add", "--adult", "--name", "Dean Brown"],
    );
    assert!(out.contains("Dean Brown"), "{out}");
    let dean = out.split_whitespace().nth(1).expect("an id").to_string();
    admin(
        &server,
        &[
            "person",
            "relate",
            "--adult",
            &dean,
            "--child",
            AMY,
            "--relationship",
            "father",
        ],
    );
    for who in [AMY, dean.as_str()] {
        admin(
            &server,
            &[
                "household",
                "add-member",
                "--household",
                "Brown household",
                "--person",
                who,
                "--from",
                "2021-03-15",
            ],
        );
    }
    child(&server, ZEPH, SENTINEL, "2021-06-01");
    child(&server, BEN, "Ben Kaur", "2022-02-02");
    child(&server, EVE, "Eve Stone", "2022-05-05");
    child(&server, CARA, "Cara Lin", "2022-07-07");
    child(&server, FINN, "Finn Okoro", "2021-09-09");

    // Amy and Zephyrine are the health visitor's; Ben is the room's; Eve
    // is the nursery's staff member's; Cara is another room's and another
    // worker's.
    assign(&server, "assign", AMY, "--worker", "hv.jones");
    assign(&server, "assign", ZEPH, "--worker", "hv.jones");
    assign(&server, "assign", BEN, "--group", ROOM);
    assign(&server, "assign", EVE, "--worker", "dsl.patel");
    assign(&server, "assign", CARA, "--group", "Sunflower room");
    assign(&server, "assign", CARA, "--worker", "hv.smith");
    admin(
        &server,
        &["caseload", "group", "--device", &room_id, "--group", ROOM],
    );

    assert_eq!(hv.sync(), 0);
    assert_eq!(room.sync(), 0);
    let held = caseload(&hv);
    assert_eq!(names(&held), ["Amy Brown", SENTINEL], "{held}");
    let amy = entry(&held, AMY);
    assert!(
        amy["refs"]
            .as_array()
            .is_some_and(|r| r.contains(&json!(AMY))),
        "{amy}"
    );
    assert!(
        amy["born"]
            .as_str()
            .is_some_and(|b| b.starts_with("2021-03-15")),
        "{amy}"
    );
    assert!(amy["group"].is_null(), "the worker's own: {amy}");
    let household = amy["household"].as_array().expect("a household array");
    assert!(
        household.contains(&json!({"name": "Dean Brown", "relationship": "father"})),
        "{amy}"
    );
    let nursery = caseload(&room);
    assert_eq!(names(&nursery), ["Ben Kaur", "Eve Stone"], "{nursery}");
    assert_eq!(entry(&nursery, BEN)["group"], ROOM, "{nursery}");
    assert!(entry(&nursery, EVE)["group"].is_null(), "{nursery}");
    let text = hv.run_ok(&["caseload"]);
    assert!(
        text.contains("Amy Brown") && text.contains(SENTINEL) && !text.contains("Cara Lin"),
        "{text}"
    );

    // At rest the names are sealed: in no file of either store.
    assert_eq!(
        clear_text_files(&hv, SENTINEL),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        clear_text_files(&hv, "Amy Brown"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        clear_text_files(&room, "Ben Kaur"),
        Vec::<std::path::PathBuf>::new()
    );

    // What the server would send a device, read and logged.
    let shown = admin(&server, &["caseload", "show", "--device", &room_id]);
    assert!(
        shown.contains("Ben Kaur") && shown.contains("Eve Stone") && !shown.contains("Amy"),
        "{shown}"
    );
    // Logged as a read (the action word is `read` or `caseload`) by the
    // administrator, naming the children it disclosed.
    let log = register_log(&server);
    assert!(
        log.iter()
            .any(|e| (e["action"] == "read" || e["action"] == "caseload")
                && e["who"].as_str().is_some_and(|w| w.contains(ADMIN))
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains(BEN) && d.contains(EVE))),
        "`caseload show --device` is a logged read naming Ben and Eve: {log:?}"
    );

    // Signed with the receipt key the device pinned, for that device; a
    // request out of the clock window, or not the device's, is refused.
    let device = ProtocolDevice::enrol(&server, 41, "HV-NORTH", "hv.jones");
    let reply = device.fetch(&server, now());
    assert_eq!(reply.status, 200, "{}", reply.json());
    assert!(
        reply.content_type.starts_with(CASELOAD_CONTENT_TYPE),
        "{}",
        reply.content_type
    );
    let signed = Caseload::verify(&reply.body, &device.server_key, device.id(), None)
        .expect("the caseload verifies with the server's receipt key");
    let signed_names: Vec<&str> = signed.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(signed_names, ["Amy Brown", SENTINEL]);
    let mut forged = reply.body.clone();
    let mid = forged.len() / 2;
    forged[mid] ^= 1;
    assert!(Caseload::verify(&forged, &device.server_key, device.id(), None).is_err());
    assert!(
        Caseload::verify(&reply.body, &device.server_key, DeviceId([0; 8]), None).is_err(),
        "it names its device"
    );
    let stale = device.fetch(&server, now() - 3_600);
    assert_eq!(stale.status, 400, "{}", stale.json());
    assert_eq!(stale.json()["error"], "bad_request");
    let forged_request = serde_json::to_value(forged_request(&device, now())).unwrap();
    let stranger = ProtocolDevice::post(&server, &forged_request);
    assert_eq!(stranger.status, 401, "{}", stranger.json());
    assert_eq!(stranger.json()["error"], "unauthenticated");

    // A tampered caseload is refused, with a warning, and the old one
    // kept; the sync itself succeeds.
    assign(&server, "assign", FINN, "--worker", "hv.jones");
    server.kill();
    server.set_env(TAMPER, Some("1"));
    server.restart();
    let out = hv.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("warning: caseload refused: ")
                && l.contains("; keeping the caseload from ")),
        "stderr has `warning: caseload refused: …; keeping the caseload from <date>`: {stderr}"
    );
    assert_eq!(caseload(&hv), held, "the held caseload is unchanged");
    server.kill();
    server.set_env(TAMPER, None);
    server.restart();
    assert_eq!(hv.sync(), 0);
    assert_eq!(names(&caseload(&hv)), ["Amy Brown", "Finn Okoro", SENTINEL]);

    // Unassigned: gone from the device at the next sync; the room's
    // tablet leaves the room and loses its children, keeping the staff
    // member's.
    assign(&server, "unassign", AMY, "--worker", "hv.jones");
    admin(
        &server,
        &[
            "caseload", "group", "--device", &room_id, "--group", ROOM, "--leave",
        ],
    );
    assert_eq!(hv.sync(), 0);
    assert_eq!(room.sync(), 0);
    assert_eq!(names(&caseload(&hv)), ["Finn Okoro", SENTINEL]);
    assert_eq!(names(&caseload(&room)), ["Eve Stone"]);
    assert_eq!(
        clear_text_files(&hv, SENTINEL),
        Vec::<std::path::PathBuf>::new()
    );
}

/// A request naming `device` but signed by a key that is not its own.
fn forged_request(device: &ProtocolDevice, at: i64) -> CaseloadRequest {
    let other = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    let mut req = CaseloadRequest::new(&other, hearth_shared::Timestamp(at));
    req.device = device.id();
    req
}

/// Waits, if need be, until the next UTC day has begun, so that the
/// scenario (well under three minutes) does not cross midnight: its
/// dates ("30 days ago", due days) are counted from today.
fn clear_of_midnight() {
    let left = midnight(now()) + DAY - now();
    if left < 180 {
        std::thread::sleep(std::time::Duration::from_secs(left as u64 + 5));
    }
}

/// The one task of `child` on `caseload`, which must be a visit.
fn visit_task<'a>(caseload: &'a Value, r: &str) -> &'a Value {
    let c = entry(caseload, r);
    let tasks = c["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("{r} has a tasks array: {c}"));
    assert_eq!(
        tasks.len(),
        1,
        "{r}: one task (a visit; no review at 5): {c}"
    );
    assert_eq!(tasks[0]["kind"], "visit", "{c}");
    &tasks[0]
}

/// Asserts a visit task's state, and that it is due 10 working days
/// (Monday to Friday) after the day of the last visit, `visited`. (Its
/// `from` is not checked: the contract says the last visit's day, and a
/// server may start it the day after, so that visit does not clear it.)
fn assert_task(task: &Value, state: &str, visited: i64) {
    assert_eq!(task["state"], state, "{task}");
    let due = date(add_working_days(visited, 10));
    assert!(
        task["due"].as_str().is_some_and(|d| d.starts_with(&due)),
        "due {due} (10 working days after the visit on {}): {task}",
        date(visited)
    );
}

/// A home visit that saw `child` and found nothing of concern (grades of
/// 2: a grade of 4 is a concern, and the issue-16 `child_not_seen` rule
/// would fire on "not seen in the 28 days after a concern" by itself).
fn seen_at_home(child: &str, at: i64, headline: &str) -> Value {
    let mut visit = home_visit(&[child], at, headline);
    visit["observations"] = json!([{"domain": "nutrition", "grade": 2}]);
    visit
}

/// The `child_not_seen` signal of `signals --child R --format json`, if
/// raised.
fn not_seen(server: &Server, r: &str) -> Option<Value> {
    let out = server.admin_ok(&[
        "signals",
        "--child",
        r,
        "--reason",
        "end-to-end test of tasks",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("signals JSON");
    let list = if v.is_array() { &v } else { &v["signals"] };
    list.as_array()
        .unwrap_or_else(|| panic!("signals JSON: {v}"))
        .iter()
        .find(|s| s["rule"] == "child_not_seen")
        .cloned()
}

#[test]
fn a_visit_plan_makes_tasks_overdue_and_due_and_a_captured_visit_clears_one() {
    clear_of_midnight();
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let (ola, dan) = ("nhs:8645428415", "nhs:8023288350");
    // Five years old: past every developmental review's window.
    child(&server, ola, "Ola Nowak", "2021-03-15");
    child(&server, dan, "Dan Reid", "2021-04-20");
    for (r, label) in [(ola, "child protection plan"), (dan, "child in need plan")] {
        assign(&server, "assign", r, "--worker", "hv.jones");
        admin(
            &server,
            &[
                "caseload",
                "plan",
                "--child",
                r,
                "--visit-every",
                "10",
                "--label",
                label,
            ],
        );
    }
    let today = midnight(now());
    let (long_ago, lately) = (today - 30 * DAY + 60, today - 2 * DAY + 60);
    hv.record(&seen_at_home(ola, long_ago, "Ola seen at home"));
    hv.record(&seen_at_home(dan, lately, "Dan seen at home"));
    assert_eq!(hv.sync(), 0);

    let held = caseload(&hv);
    let overdue = visit_task(&held, ola);
    // The visits before the plan was set count: the plan's start is the
    // task's start only when the child was never seen at home (contract:
    // "`from` = last home visit with child seen (or the plan's since)").
    assert_task(overdue, "overdue", long_ago);
    assert_task(visit_task(&held, dan), "due", lately);
    // "last seen N days ago" (a server may say "last seen at home N days
    // ago"), N counted in UTC calendar days.
    let alerts = entry(&held, ola)["alerts"].as_str().unwrap_or("");
    assert!(
        alerts.contains("child protection plan")
            && alerts.contains("last seen")
            && alerts.contains(" 30 days ago"),
        "{alerts}"
    );
    let alerts = entry(&held, dan)["alerts"].as_str().unwrap_or("");
    assert!(
        alerts.contains("last seen") && alerts.contains(" 2 days ago"),
        "{alerts}"
    );
    let text = hv.run_ok(&["caseload"]);
    assert!(
        text.contains("OVERDUE since") && text.contains("due "),
        "{text}"
    );
    // Raised by the overdue visit (its words say so), not by a concern.
    let signal = not_seen(&server, ola).expect("an overdue visit raises child_not_seen");
    let words = signal["explanation"].as_str().unwrap_or("").to_lowercase();
    assert!(
        words.contains("visit due") && words.contains("overdue"),
        "child_not_seen names the overdue visit: {signal}"
    );
    assert_eq!(not_seen(&server, dan), None, "Dan's visit is not overdue");

    // Captured on the device: done at once, before any sync.
    let visited = now() - 60;
    hv.record(&seen_at_home(ola, visited, "Ola seen at home again"));
    let local = caseload(&hv);
    assert_eq!(visit_task(&local, ola)["state"], "done", "{local}");
    assert_eq!(visit_task(&local, dan)["state"], "due", "{local}");
    let text = hv.run_ok(&["caseload"]);
    assert!(text.contains("done (captured"), "{text}");

    // Synced: the server dropped the cleared task; the next visit is due.
    assert_eq!(hv.sync(), 0);
    let fresh = caseload(&hv);
    assert_task(visit_task(&fresh, ola), "due", visited);
    assert_eq!(
        not_seen(&server, ola),
        None,
        "no overdue task, no child_not_seen"
    );
}
