//! Kill points (issue 19): `HEARTH_KILL_AT` stops the real binaries at an
//! exact place, with SIGKILL. Capture killed before its commit keeps
//! nothing; after its commit, the record is kept though never reported;
//! the server killed before and after an ingest commit loses nothing and
//! stores nothing twice once the device syncs again.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use hearth_e2e::agent::Agent;
use hearth_e2e::bins::output_with_input;
use hearth_e2e::server::Server;

use crate::fixture::*;

/// Captures `json` with the agent armed at `point`; returns (the signal
/// that ended it, what it printed).
fn capture_killed_at(
    agent: &Agent,
    point: &str,
    json: &serde_json::Value,
) -> (Option<i32>, String) {
    let out = output_with_input(
        agent
            .command(&["record", "--json", "-"])
            .env("HEARTH_KILL_AT", point),
        json.to_string().as_bytes(),
    );
    (out.status.signal(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_capture_killed_before_its_commit_keeps_nothing_and_after_it_keeps_the_record() {
    let server = Server::start();
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let t = now();
    let (signal, out) = capture_killed_at(
        &agent,
        "capture.before-commit",
        &daily(CHILD_A, t - 60, "Before"),
    );
    assert_eq!(
        (signal, out.as_str()),
        (Some(9), ""),
        "SIGKILL before any output"
    );
    assert!(agent.list().is_empty(), "nothing committed");

    let (signal, out) = capture_killed_at(
        &agent,
        "capture.after-commit",
        &daily(CHILD_A, t - 50, "After"),
    );
    assert_eq!(
        (signal, out.as_str()),
        (Some(9), ""),
        "killed before reporting"
    );
    let held = agent.list();
    assert_eq!(held.len(), 1, "the commit happened before the kill");
    assert_eq!(held[0]["headline"], "After");

    // The store goes on: the next capture chains after the kept record.
    let id = agent.record(&daily(CHILD_A, t - 40, "Next"));
    assert!(id.ends_with("-2"), "{id}");
    sync_until_done(&agent, 3);
    let ids: Vec<String> = statuses(&agent).into_keys().collect();
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn the_server_killed_before_or_after_an_ingest_commit_loses_and_doubles_nothing() {
    for (point, committed) in [
        ("ingest.before-commit", false),
        ("ingest.after-commit", true),
    ] {
        let mut server = Server::start();
        let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
        let t = now();
        let ids: Vec<String> = (0..3)
            .map(|i| agent.record(&daily(CHILD_A, t - 60 * i, &format!("Arrival {i}"))))
            .collect();
        server.kill();
        server.set_env("HEARTH_KILL_AT", Some(point));
        server.restart();
        assert_eq!(agent.sync(), 3, "{point}: the server died mid-sync");
        assert!(
            server.exits_within(Duration::from_secs(10)),
            "{point}: the kill point fired"
        );
        server.kill();
        server.set_env("HEARTH_KILL_AT", None);
        server.restart();
        let held = record_counts(&server, CHILD_A).len();
        assert_eq!(held, if committed { 3 } else { 0 }, "{point}");
        assert!(statuses(&agent).values().all(|s| s == "pending"), "{point}");
        sync_until_done(&agent, 3);
        assert_exactly_once(&server, CHILD_A, &ids);
    }
}
