//! Issue 12, item 6: naming two children in one record joins their
//! families only when the record says they share a household, and an
//! administrator's unlink (audited, with a reason) separates them for good.
//! Issue 17: naming children together in a record of another kind only
//! proposes a link, which a person confirms or rejects with a reason.

use hearth_e2e::server::Server;
use serde_json::{Value, json};

use crate::fixture::*;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The children of `child`'s family view.
fn family(server: &Server, child: &str) -> Vec<String> {
    let mut children: Vec<String> = server.chronology_json(child, true)["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    children.sort();
    children
}

fn ids(chronology: &Value) -> Vec<&str> {
    entries(chronology)
        .iter()
        .map(|e| e["record_id"].as_str().unwrap())
        .collect()
}

fn history(server: &Server) -> Vec<Value> {
    let out = server.admin_ok(&["family", "history", "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn household_records_link_families_nursery_records_do_not_and_an_unlink_holds() {
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let t = now();

    // The nursery logs two unrelated children who arrived together; the
    // health visitor sees two siblings at home.
    let mut together = daily(CHILD_A, t - 2 * DAY, "Arrived together, both hungry");
    together["children"] = json!([CHILD_A, CHILD_C]);
    let arrival = nursery.record(&together);
    let visit = hv.record(&home_visit(
        &[CHILD_A, CHILD_B],
        t - DAY,
        "Both children seen at home",
    ));
    assert_eq!(nursery.sync(), 0);
    assert_eq!(hv.sync(), 0);

    // The nursery record joined nobody: C's family is C alone, and A's
    // family view does not show C's other records.
    assert_eq!(family(&server, CHILD_C), [CHILD_C]);
    let c_view = server.chronology_json(CHILD_C, true);
    assert_eq!(ids(&c_view), [arrival.as_str()]);
    // The home visit joined the siblings.
    let mut siblings = vec![CHILD_A.to_string(), CHILD_B.to_string()];
    siblings.sort();
    assert_eq!(family(&server, CHILD_A), siblings);
    assert_eq!(family(&server, CHILD_B), siblings);
    // The family table says which children each entry is about.
    let table = server.admin_ok(&[
        "chronology",
        "--child",
        CHILD_A,
        "--family",
        "--reason",
        "end-to-end test",
    ]);
    assert!(
        // After the title and any practice signals (issue 16).
        table
            .lines()
            .find(|l| l.starts_with("DATE "))
            .unwrap()
            .starts_with("DATE                 | CHILDREN"),
        "{table}"
    );
    assert!(
        table.contains(&format!("| {CHILD_A}, {CHILD_C} ")),
        "{table}"
    );
    assert!(
        table.contains(&format!("| {CHILD_A}, {CHILD_B} ")),
        "{table}"
    );

    // An unlink without a real reason is refused, and changes nothing.
    let out = server.admin(&["family", "unlink", CHILD_A, CHILD_B, "--reason", "  no  "]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reason") && err.contains("--reason"), "{err}");
    assert!(history(&server).is_empty());
    assert_eq!(family(&server, CHILD_A), siblings);

    // With a reason, they are separated, and it is audited.
    let out = server.admin_ok(&[
        "family",
        "unlink",
        CHILD_B,
        CHILD_A,
        "--reason",
        "named together in error; different households",
        "--as",
        "admin.okafor",
    ]);
    assert!(out.contains("unlinked"), "{out}");
    assert_eq!(family(&server, CHILD_A), [CHILD_A]);
    assert_eq!(family(&server, CHILD_B), [CHILD_B]);

    // A new home visit naming both, synced from the tablet, does not
    // re-link them.
    let again = hv.record(&home_visit(
        &[CHILD_A, CHILD_B],
        t - HOUR,
        "Both children seen again",
    ));
    assert_eq!(hv.sync(), 0);
    assert_eq!(family(&server, CHILD_A), [CHILD_A]);
    let b_view = server.chronology_json(CHILD_B, true);
    assert_eq!(ids(&b_view), [visit.as_str(), again.as_str()]);

    let log = history(&server);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "unlink");
    assert_eq!(
        log[0]["reason"],
        "named together in error; different households"
    );
    assert!(log[0]["who"].as_str().unwrap().contains("admin.okafor"));
}

/// The proposals of `family proposals --json`, as (a, b, record ids),
/// each pair in text order, sorted.
fn proposals(server: &Server) -> Vec<(String, String, Vec<String>)> {
    let out = server.admin_ok(&["family", "proposals", "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    json["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |v: &Value| v.as_str().unwrap().to_string();
            let records = p["records"].as_array().unwrap().iter().map(s).collect();
            // The pair in text order (the server orders by reference kind).
            let (a, b) = (s(&p["a"]), s(&p["b"]));
            if a <= b {
                (a, b, records)
            } else {
                (b, a, records)
            }
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Issue 17: a record of a kind that does not imply a household only
/// proposes a link between the children it names; a person confirms it
/// (a family link) or rejects it (an unlink), each with a reason in the
/// family history, and a decided pair is proposed no more.
#[test]
fn co_naming_of_another_kind_proposes_a_link_that_a_person_confirms_or_rejects() {
    const DAN: &str = "local:NURSERY-12:dan";
    let server = Server::start();
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let t = now();
    let mut siblings = daily(CHILD_A, t - 2 * DAY, "Arrived together with their mother");
    siblings["children"] = json!([CHILD_A, CHILD_C]);
    let arrival = nursery.record(&siblings);
    let mut classmates = daily(CHILD_B, t - DAY, "Arrived with a classmate's family");
    classmates["children"] = json!([CHILD_B, DAN]);
    let other = nursery.record(&classmates);
    assert_eq!(nursery.sync(), 0);

    // Both pairs are proposed, each with the record that named them; no
    // family is joined yet.
    let pair = |a: &str, b: &str, r: &str| {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        (a.to_string(), b.to_string(), vec![r.to_string()])
    };
    let mut expected = vec![pair(CHILD_A, CHILD_C, &arrival), pair(CHILD_B, DAN, &other)];
    expected.sort();
    assert_eq!(proposals(&server), expected);
    assert_eq!(family(&server, CHILD_C), [CHILD_C]);

    // A rejection needs a reason; with one, the pair stays apart and is
    // proposed no more.
    let refused = server.admin(&["family", "reject", CHILD_B, DAN]);
    assert!(!refused.status.success(), "a rejection without a reason");
    server.admin_ok(&[
        "family",
        "reject",
        CHILD_B,
        DAN,
        "--reason",
        "classmates, not one household",
    ]);
    // A confirmation joins the siblings' families.
    let confirmed = server.admin_ok(&[
        "family",
        "confirm",
        CHILD_A,
        CHILD_C,
        "--reason",
        "siblings, confirmed with the health visitor",
    ]);
    assert!(confirmed.contains("linked"), "{confirmed}");
    assert!(proposals(&server).is_empty(), "{:?}", proposals(&server));
    let mut joined = vec![CHILD_A.to_string(), CHILD_C.to_string()];
    joined.sort();
    assert_eq!(family(&server, CHILD_C), joined);
    assert_eq!(family(&server, DAN), [DAN]);

    // Both decisions are in the family history with their reasons.
    let reasons: Vec<String> = history(&server)
        .iter()
        .map(|h| h["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        reasons.contains(&"classmates, not one household".to_string())
            && reasons.contains(&"siblings, confirmed with the health visitor".to_string()),
        "{reasons:?}"
    );
}
