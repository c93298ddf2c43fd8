//! Records and checks shared by the scenarios.

use std::collections::BTreeMap;

use hearth_e2e::agent::Agent;
use hearth_e2e::server::Server;
use hearth_shared::Timestamp;
use serde_json::{Value, json};

/// Child A and her younger brother B, and an unrelated child C.
pub const CHILD_A: &str = "nhs:9434765919";
/// Child A's brother.
pub const CHILD_B: &str = "nhs:4010232137";
/// Another family's child.
pub const CHILD_C: &str = "nhs:9990548609";

/// Real seconds since the epoch: the tests' "now", against which the
/// devices' skewed clocks are set.
#[allow(clippy::disallowed_methods)] // the test decides what real time is
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// RFC 3339 for `secs`.
pub fn at(secs: i64) -> String {
    Timestamp(secs).to_string()
}

/// A daily presentation for `child`.
pub fn daily(child: &str, occurred: i64, headline: &str) -> Value {
    json!({
        "kind": "daily_presentation",
        "children": [child],
        "occurred_at": at(occurred),
        "headline": headline,
        "attendance": "present",
        "hungry": true,
    })
}

/// A home visit seeing `children`.
pub fn home_visit(children: &[&str], occurred: i64, headline: &str) -> Value {
    json!({
        "kind": "home_visit",
        "children": children,
        "occurred_at": at(occurred),
        "headline": headline,
        "access": "unannounced",
        "present": [{"role": "mother"}, {"role": "father"}],
        "child_seen": "awake",
        "observations": [{"domain": "nutrition", "grade": 4}],
    })
}

/// A concern about `child`.
pub fn concern(child: &str, occurred: i64, headline: &str) -> Value {
    json!({
        "kind": "concern",
        "children": [child],
        "occurred_at": at(occurred),
        "headline": headline,
        "category": "neglect",
        "seen_or_said": "Hungry again",
        "action": "referred",
        "action_detail": "Children's social care",
    })
}

/// The entries of a chronology JSON document.
pub fn entries(chronology: &Value) -> &Vec<Value> {
    chronology["entries"]
        .as_array()
        .expect("chronology JSON has an entries array")
}

/// How many times each record id appears in `child`'s chronology.
pub fn record_counts(server: &Server, child: &str) -> BTreeMap<String, usize> {
    let chronology = server.chronology_json(child, false);
    let mut counts = BTreeMap::new();
    for e in entries(&chronology) {
        *counts
            .entry(e["record_id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    counts
}

/// Asserts that each id in `acknowledged` is in `child`'s chronology exactly
/// once, and that the chronology holds nothing else.
pub fn assert_exactly_once(server: &Server, child: &str, acknowledged: &[String]) {
    let counts = record_counts(server, child);
    for id in acknowledged {
        assert_eq!(
            counts.get(id).copied(),
            Some(1),
            "record {id} should be in the chronology exactly once"
        );
    }
    let extra: Vec<_> = counts
        .keys()
        .filter(|id| !acknowledged.contains(id))
        .collect();
    assert!(extra.is_empty(), "records nobody acknowledged: {extra:?}");
    for (id, n) in &counts {
        assert_eq!(*n, 1, "{id} appears {n} times");
    }
}

/// A server and a tablet enrolled with it (directly, or through `via`).
pub fn enrolled(
    server: &Server,
    agency: &str,
    worker: &str,
    skew: i64,
    via: Option<String>,
) -> Agent {
    let agent = Agent::new(skew);
    agent.init(agency, worker);
    let token = server.enrol_token(agency, worker);
    let url = via.unwrap_or_else(|| server.url());
    agent.enrol(&url, &token, &server.fingerprint());
    agent
}

/// Syncs until the agent reports everything synced, at most `tries` times;
/// returns how many runs it took.
pub fn sync_until_done(agent: &Agent, tries: usize) -> usize {
    for run in 1..=tries {
        match agent.sync() {
            0 => return run,
            3 => continue,
            code => panic!("sync exited {code}"),
        }
    }
    panic!("sync did not converge in {tries} runs");
}

/// The agent's records and their statuses.
pub fn statuses(agent: &Agent) -> BTreeMap<String, String> {
    agent
        .list()
        .iter()
        .map(|r| {
            (
                r["record_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
