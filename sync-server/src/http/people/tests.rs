//! The register's HTTP routes through axum over a real SQLite store:
//! roles, a round trip, field-naming refusals, CSV import, identity links,
//! proposals, and every read in the register log.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::clock::FixedClock;
use crate::store::Role;
use crate::store::any::AnyStore;
use crate::store::testing;
use hearth_shared::Timestamp;

const ANNA: &str = "nhs:9434765919";
const LOCAL: &str = "local:NURSERY-12:amy-b";
const CARL: &str = "nhs:9876543210";

struct Api {
    app: Router,
    store: std::sync::Arc<AnyStore>,
    admin: String,
    manager: String,
    auditor: String,
    _dir: tempfile::TempDir,
}

fn api() -> Api {
    // Off the test's runtime: the PostgreSQL client blocks.
    testing::blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut store = testing::open(dir.path());
        // A concern naming Anna and Carl: a proposal.
        crate::web::find::tests::device(
            &mut store,
            5,
            "HV-NORTH",
            "hv.jones",
            &[format!(
                r#"{{"kind":"concern","children":["{ANNA}","{CARL}"],"occurred_at":"2026-03-06T10:00:00Z","headline":"Seen together","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"HV"}}"#
            )],
        );
        let clock = FixedClock(Timestamp(crate::web::find::tests::NOW));
        let token = |name: &str, role: Role| {
            crate::admin::add_user(&store, &clock, name, role)
                .unwrap()
                .expose()
                .to_string()
        };
        let (admin, manager, auditor) = (
            token("root", Role::Admin),
            token("tm.khan", Role::Manager),
            token("audit.lee", Role::Auditor),
        );
        let (state, reads) = crate::web::find::tests::app_state(dir.path(), store);
        Api {
            app: super::super::router(state),
            store: reads,
            admin,
            manager,
            auditor,
            _dir: dir,
        }
    })
}

async fn call(
    app: &Router,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes))),
    )
}

#[tokio::test]
async fn a_person_round_trips_and_every_read_is_logged() {
    let a = api();
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/people",
        &format!(r#"{{"refs":["{ANNA}"],"name":"Amy Brown","dob":"2024-03-03","sex":"female"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({"id": "P1"}));
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/people",
        r#"{"name":"Dean Brown","adult":true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/people/P2/relations",
        &format!(r#"{{"child":"{ANNA}","relationship":"father"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/households/12%20Elm%20Road/members",
        r#"{"person":"P1","from":"2025-01-01"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let logged = testing::blocking(|| a.store.register_log()).unwrap().len();
    let (status, p) = call(&a.app, &a.manager, "GET", &format!("/v1/people/{ANNA}"), "").await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["id"], "P1");
    assert_eq!(p["name"], "Amy Brown");
    assert_eq!(p["born"], "2024-03-03");
    assert_eq!(p["expected"], Value::Null);
    assert_eq!(p["sex"], "female");
    assert_eq!(p["refs"], json!([ANNA]));
    assert_eq!(p["relations"][0]["relationship"], "father");
    assert_eq!(p["relations"][0]["person"]["name"], "Dean Brown");
    assert_eq!(p["memberships"][0]["household"], "12 Elm Road");
    assert_eq!(p["memberships"][0]["from"], "2025-01-01");
    assert_eq!(p["memberships"][0]["until"], Value::Null);
    let (status, found) = call(&a.app, &a.manager, "GET", "/v1/people?find=amy", "").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["people"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["people"][0]["id"], "P1");
    let log = testing::blocking(|| a.store.register_log()).unwrap();
    assert_eq!(log.len(), logged + 2, "{log:?}");
    assert!(log[logged..].iter().all(|e| e.who == "tm.khan"));
    // Edit, with a reason; a date cleared by null.
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/people/P1/edit",
        r#"{"name":"Amy B. Brown","reason":"name corrected from the birth register"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, p) = call(&a.app, &a.manager, "GET", "/v1/people/P1", "").await;
    assert_eq!(p["name"], "Amy B. Brown");
    let (status, body) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/households/12%20Elm%20Road/members/end",
        r#"{"person":"P1","until":"2026-06-30"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, p) = call(&a.app, &a.manager, "GET", "/v1/people/P1", "").await;
    assert_eq!(p["memberships"][0]["until"], "2026-06-30");
}

#[tokio::test]
async fn roles_decide_who_reads_and_who_changes() {
    let a = api();
    let add = format!(r#"{{"refs":["{ANNA}"],"name":"Amy Brown","dob":"2024-03-03"}}"#);
    let (status, body) = call(&a.app, &a.manager, "POST", "/v1/people", &add).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "forbidden");
    let (status, body) = call(&a.app, &a.auditor, "GET", "/v1/people", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(&a.app, "not-a-token", "GET", "/v1/people", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = call(&a.app, &a.manager, "GET", "/v1/people", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        testing::blocking(|| a.store.register())
            .unwrap()
            .people
            .is_empty()
    );
}

#[tokio::test]
async fn a_refusal_names_its_field() {
    let a = api();
    for (body, says) in [
        ("[]".to_string(), "must be a JSON object"),
        (
            r#"{"name":"Amy","colour":"red"}"#.to_string(),
            "colour: is not a field",
        ),
        (format!(r#"{{"refs":["{ANNA}"]}}"#), "name: is required"),
        (
            r#"{"refs":"nhs:9434765919","name":"Amy"}"#.to_string(),
            "refs: must be an array",
        ),
        (
            r#"{"refs":["nhs:1"],"name":"Amy"}"#.to_string(),
            "refs[0]: the reference",
        ),
        (
            format!(r#"{{"refs":["{ANNA}"],"name":"Amy","dob":"3 March"}}"#),
            "dob:",
        ),
        (
            format!(r#"{{"refs":["{ANNA}"],"name":"Amy","dob":"2099-01-01"}}"#),
            "dob:",
        ),
        (
            format!(r#"{{"refs":["{ANNA}"],"name":"Amy","sex":"x"}}"#),
            "sex: must be one of female",
        ),
        (
            format!(r#"{{"refs":["{ANNA}"],"name":"Amy","adult":"no"}}"#),
            "adult: must be true or false",
        ),
    ] {
        let (status, got) = call(&a.app, &a.admin, "POST", "/v1/people", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {got}");
        assert_eq!(got["error"], "bad_request");
        assert!(
            got["message"].as_str().unwrap().contains(says),
            "{body}: {got}"
        );
    }
    let (status, got) = call(&a.app, &a.manager, "GET", "/v1/people/P9", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{got}");
    assert!(
        testing::blocking(|| a.store.register())
            .unwrap()
            .people
            .is_empty()
    );
}

#[tokio::test]
async fn identity_links_with_a_reason_and_unlinks() {
    let a = api();
    let add = format!(r#"{{"refs":["{ANNA}"],"name":"Amy Brown","dob":"2024-03-03"}}"#);
    call(&a.app, &a.admin, "POST", "/v1/people", &add).await;
    let pair = |reason: &str| format!(r#"{{"a":"{LOCAL}","b":"{ANNA}","reason":"{reason}"}}"#);
    let (status, got) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/identity/link",
        &pair("short"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
    let (status, got) = call(
        &a.app,
        &a.manager,
        "POST",
        "/v1/identity/link",
        &pair("the nursery's reference for Amy"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{got}");
    let (status, got) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/identity/link",
        &pair("the nursery's reference for Amy"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (_, p) = call(
        &a.app,
        &a.manager,
        "GET",
        &format!("/v1/people/{LOCAL}"),
        "",
    )
    .await;
    let refs = p["refs"].as_array().unwrap();
    assert!(
        refs.contains(&json!(LOCAL)) && refs.contains(&json!(ANNA)),
        "{p}"
    );
    let (status, got) = call(
        &a.app,
        &a.admin,
        "POST",
        "/v1/identity/unlink",
        &pair("not the same child after all"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert!(
        testing::blocking(|| a.store.register())
            .unwrap()
            .identities
            .is_empty()
    );
}

#[tokio::test]
async fn a_csv_import_reports_the_rows_it_refused() {
    let a = api();
    let csv = format!(
        "kind,refs,name,dob,edd,sex,household,from,related_to,relationship\n\
         child,{ANNA},Amy Brown,2024-03-03,,female,12 Elm Road,2025-01-01,,\n\
         child,nhs:1,Bad Ref,2024-03-03,,,,,,\n\
         adult,,Dean Brown,,,,,,{ANNA},father\n"
    );
    let req = Request::post("/v1/people/import")
        .header(header::AUTHORIZATION, format!("Bearer {}", a.admin))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .unwrap();
    let res = a.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let got: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(got["imported"], 2, "{got}");
    let refused = got["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{got}");
    assert_eq!(refused[0]["row"], 2);
    assert_eq!(
        testing::blocking(|| a.store.register())
            .unwrap()
            .people
            .len(),
        2
    );
}

#[tokio::test]
async fn a_manager_confirms_or_rejects_a_proposal() {
    let a = api();
    let (status, got) = call(&a.app, &a.manager, "GET", "/v1/family/proposals", "").await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let all = got["proposals"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{got}");
    assert_eq!(all[0]["records"].as_array().unwrap().len(), 1);
    let (status, _) = call(&a.app, &a.auditor, "GET", "/v1/family/proposals", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let pair = |reason: &str| format!(r#"{{"a":"{ANNA}","b":"{CARL}","reason":"{reason}"}}"#);
    let (status, got) = call(
        &a.app,
        &a.manager,
        "POST",
        "/v1/family/proposals/reject",
        &pair(""),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
    assert!(
        got["message"].as_str().unwrap().starts_with("reason:"),
        "{got}"
    );
    let (status, got) = call(
        &a.app,
        &a.manager,
        "POST",
        "/v1/family/proposals/confirm",
        &pair("siblings, one household"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["linked"], true);
    let (status, _) = call(
        &a.app,
        &a.auditor,
        "POST",
        "/v1/family/proposals/reject",
        &pair("classmates, not family"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, got) = call(&a.app, &a.manager, "GET", "/v1/family/proposals", "").await;
    assert_eq!(got["proposals"], json!([]));
    let h = testing::blocking(|| a.store.family_history()).unwrap();
    assert_eq!(h.len(), 1);
    assert!(h[0].linked && h[0].who == "tm.khan");
}
