//! Administration pages, for administrators ([`Admin`]), and the access
//! log, for auditors and administrators ([`crate::web::Auditor`]):
//!
//! | page | module | what it does |
//! | --- | --- | --- |
//! | `/admin/devices` | [`devices`] | list; revoke with a reason |
//! | `/admin/users` | [`users`] | list; add, reset a password, rotate a token, revoke |
//! | `/admin/families` | [`families`] | links in force, history; link and unlink with a reason |
//! | `/admin/quarantine` | [`quarantine`] | a reason first (logged), then what is held |
//! | `/access-log` | [`access_log`] | the access log, filtered by child, user and dates |
//!
//! Every change goes through the same function in [`crate::admin`] as the
//! command that makes it (`revoke`, `user ...`, `family ...`,
//! `quarantine`), so a page and a command check the same rules and give
//! the same messages. Each page module keeps its handlers thin: the work
//! is a plain function over a [`Store`](crate::store::Store) that returns
//! the status and the page ([`Answer`]), unit-tested without HTTP; the
//! handler runs it on a blocking thread ([`answer`]).
//!
//! A POST answers with the page itself, with a confirmation of what was
//! done at the top (or the problem, with the form filled in again), not a
//! redirect: a new token or password is shown on that one response and
//! never again, and every administration response is `no-store`.

pub mod access_log;
pub mod devices;
pub mod families;
pub mod quarantine;
pub mod users;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hearth_shared::Timestamp;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Viewer, layout};
use crate::admin::AdminError;
use crate::backend::Backend;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::StoreError;

#[cfg(doc)]
use super::Admin;

/// This module's routes.
pub fn routes<S: Backend>() -> Router<AppState<S>> {
    Router::new()
        .route("/admin/devices", get(devices::page::<S>))
        .route("/admin/devices/{id}/revoke", post(devices::revoke::<S>))
        .route("/admin/users", get(users::page::<S>).post(users::add::<S>))
        .route("/admin/users/{name}/password", post(users::password::<S>))
        .route("/admin/users/{name}/revoke", post(users::revoke::<S>))
        .route("/admin/users/{name}/token", post(users::token::<S>))
        .route("/admin/families", get(families::page::<S>))
        .route("/admin/families/link", post(families::link::<S>))
        .route("/admin/families/unlink", post(families::unlink::<S>))
        .route(
            "/admin/quarantine",
            get(quarantine::ask::<S>).post(quarantine::show::<S>),
        )
        .route("/access-log", get(access_log::page::<S>))
}

/// A form with a reason (`reason`). Every field of a form is optional to
/// serde, so that a missing one gets the page's own message, not axum's.
#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// What a page's work gives: the status and the page, or a store failure
/// (answered with a 500 that says nothing of its cause).
pub type Answer = Result<(StatusCode, Markup), StoreError>;

/// A problem with a form: the id of the field at fault and the message.
pub type Problem = (String, String);

/// Runs a page's work on a blocking thread (the store is never called on
/// an async worker) and answers with its page, `no-store`.
pub async fn answer<S: Backend>(
    state: AppState<S>,
    work: impl FnOnce(&AppState<S>) -> Answer + Send + 'static,
) -> Response {
    let done = tokio::task::spawn_blocking(move || work(&state)).await;
    let mut response = match done {
        Ok(Ok((status, markup))) => (status, layout::html(markup)).into_response(),
        Ok(Err(e)) => failed(&e),
        Err(e) => failed(&e),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failed(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "administration page failed");
    layout::refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sorry, there is a problem with the service",
        "The server failed. Check the list before you try again: the change may or may not have been made.",
    )
}

/// What to tell the administrator about a refused change: the message the
/// command gives, without its command-line hints. A store failure is not
/// the administrator's to fix and is passed on.
pub fn refusal_message(e: AdminError) -> Result<String, StoreError> {
    Ok(match e {
        AdminError::Store(e) => return Err(e),
        AdminError::Reason(e) => e.to_string(),
        AdminError::UnknownDevice(d) => format!("No device {d} is enrolled"),
        AdminError::UnknownUser(name) => format!("No user is named \"{name}\""),
        e => e.to_string(),
    })
}

/// The status of a page that reports a refusal (400) or not (200).
pub fn status_of(problems: &[Problem]) -> StatusCode {
    if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// An administration page: the shell, the error summary linking to each
/// field at fault ("Error: " before the title when there is one), and
/// `content`.
pub fn admin_page(viewer: &Viewer, title: &str, problems: &[Problem], content: Markup) -> Markup {
    let summary: Vec<(&str, &str)> = problems
        .iter()
        .map(|(f, m)| (f.as_str(), m.as_str()))
        .collect();
    let title = if problems.is_empty() {
        title.to_string()
    } else {
        format!("Error: {title}")
    };
    layout::page(
        Some(viewer),
        &title,
        html! {
            (layout::error_summary(&summary))
            (content)
        },
    )
}

/// The panel saying what was just done.
pub fn confirmation(title: &str, body: Markup) -> Markup {
    html! {
        div class="panel panel--confirmation" role="status" id="confirmation" {
            h2 class="heading-m" { (title) }
            (body)
        }
    }
}

/// The message of the problem with field `id`, if there is one.
pub fn problem_for<'a>(problems: &'a [Problem], id: &str) -> Option<&'a str> {
    problems
        .iter()
        .find(|(f, _)| f == id)
        .map(|(_, m)| m.as_str())
}

/// A form group for the field `id`: its label, hint and error (if
/// `problems` has one for it), around the control `control` draws, which
/// is given the `aria-describedby` value and whether there is an error.
fn field_group(
    id: &str,
    label: &str,
    hint: &str,
    problems: &[Problem],
    control: impl FnOnce(&str, bool) -> Markup,
) -> Markup {
    let error = problem_for(problems, id);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = match error {
        Some(_) => format!("{hint_id} {error_id}"),
        None => hint_id.clone(),
    };
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(id) { (label) }
            p class="hint" id=(hint_id) { (hint) }
            @if let Some(error) = error {
                p class="error-message" id=(error_id) { span class="visually-hidden" { "Error: " } (error) }
            }
            (control(&described, error.is_some()))
        }
    }
}

/// A reason field (a textarea named `reason`, with id `id`), with its
/// error if `problems` has one for it.
pub fn reason_field(id: &str, label: &str, value: &str, problems: &[Problem]) -> Markup {
    let hint = "At least 10 characters that say why. It is kept with the change.";
    field_group(id, label, hint, problems, |described, _| {
        html! {
            textarea class="textarea" id=(id) name="reason" rows="2" aria-describedby=(described) { (value) }
        }
    })
}

/// A one-line text field named and identified `id`, with its error.
pub fn text_field(id: &str, label: &str, hint: &str, value: &str, problems: &[Problem]) -> Markup {
    field_group(id, label, hint, problems, |described, error| {
        html! {
            input class={ "input" @if error { " input--error" } } id=(id) name=(id) type="text"
                value=(value) autocomplete="off" spellcheck="false" aria-describedby=(described);
        }
    })
}

/// A time as people read it (`2026-07-01 10:30 BST`), or "never".
pub fn when(zone: &Zone, t: Option<Timestamp>) -> String {
    t.map_or_else(|| "never".to_string(), |t| zone.show(t))
}

#[cfg(test)]
pub(crate) mod testing {
    //! What the page tests share: a store in a temporary directory, a
    //! fixed time (for a `FixedClock`), viewers, and the hostile strings every free-text field
    //! is tried with.

    use ed25519_dalek::SigningKey;
    use hearth_shared::json::{Defaults, parse_body};
    use hearth_shared::{DeviceId, Envelope, RecordHash, Seq, SignedRecord, Timestamp};

    use crate::clock::FixedClock;
    use crate::store::any::AnyStore;
    use crate::store::testing;
    use crate::store::{Role, Store};
    use crate::web::{SignedInBy, Viewer};

    /// Markup that would run or load something if it were not escaped.
    pub const INJECTIONS: [&str; 2] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ];

    /// Whether `page` shows none of [`INJECTIONS`] as markup.
    pub fn inert(page: &str) -> bool {
        !page.contains("<script>alert") && !page.contains("<img src=x")
    }

    /// 2027-01-15 08:00:00 UTC.
    pub const NOW: Timestamp = Timestamp(1_800_000_000);

    /// A viewer named `name` with `role`.
    pub fn viewer(name: &str, role: Role) -> Viewer {
        Viewer {
            name: name.into(),
            role,
            csrf: "c5rf".into(),
            by: SignedInBy::Session,
        }
    }

    /// A new store in its own directory (kept while the guard lives).
    pub fn store() -> (tempfile::TempDir, AnyStore) {
        testing::fresh()
    }

    /// Enrols a device for `agency`/`worker` with a key made from `seed`.
    pub fn enrol(store: &AnyStore, seed: u8, agency: &str, worker: &str) -> (SigningKey, DeviceId) {
        let clock = FixedClock(NOW);
        let day = std::time::Duration::from_secs(86_400);
        let (token, _) =
            crate::admin::issue_enrol_token(store, &clock, agency, worker, &[], day).unwrap();
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = *key.verifying_key().as_bytes();
        let device = DeviceId::from_public_key(&public);
        store
            .enrol(&token.hash(), device, public, NOW)
            .unwrap()
            .unwrap();
        (key, device)
    }

    /// A signed record, number `seq` of `key`'s device, from a JSON body.
    pub fn signed(key: &SigningKey, seq: u64, json: &str) -> Vec<u8> {
        let defaults = Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        };
        let body = parse_body(json, &defaults).unwrap();
        let envelope = Envelope {
            version: body.format_version(),
            device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            seq: Seq(seq),
            prev: RecordHash::GENESIS,
            device_time: Timestamp(1_790_000_000),
            body,
        };
        SignedRecord::sign(key, &envelope).unwrap().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    //! The routes through axum: who may reach which page, forms posted as
    //! a browser posts them, and the `no-store` header. (The session guard
    //! is stood in for by a layer that puts a viewer in the request, as
    //! the guard does.)

    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::testing::{NOW, viewer};
    use super::*;
    use crate::clock::FixedClock;
    use crate::http::admit::BodyBudget;
    use crate::http::metrics::Counters;
    use crate::http::{AppState, OutboxKeys};
    use crate::ingest::writer::{Fault, Writer};
    use crate::store::any::AnyStore;
    use crate::store::testing;
    use crate::store::{Role, Store};

    fn state(dir: &std::path::Path) -> AppState<AnyStore> {
        // Off the test's runtime: the PostgreSQL client blocks.
        testing::blocking(move || {
            let server_key = Arc::new(crate::keys::load_or_create_server_key(dir, false).unwrap());
            let outbox = crate::keys::load_or_create_outbox_key(dir, false).unwrap();
            let clock: Arc<dyn crate::clock::Clock> = Arc::new(FixedClock(NOW));
            let limits = crate::config::Limits::default();
            AppState {
                reads: Arc::new(testing::open(dir)),
                outbox: Arc::new(OutboxKeys::new(outbox, &server_key)),
                server_key,
                writer: Writer::start(testing::open(dir), clock.clone(), Fault::None, || {}),
                limits,
                clock,
                counters: Arc::new(Counters::default()),
                budget: BodyBudget::new(limits.max_body_bytes_in_flight),
                zone: Zone::default(),
                signals: Default::default(),
            }
        })
    }

    /// The admin routes, with `role` signed in (or nobody).
    fn app(state: AppState<AnyStore>, role: Option<Role>) -> Router {
        routes::<AnyStore>()
            .layer(axum::middleware::from_fn(
                move |mut req: Request<Body>, next: axum::middleware::Next| async move {
                    if let Some(role) = role {
                        req.extensions_mut().insert(viewer("root", role));
                    }
                    next.run(req).await
                },
            ))
            .with_state(state)
    }

    async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let r = app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let body = r.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn post(uri: &str, form: &str) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap()
    }

    const PAGES: [&str; 5] = [
        "/admin/devices",
        "/admin/users",
        "/admin/families",
        "/admin/quarantine",
        "/access-log",
    ];

    #[tokio::test]
    async fn each_role_reaches_only_its_pages() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path());
        for (role, allowed) in [
            (Some(Role::Admin), [true, true, true, true, true]),
            (Some(Role::Manager), [false, false, false, false, false]),
            (Some(Role::Auditor), [false, false, false, false, true]),
        ] {
            let app = app(st.clone(), role);
            for (page, allowed) in PAGES.iter().zip(allowed) {
                let (status, headers, body) = send(&app, get(page)).await;
                let want = if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, want, "{role:?} {page}: {body}");
                if allowed {
                    assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{page}");
                }
            }
        }
        let nobody = app(st, None);
        for page in PAGES {
            let (status, headers, _) = send(&nobody, get(page)).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
            assert_eq!(headers[header::LOCATION], "/login");
        }
    }

    #[tokio::test]
    async fn forms_post_as_a_browser_posts_them_and_only_an_admin_changes_anything() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path());
        let unlink = "child_a=nhs%3A9434765919&child_b=nhs%3A9876543210&reason=not+the+same+household&csrf=c5rf";
        for role in [Role::Manager, Role::Auditor] {
            let app = app(st.clone(), Some(role));
            let (status, _, _) = send(&app, post("/admin/families/unlink", unlink)).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, _, _) = send(&app, post("/admin/users", "name=eve&role=admin")).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        assert!(
            testing::blocking(|| st.store().family_history())
                .unwrap()
                .is_empty()
        );
        assert!(testing::blocking(|| st.store().users()).unwrap().is_empty());

        let admin = app(st.clone(), Some(Role::Admin));
        let (status, headers, body) = send(&admin, post("/admin/families/unlink", unlink)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert!(body.contains("are unlinked"), "{body}");
        let history = testing::blocking(|| st.store().family_history()).unwrap();
        assert_eq!((history.len(), history[0].who.as_str()), (1, "root"));

        let (status, _, body) =
            send(&admin, post("/admin/users", "name=dsl+lead&role=manager")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("id=\"secret\""), "{body}");
        let (status, _, body) = send(&admin, post("/admin/users/dsl%20lead/password", "")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("dsl lead has a new password"), "{body}");

        let (status, _, body) = send(&admin, post("/admin/quarantine", "reason=short")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            testing::blocking(|| st.store().access_log())
                .unwrap()
                .is_empty()
        );
    }
}
