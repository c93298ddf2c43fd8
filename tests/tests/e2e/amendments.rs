//! Issue 12, amendments across two devices and a sync: a correction keeps
//! the original's facts and may change a structured field (item 1), a
//! record entered in error stays struck through and links no family
//! (item 2), a correction must name a record that exists, and the server
//! holds one whose original has not arrived as pending (item 3), and an
//! amendment of an amendment is the latest version with the whole chain
//! retrievable through JSON and HTTP (item 4).

use hearth_e2e::http;
use hearth_e2e::server::Server;
use hearth_shared::RecordHash;
use hearth_shared::protocol::VerdictStatus;
use serde_json::{Value, json};

use crate::fixture::*;
use crate::hostile::{Device, verdict};

const DAY: i64 = 86_400;

fn entry<'a>(chronology: &'a Value, id: &str) -> &'a Value {
    entries(chronology)
        .iter()
        .find(|e| e["record_id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the chronology: {chronology:#}"))
}

fn flags(e: &Value) -> Vec<&str> {
    e["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn issue_12_amendments_across_two_devices_and_a_sync() {
    let server = Server::start();
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let t = now();

    // Item 1: the voice record's empty action is corrected, two days on.
    let voice = hv.record(&json!({
        "kind": "voice", "children": [CHILD_A], "occurred_at": at(t - 2 * DAY),
        "headline": "Hid under the table", "mode": "behaviour",
        "behaviour": "hid under the table when the door went",
    }));
    let fixed = hv.run_ok(&[
        "amend",
        &voice,
        "--reason",
        "the action was left out",
        "--set",
        "action=Shared with the GP and social worker",
    ]);
    // Item 4: the amendment is amended in turn.
    let fixed2 = hv.run_ok(&[
        "amend",
        fixed.trim(),
        "--reason",
        "headline made clearer",
        "--headline",
        "Hid under the table when his father arrived",
    ]);

    // Item 2: the nursery named the wrong children together, then retracts.
    let wrong = nursery.record(&json!({
        "kind": "daily_presentation", "children": [CHILD_A, CHILD_C],
        "occurred_at": at(t - DAY), "headline": "Both arrived hungry",
        "attendance": "present", "hungry": true,
    }));
    nursery.run_ok(&[
        "amend",
        &wrong,
        "--entered-in-error",
        "--reason",
        "recorded against the wrong children",
    ]);

    // Item 3: the agent refuses to correct a record it does not hold.
    let device = voice.rsplit_once('-').unwrap().0;
    let out = hv.run(&[
        "amend",
        &format!("{device}-99"),
        "--reason",
        "the time was wrong",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hearth-agent list"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(hv.sync(), 0);
    assert_eq!(nursery.sync(), 0);

    let a = server.chronology_json(CHILD_A, false);
    assert_eq!(entries(&a).len(), 2, "one entry per original: {a:#}");
    let v = entry(&a, &voice);
    assert_eq!(v["occurred_at"], at(t - 2 * DAY), "the original's date");
    assert_eq!(v["headline"], "Hid under the table when his father arrived");
    // Written up two days late, so also `late_entry`; the corrected action
    // takes away `no_action`.
    assert_eq!(flags(v), ["late_entry", "amended"], "no_action is gone");
    assert_eq!(v["amended_by"], fixed2.trim());
    let versions = v["versions"].as_array().unwrap();
    let reasons: Vec<&Value> = versions.iter().map(|v| &v["reason"]).collect();
    assert_eq!(
        reasons,
        [
            &Value::Null,
            &json!("the action was left out"),
            &json!("headline made clearer")
        ]
    );

    let w = entry(&a, &wrong);
    assert!(flags(w).contains(&"entered_in_error"), "{w:#}");
    assert_eq!(w["headline"], "Both arrived hungry", "kept, not deleted");
    let last = w["versions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "dsl.patel");
    assert_eq!(last["entered_in_error"], true);
    assert_eq!(last["reason"], "recorded against the wrong children");
    let family = server.chronology_json(CHILD_A, true);
    assert_eq!(
        family["children"],
        json!([CHILD_A]),
        "a retracted record links no family"
    );
    let table = server.admin_ok(&[
        "chronology",
        "--child",
        CHILD_A,
        "--reason",
        "end-to-end test",
    ]);
    assert!(table.contains("[ENTERED IN ERROR]"), "{table}");
    let csv = server.admin_ok(&[
        "chronology",
        "--child",
        CHILD_A,
        "--format",
        "csv",
        "--reason",
        "end-to-end test",
    ]);
    assert!(csv.contains("entered_in_error"), "{csv}");

    // The chain of versions through HTTP too.
    let token = server.add_user("m.reed", "manager");
    let mut resp = http::client(server.data())
        .get(format!(
            "{}/v1/children/{CHILD_A}/chronology?reason=case%20review%20of%20amendments",
            server.url()
        ))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        entry(&body, &voice)["versions"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn issue_12_an_amendment_whose_original_has_not_arrived_is_held_pending() {
    let server = Server::start();
    let device = Device::new(61, "HV-NORTH");
    device.enrol(&server);
    let id = device.id();
    let original = device.sign(
        id,
        1,
        RecordHash::GENESIS,
        &concern(CHILD_A, now() - DAY, "Original"),
    );
    let correction = device.sign(
        id,
        2,
        original.hash(),
        &json!({
            "kind": "revision", "children": [CHILD_A], "occurred_at": at(now() - 2 * DAY),
            "headline": "Corrected", "corrects": format!("{id}-1"),
            "reason": "the date was typed wrongly",
            "revised": {"kind": "concern", "category": "neglect", "seen_or_said": "Hungry again",
                        "action": "referred", "action_detail": "Children's social care"},
        }),
    );
    let (status, reason) = verdict(device.upload(&server, vec![correction.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Accepted, "{reason}");
    let a = server.chronology_json(CHILD_A, false);
    let pending = entry(&a, &format!("{id}-2"));
    assert!(
        flags(pending).contains(&"corrects_unknown_record"),
        "{pending:#}"
    );
    assert_eq!(pending["amended"], false, "held pending, not applied");

    let (status, reason) = verdict(device.upload(&server, vec![original.as_bytes().to_vec()]));
    assert_eq!(status, VerdictStatus::Accepted, "{reason}");
    let a = server.chronology_json(CHILD_A, false);
    assert_eq!(entries(&a).len(), 1, "{a:#}");
    let applied = entry(&a, &format!("{id}-1"));
    assert_eq!(applied["headline"], "Corrected");
    assert!(flags(applied).contains(&"amended"), "{applied:#}");
    assert!(!flags(applied).contains(&"corrects_unknown_record"));
}
