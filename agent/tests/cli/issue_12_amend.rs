//! Issue 12, amendments from the agent: `amend RECORD_ID` starts from the
//! original, `--entered-in-error` retracts, a correction must name a record
//! this device holds, and an amendment can itself be amended.

use serde_json::Value;

use super::{CHILD, agent, init, list_json, refused, stderr, stdout};

fn show_json(dir: &std::path::Path, id: &str) -> Value {
    serde_json::from_str(&ok!(agent(dir, &["show", id, "--json"], None))).unwrap()
}

/// A voice record with no action, on 26 November; returns its id.
fn voice(d: &std::path::Path) -> String {
    ok!(agent(
        d,
        &[
            "record",
            "voice",
            "--child",
            CHILD,
            "--occurred-at",
            "2026-11-26T10:00:00Z",
            "--headline",
            "Hid under the table at the review",
            "--mode",
            "behaviour",
            "--behaviour",
            "hid under the table",
        ],
        None
    ))
    .trim()
    .to_string()
}

#[test]
fn issue_12_amend_keeps_the_originals_fields_and_changes_a_structured_one() {
    let dir = init();
    let d = dir.path();
    let id = voice(d);
    let fixed = ok!(agent(
        d,
        &[
            "amend",
            &id,
            "--reason",
            "the action was left out",
            "--set",
            "action=Shared with the GP and social worker",
        ],
        None
    ));
    let v = show_json(d, fixed.trim());
    assert_eq!(v["kind"], "revision");
    assert_eq!(v["corrects"], id.as_str());
    assert_eq!(v["reason"], "the action was left out");
    assert_eq!(
        v["occurred_at"], "2026-11-26T10:00:00Z",
        "not the time of typing"
    );
    assert_eq!(v["headline"], "Hid under the table at the review");
    assert_eq!(v["children"], serde_json::json!([CHILD]));
    assert_eq!(v["revised"]["kind"], "voice");
    assert_eq!(v["revised"]["behaviour"], "hid under the table");
    assert_eq!(
        v["revised"]["action"],
        "Shared with the GP and social worker"
    );

    // Amending the amendment starts from the corrected record.
    let again = ok!(agent(
        d,
        &[
            "amend",
            fixed.trim(),
            "--reason",
            "the time was wrong",
            "--occurred-at",
            "2026-11-26T09:30:00Z"
        ],
        None
    ));
    let v2 = show_json(d, again.trim());
    assert_eq!(v2["corrects"], fixed.trim());
    assert_eq!(v2["occurred_at"], "2026-11-26T09:30:00Z");
    assert_eq!(
        v2["revised"]["action"],
        "Shared with the GP and social worker"
    );
}

#[test]
fn issue_12_entered_in_error_is_an_amendment_that_changes_nothing_else() {
    let dir = init();
    let d = dir.path();
    let id = voice(d);
    refused(
        d,
        &[
            "amend",
            &id,
            "--entered-in-error",
            "--reason",
            "wrong child",
            "--headline",
            "x",
        ],
        None,
        "--entered-in-error retracts the record as it is; give only --reason",
    );
    let r = ok!(agent(
        d,
        &[
            "amend",
            &id,
            "--entered-in-error",
            "--reason",
            "recorded against the wrong child"
        ],
        None
    ));
    let v = show_json(d, r.trim());
    assert_eq!(v["kind"], "revision");
    assert_eq!(v["entered_in_error"], true);
    assert_eq!(v["occurred_at"], "2026-11-26T10:00:00Z");
    assert!(v.get("revised").is_none());
    // Nothing is deleted.
    assert_eq!(list_json(d, &[]).as_array().unwrap().len(), 2);
    refused(
        d,
        &["amend", r.trim(), "--reason", "restore it please"],
        None,
        &format!("to restore or correct {id}, run `hearth-agent amend {id}`"),
    );
}

#[test]
fn issue_12_a_correction_must_name_a_record_of_this_device() {
    let dir = init();
    let d = dir.path();
    let id = voice(d);
    let missing = id.replace("-1", "-99");
    let hint = format!(
        "corrects {missing}, which is not a record of this device; find the id of the record to correct with `hearth-agent list`"
    );
    refused(
        d,
        &["amend", &missing, "--reason", "the time was wrong"],
        None,
        &hint,
    );
    refused(
        d,
        &[
            "record",
            "amendment",
            "--child",
            CHILD,
            "--headline",
            "h",
            "--corrects",
            &missing,
            "--reason",
            "the time was wrong",
        ],
        None,
        &hint,
    );
    let out = agent(d, &["amend", &id], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--reason"), "{}", stderr(&out));
}

/// Found in review: a second `amend` of the original started from the
/// original's fields and silently undid the first correction (the filled
/// action went back to empty, and `no_action` with it). It is refused, and
/// names the version to amend, which keeps the first correction.
#[test]
fn amending_an_older_version_is_refused_and_names_the_latest() {
    let dir = init();
    let d = dir.path();
    let id = voice(d);
    let fixed = ok!(agent(
        d,
        &[
            "amend",
            &id,
            "--reason",
            "the action was left out",
            "--set",
            "action=Shared with the GP",
        ],
        None
    ));
    let fixed = fixed.trim();
    refused(
        d,
        &[
            "amend",
            &id,
            "--reason",
            "headline made clearer",
            "--headline",
            "Hid under the table when his father came in",
        ],
        None,
        &format!("run `hearth-agent amend {fixed}`"),
    );
    let again = ok!(agent(
        d,
        &[
            "amend",
            fixed,
            "--reason",
            "headline made clearer",
            "--headline",
            "Hid under the table when his father came in",
        ],
        None
    ));
    let v = show_json(d, again.trim());
    assert_eq!(v["revised"]["action"], "Shared with the GP", "{v}");
    assert_eq!(v["headline"], "Hid under the table when his father came in");
    // Retracting any version is allowed: it changes no field.
    ok!(agent(
        d,
        &[
            "amend",
            &id,
            "--entered-in-error",
            "--reason",
            "recorded on the wrong child",
        ],
        None
    ));
}
