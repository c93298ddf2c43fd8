//! Issue 20: batch sizes. A server says how many records one batch may hold
//! (`Hearth-Batch-Records`, on its enrolment answer and every device
//! answer); the agent sends batches that large, within its own cap, and
//! never one the server refuses for its size. A server whose limit fell
//! since it last said refuses one batch, and the same sync goes on in
//! batches of the new size.

use hearth_e2e::agent::Agent;
use hearth_e2e::server::Server;

use crate::fixture::*;

/// Captures `n` daily presentations of child A; returns their ids.
fn capture(agent: &Agent, n: i64, label: &str) -> Vec<String> {
    let t = now();
    (0..n)
        .map(|i| agent.record(&daily(CHILD_A, t - 600 * i, &format!("{label} {i}"))))
        .collect()
}

/// Runs `sync` with the agent's sync log on; returns its exit code and the
/// `count=` of every batch it put on the wire.
fn sync_logged(agent: &Agent) -> (i32, Vec<usize>) {
    let out = agent
        .command(&["sync"])
        .env("RUST_LOG", "hearth_agent::sync=info")
        .output()
        .expect("run hearth-agent sync");
    let log = String::from_utf8_lossy(&out.stderr);
    let counts = log
        .lines()
        .filter(|l| l.contains("uploading batch"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("count="))
                .and_then(|n| n.parse().ok())
        })
        .collect();
    (out.status.code().unwrap_or(-1), counts)
}

#[test]
fn batches_are_as_large_as_the_server_takes_learnt_at_enrolment() {
    let server = Server::start_with(&["--max-batch-records", "4"]);
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let ids = capture(&agent, 10, "Arrival");
    // The first sync already knows: the enrolment answer said 4. Without
    // it the agent would send 100 and be refused (413).
    assert_eq!(sync_logged(&agent), (0, vec![4, 4, 2]));
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn a_server_whose_limit_fell_refuses_one_batch_and_the_sync_goes_on_smaller() {
    let mut server = Server::start_with(&["--max-batch-records", "6"]);
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let mut ids = capture(&agent, 3, "Before");
    assert_eq!(sync_logged(&agent), (0, vec![3]));
    // Restarted with a lower limit: the agent still remembers 6.
    server.kill();
    server.set_args(&["--max-batch-records", "2"]);
    server.restart();
    ids.extend(capture(&agent, 7, "After"));
    assert_eq!(
        sync_logged(&agent),
        (0, vec![6, 2, 2, 2, 1]),
        "6 refused (413, saying 2), then the 7 in batches of 2"
    );
    assert!(statuses(&agent).values().all(|s| s == "synced"));
    assert_exactly_once(&server, CHILD_A, &ids);
    // And the next run starts from 2.
    ids.extend(capture(&agent, 3, "Later"));
    assert_eq!(sync_logged(&agent), (0, vec![2, 1]));
    assert_exactly_once(&server, CHILD_A, &ids);
}
