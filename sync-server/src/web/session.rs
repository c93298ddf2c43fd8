//! Accounts and sessions: [`guard`] runs before every route of the web
//! app (and `GET /v1/records/{id}`) and decides who is asking before any
//! handler does; [`start`] is the one way a session begins.
//!
//! Who is asking:
//! - a browser: the `__Host-hearth` cookie ([`cookie::SESSION`]), 32
//!   random bytes of which the store keeps only the SHA-256. A session
//!   unused for the idle limit (`serve --session-idle-minutes`, default
//!   30) or older than [`MAX_SESSION_AGE_SECS`] ends.
//! - a script, on `/v1/` paths only: `Authorization: Bearer <api token>`.
//!   A bearer token is tried before any cookie, and a wrong one is
//!   refused (401) rather than passed over for the cookie. With no
//!   bearer, a session works on `/v1/` too (the JSON link of a page).
//!   Pages ignore bearer tokens: they are for browsers.
//!
//! A request that changes something (any method but GET and HEAD) from a
//! browser must come from this server's own pages: its `Origin` (else
//! `Referer`) is `https://{Host}`, and it carries the session's CSRF token
//! (field `csrf` or header `x-csrf-token`). `POST /login` has no session
//! yet: it carries the token of the double-submit cookie
//! `__Host-hearth-login` that `GET /login` set, which only this server can
//! set (the `__Host-` prefix) and only its pages can read into the form.
//! A bearer request is not checked: no browser sends a bearer token by
//! itself, so it cannot be forged cross-site.
//!
//! Nobody signed in may reach only [`is_public`] paths (the sign-in page
//! and the style sheets); every other page sends them to `/login`, and
//! `/v1/` answers 401. The guard also refuses `/admin/` to anyone but an
//! administrator and `/access-log` to anyone but an auditor or
//! administrator, behind the handlers' own extractors (defence in depth).
//!
//! Single sign-on (OIDC) adds a route that verifies the identity
//! provider's answer, maps it to a user, and calls [`start`]; neither the
//! guard nor any handler changes (see docs/api.md).

pub mod checks;
pub mod cookie;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hearth_shared::Timestamp;
use hearth_shared::protocol::ErrorCode;

use super::layout;
use super::{SignedInBy, Viewer};
use crate::backend::Backend;
use crate::http::metrics::Event;
use crate::http::{ApiError, AppState};
use crate::keys::token_hash;
use crate::store::{Store, StoreError, User, WebSession};

/// The longest a session lasts, however busy: 12 hours (a working day),
/// then its user signs in again.
pub const MAX_SESSION_AGE_SECS: i64 = 12 * 3_600;

/// The stored id hash of the session the guard found (a request
/// extension beside the [`Viewer`]), so that sign-in and sign-out can end
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(pub String);

/// Whether nobody needs to be signed in for `path`.
pub fn is_public(path: &str) -> bool {
    path == "/login" || path.starts_with("/static/")
}

/// Why the guard refused a request.
#[derive(Debug)]
pub enum Refusal {
    /// Nobody is signed in; a page goes to `/login?next=...`.
    SignIn(Option<String>),
    /// A bearer token that is not valid (`/v1/`).
    BadToken,
    /// A change requested from another site's page (or no `Origin`).
    CrossOrigin,
    /// A change without the session's CSRF token.
    Csrf,
    /// A sign-in form without its cookie (expired, or opened elsewhere).
    LoginExpired,
    /// The role may not reach this path.
    Role(&'static str),
    /// A form body over the guard's limit.
    TooLarge,
    /// The store failed.
    Internal,
}

impl Refusal {
    /// The response: JSON for `/v1/`, a page otherwise.
    fn respond(self, api: bool) -> Response {
        let (status, code, title, why) = match self {
            Self::SignIn(next) if !api => {
                return Redirect::to(&login_url(next.as_deref())).into_response();
            }
            Self::SignIn(_) => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "Sign in",
                "send Authorization: Bearer <api token>, or sign in to the web app",
            ),
            Self::BadToken => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "Sign in",
                "the API token is not valid",
            ),
            Self::CrossOrigin => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "This request came from another site",
                "Hearth only accepts forms sent from its own pages. Go back to Hearth, reload the page and try again.",
            ),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "This form has expired",
                "The form was not sent from your current session. Go back, reload the page and try again.",
            ),
            Self::LoginExpired => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "The sign-in page has expired",
                "Reload the sign-in page and sign in again.",
            ),
            Self::Role(what) => return super::Refused::Role(what).into_response(),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadRequest,
                "This form is too large",
                "Shorten what you typed and try again.",
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "Sorry, there is a problem with the service",
                "Try again later.",
            ),
        };
        if api {
            ApiError::new(status, code, why).into_response()
        } else {
            layout::refusal(status, title, why)
        }
    }
}

/// `/login`, with `next` when there is somewhere to come back to.
fn login_url(next: Option<&str>) -> String {
    match next {
        Some(n) if n != "/" => format!("/login?next={}", hearth_shared::url::encode(n, b"/")),
        _ => "/login".to_string(),
    }
}

/// Who the guard found.
enum Who {
    Nobody,
    Session(Viewer, String),
    Token(Viewer),
}

/// The session guard (see the module's overview).
pub async fn guard<S: Backend>(
    State(st): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let api = path.starts_with("/v1/");
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = match admit(&st, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => {
            let mut response = refusal.respond(api);
            if changes {
                // The body may be left unread: close the connection rather
                // than have the client reuse it mid-body.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    };
    checks::strict_headers(response.headers_mut(), path.starts_with("/static/"));
    response
}

/// The request with its [`Viewer`] and [`SessionId`], or why not.
async fn admit<S: Backend>(st: &AppState<S>, mut request: Request) -> Result<Request, Refusal> {
    let path = request.uri().path().to_string();
    let who = identify(st, request.headers(), &path).await?;
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes && !matches!(who, Who::Token(_)) {
        checks::same_origin(request.headers())?;
        let expected = match &who {
            _ if path == "/login" => {
                cookie::read(request.headers(), cookie::LOGIN).ok_or(Refusal::LoginExpired)?
            }
            Who::Session(viewer, _) => viewer.csrf.clone(),
            _ => return Err(Refusal::SignIn(None)),
        };
        let (checked, presented) = checks::presented_csrf(request).await?;
        request = checked;
        if !checks::tokens_match(&expected, presented.as_deref()) {
            return Err(Refusal::Csrf);
        }
    }
    let viewer = match who {
        Who::Nobody if is_public(&path) => return Ok(request),
        Who::Nobody => {
            let next = (request.method() == Method::GET)
                .then(|| request.uri().path_and_query().map(|p| p.to_string()))
                .flatten();
            return Err(Refusal::SignIn(next));
        }
        Who::Session(viewer, id_hash) => {
            request.extensions_mut().insert(SessionId(id_hash));
            viewer
        }
        Who::Token(viewer) => viewer,
    };
    role_may_reach(&viewer, &path)?;
    request.extensions_mut().insert(viewer);
    Ok(request)
}

/// The path-wide role rules, behind each handler's own extractor.
fn role_may_reach(viewer: &Viewer, path: &str) -> Result<(), Refusal> {
    if path.starts_with("/admin/") && !viewer.role.administers() {
        return Err(Refusal::Role("administer devices, users and families"));
    }
    if path == "/access-log" && !viewer.role.reads_access_log() {
        return Err(Refusal::Role("read the access log"));
    }
    Ok(())
}

/// Finds who is asking, off the async workers (the store blocks).
async fn identify<S: Backend>(
    st: &AppState<S>,
    headers: &HeaderMap,
    path: &str,
) -> Result<Who, Refusal> {
    let api = path.starts_with("/v1/");
    let bearer = if api { bearer(headers) } else { None };
    let session = cookie::read(headers, cookie::SESSION);
    if (bearer.is_none() && session.is_none()) || path.starts_with("/static/") {
        // The style sheets need nobody: no store lookup for each of them.
        return Ok(Who::Nobody);
    }
    let st = st.clone();
    tokio::task::spawn_blocking(move || {
        let found = match bearer {
            Some(token) => by_token(&st, &token),
            None => by_session(&st, &session.unwrap_or_default()),
        };
        found.map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            Refusal::Internal
        })?
    })
    .await
    .map_err(|_| Refusal::Internal)?
}

/// The `Authorization: Bearer` token, if one was sent.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

fn by_token<S: Backend>(st: &AppState<S>, token: &str) -> Result<Result<Who, Refusal>, StoreError> {
    Ok(match st.store().user_by_token(&token_hash(token))? {
        Some(user) => Ok(Who::Token(viewer(user, String::new(), SignedInBy::Token))),
        None => {
            if let Some(left_out) = st.counters.count(Event::TokenFailure) {
                tracing::warn!(left_out, "web request refused: the API token is not valid");
            }
            Err(Refusal::BadToken)
        }
    })
}

fn by_session<S: Backend>(st: &AppState<S>, id: &str) -> Result<Result<Who, Refusal>, StoreError> {
    let store = st.store();
    let id_hash = token_hash(id);
    let now = st.clock.now();
    let idle = i64::try_from(st.limits.session_idle.as_secs()).unwrap_or(i64::MAX);
    let Some(s) = store.touch_session(&id_hash, Timestamp(now.0.saturating_sub(idle)), now)? else {
        return Ok(Ok(Who::Nobody));
    };
    if s.created_at.0 < now.0.saturating_sub(MAX_SESSION_AGE_SECS) {
        store.end_session(&id_hash)?;
        return Ok(Ok(Who::Nobody));
    }
    Ok(Ok(Who::Session(
        viewer(s.user, s.csrf, SignedInBy::Session),
        id_hash,
    )))
}

fn viewer(user: User, csrf: String, by: SignedInBy) -> Viewer {
    Viewer {
        name: user.name,
        role: user.role,
        csrf,
        by,
    }
}

/// Begins a session for `user` at `now`: a new random id (never one the
/// browser offered: no fixation) and CSRF token, stored as the id's hash;
/// the session the browser held before (`replacing`), if any, is ended.
/// Returns the `Set-Cookie` value. The one way a session is made: the
/// password sign-in calls it, and so would a single sign-on callback.
pub fn start<S: Store>(
    store: &S,
    user: &User,
    now: Timestamp,
    replacing: Option<&SessionId>,
) -> Result<HeaderValue, StoreError> {
    if let Some(old) = replacing {
        store.end_session(&old.0)?;
    }
    let id = cookie::random_hex();
    store.add_session(&WebSession {
        id_hash: token_hash(&id),
        user: user.clone(),
        csrf: cookie::random_hex(),
        created_at: now,
        last_seen: now,
    })?;
    Ok(cookie::set(cookie::SESSION, &id, None))
}

/// Ends the session (sign-out): deleted in the store, so its cookie is
/// worthless even if kept. Returns the `Set-Cookie` value that deletes
/// the cookie.
pub fn end<S: Store>(store: &S, session: &SessionId) -> Result<HeaderValue, StoreError> {
    store.end_session(&session.0)?;
    Ok(cookie::clear(cookie::SESSION))
}

#[cfg(test)]
mod tests;
