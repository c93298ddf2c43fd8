//! The way in: `/unlock` (the passphrase), and on a tablet with no store
//! yet `/setup` (agency, worker, passphrase twice) then `/enrol` (server
//! URL, one-time token, fingerprint pin).
//!
//! Each goes through the same functions as its command: the passphrase
//! through [`crate::unlock::open_store_keys`] (a wrong one is counted and
//! delayed exactly as for the CLI's `unlock`), set-up through
//! [`crate::commands::create_store`] (`init`), enrolment through
//! [`crate::commands::enrol_device`] (`enrol`). Their messages are shown
//! as they are, beside the field they concern. Argon2 and the network run
//! on tokio's blocking pool, never on the thread that serves pages.

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{Markup, html};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::security::{self, Session};
use super::{AppState, Unlocked, layout};
use crate::commands::{CommandError, create_store_keys, enrol_device};
use crate::keys::DeviceKey;
use crate::seal::{DataKey, Sealer};
use crate::store::{DeviceSettings, LocalStore, RecordStore, StoreError};
use crate::sync::transport::TransportError;
use crate::tls::TlsError;
use crate::unlock::{KeySource, OpenStoreError, open_store_keys};

/// `/unlock`, `/setup` and `/enrol`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/unlock", get(unlock_page).post(unlock_submit))
        .route("/setup", get(setup_page).post(setup_submit))
        .route("/enrol", get(enrol_page).post(enrol_submit))
}

/// One problem: the field id and the message.
type Problem = (&'static str, String);

/// A labelled input in the GOV.UK pattern: label, hint, the error beside
/// it, the input (whose `value` is `value`, escaped).
fn field(
    id: &str,
    label: &str,
    hint: Option<&str>,
    kind: &str,
    value: &str,
    problems: &[Problem],
) -> Markup {
    let error = problems.iter().find(|(f, _)| *f == id).map(|(_, m)| m);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let autocomplete = match (kind, id) {
        ("password", "passphrase") if value.is_empty() => "current-password",
        ("password", _) => "new-password",
        _ => "off",
    };
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(id) { (label) }
            @if let Some(hint) = hint { p class="hint" id=(hint_id) { (hint) } }
            @if let Some(error) = error {
                p class="error-message" id=(error_id) { span class="visually-hidden" { "Error: " } (error) }
            }
            input class={ "input" @if error.is_some() { " input--error" } } id=(id) name=(id) type=(kind)
                value=(value) autocomplete=(autocomplete) spellcheck="false"
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
        }
    }
}

/// A form page: the error summary, then the form posting to `action`.
fn form_page(
    title: &str,
    intro: Markup,
    action: &str,
    problems: &[Problem],
    fields: Markup,
    button: &str,
) -> Markup {
    let summary: Vec<(&str, &str)> = problems.iter().map(|(f, m)| (*f, m.as_str())).collect();
    let title = if problems.is_empty() {
        title.to_string()
    } else {
        format!("Error: {title}")
    };
    layout::page(
        &title,
        html! {
            (layout::error_summary(&summary))
            (intro)
            form method="post" action=(action) novalidate {
                (security::csrf_field())
                (fields)
                button class="button" type="submit" { (button) }
            }
        },
    )
}

fn store_exists(state: &AppState) -> bool {
    state.store_dir().join(crate::store::DB_FILE_NAME).exists()
}

fn unlock_form(problems: &[Problem]) -> Markup {
    form_page(
        "Unlock",
        html! { h1 class="heading-l" { "Unlock Hearth" } },
        "/unlock",
        problems,
        field("passphrase", "Passphrase", None, "password", "", problems),
        "Unlock",
    )
}

/// `GET /unlock`.
async fn unlock_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    if !store_exists(&state) {
        return Redirect::to("/setup").into_response();
    }
    if session.signed_in {
        return Redirect::to("/").into_response();
    }
    layout::html(unlock_form(&[])).into_response()
}

/// The passphrase form.
#[derive(Deserialize)]
struct UnlockForm {
    #[serde(default)]
    passphrase: String,
}

/// Opens the store with `passphrase` on the blocking pool and signs this
/// browser in; the `Set-Cookie` of the new session and a redirect to
/// `then`.
async fn open_and_sign_in(
    state: &AppState,
    passphrase: Zeroizing<String>,
    then: &str,
) -> Result<Response, OpenStoreError> {
    let dir = state.store_dir().to_path_buf();
    let opened = tokio::task::spawn_blocking(move || {
        let (store, key, data_key) = open_store_keys(&dir, KeySource::Passphrase(&passphrase))?;
        let settings = store.settings()?.ok_or(StoreError::NotInitialised)?;
        Ok::<_, OpenStoreError>((store, key, data_key, settings))
    })
    .await
    .expect("the unlock task does not panic")?;
    Ok(sign_in(state, opened, then))
}

/// Keeps the opened store, signs this browser in and starts what unlock
/// starts; the `Set-Cookie` of the new session and a redirect to `then`.
fn sign_in(
    state: &AppState,
    (store, key, data_key, settings): (LocalStore, DeviceKey, DataKey, DeviceSettings),
    then: &str,
) -> Response {
    let (session, cookie) = security::new_signed_in_session(state);
    let unlocked = Unlocked {
        store,
        key,
        data_key,
        settings,
        session,
    };
    // Drafts older than the set age go at unlock (and before any listing).
    let now = state.clock().now();
    if let Err(e) = crate::app::forms::routes::purge_old_drafts(&unlocked, now) {
        tracing::warn!(error = %e, "old drafts could not be purged; they stay sealed");
    }
    *state.unlocked() = Some(unlocked);
    state.touch();
    state.sync_soon();
    tracing::info!("app unlocked");
    ([(header::SET_COOKIE, cookie)], Redirect::to(then)).into_response()
}

/// `POST /unlock`.
async fn unlock_submit(State(state): State<AppState>, Form(form): Form<UnlockForm>) -> Response {
    let passphrase = Zeroizing::new(form.passphrase);
    if passphrase.is_empty() {
        return layout::html(unlock_form(&[(
            "passphrase",
            "Enter your passphrase".into(),
        )]))
        .into_response();
    }
    match open_and_sign_in(&state, passphrase, "/").await {
        Ok(response) => response,
        Err(e) => {
            let page = unlock_form(&[("passphrase", e.to_string())]);
            (StatusCode::UNPROCESSABLE_ENTITY, layout::html(page)).into_response()
        }
    }
}

/// The set-up form's fields.
#[derive(Deserialize, Default)]
struct SetupForm {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    worker: String,
    #[serde(default)]
    new_passphrase: String,
    #[serde(default)]
    new_passphrase_again: String,
}

fn setup_form(form: &SetupForm, problems: &[Problem]) -> Markup {
    form_page(
        "Set up this tablet",
        html! {
            h1 class="heading-l" { "Set up this tablet" }
            p { "This tablet has no Hearth store yet. Your administrator gives you the agency code; choose a passphrase only you know. You will need it every time you unlock Hearth." }
        },
        "/setup",
        problems,
        html! {
            (field("agency", "Agency code", Some("For example, HV-NORTH"), "text", &form.agency, problems))
            (field("worker", "Your worker ID", Some("Records you make are signed with this name"), "text", &form.worker, problems))
            (field("new_passphrase", "Choose a passphrase", Some("Use several words: a long passphrase is easier to remember and harder to guess"), "password", "", problems))
            (field("new_passphrase_again", "Enter the passphrase again", None, "password", "", problems))
        },
        "Set up",
    )
}

/// `GET /setup`.
async fn setup_page(State(state): State<AppState>) -> Response {
    if store_exists(&state) {
        return Redirect::to("/unlock").into_response();
    }
    layout::html(setup_form(&SetupForm::default(), &[])).into_response()
}

/// The field a set-up error concerns.
fn setup_field(e: &CommandError) -> &'static str {
    match e {
        CommandError::BadName { flag: "worker", .. } => "worker",
        CommandError::WeakPassphrase(_) => "new_passphrase",
        _ => "agency",
    }
}

/// `POST /setup`.
async fn setup_submit(State(state): State<AppState>, Form(form): Form<SetupForm>) -> Response {
    let passphrase = Zeroizing::new(form.new_passphrase.clone());
    if *passphrase != form.new_passphrase_again {
        let problems = [(
            "new_passphrase_again",
            "The passphrases are not the same: enter the same passphrase twice".to_string(),
        )];
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            layout::html(setup_form(&form, &problems)),
        )
            .into_response();
    }
    let task_state = state.clone();
    let (dir, agency, worker, p) = (
        state.store_dir().to_path_buf(),
        form.agency.clone(),
        form.worker.clone(),
        passphrase.clone(),
    );
    // The keys set-up made open the store at once: deriving them again
    // from the passphrase would cost a second Argon2 run.
    let created = tokio::task::spawn_blocking(move || {
        let (store, key, data_key) =
            create_store_keys(&dir, task_state.clock(), &agency, &worker, &p)?;
        let store = store.unlocked(Sealer::new(&data_key));
        let settings = store.settings()?.ok_or(StoreError::NotInitialised)?;
        Ok::<_, CommandError>((store, key, data_key, settings))
    })
    .await
    .expect("the set-up task does not panic");
    match created {
        Ok(opened) => sign_in(&state, opened, "/enrol"),
        Err(e) => {
            let problems = [(setup_field(&e), e.to_string())];
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::html(setup_form(&form, &problems)),
            )
                .into_response()
        }
    }
}

/// The enrolment form's fields.
#[derive(Deserialize, Default)]
struct EnrolForm {
    #[serde(default)]
    server: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    pin: String,
}

fn enrol_form(form: &EnrolForm, problems: &[Problem]) -> Markup {
    form_page(
        "Connect to your server",
        html! {
            h1 class="heading-l" { "Connect to your server" }
            p { "Your administrator gives you the server's address, a one-time token and the server's fingerprint. Records you make before this stay on the tablet until it is connected." }
            p { a href="/" { "Skip for now" } }
        },
        "/enrol",
        problems,
        html! {
            (field("server", "Server address", Some("For example, https://hearth.example.org:8443"), "url", &form.server, problems))
            (field("token", "One-time token", None, "text", &form.token, problems))
            (field("pin", "Server fingerprint", Some("Starts with sha256:"), "text", &form.pin, problems))
        },
        "Connect",
    )
}

/// `GET /enrol`.
async fn enrol_page(State(state): State<AppState>) -> Response {
    let registered = state.with_unlocked(|u| u.store.registration());
    if let Some(Ok(Some(reg))) = registered {
        return layout::html(layout::page(
            "Connected",
            html! {
                h1 class="heading-l" { "This tablet is connected" }
                p { "It sends records to " (reg.server_url) " as " (reg.worker) " (" (reg.agency) ")." }
                a class="button" href="/" { "Go to the home page" }
            },
        ))
        .into_response();
    }
    layout::html(enrol_form(&EnrolForm::default(), &[])).into_response()
}

/// The field an enrolment error concerns.
fn enrol_field(e: &CommandError) -> &'static str {
    match e {
        CommandError::Tls(TlsError::BadPin(_) | TlsError::PinMismatch { .. })
        | CommandError::NoServerTrust => "pin",
        CommandError::Transport(TransportError::Refused { .. }) => "token",
        _ => "server",
    }
}

/// `POST /enrol`: on its own connection, so the network never holds the
/// app's store.
async fn enrol_submit(State(state): State<AppState>, Form(form): Form<EnrolForm>) -> Response {
    let mut problems: Vec<Problem> = Vec::new();
    for (id, value, what) in [
        ("server", &form.server, "the server address"),
        ("token", &form.token, "the one-time token"),
        ("pin", &form.pin, "the server fingerprint"),
    ] {
        if value.trim().is_empty() {
            problems.push((id, format!("Enter {what}")));
        }
    }
    if problems.is_empty() {
        let task_state = state.clone();
        let (server, token, pin) = (
            form.server.trim().to_string(),
            form.token.trim().to_string(),
            form.pin.trim().to_string(),
        );
        let result = tokio::task::spawn_blocking(move || {
            let (mut store, key) =
                task_state
                    .second_connection()
                    .ok_or(CommandError::Locked {
                        then: "unlock again".into(),
                    })??;
            enrol_device(
                task_state.store_dir(),
                task_state.clock(),
                &mut store,
                &key,
                &server,
                &token,
                None,
                Some(&pin),
            )
        })
        .await
        .expect("the enrolment task does not panic");
        match result {
            Ok(_) => {
                state.sync_soon();
                return Redirect::to("/").into_response();
            }
            Err(e) => problems.push((enrol_field(&e), e.to_string())),
        }
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        layout::html(enrol_form(&form, &problems)),
    )
        .into_response()
}
