//! The manager's web app: server-rendered pages on the same HTTPS port as
//! the API, for managers and safeguarding leads (chronologies and the
//! record behind each line), administrators and auditors.
//!
//! - [`session`]: accounts and sessions. [`session::guard`] runs before
//!   every route of this module (and `GET /v1/records/{id}`): it finds who
//!   is asking (a `__Host-` session cookie, or an API token) and puts a
//!   [`Viewer`] in the request; checks CSRF and `Origin` on every POST;
//!   sets the strict headers. Handlers never look at cookies or tokens.
//! - [`login`]: sign-in (Argon2id, rate-limited), sign-out.
//! - [`find`], [`chronology`], [`record`]: find a child, break the glass
//!   (a reason and a purpose, logged before anything is served), the
//!   chronology with its filters and counts, the record behind a line.
//! - [`signals`]: the practice signals' panel above a chronology, its
//!   acknowledgement form, and the caseload page (`/signals`).
//! - [`timeline`]: the inline SVG picture of a chronology (pure), and
//!   [`pack`]: the panel pack's print-only header and print button.
//! - [`admin`]: devices, users, families, quarantine, the access log.
//! - [`people`]: the people register (issue 17): find a child by name,
//!   the person page, adding people and changing identities and
//!   households (administrators), and family proposals (managers and
//!   administrators).
//! - [`layout`] and [`assets`]: the page shell and the style sheet (the
//!   tablet app's design system, after the GOV.UK / NHS.UK patterns).
//!
//! Roles decide what a [`Viewer`] may reach through the extractors
//! [`Reader`] (chronologies: managers and admins), [`Admin`] and
//! [`Auditor`] (the access log: auditors and admins). A handler names the
//! one it needs in its arguments, so a route cannot forget to check.

pub mod admin;
pub mod assets;
pub mod chronology;
pub mod find;
pub mod layout;
pub mod login;
pub mod pack;
pub mod people;
pub mod record;
pub mod session;
pub mod signals;
pub mod timeline;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::backend::Backend;
use crate::http::AppState;
use crate::store::Role;

/// Who is asking, as the session guard found them (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// Their user name (the access log's `who`).
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The session's CSRF token, which every form carries (empty for an
    /// API token, which sends no forms).
    pub csrf: String,
    /// How they signed in.
    pub by: SignedInBy,
}

/// How a [`Viewer`] proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInBy {
    /// A browser session (password sign-in; single sign-on would make the
    /// same kind of session).
    Session,
    /// An API token (`Authorization: Bearer`), for scripts.
    Token,
}

/// Why a page was refused before its handler ran.
#[derive(Debug)]
pub enum Refused {
    /// Nobody is signed in: a browser goes to the sign-in page.
    SignIn,
    /// Signed in, but the role may not see this.
    Role(&'static str),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/login").into_response(),
            Self::Role(what) => layout::refusal(
                StatusCode::FORBIDDEN,
                "You cannot see this page",
                &format!(
                    "Your account's role may not {what}. Ask an administrator if you need it."
                ),
            ),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refused> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or(Refused::SignIn)
    }
}

macro_rules! role_extractor {
    ($(#[$m:meta])* $name:ident, $check:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Viewer);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Refused;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refused> {
                let viewer = Viewer::from_request_parts(parts, state).await?;
                if viewer.role.$check() {
                    Ok(Self(viewer))
                } else {
                    Err(Refused::Role($what))
                }
            }
        }
    };
}

role_extractor!(
    /// A viewer who may read chronologies and records (manager, admin).
    Reader,
    reads_chronologies,
    "read chronologies"
);
role_extractor!(
    /// A viewer who may administer (admin).
    Admin,
    administers,
    "administer devices, users and families"
);
role_extractor!(
    /// A viewer who may read the access log (auditor, admin).
    Auditor,
    reads_access_log,
    "read the access log"
);

/// `GET /`: where each role starts.
async fn home(viewer: Viewer) -> Redirect {
    if viewer.role.reads_chronologies() {
        Redirect::to("/find")
    } else {
        Redirect::to("/access-log")
    }
}

/// The whole HTTPS service: the API ([`crate::http::router`]) and the web
/// app's routes, which alone run behind the session guard.
pub fn app<S: Backend>(state: AppState<S>) -> Router {
    let web = routes(state.clone()).with_state(state.clone());
    crate::http::router(state).merge(web)
}

/// Every route of the web app, behind the session guard.
pub fn routes<S: Backend>(state: AppState<S>) -> Router<AppState<S>> {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(assets::serve))
        .merge(login::routes::<S>())
        .merge(find::routes::<S>())
        .merge(chronology::routes::<S>())
        .merge(record::routes::<S>())
        .merge(signals::caseload::routes::<S>())
        .merge(admin::routes::<S>())
        .merge(people::routes::<S>())
        .layer(axum::middleware::from_fn_with_state(
            state,
            session::guard::<S>,
        ))
}
