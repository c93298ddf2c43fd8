//! The local app's defences. Every other program on the tablet and every
//! web page in its browser is an attacker; [`guard`] runs before every
//! handler and:
//!
//! 1. refuses a `Host` that is not `127.0.0.1:PORT` / `localhost:PORT`
//!    (421): a page on `evil.example` whose name is rebound to 127.0.0.1
//!    (DNS rebinding) sends its own name as the Host;
//! 2. drops the data key when the app has been idle for longer than
//!    `--idle-minutes` (the next request goes to /unlock);
//! 3. reads the `hearth_session` cookie (a random id MACed with the
//!    per-process secret), minting an anonymous one when it is missing or
//!    forged; the session is *signed in* only while the app is unlocked and
//!    its id is the one that unlocked it;
//! 4. refuses (403) a POST whose `Origin` (or, absent, `Referer`) is not
//!    ours, and a POST without the session's CSRF token (HMAC of the session
//!    id under the per-process secret) in the `csrf` form field or the
//!    `x-csrf-token` header;
//! 5. sends a request that is not signed in to /unlock (or /setup on a
//!    tablet with no store yet), except the public paths;
//! 6. sets a strict Content-Security-Policy, `nosniff`, a referrer policy
//!    and `Cache-Control: no-store` on every page.
//!
//! The cookie is HttpOnly, SameSite=Strict and Path=/, but not Secure: the
//! app is plain HTTP on loopback (nothing crosses a network), and a Secure
//! cookie would never be sent back.

use std::fmt;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use maud::{Markup, html};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hearth_session";
/// The form field (and, for scripts, the `x-csrf-token` header) that
/// carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";

/// Every response's Content-Security-Policy: nothing from anywhere but the
/// app itself, no inline script or style, no framing, forms post only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The referrer policy. Not `no-referrer`: under it, browsers send
/// `Origin: null` on every POST (Fetch standard, "append a request Origin
/// header"), and the Origin check could no longer tell our own forms from
/// a sandboxed attacker's. `same-origin` sends nothing to any other origin
/// (and the app links to none) while keeping our own Origin on our POSTs.
pub const REFERRER_POLICY: &str = "same-origin";

/// The largest POST body read (a form's fields are bounded far below it).
const MAX_BODY: usize = 1024 * 1024;

/// Paths served to a browser that is not signed in.
fn is_public(path: &str) -> bool {
    matches!(path, "/unlock" | "/setup") || path.starts_with("/static/")
}

/// Paths a page polls by itself: they do not count as the worker's
/// activity, so an open tab does not keep the app unlocked for ever.
fn is_passive(path: &str) -> bool {
    path.starts_with("/static/") || path == "/sync/status"
}

type HmacSha256 = Hmac<Sha256>;

/// A session id: 32 random bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SessionId([u8; 32]);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

impl SessionId {
    fn generate() -> Self {
        let mut id = [0u8; 32];
        OsRng.fill_bytes(&mut id);
        Self(id)
    }
}

/// The per-process secret: made at start, never stored, so a restart ends
/// every session and invalidates every token.
pub struct Secrets {
    key: Zeroizing<[u8; 32]>,
}

impl Secrets {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Self { key }
    }

    fn mac(&self, purpose: &[u8], id: &SessionId) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key.as_ref()).expect("any key length");
        mac.update(purpose);
        mac.update(&id.0);
        mac
    }

    /// The cookie value for `id`: `hex(id).hex(mac)`.
    fn cookie_value(&self, id: &SessionId) -> String {
        let tag = self.mac(b"hearth-app-cookie", id).finalize().into_bytes();
        format!("{}.{}", hex::encode(id.0), hex::encode(tag))
    }

    /// The session id in a cookie value, if its MAC verifies.
    fn verify_cookie(&self, value: &str) -> Option<SessionId> {
        let (id, tag) = value.split_once('.')?;
        let id = SessionId(hex::decode(id).ok()?.try_into().ok()?);
        let tag = hex::decode(tag).ok()?;
        self.mac(b"hearth-app-cookie", &id)
            .verify_slice(&tag)
            .ok()
            .map(|()| id)
    }

    /// The CSRF token of session `id`.
    fn csrf_token(&self, id: &SessionId) -> String {
        hex::encode(self.mac(b"hearth-app-csrf", id).finalize().into_bytes())
    }

    /// Whether `token` is session `id`'s CSRF token (constant time).
    fn verify_csrf(&self, id: &SessionId, token: &str) -> bool {
        hex::decode(token).is_ok_and(|t| self.mac(b"hearth-app-csrf", id).verify_slice(&t).is_ok())
    }
}

/// The browser session of the current request (a request extension).
#[derive(Debug, Clone)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// Whether it is the session that unlocked the app.
    pub signed_in: bool,
}

/// What the page shell needs to know about the current request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The session's CSRF token.
    pub csrf: String,
    /// Whether the app is unlocked for this session.
    pub unlocked: bool,
    /// The sync indicator's text.
    pub sync_text: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The current request's context; None outside a request (a unit test
/// rendering a page directly).
pub fn request_context() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// The hidden CSRF field every form must carry.
pub fn csrf_field() -> Markup {
    let token = request_context().map(|c| c.csrf).unwrap_or_default();
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// Signs `session` in (after the passphrase opened the store): a fresh id,
/// so a cookie planted before unlock is worth nothing after it. Returns
/// the id to keep in [`super::Unlocked`] and the `Set-Cookie` value.
pub fn new_signed_in_session(state: &AppState) -> (SessionId, HeaderValue) {
    let id = SessionId::generate();
    (id, set_cookie(state, &id))
}

fn set_cookie(state: &AppState, id: &SessionId) -> HeaderValue {
    let value = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        state.secrets().cookie_value(id)
    );
    HeaderValue::from_str(&value).expect("hex is a valid header value")
}

/// The Host values this app answers to.
pub fn allowed_hosts(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if addr.is_ipv6() && addr.ip().is_loopback() {
        hosts.push(format!("[::1]:{port}"));
    }
    if !addr.ip().is_loopback() {
        // Only with --allow-non-loopback: the address it was told to use.
        hosts.push(addr.to_string());
    }
    hosts
}

/// A plain refusal page (no shell: nothing of the app is shown).
fn refuse(status: StatusCode, why: &str) -> Response {
    let body = html! {
        (maud::DOCTYPE)
        html lang="en-GB" {
            head { meta charset="utf-8"; title { "Refused – Hearth" } }
            body { h1 { "Refused" } p { (why) } }
        }
    };
    (status, axum::response::Html(body.into_string())).into_response()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a POST's Origin (or, absent, Referer) is one of ours.
fn same_origin(headers: &HeaderMap, hosts: &[String]) -> bool {
    let ours = |origin: &str| {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| hosts.iter().any(|h| h == host))
    };
    if let Some(origin) = header_str(headers, header::ORIGIN) {
        return ours(origin);
    }
    header_str(headers, header::REFERER).is_some_and(|referer| {
        let rest = referer.strip_prefix("http://").unwrap_or("");
        let host = rest.split('/').next().unwrap_or("");
        ours(&format!("http://{host}")) && rest.len() > host.len()
    })
}

/// The session id in the request's cookie, if it verifies.
fn session_from(headers: &HeaderMap, state: &AppState) -> Option<SessionId> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .find_map(|(_, value)| state.secrets().verify_cookie(value))
}

/// The CSRF token a POST carries: the header, else the form field.
fn csrf_of(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(token) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(token.to_string());
    }
    // The token is hex, so it never needs percent-decoding; a value that
    // does is not a token.
    body.split(|b| *b == b'&')
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == CSRF_FIELD)
        .map(|(_, value)| value.to_string())
}

/// Locks the app when it has been idle longer than the configured time.
/// Returns whether it locked.
pub fn lock_if_idle(state: &AppState) -> bool {
    let now = state.clock().now();
    let idle = now.0 - state.last_activity().0;
    if idle >= state.config().idle_seconds && state.is_unlocked() {
        tracing::info!(idle_seconds = idle, "idle: locking the app");
        state.lock();
        return true;
    }
    false
}

/// Where a request that is not signed in goes.
fn entry_page(state: &AppState) -> &'static str {
    if state.store_dir().join(crate::store::DB_FILE_NAME).exists() {
        "/unlock"
    } else {
        "/setup"
    }
}

/// A POST's checks: our Origin (or Referer), then the session's CSRF
/// token in the header or the form (the body is read, up to [`MAX_BODY`],
/// and handed on). A request without a valid cookie has no token to match.
async fn check_post(
    state: &AppState,
    request: Request,
    hosts: &[String],
    cookie: Option<SessionId>,
) -> Result<Request, Response> {
    if !same_origin(request.headers(), hosts) {
        return Err(with_headers(refuse(
            StatusCode::FORBIDDEN,
            "This form was sent from another site, so it was not accepted.",
        )));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(with_headers(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form was too large.",
        )));
    };
    let token_ok = match (cookie, csrf_of(&parts.headers, &bytes)) {
        (Some(id), Some(token)) => state.secrets().verify_csrf(&id, &token),
        _ => false,
    };
    if !token_ok {
        return Err(with_headers(refuse(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this app. Go back, reload the page and try again.",
        )));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The security layer (see the module comment for the order of checks).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let hosts = allowed_hosts(state.config().addr);
    let host_ok =
        header_str(&parts.headers, header::HOST).is_some_and(|h| hosts.iter().any(|a| a == h));
    if !host_ok {
        return with_headers(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "This app answers only to its own address on this tablet.",
        ));
    }
    lock_if_idle(&state);
    let path = parts.uri.path().to_string();
    let cookie = session_from(&parts.headers, &state);
    let id = cookie.unwrap_or_else(SessionId::generate);
    let signed_in = state.with_unlocked(|u| u.session == id).unwrap_or(false);
    let mut request = Request::from_parts(parts, body);
    // Every method that may change something (POST; anything else is
    // refused by the router anyway) passes the origin and CSRF checks.
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        request = match check_post(&state, request, &hosts, cookie).await {
            Ok(checked) => checked,
            Err(refused) => return refused,
        };
    }
    if signed_in && !is_passive(&path) {
        state.touch();
    }
    let response = if !signed_in && !is_public(&path) {
        Redirect::to(entry_page(&state)).into_response()
    } else {
        request.extensions_mut().insert(Session { id, signed_in });
        let context = RequestContext {
            csrf: state.secrets().csrf_token(&id),
            unlocked: signed_in,
            sync_text: state.sync_text(),
        };
        CONTEXT.scope(context, next.run(request)).await
    };
    let mut response = with_headers(response);
    if cookie.is_none() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, &id));
    }
    response
}

/// Adds the strict headers; `Cache-Control: no-store` unless the handler
/// set its own (the hashed static files).
fn with_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(REFERRER_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The security layer's own routes: `POST /lock`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/lock", post(lock))
}

/// `POST /lock`: drop the key now.
async fn lock(State(state): State<AppState>) -> Redirect {
    state.lock();
    Redirect::to("/unlock")
}
