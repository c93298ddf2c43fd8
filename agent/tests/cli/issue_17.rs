//! Issue 17, the caseload on the command line: `caseload` with none held
//! says how one arrives, and it needs the passphrase like `list`. (A held
//! caseload's text and JSON are covered by the unit tests in
//! `src/commands/caseload.rs`; fetching one against a real server by the
//! end-to-end tests.)

use std::process::Stdio;

use serde_json::Value;

use super::{agent, agent_command, init, stderr, stdout};

#[test]
fn issue_17_caseload_without_one_says_how_it_arrives() {
    let dir = init();
    let text = ok!(agent(dir.path(), &["caseload"], None));
    assert_eq!(
        text.trim(),
        "no caseload: a sync with a server that keeps caseloads fetches it"
    );
    let json: Value =
        serde_json::from_str(&ok!(agent(dir.path(), &["caseload", "--json"], None))).unwrap();
    assert_eq!(json["issued_at"], Value::Null);
    assert_eq!(json["children"], Value::Array(vec![]));
}

#[test]
fn issue_17_caseload_needs_the_passphrase() {
    let dir = init();
    let out = agent_command(dir.path(), &["caseload"])
        .env_remove("HEARTH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("then `hearth-agent caseload` again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}
