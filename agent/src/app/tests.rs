//! Router tests: the security layer and the way in, driven with
//! `tower::ServiceExt::oneshot` against a real store in a temporary
//! directory (weak Argon2 parameters, so unlocking takes milliseconds).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hearth_shared::clock::Clock;
use hearth_shared::{Text, Timestamp};
use http_body_util::BodyExt;
use rand_core::OsRng;
use tower::ServiceExt;

use super::{AppConfig, AppState, router};
use crate::keyring::{KdfParams, Keyring};
use crate::keys::DeviceKey;
use crate::seal::DataKey;
use crate::store::{DeviceSettings, LocalStore, RecordStore};

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";
pub(crate) const HOST: &str = "127.0.0.1:8380";
pub(crate) const ORIGIN: &str = "http://127.0.0.1:8380";

/// A clock the test moves.
#[derive(Default)]
pub(crate) struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(1_800_000_000 + self.0.load(Ordering::SeqCst))
    }
}

impl TestClock {
    pub(crate) fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// An initialised store in `dir` (what `init` makes, with test Argon2).
pub(crate) fn init_store(dir: &Path) {
    let mut store = LocalStore::open_dir(dir).unwrap();
    let key = DeviceKey::generate(&mut OsRng);
    let dk = DataKey::generate(&mut OsRng);
    Keyring::create(&dk, &key, PASSPHRASE, KdfParams::INSECURE_TEST, &mut OsRng)
        .unwrap()
        .save_new(dir)
        .unwrap();
    store
        .init_settings(&DeviceSettings {
            device_id: key.device_id(),
            agency: Text::try_from_str("HV-NORTH").unwrap(),
            worker: Text::try_from_str("hv-ann").unwrap(),
            created_at: Timestamp(1_800_000_000),
        })
        .unwrap();
}

/// A test app over a fresh temporary directory.
pub(crate) struct TestApp {
    pub(crate) state: AppState,
    pub(crate) clock: Arc<TestClock>,
    pub(crate) dir: tempfile::TempDir,
}

impl TestApp {
    /// An app with an initialised store (`init == true`) or none.
    pub(crate) fn new(init: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if init {
            init_store(dir.path());
        }
        let clock = Arc::new(TestClock::default());
        let config = AppConfig {
            store_dir: dir.path().to_path_buf(),
            addr: HOST.parse().unwrap(),
            idle_seconds: 600,
        };
        let state = AppState::new(config, clock.clone());
        Self { state, clock, dir }
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> (Response<Body>, String) {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (Response::from_parts(parts, Body::empty()), text)
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> (Response<Body>, String) {
        let mut b = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// A same-origin form POST with `cookie` and the urlencoded `body`.
    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: &str,
        body: &str,
    ) -> (Response<Body>, String) {
        let request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// The anonymous session cookie and the CSRF token of the unlock page.
    pub(crate) async fn anonymous(&self) -> (String, String) {
        let (response, body) = self.get("/unlock", None).await;
        (cookie_of(&response), csrf_of(&body))
    }

    /// Unlocks; returns the signed-in cookie and its CSRF token.
    pub(crate) async fn sign_in(&self) -> (String, String) {
        let (cookie, csrf) = self.anonymous().await;
        let body = format!("csrf={csrf}&passphrase=correct+horse+battery+staple");
        let (response, _) = self.post("/unlock", &cookie, &body).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = cookie_of(&response);
        let (_, home) = self.get("/", Some(&cookie)).await;
        (cookie, csrf_of(&home))
    }
}

/// The `name=value` of the session cookie a response sets.
pub(crate) fn cookie_of(response: &Response<Body>) -> String {
    let set = response
        .headers()
        .get(header::SET_COOKIE)
        .expect("a Set-Cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token in a page's form.
pub(crate) fn csrf_of(body: &str) -> String {
    let at = body.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    body[at..at + 64].to_string()
}

fn location(response: &Response<Body>) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

#[tokio::test]
async fn a_wrong_host_is_refused() {
    let app = TestApp::new(true);
    for host in ["evil.example:8380", "127.0.0.1:9999", "evil.example"] {
        let request = Request::get("/unlock")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        let (response, body) = app.send(request).await;
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(body.contains("Refused"), "{body}");
    }
    let (response, _) = app.get("/unlock", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let request = Request::get("/unlock")
        .header(header::HOST, "localhost:8380")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_response_has_the_strict_headers() {
    let app = TestApp::new(true);
    let wrong = Request::get("/")
        .header(header::HOST, "evil.example")
        .body(Body::empty())
        .unwrap();
    for (response, _) in [
        app.get("/unlock", None).await,
        app.get("/", None).await,
        app.send(wrong).await,
    ] {
        let h = response.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], super::security::CSP);
        assert!(super::security::CSP.contains("default-src 'none'"));
        assert!(super::security::CSP.contains("frame-ancestors 'none'"));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn static_assets_are_cached_for_a_year() {
    let app = TestApp::new(false);
    let (response, body) = app.get(&super::assets::css_url(), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(body, super::assets::CSS);
    let (response, _) = app.get("/static/app.000000000000.css", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_session_every_page_goes_to_unlock_or_setup() {
    let app = TestApp::new(false);
    let (response, _) = app.get("/records", None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/setup");
    let app = TestApp::new(true);
    let (response, _) = app.get("/", None).await;
    assert_eq!(location(&response), "/unlock");
}

#[tokio::test]
async fn unlock_sets_a_strict_session_cookie_and_a_planted_one_is_worth_nothing() {
    let app = TestApp::new(true);
    let (anonymous, csrf) = app.anonymous().await;
    let body = format!("csrf={csrf}&passphrase=correct+horse+battery+staple");
    let (response, _) = app.post("/unlock", &anonymous, &body).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("hearth_session="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http on loopback: {set}");
    let signed_in = cookie_of(&response);
    assert_ne!(signed_in, anonymous);
    let (response, body) = app.get("/", Some(&signed_in)).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    // The cookie from before unlock (which another program could have
    // planted) does not sign in.
    let (response, _) = app.get("/", Some(&anonymous)).await;
    assert_eq!(location(&response), "/unlock");
    // Nor does a forged one.
    let forged = format!("hearth_session={}.{}", "00".repeat(32), "00".repeat(32));
    let (response, _) = app.get("/", Some(&forged)).await;
    assert_eq!(location(&response), "/unlock");
}

#[tokio::test]
async fn a_wrong_passphrase_is_shown_and_counted() {
    let app = TestApp::new(true);
    let (cookie, csrf) = app.anonymous().await;
    let (response, body) = app
        .post("/unlock", &cookie, &format!("csrf={csrf}&passphrase=wrong"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("There is a problem"), "{body}");
    assert!(body.contains(r##"href="#passphrase""##), "{body}");
    assert_eq!(crate::keyring::failures(app.dir.path()), 1);
    assert!(!app.state.is_unlocked());
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_is_refused() {
    let app = TestApp::new(true);
    let (cookie, csrf) = app.sign_in().await;
    for body in [
        String::new(),
        "csrf=".into(),
        format!("csrf={}", "ab".repeat(32)),
        format!("csrf={csrf}x"),
    ] {
        let (response, page) = app.post("/lock", &cookie, &body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{body}");
        assert!(page.contains("Refused"), "{page}");
        assert!(app.state.is_unlocked());
    }
    // Other methods that could change something are checked the same way.
    let put = Request::put("/lock")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(put).await.0.status(), StatusCode::FORBIDDEN);
    // Another session's token is not this one's.
    let (other, other_csrf) = app.anonymous().await;
    let (response, _) = app
        .post("/lock", &cookie, &format!("csrf={other_csrf}"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (response, _) = app.post("/lock", &other, &format!("csrf={csrf}")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The right one works.
    let (response, _) = app.post("/lock", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.state.is_unlocked());
}

#[tokio::test]
async fn a_cross_origin_post_is_refused() {
    let app = TestApp::new(true);
    let (cookie, csrf) = app.sign_in().await;
    let post = |origin: Option<&str>, referer: Option<&str>| {
        let mut b = Request::post("/lock")
            .header(header::HOST, HOST)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(r) = referer {
            b = b.header(header::REFERER, r);
        }
        b.body(Body::from(format!("csrf={csrf}"))).unwrap()
    };
    let refused = [
        post(Some("http://evil.example"), None),
        post(Some("null"), None),
        post(Some("http://127.0.0.1:9999"), None),
        post(Some("https://127.0.0.1:8380"), None),
        post(None, Some("http://evil.example/")),
        post(None, Some("http://127.0.0.1:8380.evil.example/")),
        post(None, None),
        // An Origin wins over a Referer.
        post(Some("http://evil.example"), Some("http://127.0.0.1:8380/")),
    ];
    for request in refused {
        let (response, _) = app.send(request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(app.state.is_unlocked());
    }
    let (response, _) = app
        .send(post(None, Some("http://127.0.0.1:8380/records")))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.state.is_unlocked());
}

#[tokio::test]
async fn the_app_locks_after_the_idle_time() {
    let app = TestApp::new(true);
    let (cookie, _) = app.sign_in().await;
    app.clock.advance(599);
    let (response, _) = app.get("/", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    // That request was activity: another 599 s is still not idle.
    app.clock.advance(599);
    assert!(!super::security::lock_if_idle(&app.state));
    app.clock.advance(1);
    // Polling the indicator is not activity.
    app.get("/sync/status", Some(&cookie)).await;
    app.clock.advance(600);
    let (response, _) = app.get("/", Some(&cookie)).await;
    assert_eq!(location(&response), "/unlock");
    assert!(!app.state.is_unlocked());
    // Unlocking again gives a new session; the old cookie stays dead.
    let (fresh, _) = app.sign_in().await;
    assert_ne!(fresh, cookie);
    let (response, _) = app.get("/", Some(&cookie)).await;
    assert_eq!(location(&response), "/unlock");
}

#[tokio::test]
async fn first_run_sets_up_the_store_then_asks_to_enrol() {
    let app = TestApp::new(false);
    let (response, body) = app.get("/setup", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_of(&response);
    let csrf = csrf_of(&body);
    let form = |agency: &str, again: &str| {
        format!(
            "csrf={csrf}&agency={agency}&worker=hv-ann&new_passphrase=correct+horse+battery+staple&new_passphrase_again={again}"
        )
    };
    let (response, body) = app
        .post("/setup", &cookie, &form("HV-NORTH", "other"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains(r##"href="#new_passphrase_again""##), "{body}");
    let long = "A".repeat(17);
    let (response, body) = app
        .post(
            "/setup",
            &cookie,
            &form(&long, "correct+horse+battery+staple"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(r##"href="#agency""##) && body.contains("must be 1 to 16 bytes"),
        "{body}"
    );
    assert!(!app.dir.path().join(crate::keyring::KEYRING_FILE).exists());
}

/// Captures the concern of `capture`'s tests with `headline`, through the
/// core's capture path; returns its record id.
fn capture(app: &TestApp, headline: &str) -> String {
    let json = crate::capture::tests::CONCERN.replace("Bruise on arm", headline);
    app.state
        .with_unlocked(|u| {
            let r = crate::capture::capture_json(
                &mut u.store,
                &u.key,
                app.clock.as_ref(),
                &crate::capture::tests::defaults(),
                &json,
            )
            .unwrap();
            format!("{}-{}", u.settings.device_id, r.seq)
        })
        .expect("unlocked")
}

#[tokio::test]
async fn home_shows_the_children_counts_and_sync_now() {
    let app = TestApp::new(true);
    let (cookie, _) = app.sign_in().await;
    capture(&app, "First");
    capture(&app, "Second");
    let (response, body) = app.get("/", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("nhs:9434765919"), "{body}");
    assert!(
        body.contains(r#"href="/records?child=nhs%3A9434765919""#),
        "{body}"
    );
    assert!(
        body.contains(r#"<li id="count-pending"><strong>2</strong>"#),
        "{body}"
    );
    assert!(
        body.contains(r#"<li id="count-synced"><strong>0</strong>"#),
        "{body}"
    );
    assert!(
        body.contains("Connect to your server"),
        "not enrolled: {body}"
    );
    assert!(body.contains(r#"id="sync-indicator""#), "{body}");
    assert!(body.len() < 60 * 1024);
    let (response, text) = app.get("/sync/status", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text, "Not synced yet");
}

#[tokio::test]
async fn records_show_their_state_and_every_field_escaped() {
    let app = TestApp::new(true);
    let (cookie, _) = app.sign_in().await;
    let id = capture(&app, "<script>alert(1)</script>");
    let other = capture(&app, "Refused one");
    app.state.with_unlocked(|u| {
        let outcome = crate::store::PushOutcome {
            refused: vec![(
                hearth_shared::Seq(2),
                crate::store::SyncStatus::Rejected,
                "<b>duplicate child</b>".into(),
            )],
            ..Default::default()
        };
        u.store.apply(&outcome, app.clock.now()).unwrap();
    });
    let (response, list) = app.get("/records", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!list.contains("<script>alert"), "{list}");
    assert!(
        list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{list}"
    );
    assert!(
        list.contains("Waiting to send") && list.contains("Not accepted"),
        "{list}"
    );
    assert!(
        list.contains("Reason: &lt;b&gt;duplicate child&lt;/b&gt;"),
        "{list}"
    );
    let (_, only) = app.get("/records?state=not-accepted", Some(&cookie)).await;
    assert!(
        only.contains(&other) && !only.contains(&format!("{id}<")),
        "{only}"
    );
    let (response, detail) = app.get(&format!("/records/{id}"), Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    for field in [
        "Seen or said",
        "Action detail",
        "Category",
        "Children",
        "Headline",
        "Author",
        "Agency",
    ] {
        assert!(detail.contains(field), "{field}: {detail}");
    }
    assert!(
        detail.contains(&format!(r#"href="/records/{id}/amend""#)),
        "{detail}"
    );
    assert!(
        detail.contains(&format!(r#"href="/records/{id}/retract""#)),
        "{detail}"
    );
    assert!(!detail.contains("<script>alert"), "{detail}");
    let (response, _) = app.get("/records/0000000000000000-1", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (response, _) = app.get("/records/nonsense", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sync_now_wakes_the_background_sync() {
    let app = TestApp::new(true);
    let (cookie, csrf) = app.sign_in().await;
    let (response, _) = app.post("/sync", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    // Not enrolled: one run says so (the loop is not running in this
    // test, so run it for one wake-up).
    let task = tokio::spawn(super::background::run(app.state.clone()));
    for _ in 0..200 {
        if app.state.sync_status() != super::background::Status::NotYet {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
    assert_eq!(
        app.state.sync_status(),
        super::background::Status::NotEnrolled
    );
}

#[tokio::test]
async fn set_up_signs_in_and_enrolment_shows_every_missing_field_at_once() {
    let app = TestApp::new(false);
    let (response, body) = app.get("/setup", None).await;
    let (cookie, csrf) = (cookie_of(&response), csrf_of(&body));
    let form = format!(
        "csrf={csrf}&agency=HV-NORTH&worker=hv-ann&new_passphrase=correct+horse+battery+staple&new_passphrase_again=correct+horse+battery+staple"
    );
    let (response, body) = app.post("/setup", &cookie, &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location(&response), "/enrol");
    assert!(app.state.is_unlocked());
    let settings = app.state.with_unlocked(|u| u.settings.clone()).unwrap();
    assert_eq!(settings.agency.as_str(), "HV-NORTH");
    assert_eq!(settings.worker.as_str(), "hv-ann");
    let cookie = cookie_of(&response);
    let (response, body) = app.get("/enrol", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csrf = csrf_of(&body);
    let (response, body) = app
        .post(
            "/enrol",
            &cookie,
            &format!("csrf={csrf}&server=&token=&pin="),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["server", "token", "pin"] {
        assert!(
            body.contains(&format!(r##"href="#{field}""##)),
            "{field}: {body}"
        );
        assert!(
            body.contains(&format!(r#"id="{field}-error""#)),
            "{field}: {body}"
        );
    }
    // A bad pin is the core's own message, beside the pin.
    let (_, body) = app
        .post(
            "/enrol",
            &cookie,
            &format!("csrf={csrf}&server=https%3A%2F%2F127.0.0.1%3A9&token=t&pin=sha256%3Azz"),
        )
        .await;
    assert!(body.contains(r##"href="#pin""##), "{body}");
    // Set-up again is refused now there is a store.
    let (response, _) = app.get("/setup", Some(&cookie)).await;
    assert_eq!(location(&response), "/unlock");
}

/// A record sent and purged: its page says when its contents left the
/// tablet (it used to say "not found").
#[tokio::test]
async fn a_purged_record_says_it_was_sent_and_removed() {
    let app = TestApp::new(true);
    let (cookie, _) = app.sign_in().await;
    let id = capture(&app, "Sent long ago");
    app.state.with_unlocked(|u| {
        let seq = hearth_shared::Seq(1);
        let outcome = crate::store::PushOutcome {
            synced: vec![seq],
            receipts: vec![crate::store::StoredReceipt {
                first: seq,
                last: seq,
                last_hash: u.store.hash_of(seq).unwrap().unwrap(),
                server_time: app.clock.now(),
                signed: vec![1],
            }],
            synced_at: Some(app.clock.now()),
            ..Default::default()
        };
        u.store.apply(&outcome, app.clock.now()).unwrap();
        let later = Timestamp(app.clock.now().0 + 86_400);
        assert_eq!(
            u.store.purge(later, later).unwrap(),
            [hearth_shared::Seq(1)]
        );
    });
    let (response, page) = app.get(&format!("/records/{id}"), Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "{page}");
    assert!(page.contains("contents removed from the tablet"), "{page}");
}
