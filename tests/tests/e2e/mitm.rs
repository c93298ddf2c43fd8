//! Issue 19: the HTTP-aware fault proxy ([`HttpFaultProxy`]) between real
//! agents and a real server. Each fault is shown to reach the server as
//! described, from the server's own answers the proxy saw (a duplicate is
//! answered twice, the second time "duplicate"; a reordered batch arrives
//! after the next one), and the agent's state stays right: nothing is
//! marked synced without a receipt for it, a stale answer marks nothing,
//! and every run converges with each record on the server exactly once.

use std::time::Instant;

use hearth_e2e::agent::Agent;
use hearth_e2e::mitm::{Exchange, HttpFault, HttpFaultProxy};
use hearth_e2e::rng::Rng;
use hearth_e2e::server::Server;
use serde_json::Value;

use crate::fixture::*;

/// A server, the proxy in front of it, and a tablet enrolled through it.
fn setup() -> (Server, HttpFaultProxy, Agent) {
    setup_with(&[])
}

/// [`setup`] with extra `serve` arguments.
fn setup_with(extra: &[&str]) -> (Server, HttpFaultProxy, Agent) {
    let server = Server::start_with(extra);
    let proxy = HttpFaultProxy::start(server.addr(), server.data());
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, Some(proxy.url()));
    (server, proxy, agent)
}

/// Captures `n` daily presentations of child A; returns their ids.
fn capture(agent: &Agent, n: i64, label: &str) -> Vec<String> {
    let t = now();
    (0..n)
        .map(|i| agent.record(&daily(CHILD_A, t - 600 * i, &format!("{label} {i}"))))
        .collect()
}

/// The exchanges of batch uploads, oldest first.
fn batches(proxy: &HttpFaultProxy) -> Vec<Exchange> {
    proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "POST" && e.target == "/v1/sync")
        .collect()
}

/// The verdict statuses in an answer to `/v1/sync`.
fn verdicts(answer: &Value) -> Vec<String> {
    answer["verdicts"]
        .as_array()
        .unwrap_or_else(|| panic!("an upload response: {answer}"))
        .iter()
        .map(|v| v["status"].as_str().unwrap().to_string())
        .collect()
}

fn all(status: &str, n: usize) -> Vec<String> {
    vec![status.to_string(); n]
}

fn assert_all(agent: &Agent, status: &str) {
    let s = statuses(agent);
    assert!(
        s.values().all(|v| v == status),
        "expected all {status}: {s:?}"
    );
}

/// The faults after which the client is cut off: the sync reports the
/// server unreachable, nothing is marked synced, the server holds the
/// batch only if the request reached it whole, and a rerun converges.
fn cut_off(fault: HttpFault, reaches_server: bool) {
    let (server, proxy, agent) = setup();
    let ids = capture(&agent, 3, "Arrival");
    proxy.queue(&[fault]);
    assert_eq!(
        agent.sync(),
        3,
        "{fault:?}: the sync reports the server unreachable"
    );
    assert_all(&agent, "pending");
    let first = &batches(&proxy)[0];
    assert_eq!(first.fault, fault);
    assert!(first.delivered.is_none(), "{fault:?}: no whole answer");
    if reaches_server {
        assert_eq!(verdicts(&first.answers[0].json()), all("accepted", 3));
        assert_eq!(record_counts(&server, CHILD_A).len(), 3);
    } else {
        assert!(first.answers.is_empty(), "{fault:?}: {first:?}");
        assert!(record_counts(&server, CHILD_A).is_empty());
    }
    assert_eq!(agent.sync(), 0, "{fault:?}: the rerun syncs");
    assert_all(&agent, "synced");
    let rerun = &batches(&proxy)[1];
    let expected = if reaches_server {
        "duplicate"
    } else {
        "accepted"
    };
    assert_eq!(
        verdicts(&rerun.delivered.as_ref().unwrap().json()),
        all(expected, 3)
    );
    assert_exactly_once(&server, CHILD_A, &ids);
    assert_eq!(proxy.counts()[fault.kind()], 1);
}

#[test]
fn a_dropped_request_never_reaches_the_server() {
    cut_off(HttpFault::DropRequest, false);
}

#[test]
fn a_truncated_request_is_not_stored() {
    cut_off(HttpFault::TruncateRequest(200), false);
}

#[test]
fn a_dropped_response_follows_a_commit() {
    cut_off(HttpFault::DropResponse, true);
}

#[test]
fn a_truncated_response_follows_a_commit() {
    cut_off(HttpFault::TruncateResponse(60), true);
}

#[test]
fn passing_requests_share_a_kept_alive_connection_and_delays_only_slow_them() {
    let (server, proxy, agent) = setup();
    let ids = capture(&agent, 2, "Arrival");
    let before = (proxy.connections(), proxy.exchanges().len());
    assert_eq!(agent.sync(), 0);
    let (connections, requests) = (
        proxy.connections() - before.0,
        proxy.exchanges().len() - before.1,
    );
    assert!(
        requests >= 2 && connections < requests,
        "{requests} requests (upload, caseload) on {connections} connections"
    );
    let more = capture(&agent, 2, "Late");
    proxy.queue(&[HttpFault::Delay(400)]);
    let started = Instant::now();
    assert_eq!(agent.sync(), 0);
    assert!(
        started.elapsed().as_millis() >= 800,
        "the delay is on both legs"
    );
    assert_all(&agent, "synced");
    assert_exactly_once(&server, CHILD_A, &[ids, more].concat());
}

#[test]
fn a_duplicated_batch_reaches_the_server_twice_and_is_stored_once() {
    let (server, proxy, agent) = setup();
    let ids = capture(&agent, 3, "Arrival");
    proxy.queue(&[HttpFault::Duplicate]);
    assert_eq!(agent.sync(), 0, "the second answer confirms the batch too");
    let dup = &batches(&proxy)[0];
    assert_eq!(dup.answers.len(), 2, "the server answered twice: {dup:?}");
    assert_eq!(verdicts(&dup.answers[0].json()), all("accepted", 3));
    assert_eq!(verdicts(&dup.answers[1].json()), all("duplicate", 3));
    assert_eq!(dup.delivered.as_ref(), Some(&dup.answers[1]));
    assert_all(&agent, "synced");
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn a_reordered_batch_arrives_after_the_next_and_changes_nothing() {
    let (server, proxy, agent) = setup();
    let mut ids = capture(&agent, 3, "Arrival");
    proxy.queue(&[HttpFault::Reorder]);
    assert_eq!(agent.sync(), 3, "the held request's connection is closed");
    assert_eq!(proxy.held(), 1);
    assert!(record_counts(&server, CHILD_A).is_empty(), "held, not sent");
    assert_all(&agent, "pending");

    ids.extend(capture(&agent, 1, "Late"));
    assert_eq!(agent.sync(), 0);
    assert_eq!(proxy.held(), 0);
    let log = batches(&proxy);
    let order: Vec<_> = log.iter().map(|e| (e.fault, e.late)).collect();
    assert_eq!(
        order,
        [
            (HttpFault::Reorder, false),
            (HttpFault::Pass, false),
            (HttpFault::Reorder, true),
        ],
        "held, then the next batch, then the held one"
    );
    assert_eq!(verdicts(&log[1].answers[0].json()), all("accepted", 4));
    assert_eq!(
        verdicts(&log[2].answers[0].json()),
        all("duplicate", 3),
        "the late batch holds only what the next one stored"
    );
    assert_all(&agent, "synced");
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn a_stale_answer_marks_nothing_synced() {
    let (server, proxy, agent) = setup();
    let mut ids = capture(&agent, 3, "Arrival");
    assert_eq!(agent.sync(), 0);
    ids.extend(capture(&agent, 1, "Second"));
    assert_eq!(agent.sync(), 0);
    let synced_before = statuses(&agent);
    let status_before = status(&agent);

    let late = capture(&agent, 2, "Late");
    proxy.queue(&[HttpFault::Stale]);
    assert_ne!(agent.sync(), 0, "a stale answer confirms nothing");
    let log = batches(&proxy);
    let stale = log.last().unwrap();
    assert_eq!(stale.fault, HttpFault::Stale);
    assert_eq!(
        verdicts(&stale.answers[0].json()),
        all("accepted", 2),
        "the server stored the batch"
    );
    assert_eq!(
        stale.delivered.as_ref(),
        log[0].delivered.as_ref(),
        "the client got the first batch's answer"
    );
    let now = statuses(&agent);
    for id in &late {
        assert_eq!(
            now[id], "pending",
            "{id} is not confirmed by a stale answer"
        );
    }
    for (id, s) in &synced_before {
        assert_eq!(&now[id], s);
    }
    assert_eq!(
        status(&agent)["last_receipt"],
        status_before["last_receipt"],
        "the stale answer's receipt (records 1 to 3) is refused, not kept as the latest"
    );

    ids.extend(late);
    assert_eq!(agent.sync(), 0);
    assert_all(&agent, "synced");
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn another_devices_stale_answer_marks_nothing_synced() {
    let (server, proxy, nursery) = setup();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, Some(proxy.url()));
    let mut ids = capture(&nursery, 3, "Arrival");
    assert_eq!(nursery.sync(), 0);
    let theirs = capture(&hv, 3, "Visit");
    proxy.queue(&[HttpFault::Stale]);
    assert_ne!(hv.sync(), 0, "another device's receipts confirm nothing");
    assert_all(&hv, "pending");
    assert_eq!(hv.sync(), 0);
    assert_all(&hv, "synced");
    ids.extend(theirs);
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn random_http_faults_converge_with_every_record_once() {
    let rng = Rng::from_env("mitm");
    let (server, proxy, nursery) = setup();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, Some(proxy.url()));
    let mut ids = Vec::new();
    proxy.randomly(rng, 30);
    for round in 0..3 {
        for agent in [&nursery, &hv] {
            ids.extend(capture(agent, 2, &format!("Round {round}")));
            let _ = agent.sync();
        }
    }
    let counts = proxy.counts();
    proxy.queue(&[]);
    for agent in [&nursery, &hv] {
        sync_until_done(agent, 5);
        assert_all(agent, "synced");
    }
    assert_eq!(proxy.held(), 0, "every held request was delivered");
    assert!(counts.len() >= 3, "several kinds of fault met: {counts:?}");
    assert_exactly_once(&server, CHILD_A, &ids);
}

/// `status --json`.
fn status(agent: &Agent) -> Value {
    serde_json::from_str(&agent.run_ok(&["status", "--json"])).expect("status --json")
}

/// Issue 20: captures a backlog of 130 records and syncs it, through
/// `proxy`, in two batches (of the 100 the server says it takes): every
/// record synced, stored once. Returns the two uploads as the proxy saw
/// them.
fn sync_two_batches(server: &Server, proxy: &HttpFaultProxy, agent: &Agent) -> Vec<Exchange> {
    let ids = capture(agent, 130, "Arrived hungry, seen by the room leader");
    assert_eq!(agent.sync(), 0);
    assert_all(agent, "synced");
    assert_exactly_once(server, CHILD_A, &ids);
    let uploads = batches(proxy);
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    uploads
}

/// Issue 20: a backlog of two batches through the real agent. The first
/// request of the run goes plain (the agent does not yet know the server
/// speaks protocol 2); its answer says `Hearth-Protocol: 2`,
/// so every later batch goes deflated; every answer comes back deflated;
/// the server inflated what the proxy saw, to well under the plain bytes;
/// every record is synced, stored once.
#[test]
fn issue_20_a_backlog_goes_compressed_both_ways_after_the_first_answer() {
    let (server, proxy, agent) = setup_with(&["--max-batch-records", "100"]);
    let uploads = sync_two_batches(&server, &proxy, &agent);
    assert_eq!(
        uploads[0].request_encoding, None,
        "the run's first request is plain"
    );
    assert_eq!(uploads[1].request_encoding.as_deref(), Some("deflate"));
    for e in &uploads {
        let answer = e.delivered.as_ref().unwrap();
        assert_eq!(answer.protocol.as_deref(), Some("2"));
        assert_eq!(answer.encoding.as_deref(), Some("deflate"));
        assert!(answer.wire_bytes < answer.body.len(), "{answer:?}");
        assert!(verdicts(&answer.json()).iter().all(|v| v == "accepted"));
    }
    let wire = server.metric("hearth_deflated_request_wire_bytes_total");
    let plain = server.metric("hearth_deflated_request_plain_bytes_total");
    assert_eq!(wire, uploads[1].request_bytes as u64);
    assert!(wire * 10 < plain * 7, "{wire} B on the wire for {plain} B");
    // The caseload request after the upload is plain (small); its answer
    // deflated if long enough, and verified by the agent either way.
    let caseload = proxy
        .exchanges()
        .into_iter()
        .find(|e| e.target == "/v1/caseload")
        .expect("the agent asked for its caseload");
    assert_eq!(caseload.request_encoding, None);
    assert_eq!(caseload.delivered.unwrap().status, 200);
}

/// Issue 20: a proxy that strips `Hearth-Protocol` from every answer makes
/// the server look old: the agent sends every batch plain, and still reads
/// the deflated answers (by their `Content-Encoding`) and syncs.
#[test]
fn issue_20_without_hearth_protocol_the_agent_sends_plain_and_still_syncs() {
    let (server, proxy, agent) = setup_with(&["--max-batch-records", "100"]);
    proxy.strip_answer_header("Hearth-Protocol");
    let uploads = sync_two_batches(&server, &proxy, &agent);
    for e in &uploads {
        assert_eq!(e.request_encoding, None, "{e:?}");
        assert_eq!(
            e.delivered.as_ref().unwrap().encoding.as_deref(),
            Some("deflate")
        );
    }
    assert_eq!(server.metric("hearth_deflated_requests_total"), 0);
    // A second run is the same: nothing is remembered from an answer that
    // did not say protocol 2.
    capture(&agent, 3, "Later");
    assert_eq!(agent.sync(), 0);
    assert!(batches(&proxy).iter().all(|e| e.request_encoding.is_none()));
}

/// Issue 20: the agent remembers (in its store directory) that the server
/// spoke protocol 2, so the next run's first request goes deflated too.
/// If the server is then rolled back to before protocol 2, its 400 to a
/// deflated body (nothing stored) makes the agent send the same batch
/// plain at once, and forget: the run still syncs, and the run after it
/// starts plain.
#[test]
fn issue_20_protocol_2_is_remembered_and_a_rolled_back_server_gets_plain_bodies() {
    let (server, proxy, agent) = setup();
    let mut ids = capture(&agent, 3, "First");
    assert_eq!(agent.sync(), 0);
    assert_eq!(
        batches(&proxy)[0].request_encoding,
        None,
        "nothing known yet"
    );
    let memo = agent.store().join("server-protocol");
    assert_eq!(
        std::fs::read_to_string(&memo).unwrap(),
        "2\nbatch-records 256\n"
    );

    ids.extend(capture(&agent, 3, "Second"));
    assert_eq!(agent.sync(), 0);
    let second = batches(&proxy).pop().unwrap();
    assert_eq!(
        second.request_encoding.as_deref(),
        Some("deflate"),
        "remembered"
    );

    proxy.play_old_server();
    let before = batches(&proxy).len();
    ids.extend(capture(&agent, 3, "Third"));
    assert_eq!(
        agent.sync(),
        0,
        "the rolled-back server still gets the batch"
    );
    let third = &batches(&proxy)[before..];
    assert_eq!(third.len(), 2, "{third:?}");
    assert_eq!(third[0].request_encoding.as_deref(), Some("deflate"));
    assert_eq!(third[0].delivered.as_ref().unwrap().status, 400);
    assert!(third[0].answers.iter().all(|a| a.protocol.is_none()));
    assert_eq!(third[1].request_encoding, None);
    assert_eq!(
        verdicts(&third[1].delivered.as_ref().unwrap().json()),
        all("accepted", 3)
    );
    assert!(!memo.exists(), "forgotten");

    let before = batches(&proxy).len();
    ids.extend(capture(&agent, 3, "Fourth"));
    assert_eq!(agent.sync(), 0);
    assert_eq!(batches(&proxy)[before].request_encoding, None);
    assert_all(&agent, "synced");
    assert_exactly_once(&server, CHILD_A, &ids);
}
