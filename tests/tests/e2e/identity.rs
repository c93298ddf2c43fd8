//! Scenario 8 (issue 11): who a record is from, who may amend it, and a
//! quarantine that cannot fill the disk. The stock agent refuses; a hostile
//! signer that bypasses the agent is refused by the server, which keeps
//! what it refused, bounded.

use hearth_e2e::agent::Agent;
use hearth_e2e::server::Server;
use hearth_shared::RecordHash;
use hearth_shared::protocol::VerdictStatus;
use serde_json::{Value, json};

use crate::fixture::*;
use crate::hostile::{Device, verdict};

/// Runs `record` with `args` (and `json` on stdin); asserts it is refused
/// and returns what the agent said.
fn refused(agent: &Agent, args: &[&str], json: Option<&Value>) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = agent
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = json.map(Value::to_string).unwrap_or_default();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "not refused: {stderr}");
    stderr
}

fn amendment(child: &str, occurred: i64, corrects: &str, headline: &str) -> Value {
    json!({
        "kind": "amendment",
        "children": [child],
        "occurred_at": at(occurred),
        "headline": headline,
        "corrects": corrects,
        "reason": "corrected after checking the register",
    })
}

fn held(server: &Server) -> Vec<Value> {
    let q: Value = serde_json::from_str(&server.admin_ok(&[
        "quarantine",
        "--json",
        "--bytes",
        "--reason",
        "triage of held records",
    ]))
    .unwrap();
    q["held"].as_array().unwrap().clone()
}

fn headlines(chronology: &Value) -> Vec<String> {
    entries(chronology)
        .iter()
        .map(|e| e["headline"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issue_11_a_device_cannot_claim_another_agency_or_author() {
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let mut forged = concern(CHILD_A, now() - 600, "Forged police entry");
    forged["agency"] = "POLICE-CAIT".into();
    forged["author"] = "ds.nobody".into();

    // The stock agent refuses, and writes nothing.
    let said = refused(&hv, &["record", "--json", "-"], Some(&forged));
    assert!(said.contains("\"POLICE-CAIT\""), "{said}");
    forged["agency"] = "HV-NORTH".into();
    let said = refused(&hv, &["record", "--json", "-"], Some(&forged));
    assert!(said.contains("\"ds.nobody\""), "{said}");
    assert!(hv.list().is_empty());

    // A hostile signer enrolled as HV-NORTH/w1 bypasses the agent: the
    // server rejects the record and keeps it, with the reason.
    let hostile = Device::new(71, "HV-NORTH");
    hostile.enrol(&server);
    forged["agency"] = "POLICE-CAIT".into();
    let record = hostile.sign(hostile.id(), 1, RecordHash::GENESIS, &forged);
    let (status, reason) = verdict(hostile.upload(&server, vec![record.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("enrolled for \"HV-NORTH\""), "{reason}");
    forged["agency"] = "HV-NORTH".into();
    let record = hostile.sign(hostile.id(), 1, RecordHash::GENESIS, &forged);
    let (status, reason) = verdict(hostile.upload(&server, vec![record.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("\"ds.nobody\""), "{reason}");
    let held = held(&server);
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|h| h["status"] == "rejected"));

    // The chronology shows neither.
    let a = server.chronology_json(CHILD_A, false);
    assert!(entries(&a).is_empty(), "{a}");
}

#[test]
fn issue_11_only_a_devices_own_records_can_be_amended() {
    let server = Server::start();
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let day = now() - 2 * 86_400;
    let about_b = nursery.record(&daily(CHILD_B, day, "B arrived hungry"));
    assert_eq!(nursery.sync(), 0);

    // The stock HV agent refuses to amend the nursery's record.
    let said = refused(
        &hv,
        &[
            "record",
            "amendment",
            "--child",
            CHILD_B,
            "--headline",
            "Not hungry",
            "--occurred-at",
            &at(day),
            "--corrects",
            &about_b,
            "--reason",
            "I was there and saw otherwise",
        ],
        None,
    );
    assert!(said.contains("another device"), "{said}");

    // A hostile signer tries the two attacks of the issue.
    let hostile = Device::new(72, "HV-NORTH");
    hostile.enrol(&server);
    let to_1900 = hostile.sign(
        hostile.id(),
        1,
        RecordHash::GENESIS,
        &amendment(CHILD_B, -2_208_988_800, &about_b, "Moved away"),
    );
    let (status, reason) = verdict(hostile.upload(&server, vec![to_1900.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert!(reason.contains("another device"), "{reason}");
    let to_a = hostile.sign(
        hostile.id(),
        1,
        RecordHash::GENESIS,
        &amendment(CHILD_A, day, &about_b, "Pulled into A"),
    );
    let (status, _) = verdict(hostile.upload(&server, vec![to_a.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Rejected);
    assert_eq!(held(&server).len(), 2, "both kept in quarantine");

    // The record stays in its dated pull, unamended; A's shows nothing of B.
    let date = &at(day)[..10];
    let b: Value = serde_json::from_str(&server.admin_ok(&[
        "chronology",
        "--child",
        CHILD_B,
        "--from",
        date,
        "--to",
        date,
        "--format",
        "json",
        "--reason",
        "end-to-end test",
    ]))
    .unwrap();
    assert_eq!(headlines(&b), ["B arrived hungry"]);
    assert_eq!(entries(&b)[0]["amended"], false);
    let a = server.chronology_json(CHILD_A, false);
    assert!(entries(&a).is_empty(), "{a}");
}

#[test]
fn issue_11_an_own_amendment_moving_a_record_to_another_child_logs_both() {
    let server = Server::start();
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let day = now() - 86_400;
    let wrong = nursery.record(&daily(CHILD_A, day, "Arrived hungry"));
    nursery.record(&amendment(
        CHILD_C,
        day,
        &wrong,
        "Arrived hungry (C, not A)",
    ));
    assert_eq!(nursery.sync(), 0);
    let c = server.chronology_json(CHILD_C, false);
    assert_eq!(headlines(&c), ["Arrived hungry (C, not A)"]);
    assert_eq!(entries(&c)[0]["original_headline"], "Arrived hungry");
    let log: Value = serde_json::from_str(&server.admin_ok(&["access-log", "--json"])).unwrap();
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["child"], CHILD_C);
    assert_eq!(last["children"], json!([CHILD_A, CHILD_C]), "{last}");
}

#[test]
fn issue_11_rejected_records_cannot_fill_the_disk() {
    let server = Server::start_with(&["--quarantine-budget-bytes", "8192"]);
    let hostile = Device::new(73, "HV-NORTH");
    hostile.enrol(&server);
    let size = || -> u64 {
        ["hearth.db", "hearth.db-wal"]
            .iter()
            .map(|f| std::fs::metadata(server.data().join(f)).map_or(0, |m| m.len()))
            .sum()
    };
    let before = size();
    let length = 4 * 1024 * 1024 - 4096;
    for i in 0..5u8 {
        let (status, _) = verdict(hostile.upload(&server, vec![vec![i; length]]));
        assert_eq!(status, VerdictStatus::Rejected);
    }
    let grown = size().saturating_sub(before);
    if !hearth_testpg::skip_on_postgres(
        "the growth of hearth.db (the budget's figures are checked below)",
    ) {
        assert!(grown < 512 * 1024, "the database grew by {grown} bytes");
    }
    let held = held(&server);
    assert_eq!(held.len(), 5);
    let kept: u64 = held.iter().map(|h| h["kept_bytes"].as_u64().unwrap()).sum();
    assert!(kept <= 8192, "{kept} bytes kept");
    assert!(held.iter().all(|h| h["size"] == length));

    // A fork is genuine: both sides are kept whole.
    let one = hostile.sign(
        hostile.id(),
        1,
        RecordHash::GENESIS,
        &daily(CHILD_A, now(), "One"),
    );
    let two = hostile.sign(
        hostile.id(),
        1,
        RecordHash::GENESIS,
        &daily(CHILD_A, now(), "Two"),
    );
    assert_eq!(
        verdict(hostile.upload(&server, vec![one.as_bytes().to_vec()])).0,
        VerdictStatus::Accepted
    );
    assert_eq!(
        verdict(hostile.upload(&server, vec![two.as_bytes().to_vec()])).0,
        VerdictStatus::Quarantined
    );
    let forks: Vec<Value> = self::held(&server)
        .into_iter()
        .filter(|h| h["status"] == "quarantined")
        .collect();
    assert_eq!(forks.len(), 2);
    assert!(
        forks.iter().all(|h| h["kept_bytes"] == h["size"]),
        "{forks:?}"
    );
}
