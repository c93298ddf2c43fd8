//! Interrupted syncs (issue 3): the connection drops before the request
//! arrives, after the server commits but before it answers, and in the
//! middle of the answer. Each ends, after the sync is re-run, with every
//! record synced exactly once.

use hearth_e2e::proxy::{Fault, FaultProxy};
use hearth_e2e::server::Server;

use crate::fixture::*;

fn interrupted_then_rerun(fault: Fault) {
    let server = Server::start();
    let proxy = FaultProxy::start(server.addr());
    let agent = enrolled(
        &server,
        "NURSERY-12",
        "dsl.patel",
        0,
        Some(format!("https://{}", proxy.addr())),
    );
    let t = now();
    let ids: Vec<String> = (0..5)
        .map(|i| agent.record(&daily(CHILD_A, t - 600 * i, &format!("Arrival {i}"))))
        .collect();

    proxy.queue(&[fault]);
    let code = agent.sync();
    assert_eq!(
        code, 3,
        "{fault:?}: an interrupted sync reports the server unreachable"
    );
    assert!(
        statuses(&agent).values().all(|s| s == "pending"),
        "{fault:?}: nothing is marked synced without a receipt"
    );
    if fault == Fault::DropOnAccept {
        assert!(
            record_counts(&server, CHILD_A).is_empty(),
            "the server never saw the request"
        );
    }
    if fault == Fault::DropResponse {
        assert_eq!(
            record_counts(&server, CHILD_A).len(),
            5,
            "the server committed before the connection dropped"
        );
    }

    assert_eq!(agent.sync(), 0, "{fault:?}: the rerun syncs everything");
    assert!(statuses(&agent).values().all(|s| s == "synced"));
    assert_exactly_once(&server, CHILD_A, &ids);
}

#[test]
fn dropped_before_the_request_arrives() {
    interrupted_then_rerun(Fault::DropOnAccept);
}

#[test]
fn dropped_after_the_commit_before_the_response() {
    interrupted_then_rerun(Fault::DropResponse);
}

#[test]
fn dropped_in_the_middle_of_the_response() {
    interrupted_then_rerun(Fault::TruncateResponse(40));
}

#[test]
fn dropped_in_the_middle_of_the_request() {
    interrupted_then_rerun(Fault::TruncateRequest(100));
}
