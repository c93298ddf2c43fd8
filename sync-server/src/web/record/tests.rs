//! Tests of the record behind a line: only a record in the grant's view,
//! read logged first, every field shown, hostile text inert; the JSON.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;

use crate::store::testing;
use crate::store::{Purpose, Role, Store, Via};
use crate::web::find::tests::{
    ANNA, BEN, CARL, DAN, HOSTILE, break_glass, get, harness, ids_unique, send, viewer,
};

fn grant_of(url: &str) -> &str {
    url.rsplit('=').next().unwrap()
}

/// The part of `body` in the section with `id`.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap()]
}

fn inert(body: &str) {
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains("<img src=x"), "{body}");
    assert!(
        body.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn the_record_behind_a_line_shows_every_field_after_logging_the_read() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, ANNA, true).await;
    let g = grant_of(&url);
    let before = testing::blocking(|| h.store.access_log()).unwrap().len();

    let (status, _, body) = get(&h.app, &format!("/records/{}-1?grant={g}", h.nursery)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ids_unique(&body);
    let injuries = section(&body, "injuries");
    assert!(
        injuries.contains("Face") && injuries.contains("bruise under left eye"),
        "{injuries}"
    );
    assert!(
        injuries.contains("fell at home") && injuries.contains("Daddy was cross"),
        "{injuries}"
    );
    inert(injuries);
    assert!(
        section(&body, "fields").contains("Hungry</dt><dd class=\"summary-list__value\">Yes"),
        "{body}"
    );
    let provenance = section(&body, "provenance");
    assert!(
        provenance.contains("Signature verified on receipt"),
        "{provenance}"
    );
    assert!(
        provenance.contains("Captured (device clock)") && provenance.contains("Received (synced)")
    );
    assert!(section(&body, "amendments").contains("has not been amended"));
    let log = testing::blocking(|| h.store.access_log()).unwrap();
    assert_eq!(log.len(), before + 1, "the read is logged");
    let a = log.last().unwrap();
    assert_eq!(
        (a.via, a.purpose, a.family),
        (Via::Web, Some(Purpose::StrategyDiscussion), true)
    );
    assert_eq!(
        a.children,
        vec![ANNA.parse().unwrap()],
        "the record's children"
    );

    let (_, _, body) = get(&h.app, &format!("/records/{}-1?grant={g}", h.hv)).await;
    let grades = section(&body, "care-grades");
    assert!(
        grades.contains("Nutrition") && grades.contains("4 (a concern)"),
        "{grades}"
    );
    inert(grades);
    let (_, _, body) = get(&h.app, &format!("/records/{}-3?grant={g}", h.hv)).await;
    let meeting = section(&body, "meeting");
    assert!(
        meeting.contains("GP-7") && meeting.contains("Core group"),
        "{meeting}"
    );
    inert(meeting);
    let (_, _, body) = get(&h.app, &format!("/records/{}-4?grant={g}", h.hv)).await;
    let escalation = section(&body, "escalation");
    assert!(
        escalation.contains("Stage 1 of 4") && escalation.contains("Unresolved"),
        "{escalation}"
    );
    inert(escalation);
}

#[tokio::test]
async fn an_amended_record_shows_its_latest_fields_the_original_and_the_reason() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, ANNA, false).await;
    let g = grant_of(&url);
    // By its own id, or by its correction's: the same record.
    for seq in [2, 5] {
        let (status, _, body) = get(&h.app, &format!("/records/{}-{seq}?grant={g}", h.hv)).await;
        assert_eq!(status, StatusCode::OK);
        let words = section(&body, "child-words");
        assert!(
            words.contains("I&#39;m hungry at night, every night")
                || words.contains("I'm hungry at night, every night"),
            "{words}"
        );
        // The last section, with every version's fields nested in it.
        ids_unique(&body);
        let amendments = &body[body.find("<section id=\"amendments\"").unwrap()..];
        assert!(
            amendments.contains("The original") && amendments.contains("Correction 1"),
            "{amendments}"
        );
        assert!(amendments.contains("time typed wrongly"), "{amendments}");
        assert!(
            amendments.contains("I&#39;m hungry at night &lt;script&gt;")
                || amendments.contains("I'm hungry at night &lt;script&gt;"),
            "the original's words: {amendments}"
        );
        inert(amendments);
    }
}

#[tokio::test]
async fn a_record_outside_the_view_is_refused_as_if_it_did_not_exist() {
    let h = harness(viewer("dsl", Role::Manager));
    let url = break_glass(&h.app, ANNA, false).await;
    let g = grant_of(&url);
    let before = testing::blocking(|| h.store.access_log()).unwrap().len();
    // Ben's review (GP-7) is not in Anna's own view; 99 does not exist.
    let gp = testing::blocking(|| h.store.devices())
        .unwrap()
        .into_iter()
        .find(|d| d.agency == "GP-7")
        .unwrap()
        .id;
    let (s1, _, b1) = get(&h.app, &format!("/records/{gp}-1?grant={g}")).await;
    let (s2, _, b2) = get(&h.app, &format!("/records/{gp}-99?grant={g}")).await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(b1, b2, "the same answer");
    let (s, _, _) = get(&h.app, &format!("/records/{}-1?grant=nonesuch", h.nursery)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = get(&h.app, &format!("/records/{}-1", h.nursery)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        testing::blocking(|| h.store.access_log()).unwrap().len(),
        before,
        "nothing read, nothing logged"
    );
    // Another reader may not use this reader's grant.
    let other = harness(viewer("other", Role::Manager));
    testing::blocking(|| other.store.add_grant(&h.store.grant(g).unwrap().unwrap())).unwrap();
    let (s, _, _) = get(
        &other.app,
        &format!("/records/{}-1?grant={g}", other.nursery),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_json_form_is_audited_and_carries_the_same_detail() {
    let h = harness(viewer("script", Role::Manager));
    let (status, _, body) = get(&h.app, &format!("/v1/records/{}-1", h.nursery)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("reason_required"), "{body}");
    assert!(
        testing::blocking(|| h.store.access_log())
            .unwrap()
            .is_empty()
    );

    let (status, _, body) = get(
        &h.app,
        &format!("/v1/records/{}-1?reason=case+review+of+March", h.nursery),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["detail"]["kind"], "daily_presentation");
    assert_eq!(v["detail"]["hungry"], true);
    assert_eq!(v["detail"]["injuries"][0]["body_region"], "face");
    assert_eq!(
        v["detail"]["injuries"][0]["child_account"],
        format!("Daddy was cross {HOSTILE}")
    );
    assert_eq!(v["provenance"]["signature"], "verified_on_receipt");
    let log = testing::blocking(|| h.store.access_log()).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].via, log[0].child.is_none(), log[0].purpose),
        (Via::Http, true, None)
    );

    let (_, _, body) = get(
        &h.app,
        &format!("/v1/records/{}-5?reason=case+review+of+March", h.hv),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["record_id"],
        format!("{}-2", h.hv),
        "a correction reads as its record"
    );
    assert_eq!(v["detail"]["words"], "I'm hungry at night, every night");
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["versions"][1]["reason"],
        format!("time typed wrongly {HOSTILE}")
    );
    assert_eq!(
        v["versions"][0]["detail"]["words"],
        format!("I'm hungry at night {HOSTILE}")
    );

    // A record a correction moved from Carl to Dan: found by its id, and
    // both children logged.
    let (status, _, body) = get(
        &h.app,
        &format!("/v1/records/{}-1?reason=case+review+of+March", h.school),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["children"], serde_json::json!([DAN]));
    let log = testing::blocking(|| h.store.access_log()).unwrap();
    let logged = &log.last().unwrap().children;
    assert_eq!(logged, &vec![DAN.parse().unwrap(), CARL.parse().unwrap()]);

    let (status, _, body) = get(&h.app, "/v1/records/zz-1?reason=case+review+of+March").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = get(
        &h.app,
        &format!("/v1/records/{}-77?reason=case+review+of+March", h.hv),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_auditor_reads_no_record() {
    let h = harness(viewer("audit", Role::Auditor));
    let req = Request::get(format!(
        "/v1/records/{}-1?reason=case+review+of+March",
        h.nursery
    ))
    .body(Body::empty())
    .unwrap();
    let (status, _, _) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = get(&h.app, &format!("/children/{BEN}/chronology")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        testing::blocking(|| h.store.access_log())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_correction_shown_on_its_own_keeps_its_sections_ids_once() {
    let json = r#"{"kind":"revision","children":["nhs:9434765919"],"occurred_at":"2026-03-04T11:00:00Z","headline":"h","corrects":"0102030405060708-1","reason":"typo","revised":{"kind":"voice","mode":"words","words":"hungry"}}"#;
    let defaults = hearth_shared::json::Defaults {
        author: "hv.jones".try_into().unwrap(),
        agency: "HV-NORTH".try_into().unwrap(),
    };
    let d = hearth_shared::json::parse_body(json, &defaults)
        .unwrap()
        .detail;
    let html = super::fields::fields(&d, "").into_string();
    ids_unique(&html);
    assert!(html.contains(r#"<section id="correction""#), "{html}");
    assert!(html.contains(r#"<section id="child-words""#), "{html}");
    let html = super::fields::fields(&d, "v1-").into_string();
    assert!(html.contains(r#"id="v1-child-words""#), "{html}");
}
