//! Scenario 6: every pull, by CLI and by HTTP, appears in the access log; a
//! pull without a reason is refused and is not a read.

use hearth_e2e::http;
use hearth_e2e::server::Server;
use serde_json::Value;

use crate::fixture::*;

#[test]
fn every_pull_is_audited_and_a_pull_without_a_reason_is_refused() {
    let server = Server::start();
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    agent.record(&daily(CHILD_A, now() - 600, "Arrived hungry"));
    agent.record(&home_visit(
        &[CHILD_A, CHILD_B],
        now() - 300,
        "Both children seen",
    ));
    assert_eq!(agent.sync(), 0);
    let token = server.add_user("m.reed", "manager");
    let client = http::client(server.data());
    let get = |query: &str, bearer: Option<&str>| {
        let mut req = client.get(format!(
            "{}/v1/children/{CHILD_A}/chronology{query}",
            server.url()
        ));
        if let Some(t) = bearer {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call().unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    };

    // Pulls with reasons, by HTTP (JSON, then the family CSV) and by CLI.
    let (code, body) = get("?reason=strategy%20discussion", Some(&token));
    assert_eq!(code, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entries(&json).len(), 2);
    let (code, _) = get("?reason=case%20review&family=true&format=csv", Some(&token));
    assert_eq!(code, 200);
    server.admin_ok(&[
        "chronology",
        "--child",
        CHILD_A,
        "--format",
        "table",
        "--reason",
        "new social worker catching up",
        "--as",
        "sw.new",
    ]);

    // Refused: no reason, a blank reason, a bad token.
    let (code, body) = get("", Some(&token));
    assert_eq!(code, 400);
    assert!(body.contains("reason_required"), "{body}");
    let (code, _) = get("?reason=%20%20", Some(&token));
    assert_eq!(code, 400);
    let (code, body) = get("?reason=curious", Some("not-a-token"));
    assert_eq!(code, 401);
    assert!(body.contains("unauthorized"), "{body}");
    let out = server.admin(&["chronology", "--child", CHILD_A, "--format", "json"]);
    assert!(
        !out.status.success(),
        "the CLI refuses a pull without --reason"
    );

    let log: Value = serde_json::from_str(&server.admin_ok(&["access-log", "--json"])).unwrap();
    let log = log.as_array().unwrap();
    let reasons: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e["via"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("http", "strategy discussion"),
            ("http", "case review"),
            ("cli", "new social worker catching up"),
        ],
        "every pull with a reason is logged, and nothing else"
    );
    assert!(log.iter().all(|e| e["child"] == CHILD_A));
    assert_eq!(log[0]["who"], "m.reed");
    assert_eq!(log[1]["family"], true);
    // The family pull names every child whose entries it disclosed.
    let mut disclosed: Vec<&str> = log[1]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    disclosed.sort();
    assert_eq!(disclosed, vec![CHILD_B, CHILD_A]);
    assert_eq!(log[0]["children"], serde_json::json!([CHILD_A]));
    // The operating-system user running the CLI, with the --as name beside
    // it (issue 12): --as cannot hide who ran the command.
    let me = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let me = String::from_utf8(me.stdout).unwrap();
    assert_eq!(log[2]["who"], format!("{} (as sw.new)", me.trim()).as_str());
}
