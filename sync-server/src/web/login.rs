//! Sign-in and sign-out: `GET /login` (the form), `POST /login` (Argon2id,
//! rate-limited), `POST /logout` (and `GET /logout`, its button alone).
//!
//! - Every sign-in makes a new session ([`session::start`]) and ends the
//!   one the browser held before: an id planted before sign-in is worth
//!   nothing after it (no session fixation).
//! - A wrong name, a wrong password and an account with no password all
//!   get the same answer ("The user name or password is wrong"), after
//!   the same Argon2 work ([`password::verify`]).
//! - Failed sign-ins are counted in the store (`login_failures`): after
//!   [`MAX_FAILURES_PER_NAME`] for one name, or
//!   [`MAX_FAILURES_PER_ADDRESS`] from one address, within
//!   [`WINDOW_SECS`], sign-in is refused (429) until the window passes,
//!   even with the right password. A refused attempt is not verified and
//!   not counted. Each failure is logged as a warning with the name and
//!   address, never the password.
//! - `next` is followed only when it is a local path ([`local_next`]).
//!
//! The form's CSRF token is the double-submit cookie `__Host-hearth-login`
//! (see [`session`]): there is no session to hold one yet.

pub mod password;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use hearth_shared::Timestamp;
use hearth_shared::printable::Escaped;
use maud::html;
use serde::Deserialize;

use super::session::{self, SessionId, cookie};
use super::{Viewer, layout};
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::{AppState, Peer};
use crate::store::{Store, StoreError};

/// How long failed sign-ins count against a name or an address.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failed sign-ins as one name, within the window, before sign-in as that
/// name is refused.
pub const MAX_FAILURES_PER_NAME: u32 = 5;
/// Failed sign-ins from one address, within the window, before sign-in
/// from it is refused.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// What a wrong name or password is told (never which).
pub const WRONG: &str = "The user name or password is wrong";
/// The longest name kept in the failures table.
const MAX_NAME_CHARS: usize = 128;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/login", get(show).post(sign_in::<S>))
        .route("/logout", get(confirm_sign_out).post(sign_out::<S>))
}

/// `next` if it is a path on this server: it starts with one `/` (not
/// `//` or `/\`, which a browser reads as another host), has no
/// backslash or control character, and is not absurdly long.
pub fn local_next(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2_048
        && !next.chars().any(|c| c == '\\' || c.is_control());
    local.then_some(next)
}

/// The query of `GET /login`.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    /// Where to go after sign-in.
    next: Option<String>,
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `GET /login`: the form (someone already signed in goes on to `next`).
async fn show(
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let next = q.next.as_deref().and_then(local_next).unwrap_or("/");
    if viewer.is_some() {
        return Redirect::to(next).into_response();
    }
    form_page(StatusCode::OK, &headers, "", next, None)
}

/// The sign-in page with `status`, the name typed (if any) and an error.
/// It (re)sets the form's double-submit cookie, keeping a valid one, so
/// that two open sign-in tabs both work.
fn form_page(
    status: StatusCode,
    headers: &HeaderMap,
    name: &str,
    next: &str,
    error: Option<&str>,
) -> Response {
    let token = cookie::read(headers, cookie::LOGIN).unwrap_or_else(cookie::random_hex);
    let set = cookie::set(cookie::LOGIN, &token, Some(cookie::LOGIN_MAX_AGE_SECS));
    let title = if error.is_some() {
        "Error: Sign in"
    } else {
        "Sign in"
    };
    let summary: Vec<(&str, &str)> = error.map(|e| ("name", e)).into_iter().collect();
    let body = layout::page(
        None,
        title,
        html! {
            (layout::error_summary(&summary))
            h1 class="heading-xl" { "Sign in" }
            form method="post" action="/login" novalidate {
                input type="hidden" name=(layout::CSRF_FIELD) value=(token);
                input type="hidden" name="next" value=(next);
                div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                    label class="label" for="name" { "User name" }
                    @if let Some(e) = error {
                        p class="error-message" id="name-error" {
                            span class="visually-hidden" { "Error: " } (e)
                        }
                    }
                    input class={ "input" @if error.is_some() { " input--error" } } id="name" name="name"
                        type="text" value=(name) autocomplete="username" spellcheck="false"
                        autocapitalize="none" aria-describedby=[error.map(|_| "name-error")];
                }
                div class="form-group" {
                    label class="label" for="password" { "Password" }
                    input class="input" id="password" name="password" type="password"
                        autocomplete="current-password";
                }
                button class="button" type="submit" { "Sign in" }
            }
        },
    );
    (status, [(header::SET_COOKIE, set)], layout::html(body)).into_response()
}

/// What a sign-in attempt came to.
enum Outcome {
    /// Signed in: the session cookie.
    SignedIn(HeaderValue),
    /// Wrong name or password (or no password set).
    Wrong,
    /// Too many failures: refused until this time at the latest.
    Limited(Timestamp),
}

/// The attempt, on a blocking thread: the rate limit, the Argon2 check,
/// then the new session or the failure noted.
fn attempt<S: Store>(
    store: &S,
    clock: &dyn Clock,
    name: &str,
    password: &str,
    address: &str,
    old: Option<&SessionId>,
) -> Result<Outcome, StoreError> {
    let now = clock.now();
    let name: String = name.trim().chars().take(MAX_NAME_CHARS).collect();
    let since = Timestamp(now.0.saturating_sub(WINDOW_SECS));
    let (by_name, by_address) = store.login_failures(&name, address, since)?;
    if by_name >= MAX_FAILURES_PER_NAME || by_address >= MAX_FAILURES_PER_ADDRESS {
        tracing::warn!(name = %Escaped(&name), address, by_name, by_address, "sign-in refused: too many failed attempts");
        return Ok(Outcome::Limited(Timestamp(
            now.0.saturating_add(WINDOW_SECS),
        )));
    }
    let found = store.login_user(&name)?;
    let stored = found.as_ref().and_then(|(_, hash)| hash.as_deref());
    let right = password::verify(password, stored);
    match found {
        Some((user, Some(_))) if right => {
            let cookie = session::start(store, &user, now, old)?;
            tracing::info!(name = %Escaped(&name), address, "signed in");
            Ok(Outcome::SignedIn(cookie))
        }
        _ => {
            store.add_login_failure(&name, address, now)?;
            tracing::warn!(name = %Escaped(&name), address, "sign-in failed: wrong name or password");
            Ok(Outcome::Wrong)
        }
    }
}

/// `POST /login`.
async fn sign_in<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    old: Option<Extension<SessionId>>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return form_page(StatusCode::BAD_REQUEST, &headers, "", "/", Some(WRONG));
    };
    let next = local_next(&form.next).unwrap_or("/").to_string();
    // The address alone: a browser opens connections from many ports.
    let address = peer
        .0
        .map_or_else(|| "-".to_string(), |a| a.ip().to_string());
    let state = st.clone();
    let (name, password) = (form.name.clone(), form.password);
    let outcome = tokio::task::spawn_blocking(move || {
        let old = old.map(|Extension(id)| id);
        attempt(
            state.store(),
            state.clock.as_ref(),
            &name,
            &password,
            &address,
            old.as_ref(),
        )
    })
    .await;
    match outcome {
        Ok(Ok(Outcome::SignedIn(set))) => (
            StatusCode::SEE_OTHER,
            // Appended: an array of pairs would keep only the last cookie.
            AppendHeaders([
                (
                    header::LOCATION,
                    HeaderValue::from_str(&next).unwrap_or(HeaderValue::from_static("/")),
                ),
                (header::SET_COOKIE, set),
                (header::SET_COOKIE, cookie::clear(cookie::LOGIN)),
            ]),
        )
            .into_response(),
        Ok(Ok(Outcome::Wrong)) => form_page(
            StatusCode::UNAUTHORIZED,
            &headers,
            form.name.trim(),
            &next,
            Some(WRONG),
        ),
        Ok(Ok(Outcome::Limited(until))) => {
            let why = format!(
                "There have been too many failed attempts to sign in. Try again after {}. If you have forgotten your password, ask an administrator to reset it.",
                st.zone.show(until)
            );
            let mut page = layout::refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins",
                &why,
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(WINDOW_SECS));
            page
        }
        Ok(Err(e)) => server_failed(&e),
        Err(e) => server_failed(&e),
    }
}

fn server_failed(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "sign-in failed on the server");
    layout::refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sorry, there is a problem with the service",
        "Try again later.",
    )
}

/// `GET /logout` (a bookmark, or typed): the sign-out button alone, since
/// signing out is a change and so a POST with the CSRF token.
async fn confirm_sign_out(viewer: Viewer) -> Response {
    let body = layout::page(
        Some(&viewer),
        "Sign out",
        html! {
            h1 class="heading-xl" { "Sign out" }
            p { "You are signed in as " strong { (viewer.name) } "." }
            form method="post" action="/logout" {
                (layout::csrf_field(&viewer))
                button class="button" type="submit" { "Sign out" }
            }
        },
    );
    layout::html(body).into_response()
}

/// `POST /logout`: the session ends in the store (its cookie is worthless
/// from now on), the cookie is deleted, and the browser goes to `/login`.
async fn sign_out<S: Backend>(
    State(st): State<AppState<S>>,
    session: Option<Extension<SessionId>>,
) -> Response {
    let clear = match session {
        Some(Extension(id)) => {
            match tokio::task::spawn_blocking(move || session::end(st.store(), &id)).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return server_failed(&e),
                Err(e) => return server_failed(&e),
            }
        }
        None => cookie::clear(cookie::SESSION),
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_static("/login")),
            (header::SET_COOKIE, clear),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_to_a_local_path() {
        for ok in [
            "/",
            "/find",
            "/children/nhs:9434765919/chronology?grant=ab&from=2026-01-01",
        ] {
            assert_eq!(local_next(ok), Some(ok));
        }
        for bad in [
            "",
            "find",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/find\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_next(bad), None, "{bad}");
        }
        assert_eq!(local_next(&format!("/{}", "a".repeat(3_000))), None);
    }
}
