//! Tests of finding a child and breaking the glass, and the harness the
//! chronology and record tests share: a real SQLite store with signed
//! records of three agencies, this module's routes with a signed-in
//! [`Viewer`] put in each request (as the session guard does).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use ed25519_dalek::SigningKey;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::{DeviceId, Envelope, RecordHash, Seq, SignedRecord, Timestamp};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::clock::FixedClock;
use crate::config::Limits;
use crate::http::admit::BodyBudget;
use crate::http::metrics::Counters;
use crate::http::{AppState, OutboxKeys};
use crate::ingest::writer::{Fault, Writer};
use crate::keys::load_or_create_outbox_key;
use crate::line::Line;
use crate::localtime::Zone;
use crate::store::any::AnyStore;
use crate::store::testing;
use crate::store::{Grant, NewRecord, Role, Store};
use crate::web::SignedInBy;

/// Anna: the child the tests read.
pub(crate) const ANNA: &str = "nhs:9434765919";
/// Ben: Anna's brother (named with her on a home visit).
pub(crate) const BEN: &str = "nhs:4010232137";
/// Carl: a child of another family.
pub(crate) const CARL: &str = "nhs:9876543210";
/// Dan: the child a correction moved a record of Carl's to.
pub(crate) const DAN: &str = "nhs:1234567806";
/// The tests' "now": 2026-04-01.
pub(crate) const NOW: i64 = 1_775_001_600;
/// What every free-text field of the fixture carries.
pub(crate) const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
/// [`HOSTILE`] inside a JSON string.
const HJ: &str = r#"<script>alert(1)</script>\"><img src=x onerror=alert(2)>"#;

/// A store with records, and the routes over it.
pub(crate) struct Harness {
    /// The store (the same database the routes read).
    pub store: Arc<AnyStore>,
    /// The routes, state applied; requests come from `viewer`.
    pub app: Router,
    /// The health visitor's device.
    pub hv: DeviceId,
    /// The nursery's device.
    pub nursery: DeviceId,
    /// The school's device (a record of Carl's, moved to Dan).
    pub school: DeviceId,
    _dir: tempfile::TempDir,
}

/// Signs `bodies` as one device's chain.
fn chain(
    key: &SigningKey,
    agency: &str,
    author: &str,
    bodies: &[String],
) -> Vec<(Envelope, Vec<u8>)> {
    let defaults = Defaults {
        author: author.try_into().unwrap(),
        agency: agency.try_into().unwrap(),
    };
    let mut prev = RecordHash::GENESIS;
    let mut out = Vec::new();
    for (i, json) in bodies.iter().enumerate() {
        let body = parse_body(json, &defaults).unwrap_or_else(|e| panic!("{json}: {e}"));
        let env = Envelope {
            version: body.format_version(),
            device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            seq: Seq(i as u64 + 1),
            prev,
            device_time: Timestamp(body.occurred_at.0 + 600),
            body,
        };
        let signed = SignedRecord::sign(key, &env).unwrap();
        prev = signed.hash();
        out.push((env, signed.into_bytes()));
    }
    out
}

/// Enrols `key`'s device and stores `bodies` as ingest would.
pub(crate) fn device(
    store: &mut AnyStore,
    seed: u8,
    agency: &str,
    author: &str,
    bodies: &[String],
) -> DeviceId {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let grant = Grant {
        agency: agency.into(),
        worker: author.into(),
        staff: vec![],
    };
    let token = format!("token-{agency}");
    store
        .add_enrol_token(&token, &grant, Timestamp(1), Timestamp(i64::MAX))
        .unwrap();
    let id = DeviceId::from_public_key(key.verifying_key().as_bytes());
    store
        .enrol(&token, id, *key.verifying_key().as_bytes(), Timestamp(2))
        .unwrap()
        .unwrap();
    let records = chain(&key, agency, author, bodies);
    store
        .ingest(|tx| {
            for (e, bytes) in &records {
                tx.insert_record(&NewRecord {
                    line: Line::of(e),
                    prev: e.prev,
                    device_time: e.device_time,
                    bytes: bytes.clone(),
                    hash: SignedRecord::sign(&key, e).unwrap().hash(),
                    received_at: Timestamp(e.device_time.0 + 3_600),
                    corrected_time: Timestamp(e.device_time.0 - 30),
                    late_entry: false,
                })?;
            }
            Ok(())
        })
        .unwrap();
    id
}

/// Puts `viewer` in every request, as the session guard does.
pub(crate) fn signed_in(
    routes: Router<AppState<AnyStore>>,
    state: AppState<AnyStore>,
    viewer: Viewer,
) -> Router {
    routes
        .layer(axum::middleware::from_fn(
            move |mut req: Request, next: Next| {
                req.extensions_mut().insert(viewer.clone());
                next.run(req)
            },
        ))
        .with_state(state)
}

/// A viewer named `name` with `role`.
pub(crate) fn viewer(name: &str, role: Role) -> Viewer {
    Viewer {
        name: name.into(),
        role,
        csrf: "csrf-token".into(),
        by: SignedInBy::Session,
    }
}

/// Three agencies' records about Anna, Ben (her brother) and Carl, every
/// free-text field hostile where it is not needed to find them.
pub(crate) fn harness(v: Viewer) -> Harness {
    // Off the test's runtime: the PostgreSQL client blocks.
    testing::blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut store = testing::open(dir.path());
        let hv = device(
            &mut store,
            1,
            "HV-NORTH",
            "hv.jones",
            &[
                format!(
                    r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Visit: home cold {HJ}","access":"unannounced","child_seen":"awake","observations":[{{"domain":"nutrition","grade":4,"note":"empty fridge {HJ}"}},{{"domain":"housing","grade":2}}],"narrative":"narrative {HJ}"}}"#
                ),
                format!(
                    r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-04T11:00:00Z","headline":"Anna spoke about home","mode":"words","words":"I'm hungry at night {HJ}","meaning":"meaning {HJ}","action":"told the DSL {HJ}"}}"#
                ),
                format!(
                    r#"{{"kind":"meeting","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-05T14:00:00Z","headline":"Core group","meeting_type":"core_group","attendees":[{{"name":"SW\"><img src=x onerror=alert(3)>","agency":"CSC"}}],"absent_agencies":["GP-7"],"decisions":"decision {HJ}","minutes":"recorded","minutes_by":"SW"}}"#
                ),
                format!(
                    r#"{{"kind":"escalation","children":["{ANNA}"],"occurred_at":"2026-03-07T12:00:00Z","headline":"Escalated, stage 1","stage":1,"raised_by":"HV","raised_with":"CSC","disputed":"inaction","disagreement":"no reply {HJ}"}}"#
                ),
                format!(
                    r#"{{"kind":"revision","children":["{ANNA}"],"occurred_at":"2026-03-04T11:30:00Z","headline":"Anna spoke about home (time corrected)","corrects":"{}-2","reason":"time typed wrongly {HJ}","revised":{{"kind":"voice","mode":"words","words":"I'm hungry at night, every night","action":"referred to CSC"}}}}"#,
                    DeviceId::from_public_key(
                        SigningKey::from_bytes(&[1; 32]).verifying_key().as_bytes()
                    )
                ),
            ],
        );
        let nursery = device(
            &mut store,
            2,
            "NURSERY-12",
            "dsl.patel",
            &[format!(
                r#"{{"kind":"daily_presentation","children":["{ANNA}"],"occurred_at":"2026-03-03T08:05:00Z","headline":"Arrived with grandmother","attendance":"present","hungry":true,"injuries":[{{"body_region":"face","description":"bruise under left eye {HJ}","carer_explanation":"fell at home {HJ}","child_account":"Daddy was cross {HJ}"}}]}}"#
            )],
        );
        device(
            &mut store,
            3,
            "GP-7",
            "dr.ahmed",
            &[
                format!(
                    r#"{{"kind":"developmental_review","children":["{BEN}"],"occurred_at":"2026-03-06T09:30:00Z","headline":"2-year review","contact":"2_2half_years","outcomes":[{{"domain":"communication","outcome":"below_threshold"}},{{"domain":"gross_motor","outcome":"on_track"}}]}}"#
                ),
                format!(
                    r#"{{"kind":"concern","children":["{CARL}"],"occurred_at":"2026-03-06T10:00:00Z","headline":"Carl: another family","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"HV"}}"#
                ),
            ],
        );
        // A school's record about Carl, moved by its revision to Dan (no family
        // of the others).
        let school_key = SigningKey::from_bytes(&[4; 32]);
        let school_id = DeviceId::from_public_key(school_key.verifying_key().as_bytes());
        device(
            &mut store,
            4,
            "SCHOOL-3",
            "ms.khan",
            &[
                format!(
                    r#"{{"kind":"concern","children":["{CARL}"],"occurred_at":"2026-03-08T10:00:00Z","headline":"Moved","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"HV"}}"#
                ),
                format!(
                    r#"{{"kind":"revision","children":["{DAN}"],"occurred_at":"2026-03-08T10:00:00Z","headline":"Moved","corrects":"{school_id}-1","reason":"wrong child","revised":{{"kind":"concern","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"HV"}}}}"#
                ),
            ],
        );
        let (state, reads) = app_state(dir.path(), store);
        let routes = Router::new()
            .merge(super::routes::<AnyStore>())
            .merge(crate::web::chronology::routes::<AnyStore>())
            .merge(crate::web::record::routes::<AnyStore>())
            .merge(crate::web::signals::caseload::routes::<AnyStore>());
        Harness {
            store: reads,
            app: signed_in(routes, state, v),
            hv,
            nursery,
            school: school_id,
            _dir: dir,
        }
    })
}

/// The state of the routes over the store in `dir` (`store` becomes the
/// ingest writer's), and the store the routes read through.
pub(crate) fn app_state(
    dir: &std::path::Path,
    store: AnyStore,
) -> (AppState<AnyStore>, Arc<AnyStore>) {
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(FixedClock(Timestamp(NOW)));
    let server_key = Arc::new(SigningKey::from_bytes(&[9; 32]));
    let outbox = Arc::new(OutboxKeys::new(
        load_or_create_outbox_key(dir, false).unwrap(),
        &server_key,
    ));
    let writer = Writer::start(store, clock.clone(), Fault::None, || {});
    let reads = Arc::new(testing::connect(dir));
    let state = AppState {
        reads: reads.clone(),
        server_key,
        outbox,
        writer,
        limits: Limits::default(),
        clock,
        counters: Arc::new(Counters::default()),
        budget: BodyBudget::new(1 << 20),
        zone: Zone::default(),
        signals: Default::default(),
    };
    (state, reads)
}

/// A response's status, `Location` and body.
pub(crate) async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, location, String::from_utf8(body.to_vec()).unwrap())
}

/// `GET path`.
pub(crate) async fn get(app: &Router, path: &str) -> (StatusCode, Option<String>, String) {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

/// `POST path` with a form body.
pub(crate) async fn post(
    app: &Router,
    path: &str,
    form: &str,
) -> (StatusCode, Option<String>, String) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    send(app, req).await
}

/// Breaks the glass for `child`: the chronology's URL.
pub(crate) async fn break_glass(app: &Router, child: &str, family: bool) -> String {
    let form = format!(
        "csrf=csrf-token&reason=strategy+meeting+12+March&purpose=strategy_discussion{}",
        if family { "&family=1" } else { "" }
    );
    let (status, location, body) = post(app, &format!("/children/{child}/read"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    location.unwrap()
}

/// Every `id` on the page once (a page with two of an id fails axe and
/// breaks the links to its sections).
pub(crate) fn ids_unique(body: &str) {
    let mut seen = std::collections::BTreeSet::new();
    for part in body.split(" id=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(seen.insert(id.to_string()), "id {id} twice in {body}");
    }
}

#[test]
fn a_child_is_typed_as_a_bare_nhs_number_or_a_reference() {
    assert_eq!(parse_child("943 476 5919").unwrap().to_string(), ANNA);
    assert_eq!(parse_child(" 9434765919 ").unwrap().to_string(), ANNA);
    assert_eq!(parse_child("nhs:943 476 5919").unwrap().to_string(), ANNA);
    assert_eq!(
        parse_child("local:LA-NORTH:C 0042").unwrap().to_string(),
        "local:LA-NORTH:C 0042"
    );
    let e = parse_child("9434765918").unwrap_err();
    assert!(
        e.contains("not a valid NHS number") && e.contains("10-digit NHS number"),
        "{e}"
    );
    let e = parse_child("anna").unwrap_err();
    assert!(
        e.starts_with("The child reference is not a valid local reference"),
        "{e}"
    );
    assert!(
        parse_child("  ")
            .unwrap_err()
            .contains("Enter the child's NHS number")
    );
    assert_eq!(
        path_segment("local:LA:a/b?c#d e"),
        "local:LA:a%2Fb%3Fc%23d%20e"
    );
}

#[test]
fn a_grant_is_the_readers_own_for_its_child_until_it_expires() {
    let g = ReadGrant {
        id: "g".into(),
        user: "dsl".into(),
        child: ANNA.parse().unwrap(),
        family: false,
        reason: "strategy meeting".into(),
        purpose: Purpose::CaseReview,
        created_at: Timestamp(0),
        expires_at: Timestamp(100),
    };
    let dsl = viewer("dsl", Role::Manager);
    let anna: ChildRef = ANNA.parse().unwrap();
    let ben: ChildRef = BEN.parse().unwrap();
    assert!(valid_grant(Some(g.clone()), &dsl, Some(&anna), Timestamp(99)).is_some());
    assert!(valid_grant(Some(g.clone()), &dsl, None, Timestamp(99)).is_some());
    assert!(valid_grant(Some(g.clone()), &dsl, Some(&ben), Timestamp(99)).is_none());
    assert!(valid_grant(Some(g.clone()), &dsl, Some(&anna), Timestamp(100)).is_none());
    assert!(
        valid_grant(
            Some(g),
            &viewer("other", Role::Manager),
            Some(&anna),
            Timestamp(1)
        )
        .is_none()
    );
    assert!(valid_grant(None, &dsl, Some(&anna), Timestamp(1)).is_none());
}

#[tokio::test]
async fn find_shows_the_glass_form_and_a_bad_reference_names_the_fix() {
    let h = harness(viewer("dsl", Role::Manager));
    let (status, _, body) = get(&h.app, "/find").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"id="child""#) && body.contains(">Find</button>"),
        "{body}"
    );
    let (status, _, body) = get(&h.app, "/find?child=943+476+5919").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"action="/children/nhs:9434765919/read""#),
        "{body}"
    );
    for id in [
        r#"id="reason""#,
        r#"id="purpose-court_or_statutory""#,
        r#"id="family""#,
        "Show the chronology",
    ] {
        assert!(body.contains(id), "{id} in {body}");
    }
    let (status, _, body) = get(&h.app, "/find?child=12345").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(r#"id="child-error""#) && body.contains("not a valid NHS number"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refused_reason_is_the_form_again_with_its_message_and_no_grant() {
    let h = harness(viewer("dsl", Role::Manager));
    let (status, location, body) = post(
        &h.app,
        &format!("/children/{ANNA}/read"),
        "csrf=c&reason=review&purpose=supervision",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_none());
    assert!(body.contains(r#"id="reason-error""#), "{body}");
    assert!(
        body.contains("The reason &quot;review&quot; has 6 visible characters"),
        "{body}"
    );
    assert!(
        body.contains(r#"value="supervision" checked"#),
        "the purpose is kept: {body}"
    );
    let (status, _, body) = post(
        &h.app,
        &format!("/children/{ANNA}/read"),
        "csrf=c&reason=strategy+meeting+12+March",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("Choose the purpose of reading")
            && body.contains("#purpose-strategy_discussion"),
        "{body}"
    );
    assert!(
        testing::blocking(|| h.store.access_log())
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn breaking_the_glass_makes_the_readers_grant_and_redirects() {
    let h = harness(viewer("dsl", Role::Manager));
    let to = break_glass(&h.app, ANNA, true).await;
    let id = to
        .strip_prefix(&format!("/children/{ANNA}/chronology?grant="))
        .unwrap();
    assert_eq!(id.len(), 32);
    let g = testing::blocking(|| h.store.grant(id)).unwrap().unwrap();
    assert_eq!(
        (g.user.as_str(), g.family, g.purpose),
        ("dsl", true, Purpose::StrategyDiscussion)
    );
    assert_eq!(g.reason, "strategy meeting 12 March");
    assert_eq!(g.expires_at.0 - g.created_at.0, GRANT_HOURS * 3_600);
    assert!(
        testing::blocking(|| h.store.access_log())
            .unwrap()
            .is_empty(),
        "a grant reads nothing"
    );
}
