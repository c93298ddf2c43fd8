//! The forms through the app's whole router (`tower::ServiceExt::oneshot`,
//! security layer included): submit with problems, every one shown;
//! check your answers; only Confirm captures, through the record path.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode, header};
use hearth_shared::Timestamp;
use hearth_shared::clock::FixedClock;
use tower::ServiceExt;

use crate::app::{AppConfig, AppState, Unlocked, router, security};
use crate::capture::tests::test_key;
use crate::seal::{DataKey, Sealer};
use crate::store::{DeviceSettings, LocalStore, RecordStore};

const HOST: &str = "127.0.0.1:8080";

pub(crate) struct App {
    pub(crate) state: AppState,
    cookie: String,
    _dir: tempfile::TempDir,
}

pub(crate) fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let dk = DataKey::from_bytes([4u8; 32]);
    let mut store = LocalStore::open_dir(dir.path())
        .unwrap()
        .unlocked(Sealer::new(&dk));
    let key = test_key();
    let settings = DeviceSettings {
        device_id: key.device_id(),
        agency: hearth_shared::Text::try_from_str("HV-NORTH").unwrap(),
        worker: hearth_shared::Text::try_from_str("hv-ann").unwrap(),
        created_at: Timestamp(1_800_000_000),
    };
    store.init_settings(&settings).unwrap();
    let addr: SocketAddr = HOST.parse().unwrap();
    let config = AppConfig {
        store_dir: dir.path().to_path_buf(),
        addr,
        idle_seconds: 600,
    };
    let state = AppState::new(config, Arc::new(FixedClock(Timestamp(1_800_000_000))));
    let (session, set_cookie) = security::new_signed_in_session(&state);
    *state.unlocked() = Some(Unlocked {
        store,
        key,
        data_key: dk,
        settings,
        session,
    });
    let cookie = set_cookie
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    App {
        state,
        cookie,
        _dir: dir,
    }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) location: String,
    pub(crate) body: String,
}

impl App {
    pub(crate) async fn send(&self, method: &str, uri: &str, form: Option<String>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.cookie);
        if method == "POST" {
            req = req
                .header(header::ORIGIN, format!("http://{HOST}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let req = req.body(HttpBody::from(form.unwrap_or_default())).unwrap();
        let resp = router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        Reply {
            status,
            location,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub(crate) fn records(&self) -> usize {
        self.state
            .with_unlocked(|u| u.store.all().unwrap().len())
            .unwrap()
    }
}

/// The value of attribute `attr` after `marker` in `html`.
pub(crate) fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let rest = &html[at..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[start..start + rest[start..].find('"').unwrap()].to_string()
}

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    let esc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn submit_shows_every_problem_then_check_then_only_confirm_captures() {
    let app = app();
    let form = app.send("GET", "/forms/concern", None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = attr_after(&form.body, "name=\"csrf\"", "value");
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    assert!(action.starts_with("/drafts/"), "{action}");
    assert!(
        form.body.contains("value=\"2027-01-15\""),
        "date defaults to now"
    );

    let bad = encode(&[
        ("csrf", &csrf),
        ("_kind", "concern"),
        ("_action", "check"),
        ("children[0]", "nhs:9434765918"),
        ("occurred_at.date", "2027-01-15"),
        ("occurred_at.time", "08:00"),
        ("headline", ""),
        ("category", "neglect"),
        ("seen_or_said", ""),
        ("action", "none"),
        ("action_detail", ""),
    ]);
    let r = app.send("POST", &action, Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for id in [
        "f-children-0",
        "f-headline",
        "f-seen_or_said",
        "f-action_detail",
    ] {
        assert!(
            r.body.contains(&format!("href=\"#{id}\"")),
            "{id} not in the summary"
        );
        assert!(
            r.body.contains(&format!("id=\"{id}-error\"")),
            "{id} has no message beside it"
        );
    }
    assert!(
        r.body.contains("the check digit should be"),
        "the core's own message"
    );
    assert_eq!(app.records(), 0);

    let good = encode(&[
        ("csrf", &csrf),
        ("_kind", "concern"),
        ("_action", "check"),
        ("children[0]", "nhs:9434765919"),
        ("occurred_at.date", "2027-01-15"),
        ("occurred_at.time", "08:00"),
        ("headline", "Bruise <on> arm"),
        ("category", "physical"),
        ("seen_or_said", "A bruise"),
        ("action", "none"),
        ("action_detail", "watch"),
    ]);
    let r = app.send("POST", &action, Some(good)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{action}/check"));
    let check = app.send("GET", &r.location, None).await;
    assert_eq!(check.status, StatusCode::OK);
    assert!(check.body.contains("Check your answers"));
    assert!(check.body.contains("Bruise &lt;on&gt; arm"));
    assert!(
        check
            .body
            .contains(&format!("href=\"{action}#f-seen_or_said\""))
    );
    assert_eq!(app.records(), 0, "nothing is captured before Confirm");

    let r = app
        .send(
            "POST",
            &format!("{action}/confirm"),
            Some(encode(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Saved"));
    assert_eq!(app.records(), 1);
    let rid = attr_after(&r.body, "View the record", "href");
    let _ = rid;
    let gone = app.send("GET", &action, None).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "the draft went with the capture"
    );
    let again = app
        .send(
            "POST",
            &format!("{action}/confirm"),
            Some(encode(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "a second Confirm captures nothing"
    );
    assert_eq!(app.records(), 1);
}

#[tokio::test]
async fn a_draft_is_saved_resumed_and_discarded() {
    let app = app();
    let form = app.send("GET", "/forms/voice", None).await;
    let csrf = attr_after(&form.body, "name=\"csrf\"", "value");
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    let typing = encode(&[
        ("csrf", &csrf),
        ("_kind", "voice"),
        ("_action", "autosave"),
        ("words", "I don't want to go home"),
    ]);
    let r = app.send("POST", &action, Some(typing)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let resumed = app.send("GET", &action, None).await;
    assert!(
        resumed.body.contains("I don&#39;t want to go home")
            || resumed.body.contains("I don't want to go home")
    );
    let list = app.send("GET", "/drafts", None).await;
    assert!(list.body.contains(&action));
    let r = app
        .send(
            "POST",
            &format!("{action}/discard"),
            Some(encode(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.send("GET", &action, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.records(), 0);
}

#[tokio::test]
async fn the_body_map_without_scripts_adds_an_injury_at_the_region() {
    let app = app();
    let r = app
        .send("GET", "/forms/daily_presentation?region=arm", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(r#"id="f-injuries-0-body_region-arm" name="injuries[0].body_region" value="arm" checked"#), "region not filled");
    let bogus = app
        .send("GET", "/forms/daily_presentation?region=%3Cx%3E", None)
        .await;
    assert!(
        !bogus.body.contains("checked"),
        "an unknown region fills nothing"
    );
}

#[tokio::test]
async fn a_post_without_the_csrf_token_saves_nothing() {
    let app = app();
    let form = app.send("GET", "/forms/concern", None).await;
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    let r = app
        .send(
            "POST",
            &action,
            Some(encode(&[("_kind", "concern"), ("headline", "x")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.send("GET", &action, None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Seeds yesterday's daily presentations for `children`.
pub(crate) fn seed_register(app: &App, children: &[&str]) {
    for child in children {
        let json = format!(
            r#"{{"kind":"daily_presentation","children":["{child}"],"occurred_at":"2027-01-14T08:00:00Z","headline":"Present","attendance":"present"}}"#
        );
        app.state
            .with_unlocked(|u| {
                crate::capture::capture_json(
                    &mut u.store,
                    &u.key,
                    &FixedClock(Timestamp(1_799_900_000)),
                    &crate::app::forms::spec::tests::defaults(),
                    &json,
                )
                .unwrap()
            })
            .unwrap();
    }
}

#[tokio::test]
async fn the_register_records_present_in_one_tap_and_opens_exceptions() {
    let app = app();
    seed_register(&app, &["nhs:9434765919", "nhs:9434765870"]);
    let first = app.send("GET", "/register", None).await;
    assert!(first.body.contains("Choose who is recording first"));
    assert!(first.body.contains(r#"id="author-hv-ann""#));
    let page = app.send("GET", "/register?author=hv-ann", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = attr_after(&page.body, "name=\"csrf\"", "value");
    assert!(page.body.contains(r#"id="child-nhs-9434765919-present""#));
    let r = app
        .send(
            "POST",
            "/register/present",
            Some(encode(&[
                ("csrf", &csrf),
                ("child", "nhs:9434765919"),
                ("author", "hv-ann"),
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.records(), 3, "one tap, one record");
    let after = app.send("GET", "/register?author=hv-ann", None).await;
    assert!(
        !after.body.contains(r#"id="child-nhs-9434765919-present""#),
        "recorded today"
    );
    assert!(after.body.contains(r#"id="child-nhs-9434765870-present""#));
    let stranger = app
        .send(
            "POST",
            "/register/present",
            Some(encode(&[
                ("csrf", &csrf),
                ("child", "nhs:9434765870"),
                ("author", "mallory"),
            ])),
        )
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an author off the staff list"
    );
    assert_eq!(app.records(), 3);
    let late = app
        .send(
            "GET",
            "/register/exception?child=nhs%3A9434765870&author=hv-ann&what=late",
            None,
        )
        .await;
    assert_eq!(late.status, StatusCode::OK);
    assert!(
        late.body.contains(r#"value="late" checked"#),
        "late is filled in"
    );
    assert!(late.body.contains(r#"name="_author" value="hv-ann""#));
    assert!(late.body.contains(r#"value="nhs:9434765870""#));
    let csrf_late = attr_after(&late.body, "name=\"csrf\"", "value");
    let action = attr_after(&late.body, "data-draft=", "data-draft");
    let (date, time) = ("2027-01-15", "08:00");
    let pairs = [
        ("csrf", csrf_late.as_str()),
        ("_kind", "daily_presentation"),
        ("_author", "hv-ann"),
        ("_action", "check"),
        ("children[0]", "nhs:9434765870"),
        ("occurred_at.date", date),
        ("occurred_at.time", time),
        ("headline", "Late"),
        ("attendance", "late"),
        ("arrival_time", "08:00"),
    ];
    let r = app.send("POST", &action, Some(encode(&pairs))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .send(
            "POST",
            &format!("{action}/confirm"),
            Some(encode(&[("csrf", &csrf_late)])),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "back to the register");
    assert!(
        r.location.starts_with("/register?author=hv-ann&saved="),
        "{}",
        r.location
    );
    assert_eq!(app.records(), 4);
    let back = app.send("GET", &r.location, None).await;
    assert!(back.body.contains("Saved: record"));
    assert!(
        !back.body.contains(r#"id="child-nhs-9434765870-present""#),
        "recorded today"
    );
}

#[tokio::test]
async fn drafts_older_than_the_limit_are_purged() {
    let app = app();
    let now = app.state.clock().now();
    let old = now.0 - super::DRAFT_DAYS * 86_400 - 1;
    app.state
        .with_unlocked(|u| {
            u.store
                .save_draft(7, Timestamp(old), br#"{"kind":"concern","answers":{}}"#)
                .unwrap();
            u.store
                .save_draft(8, Timestamp(old + 2), br#"{"kind":"concern","answers":{}}"#)
                .unwrap();
        })
        .unwrap();
    let list = app.send("GET", "/drafts", None).await;
    assert!(!list.body.contains("/drafts/0000000000000007"));
    assert!(list.body.contains("/drafts/0000000000000008"));
}

/// Captures a concern through the forms; its record id.
async fn capture_concern(app: &App) -> (String, String) {
    let form = app.send("GET", "/forms/concern", None).await;
    let csrf = attr_after(&form.body, "name=\"csrf\"", "value");
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    let good = encode(&[
        ("csrf", &csrf),
        ("_kind", "concern"),
        ("_action", "check"),
        ("children[0]", "nhs:9434765919"),
        ("occurred_at.date", "2027-01-15"),
        ("occurred_at.time", "08:00"),
        ("headline", "Bruise on arm"),
        ("category", "physical"),
        ("seen_or_said", "A bruise"),
        ("action", "none"),
        ("action_detail", "watch"),
    ]);
    assert_eq!(
        app.send("POST", &action, Some(good)).await.status,
        StatusCode::SEE_OTHER
    );
    let saved = app
        .send(
            "POST",
            &format!("{action}/confirm"),
            Some(encode(&[("csrf", &csrf)])),
        )
        .await;
    let at = saved.body.find("id=\"record-id\">").unwrap() + "id=\"record-id\">".len();
    let rid = saved.body[at..].split('<').next().unwrap().to_string();
    (rid, csrf)
}

#[tokio::test]
async fn a_record_is_amended_from_its_latest_version_then_retracted() {
    let app = app();
    let (rid, csrf) = capture_concern(&app).await;
    assert_eq!(app.records(), 1);
    let form = app
        .send("GET", &format!("/records/{rid}/amend"), None)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(r#"id="f-reason""#));
    assert!(form.body.contains("A bruise"), "starts from the original");
    assert!(form.body.contains(r#"value="physical" checked"#));
    let action = attr_after(&form.body, "data-draft=", "data-draft");
    let mut pairs = vec![
        ("csrf", csrf.as_str()),
        ("_kind", "concern"),
        ("_corrects", rid.as_str()),
        ("_action", "check"),
        ("children[0]", "nhs:9434765919"),
        ("occurred_at.date", "2027-01-15"),
        ("occurred_at.time", "08:00"),
        ("headline", "Bruise on arm"),
        ("category", "physical"),
        ("seen_or_said", "A bruise, 2 cm, yellow"),
        ("action", "none"),
        ("action_detail", "watch"),
        ("reason", ""),
    ];
    let r = app.send("POST", &action, Some(encode(&pairs))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("href=\"#f-reason\""),
        "the reason is required"
    );
    pairs.pop();
    pairs.push(("reason", "size and colour added"));
    let r = app.send("POST", &action, Some(encode(&pairs))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let check = app.send("GET", &r.location, None).await;
    assert!(check.body.contains("size and colour added"));
    let saved = app
        .send(
            "POST",
            &format!("{action}/confirm"),
            Some(encode(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(app.records(), 2);
    let old = app
        .send("GET", &format!("/records/{rid}/amend"), None)
        .await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "an old version sends to the latest"
    );
    assert_ne!(old.location, format!("/records/{rid}/amend"));

    let page = app
        .send("GET", &format!("/records/{rid}/retract"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let empty = app
        .send(
            "POST",
            &format!("/records/{rid}/retract"),
            Some(encode(&[("csrf", &csrf), ("reason", "")])),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("reason"), "{}", empty.body);
    assert_eq!(app.records(), 2);
    let done = app
        .send(
            "POST",
            &format!("/records/{rid}/retract"),
            Some(encode(&[("csrf", &csrf), ("reason", "wrong child")])),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Saved"));
    assert_eq!(app.records(), 3);
}

#[tokio::test]
async fn the_forms_script_and_styles_are_served_cached_by_hash() {
    let app = app();
    let form = app.send("GET", "/forms/home_visit", None).await;
    for url in [
        crate::app::assets::forms_js_url(),
        crate::app::assets::forms_css_url(),
    ] {
        assert!(form.body.contains(&url), "{url} not linked");
        let r = app.send("GET", &url, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.is_empty());
    }
    let stale = app.send("GET", "/static/forms.000000000000.js", None).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
}

/// Another device's record id names nothing on this tablet: its amend and
/// retract pages say so, and never show this tablet's record of the same
/// sequence number.
#[tokio::test]
async fn another_devices_record_id_is_not_this_tablets_record() {
    let app = app();
    let (rid, _) = capture_concern(&app).await;
    let seq = rid.rsplit('-').next().unwrap();
    let foreign = format!("0123456789abcdef-{seq}");
    assert_ne!(foreign, rid);
    for page in ["amend", "retract"] {
        let r = app
            .send("GET", &format!("/records/{foreign}/{page}"), None)
            .await;
        assert!(!r.body.contains("A bruise"), "{page}: {}", r.body);
        assert!(
            r.body.contains("not held on this tablet"),
            "{page}: {}",
            r.body
        );
    }
}
