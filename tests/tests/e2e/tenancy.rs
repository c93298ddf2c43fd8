//! Partnerships kept apart (issue 18): partnerships `a` and `b` in one
//! PostgreSQL database, each with its own role and its own instance
//! ([`Server::start_partnership`]).
//!
//! - `a`'s manager (API token, and a signed-in web session) and `a`'s
//!   device are refused on every route of `b`'s instance exactly as a
//!   made-up token, cookie or device is (401, 403, or the sign-in page);
//!   the refusals are counted on `b`'s `/v1/metrics` (where each is also
//!   logged), and `b`'s access log shows no read by `a`'s manager;
//! - `a`'s manager asking `a`'s instance for `b`'s child gets no entry of
//!   `b`'s, and that read is in `a`'s access log;
//! - as `a`'s database role, SQL naming `b`'s schema is refused by
//!   PostgreSQL (`permission denied for schema`);
//! - SQLite refuses `--partnership` other than the default.
//!
//! These need PostgreSQL, so they run in the PostgreSQL pass
//! (`HEARTH_TEST_BACKEND=postgres`, which `scripts/test.sh` runs after the
//! SQLite one) and say loudly in the SQLite pass that they are skipped
//! there ([`hearth_testpg::postgres_pass`]), rather than run twice.

use std::process::Command;
use std::sync::Arc;

use hearth_e2e::agent::Agent;
use hearth_e2e::bins;
use hearth_e2e::caseload::ProtocolDevice;
use hearth_e2e::server::{Server, private_tempdir};
use serde_json::Value;

use crate::fixture::*;
use crate::instances::Switch;

/// The password `a`'s manager signs in with.
const PASSWORD: &str = "tenancy test password";

/// A rule the signal routes name.
const RULE: &str = "meetings_without_minutes";

/// An answer: status, `Location`, the JSON error code (if JSON), and any
/// `Set-Cookie` values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    status: u16,
    location: Option<String>,
    code: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Reply {
    /// What must be the same for two refusals: no more is said to a
    /// stranger than to a made-up credential.
    fn refusal(&self) -> (u16, Option<String>, Option<String>) {
        (self.status, self.location.clone(), self.code.clone())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|v| v.split(';').next().unwrap_or("").to_string())
        })
    }
}

/// A client of one server: trusts only its certificate, follows no
/// redirect, one connection a request (a refusal may leave a body unread).
struct Client {
    url: String,
    agent: ureq::Agent,
}

impl Client {
    fn of(server: &Server) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pem = std::fs::read(server.data().join("tls/cert.pem")).expect("tls/cert.pem");
        let cert = ureq::tls::Certificate::from_pem(&pem).unwrap().to_owned();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Self {
            url: server.url(),
            agent,
        }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, String)], body: &str) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("connection", "close");
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let mut resp = self
            .agent
            .run(req.body(body.as_bytes().to_vec()).unwrap())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header("location");
        let cookies = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string));
        Reply {
            status: resp.status().as_u16(),
            location,
            code,
            cookies,
            body,
        }
    }

    /// Signs `name` in with the password form; the session cookie and
    /// its CSRF token.
    fn sign_in(&self, name: &str) -> (String, String) {
        let form = self.send("GET", "/login", &[], "");
        assert_eq!(form.status, 200, "{}", form.body);
        let login = form
            .cookie("__Host-hearth-login")
            .expect("the form's cookie");
        let body = format!(
            "csrf={login}&name={}&password={}&next=%2F",
            encode(name),
            encode(PASSWORD)
        );
        let reply = self.send(
            "POST",
            "/login",
            &[
                ("cookie", format!("__Host-hearth-login={login}")),
                ("origin", self.url.clone()),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
            ],
            &body,
        );
        assert_eq!(reply.status, 303, "sign-in: {}", reply.body);
        let session = reply.cookie("__Host-hearth").expect("a session cookie");
        let page = self.send("GET", "/logout", &[("cookie", cookie(&session))], "");
        assert_eq!(page.status, 200, "{}", page.body);
        (session, csrf_in(&page.body))
    }

    /// A counter of `/v1/metrics`.
    fn metric(&self, name: &str) -> u64 {
        let reply = self.send("GET", "/v1/metrics", &[], "");
        reply
            .body
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {}", reply.body))
    }
}

fn cookie(session: &str) -> String {
    format!("__Host-hearth={session}")
}

fn csrf_in(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    html[at..at + 64].to_string()
}

fn encode(s: &str) -> String {
    hearth_shared::url::encode(s, b"")
}

/// Every route a user reaches, with a body where it takes one: the API's
/// (`http/mod.rs`, `http/people.rs`, `GET /v1/records/{id}`) and the web
/// app's (`web/`). `counted`: a bearer refusal there is counted as
/// `hearth_token_failures_total` (the register's `/v1/people…` routes
/// only log theirs).
struct Route {
    method: &'static str,
    path: String,
    counted: bool,
}

fn routes(child: &str, record: &str, device: &str) -> Vec<Route> {
    let why = "reason=tenancy%20test";
    let api = |method, path: String, counted| Route {
        method,
        path,
        counted,
    };
    let mut all = vec![
        api(
            "GET",
            format!("/v1/children/{child}/chronology?{why}"),
            true,
        ),
        api("GET", format!("/v1/children/{child}/signals?{why}"), true),
        api("GET", format!("/v1/signals?{why}"), true),
        api(
            "POST",
            format!("/v1/children/{child}/signals/{RULE}/ack"),
            true,
        ),
        api("GET", format!("/v1/records/{record}?{why}"), true),
        api("GET", "/v1/people?find=Anna".into(), false),
        api("POST", "/v1/people".into(), false),
        api("POST", "/v1/people/import".into(), false),
        api("GET", format!("/v1/people/{child}?{why}"), false),
        api("POST", format!("/v1/people/{child}/edit"), false),
        api("POST", format!("/v1/people/{child}/relations"), false),
        api("POST", "/v1/households/h1/members".into(), false),
        api("POST", "/v1/households/h1/members/end".into(), false),
        api("POST", "/v1/identity/link".into(), false),
        api("POST", "/v1/identity/unlink".into(), false),
        api("GET", "/v1/family/proposals".into(), false),
        api("POST", "/v1/family/proposals/confirm".into(), false),
        api("POST", "/v1/family/proposals/reject".into(), false),
    ];
    for (method, path) in [
        ("GET", "/".to_string()),
        ("GET", "/find?q=Anna".into()),
        ("GET", format!("/children/{child}/chronology")),
        ("POST", format!("/children/{child}/read")),
        ("POST", format!("/children/{child}/signals/{RULE}/ack")),
        ("GET", format!("/records/{record}")),
        ("GET", "/signals".into()),
        ("POST", "/signals".into()),
        ("GET", "/admin/devices".into()),
        ("POST", format!("/admin/devices/{device}/revoke")),
        ("GET", "/admin/users".into()),
        ("POST", "/admin/users".into()),
        ("POST", "/admin/users/b_manager/password".into()),
        ("POST", "/admin/users/b_manager/revoke".into()),
        ("POST", "/admin/users/b_manager/token".into()),
        ("GET", "/admin/families".into()),
        ("POST", "/admin/families/link".into()),
        ("POST", "/admin/families/unlink".into()),
        ("GET", "/admin/quarantine".into()),
        ("GET", "/access-log".into()),
        ("GET", format!("/people/{child}")),
        ("GET", "/admin/people".into()),
        ("POST", "/admin/people".into()),
        ("POST", format!("/admin/people/{child}/identity/link")),
        ("POST", format!("/admin/people/{child}/identity/unlink")),
        ("POST", format!("/admin/people/{child}/members/add")),
        ("POST", format!("/admin/people/{child}/members/end")),
        ("GET", "/proposals".into()),
        ("POST", "/proposals/confirm".into()),
        ("POST", "/proposals/reject".into()),
        ("GET", "/logout".into()),
    ] {
        all.push(api(method, path, false));
    }
    all
}

/// Sends `route` to `b` with `theirs` (a `Cookie` value, or an
/// `Authorization` one starting `Bearer`) and with `strangers`: both are
/// refused, alike, and the refusal shows nothing of `b`'s record.
fn refused_alike(
    b: &Client,
    route: &Route,
    theirs: String,
    strangers: String,
    csrf: &str,
    record_b: &str,
) {
    let bearer = theirs.starts_with("Bearer ");
    let send = |auth: String| {
        let name = if bearer { "authorization" } else { "cookie" };
        let mut headers = vec![(name, auth)];
        let mut body = String::new();
        if route.method != "GET" {
            headers.push(("origin", b.url.clone()));
            if route.path.starts_with("/v1/") {
                headers.push(("content-type", "application/json".into()));
                headers.push(("x-csrf-token", csrf.to_string()));
                body = "{}".into();
            } else {
                headers.push(("content-type", "application/x-www-form-urlencoded".into()));
                body = format!("csrf={csrf}&reason=tenancy%20test");
            }
        }
        b.send(route.method, &route.path, &headers, &body)
    };
    let (got, stranger) = (send(theirs), send(strangers));
    let what = format!(
        "{} {} ({})",
        route.method,
        route.path,
        if bearer { "token" } else { "session" }
    );
    assert_eq!(got.refusal(), stranger.refusal(), "{what}: {}", got.body);
    let to_sign_in = got.status == 303
        && got
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login"));
    assert!(
        matches!(got.status, 401 | 403) || to_sign_in,
        "{what}: refused, not {}: {}",
        got.status,
        got.body
    );
    assert!(
        !got.body.contains(record_b) && !got.body.contains("Partnership B"),
        "{what}: {}",
        got.body
    );
}

/// Two partnerships of one database, each on its own role and instance.
struct Two {
    a: Server,
    b: Server,
    role_a: String,
}

fn two_partnerships() -> Two {
    let cluster = hearth_testpg::cluster();
    let database = cluster.fresh_database();
    let role_a = cluster.role_url(&database, "partner_a");
    let role_b = cluster.role_url(&database, "partner_b");
    let a = Server::start_partnership(&role_a, "a");
    let mut b = Server::start_partnership(&role_b, "b");
    // One certificate for both, as behind one load balancer: a tablet of
    // `a` pointed at `b` gets as far as `b`'s HTTP, and `b` decides.
    b.kill();
    for file in ["cert.pem", "key.pem"] {
        std::fs::copy(
            a.data().join("tls").join(file),
            b.data().join("tls").join(file),
        )
        .expect("copy a's certificate");
    }
    b.restart();
    assert_eq!(a.fingerprint(), b.fingerprint());
    Two { a, b, role_a }
}

/// The two partnerships with their records, tablets and a's manager.
struct Scene {
    a: Server,
    b: Server,
    role_a: String,
    on_a: Client,
    on_b: Client,
    /// a's tablet, syncing through a switch that points at a.
    tablet_a: Agent,
    switch: Switch,
    record_b: String,
    device_b: String,
    a_token: String,
    a_session: String,
    a_csrf: String,
}

/// `b` holds a record about child C and `a` one about child A; `a`'s
/// manager has a token and a signed-in session, which work on `a`.
fn scene() -> Scene {
    let Two { a, b, role_a } = two_partnerships();
    let t = now();
    let tablet_b = enrolled(&b, "NURSERY-B", "b.worker", 0, None);
    let record_b = tablet_b.record(&concern(CHILD_C, t - 600, "Partnership B's concern"));
    assert_eq!(tablet_b.sync(), 0);
    let device_b = tablet_b.device_id();
    let switch = Switch::start(a.addr());
    let tablet_a = enrolled(&a, "NURSERY-A", "a.worker", 0, Some(switch.url()));
    let record_a = tablet_a.record(&daily(CHILD_A, t - 300, "Partnership A's arrival"));
    assert_eq!(tablet_a.sync(), 0);
    b.add_user("b_manager", "manager");
    let a_token = a.add_user("a_manager", "manager");
    a.admin_with_input(&["user", "passwd", "a_manager"], &format!("{PASSWORD}\n"));
    let (on_a, on_b) = (Client::of(&a), Client::of(&b));
    let (a_session, a_csrf) = on_a.sign_in("a_manager");

    let own = on_a.send(
        "GET",
        &format!("/v1/children/{CHILD_A}/chronology?reason=tenancy%20test"),
        &[("authorization", format!("Bearer {a_token}"))],
        "",
    );
    assert_eq!(own.status, 200, "a's token works on a: {}", own.body);
    assert!(own.body.contains(&record_a));
    let page = on_a.send("GET", "/find", &[("cookie", cookie(&a_session))], "");
    assert_eq!(page.status, 200, "a's session works on a");
    Scene {
        a,
        b,
        role_a,
        on_a,
        on_b,
        tablet_a,
        switch,
        record_b,
        device_b,
        a_token,
        a_session,
        a_csrf,
    }
}

#[test]
fn a_partnership_is_refused_on_every_route_of_another_and_cannot_read_its_schema() {
    if !hearth_testpg::postgres_pass() {
        return;
    }
    let s = scene();
    manager_refused_on_b(&s);
    device_refused_on_b(&s);
    reads_stay_in_their_partnership(&s);
    schema_denied_to_the_other_role(&s);
}

/// On `b`, every route answers a's manager as it answers a stranger:
/// first with a's signed-in session, then (on the API) a's token; each
/// refused token is counted (and logged) by `b`.
fn manager_refused_on_b(s: &Scene) {
    let made_up_session = "0".repeat(43);
    let made_up_token = "not-a-token-of-anybody";
    let all = routes(CHILD_C, &s.record_b, &s.device_b);
    for route in &all {
        refused_alike(
            &s.on_b,
            route,
            cookie(&s.a_session),
            cookie(&made_up_session),
            &s.a_csrf,
            &s.record_b,
        );
    }
    let failures_before = s.on_b.metric("hearth_token_failures_total");
    let mut counted = 0;
    for route in all.iter().filter(|r| r.path.starts_with("/v1/")) {
        let theirs = format!("Bearer {}", s.a_token);
        let strangers = format!("Bearer {made_up_token}");
        refused_alike(&s.on_b, route, theirs, strangers, "", &s.record_b);
        if route.counted {
            counted += 2;
        }
    }
    assert_eq!(
        s.on_b.metric("hearth_token_failures_total") - failures_before,
        counted,
        "every refused token counted (and logged) by b"
    );
}

/// `a`'s device: `b` answers its caseload request and its batch as an
/// unknown device's, and a's enrolment token as a made-up one, counted;
/// the tablet keeps its record pending, and `a` takes it after.
fn device_refused_on_b(s: &Scene) {
    let on_b = &s.on_b;
    let device = ProtocolDevice::enrol(&s.a, 9, "NURSERY-A", "a.second");
    let batches_before = on_b.metric("hearth_batch_auth_failures_total");
    let reply = device.fetch(&s.b, now());
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "unauthenticated");
    let pending = s.tablet_a.record(&daily(
        CHILD_A,
        now() - 200,
        "Sent to the wrong partnership",
    ));
    s.switch.point_at(s.b.addr());
    assert_ne!(s.tablet_a.sync(), 0, "b refuses a's tablet");
    assert_eq!(statuses(&s.tablet_a)[&pending], "pending");
    assert_eq!(
        on_b.metric("hearth_batch_auth_failures_total") - batches_before,
        2,
        "the caseload request and the batch, counted (and logged) by b"
    );

    let enrols_before = on_b.metric("hearth_enrol_failures_total");
    let key = ed25519_dalek::SigningKey::from_bytes(&[10; 32]);
    let enrol = |token: &str| {
        let body = serde_json::json!({
            "token": token,
            "public_key": hex::encode(key.verifying_key().as_bytes()),
        });
        let headers = [("content-type", "application/json".to_string())];
        on_b.send("POST", "/v1/enrol", &headers, &body.to_string())
    };
    let theirs = enrol(&s.a.enrol_token("NURSERY-A", "a.third"));
    assert_eq!(theirs.status, 401, "{}", theirs.body);
    assert_eq!(theirs.refusal(), enrol("made-up-enrolment-token").refusal());
    assert_eq!(
        on_b.metric("hearth_enrol_failures_total") - enrols_before,
        2
    );

    s.switch.point_at(s.a.addr());
    assert_eq!(s.tablet_a.sync(), 0, "a still takes it");
}

/// `b`'s access log has no read by a's manager; a's manager asking `a`
/// for b's child gets nothing of b's, and that read is in a's log.
fn reads_stay_in_their_partnership(s: &Scene) {
    s.b.chronology_json(CHILD_C, false);
    let log_b: Value = serde_json::from_str(&s.b.admin_ok(&["access-log", "--json"])).unwrap();
    let log_b = log_b.as_array().expect("an access log");
    assert!(!log_b.is_empty(), "b logs its own reads");
    assert!(
        log_b.iter().all(|e| !e.to_string().contains("a_manager")),
        "no read by a's manager in b's access log: {log_b:?}"
    );

    let bearer = [("authorization", format!("Bearer {}", s.a_token))];
    let path = format!("/v1/children/{CHILD_C}/chronology?reason=looking%20for%20C");
    let pulled = s.on_a.send("GET", &path, &bearer, "");
    assert_eq!(pulled.status, 200, "{}", pulled.body);
    let pulled: Value = serde_json::from_str(&pulled.body).unwrap();
    assert!(entries(&pulled).is_empty(), "no entry of b's: {pulled}");
    let path = format!("/v1/records/{}?reason=tenancy%20test", s.record_b);
    let record = s.on_a.send("GET", &path, &bearer, "");
    assert_eq!(
        record.status, 404,
        "b's record is not on a: {}",
        record.body
    );
    let log_a: Value = serde_json::from_str(&s.a.admin_ok(&[
        "access-log",
        "--json",
        "--child",
        CHILD_C,
        "--user",
        "a_manager",
    ]))
    .unwrap();
    assert!(
        log_a
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "looking for C"),
        "a's access log has the read: {log_a}"
    );
}

/// Beneath the server: a's role cannot name b's schema at all.
fn schema_denied_to_the_other_role(s: &Scene) {
    let cluster = hearth_testpg::cluster();
    let n = cluster
        .query_one(&s.role_a, "SELECT count(*) FROM hearth_a.records")
        .expect("a's role reads a's schema");
    assert_eq!(n, "2");
    for sql in [
        "SELECT count(*) FROM hearth_b.records",
        "SELECT count(*) FROM hearth_b.users",
        "INSERT INTO hearth_b.access_log (at) VALUES (0)",
    ] {
        let refused = cluster.query_one(&s.role_a, sql).expect_err(sql);
        assert!(
            refused.contains("permission denied for schema hearth_b"),
            "{sql}: {refused}"
        );
    }
}

#[test]
fn sqlite_refuses_another_partnership() {
    let dir = private_tempdir();
    for args in [
        &["devices"][..],
        &["enrol-token", "--agency", "X", "--worker", "y"],
    ] {
        let out = Command::new(bins::path("hearth-server"))
            .arg("--data")
            .arg(dir.path())
            .args(["--partnership", "x"])
            .args(args)
            .env_remove("HEARTH_DATABASE")
            .env_remove("HEARTH_PARTNERSHIP")
            .output()
            .expect("run hearth-server");
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "--partnership x: a SQLite data directory holds one partnership; give --database postgres://... to host several"
            ),
            "{args:?}: {stderr}"
        );
    }
}
