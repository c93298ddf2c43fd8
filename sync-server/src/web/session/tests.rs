//! The guard over a test router on a real SQLite store, with a clock the
//! tests move: idle expiry, the longest session, bearer tokens against
//! cookies, and the path-wide role rules.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use ed25519_dalek::SigningKey;
use hearth_shared::Timestamp;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::clock::Clock;
use crate::config::Limits;
use crate::http::OutboxKeys;
use crate::http::admit::BodyBudget;
use crate::http::metrics::Counters;
use crate::ingest::writer::{Fault, Writer};
use crate::keys::load_or_create_outbox_key;
use crate::localtime::Zone;
use crate::store::Role;
use crate::store::any::AnyStore;
use crate::store::testing;

/// A clock the test sets.
struct Manual(AtomicI64);

impl Clock for Manual {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    clock: Arc<Manual>,
    state: AppState<AnyStore>,
}

const T0: i64 = 1_790_000_000;

fn fixture() -> Fixture {
    // Off the test's runtime: the PostgreSQL client blocks.
    testing::blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Manual(AtomicI64::new(T0)));
        let store = testing::open(dir.path());
        let server_key = Arc::new(SigningKey::from_bytes(&[7; 32]));
        let outbox = Arc::new(OutboxKeys::new(
            load_or_create_outbox_key(dir.path(), false).unwrap(),
            &server_key,
        ));
        let writer = Writer::start(store, clock.clone(), Fault::None, || {});
        let state = AppState {
            reads: Arc::new(testing::connect(dir.path())),
            server_key,
            outbox,
            writer,
            limits: Limits::default(),
            clock: clock.clone(),
            counters: Arc::new(Counters::default()),
            budget: BodyBudget::new(1 << 20),
            zone: Zone::parse("Europe/London").unwrap(),
            signals: Default::default(),
        };
        for (name, role, token) in [
            ("dsl", Role::Manager, "dsl-token"),
            ("lead", Role::Admin, "lead-token"),
            ("aud", Role::Auditor, "aud-token"),
        ] {
            assert!(
                state
                    .store()
                    .add_user(name, role, &token_hash(token), Timestamp(T0))
                    .unwrap()
            );
        }
        Fixture {
            _dir: dir,
            clock,
            state,
        }
    })
}

async fn probe(viewer: Viewer) -> String {
    format!("{} {:?}", viewer.name, viewer.by)
}

impl Fixture {
    fn app(&self) -> Router {
        Router::new()
            .route("/probe", get(probe).post(probe))
            .route("/v1/probe", get(probe).post(probe))
            .route("/admin/x", get(probe))
            .route("/access-log", get(probe))
            .route("/static/{file}", get(|| async { "css" }))
            .layer(from_fn_with_state(self.state.clone(), guard::<AnyStore>))
            .with_state(self.state.clone())
    }

    fn at(&self, secs_after_t0: i64) {
        self.clock.0.store(T0 + secs_after_t0, Ordering::SeqCst);
    }

    /// Starts a session for `name` now; returns the cookie header.
    fn session(&self, name: &str) -> String {
        // Off the test's runtime: the PostgreSQL client blocks.
        testing::blocking(move || {
            let (user, _) = testing::blocking(|| self.state.store().login_user(name))
                .unwrap()
                .unwrap();
            let set = start(self.state.store(), &user, self.clock.now(), None).unwrap();
            set.to_str().unwrap().split(';').next().unwrap().to_string()
        })
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "hearth.test");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body).into_owned();
        (status, location.unwrap_or(body))
    }
}

#[tokio::test]
async fn a_session_ends_when_left_idle_and_after_twelve_hours_however_busy() {
    let f = fixture();
    let cookie = f.session("dsl");
    let with = [("cookie", cookie.as_str())];
    let signed_in = (StatusCode::OK, "dsl Session".to_string());
    let to_login = (StatusCode::SEE_OTHER, "/login?next=/probe".to_string());
    // Each use restarts the 30 idle minutes.
    for minutes in [29, 58, 87] {
        f.at(minutes * 60);
        assert_eq!(f.call("GET", "/probe", &with).await, signed_in, "{minutes}");
    }
    f.at(87 * 60 + 30 * 60 + 1);
    assert_eq!(f.call("GET", "/probe", &with).await, to_login);
    // It was deleted, not merely refused: going back in time does not
    // revive it.
    f.at(88 * 60);
    assert_eq!(f.call("GET", "/probe", &with).await, to_login);

    // However busy, a session ends after twelve hours.
    f.at(0);
    let busy = f.session("dsl");
    let with = [("cookie", busy.as_str())];
    let mut t = 0;
    while t + 25 * 60 <= MAX_SESSION_AGE_SECS {
        t += 25 * 60;
        f.at(t);
        assert_eq!(f.call("GET", "/probe", &with).await, signed_in, "{t}");
    }
    f.at(MAX_SESSION_AGE_SECS + 1);
    assert_eq!(f.call("GET", "/probe", &with).await, to_login);
}

#[tokio::test]
async fn style_sheets_need_nobody_and_do_not_keep_a_session_alive() {
    let f = fixture();
    let cookie = f.session("dsl");
    assert_eq!(
        f.call("GET", "/static/app.css", &[]).await,
        (StatusCode::OK, "css".to_string())
    );
    // Fetched with the cookie, they are not a use of the session.
    f.at(29 * 60);
    assert_eq!(
        f.call("GET", "/static/app.css", &[("cookie", &cookie)])
            .await
            .0,
        StatusCode::OK
    );
    f.at(31 * 60);
    assert_eq!(
        f.call("GET", "/probe", &[("cookie", &cookie)]).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_idle_limit_follows_the_setting() {
    let mut f = fixture();
    f.state.limits.session_idle = std::time::Duration::from_secs(5 * 60);
    let cookie = f.session("dsl");
    let with = [("cookie", cookie.as_str())];
    f.at(5 * 60);
    assert_eq!(f.call("GET", "/probe", &with).await.0, StatusCode::OK);
    f.at(10 * 60 + 1);
    assert_eq!(
        f.call("GET", "/probe", &with).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn bearer_tokens_work_on_the_api_only_and_a_wrong_one_is_refused() {
    let f = fixture();
    let cookie = f.session("dsl");
    let bearer = "Bearer lead-token";
    assert_eq!(
        f.call("GET", "/v1/probe", &[("authorization", bearer)])
            .await,
        (StatusCode::OK, "lead Token".to_string())
    );
    // No CSRF or Origin for a bearer: no browser sends one by itself.
    assert_eq!(
        f.call("POST", "/v1/probe", &[("authorization", bearer)])
            .await
            .0,
        StatusCode::OK
    );
    // Pages ignore bearer tokens.
    assert_eq!(
        f.call("GET", "/probe", &[("authorization", bearer)]).await,
        (StatusCode::SEE_OTHER, "/login?next=/probe".to_string())
    );
    // With no bearer, the session serves the API (a page's JSON link).
    assert_eq!(
        f.call("GET", "/v1/probe", &[("cookie", &cookie)]).await,
        (StatusCode::OK, "dsl Session".to_string())
    );
    // A wrong bearer is refused, not passed over for the cookie.
    let (status, body) = f
        .call(
            "GET",
            "/v1/probe",
            &[("authorization", "Bearer nope"), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (status, body) = f.call("GET", "/v1/probe", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unauthorized\""), "{body}");
    // A revoked user's token and sessions stop at once.
    testing::blocking(|| {
        f.state
            .store()
            .revoke_user("dsl", "left the service", Timestamp(T0))
    })
    .unwrap();
    assert_eq!(
        f.call("GET", "/v1/probe", &[("authorization", "Bearer dsl-token")])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call("GET", "/probe", &[("cookie", &cookie)]).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn admin_and_access_log_paths_are_refused_to_other_roles_by_the_guard() {
    let f = fixture();
    let [dsl, lead, aud] = ["dsl", "lead", "aud"].map(|n| f.session(n));
    let f = &f;
    let get = |path: &'static str, cookie: &str| {
        let cookie = cookie.to_string();
        async move { f.call("GET", path, &[("cookie", &cookie)]).await.0 }
    };
    assert_eq!(get("/admin/x", &dsl).await, StatusCode::FORBIDDEN);
    assert_eq!(get("/admin/x", &aud).await, StatusCode::FORBIDDEN);
    assert_eq!(get("/admin/x", &lead).await, StatusCode::OK);
    assert_eq!(get("/access-log", &dsl).await, StatusCode::FORBIDDEN);
    assert_eq!(get("/access-log", &aud).await, StatusCode::OK);
    assert_eq!(get("/access-log", &lead).await, StatusCode::OK);
    // A token is held to the same rules.
    assert_eq!(
        f.call("GET", "/admin/x", &[("authorization", "Bearer dsl-token")])
            .await
            .0,
        StatusCode::SEE_OTHER,
        "pages ignore bearer tokens"
    );
}

#[tokio::test]
async fn a_session_change_needs_origin_and_token_and_start_replaces_the_old_session() {
    let f = fixture();
    let cookie = f.session("dsl");
    let csrf = {
        let id = cookie.split_once('=').unwrap().1;
        testing::blocking(|| {
            f.state
                .store()
                .touch_session(&token_hash(id), Timestamp(T0), Timestamp(T0))
        })
        .unwrap()
        .unwrap()
        .csrf
    };
    let origin = ("origin", "https://hearth.test");
    let ok = f
        .call(
            "POST",
            "/probe",
            &[origin, ("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(ok, (StatusCode::OK, "dsl Session".to_string()));
    for headers in [
        vec![origin, ("cookie", &cookie)],
        vec![("cookie", &cookie), ("x-csrf-token", &csrf)],
        vec![
            ("origin", "https://hearth.test.evil"),
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
        ],
    ] {
        assert_eq!(
            f.call("POST", "/probe", &headers).await.0,
            StatusCode::FORBIDDEN
        );
    }
    // start() over an old session ends it.
    let id = cookie.split_once('=').unwrap().1;
    let (user, _) = testing::blocking(|| f.state.store().login_user("dsl"))
        .unwrap()
        .unwrap();
    let new = testing::blocking(|| {
        start(
            f.state.store(),
            &user,
            Timestamp(T0),
            Some(&SessionId(token_hash(id))),
        )
    })
    .unwrap();
    assert!(!new.to_str().unwrap().contains(id));
    assert_eq!(
        f.call("GET", "/probe", &[("cookie", &cookie)]).await.0,
        StatusCode::SEE_OTHER
    );
}

#[test]
fn the_sign_in_url_keeps_where_to_come_back_to() {
    assert_eq!(login_url(None), "/login");
    assert_eq!(login_url(Some("/")), "/login");
    assert_eq!(
        login_url(Some(
            "/children/nhs:9434765919/chronology?grant=ab&from=2026-01-01"
        )),
        "/login?next=/children/nhs%3A9434765919/chronology%3Fgrant%3Dab%26from%3D2026-01-01"
    );
}
