//! The caseload in the tablet app (issue 17): child fields offer the
//! caseload's children by name, the register lists the room's children by
//! name, and home lists what is due, overdue first, in words. Every name
//! is escaped.

use axum::http::StatusCode;
use hearth_shared::Timestamp;
use hearth_shared::caseload::{Caseload, CaseloadChild, Task, TaskKind};

use super::answers::Answers;
use super::routes::tests::{App, app, attr_after, encode, seed_register};
use super::spec::FormSpec;
use crate::capture::tests::test_key;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn child(name: &str, refs: &[&str], group: Option<&str>, tasks: Vec<Task>) -> CaseloadChild {
    CaseloadChild {
        child: refs[0].into(),
        refs: refs.iter().map(|r| r.to_string()).collect(),
        name: name.into(),
        born: Some(t("2025-06-01T00:00:00Z")),
        expected: None,
        group: group.map(str::to_string),
        household: vec![],
        alerts: String::new(),
        tasks,
    }
}

fn visit(due: &str, label: &str) -> Task {
    Task {
        kind: TaskKind::Visit,
        from: t("2026-12-01T00:00:00Z"),
        due: t(due),
        label: label.into(),
    }
}

/// Stores `children` as the held caseload (the app's clock is
/// 2027-01-15T08:00:00Z).
fn hold(app: &App, children: Vec<CaseloadChild>) {
    let caseload = Caseload {
        device: test_key().device_id(),
        issued_at: t("2027-01-15T07:00:00Z"),
        children,
    };
    app.state
        .with_unlocked(|u| u.store.replace_caseload(&caseload, caseload.issued_at))
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_child_field_offers_the_caseload_by_name_and_keeps_the_typed_fallback() {
    let app = app();
    let before = app.send("GET", "/forms/home_visit", None).await;
    assert!(
        !before.body.contains("f-children-0-pick"),
        "no caseload: typed only"
    );
    hold(
        &app,
        vec![
            child(
                "Amy <b>Brown</b>",
                &["nhs:9434765919", "local:HV:amy"],
                None,
                vec![],
            ),
            child("Ben Cole", &["local:HV:ben"], None, vec![]),
        ],
    );
    let form = app.send("GET", "/forms/home_visit", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains(r#"<select class="select" id="f-children-0-pick" name="children[0].pick">"#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"<option value="nhs:9434765919">Amy &lt;b&gt;Brown&lt;/b&gt; (born 1 June 2025)</option>"#), "{}", form.body);
    assert!(!form.body.contains("<b>Brown"));
    assert!(
        form.body
            .contains(r#"id="f-children-0" name="children[0]""#),
        "the typed fallback"
    );
    // Picked by name: saved as the reference, shown picked again.
    let csrf = attr_after(&form.body, "name=\"csrf\"", "value");
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    let pairs = [
        ("csrf", csrf.as_str()),
        ("_kind", "home_visit"),
        ("_action", "save"),
        ("children[0].pick", "local:HV:ben"),
        ("children[0]", ""),
        ("headline", "Visit"),
    ];
    let r = app.send("POST", &action, Some(encode(&pairs))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Check your answers names the child beside its reference.
    let mut checked = pairs.to_vec();
    checked.retain(|(k, _)| *k != "_action");
    checked.extend([
        ("_action", "check"),
        ("occurred_at.date", "2027-01-15"),
        ("occurred_at.time", "08:00"),
        ("access", "announced"),
        ("child_seen", "awake"),
    ]);
    let r = app.send("POST", &action, Some(encode(&checked))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let check = app.send("GET", &r.location, None).await;
    assert!(
        check.body.contains("Ben Cole (local:HV:ben)"),
        "{}",
        check.body
    );
    let again = app.send("GET", &action, None).await;
    assert!(
        again
            .body
            .contains(r#"<option value="local:HV:ben" selected>Ben Cole"#),
        "{}",
        again.body
    );
}

#[test]
fn a_pick_wins_over_the_typed_reference_and_an_empty_pick_keeps_it() {
    let spec = FormSpec::of(hearth_shared::RecordKind::HomeVisit).unwrap();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let a = Answers::from_pairs(
        &spec,
        &pairs(&[
            ("children[0].pick", ""),
            ("children[0]", "local:HV:typed"),
            ("children[1].pick", "nhs:9434765919"),
            ("children[1]", ""),
            ("children[2].pick", ""),
            ("children[2]", ""),
        ]),
    );
    assert_eq!(a.get("children[0]"), "local:HV:typed");
    assert_eq!(a.get("children[1]"), "nhs:9434765919");
    assert_eq!(a.entries("children"), 2, "an empty entry is dropped");
    assert!(a.0.keys().all(|k| !k.contains("pick")));
}

#[tokio::test]
async fn the_register_lists_the_rooms_children_by_name() {
    let app = app();
    seed_register(&app, &["nhs:9434765870"]);
    let without = app.send("GET", "/register?author=hv-ann", None).await;
    assert!(
        without
            .body
            .contains(r#"id="child-nhs-9434765870-present""#),
        "today's behaviour"
    );
    hold(
        &app,
        vec![
            child(
                "Amy Brown",
                &["nhs:9434765919", "local:NURSERY:amy"],
                Some("Rainbow room"),
                vec![],
            ),
            child(
                "Cat <i>Dee</i>",
                &["local:NURSERY:cat"],
                Some("Rainbow room"),
                vec![],
            ),
            child("Ed Home", &["local:HV:ed"], None, vec![]),
        ],
    );
    let page = app.send("GET", "/register?author=hv-ann", None).await;
    assert!(page.body.contains("Amy Brown"), "{}", page.body);
    assert!(page.body.contains("Cat &lt;i&gt;Dee&lt;/i&gt;"));
    assert!(page.body.contains(r#"id="child-nhs-9434765919-present""#));
    assert!(!page.body.contains("Ed Home"), "not in the room");
    assert!(
        !page.body.contains("nhs-9434765870-present"),
        "not on the caseload"
    );
    let csrf = attr_after(&page.body, "name=\"csrf\"", "value");
    // Present under the local reference counts for Amy's row.
    let r = app
        .send(
            "POST",
            "/register/present",
            Some(encode(&[
                ("csrf", &csrf),
                ("child", "local:NURSERY:amy"),
                ("author", "hv-ann"),
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = app.send("GET", "/register?author=hv-ann", None).await;
    assert!(
        !after.body.contains(r#"id="child-nhs-9434765919-present""#),
        "recorded today"
    );
    assert!(
        after
            .body
            .contains(r#"id="child-local-NURSERY-cat-present""#)
    );
}

#[tokio::test]
async fn home_lists_what_is_due_overdue_first_in_words() {
    let app = app();
    let before = app.send("GET", "/", None).await;
    assert!(
        !before.body.contains(r#"id="due""#),
        "no caseload, no Due list"
    );
    hold(
        &app,
        vec![
            child(
                "Amy Brown",
                &["local:HV:amy"],
                None,
                vec![visit("2027-01-20T00:00:00Z", "Home visit <due>")],
            ),
            child(
                "Ben Cole",
                &["local:HV:ben"],
                None,
                vec![visit("2027-01-10T00:00:00Z", "Home visit due")],
            ),
        ],
    );
    let home = app.send("GET", "/", None).await;
    assert_eq!(home.status, StatusCode::OK);
    let body = &home.body;
    let ben = body.find("Overdue since 10 January 2027").expect(body);
    let amy = body.find("Due 20 January 2027").expect(body);
    assert!(ben < amy, "overdue first");
    assert!(body.contains("Home visit &lt;due&gt;"));
    assert!(body.contains(r#"<tr class="due due--overdue">"#));
}
