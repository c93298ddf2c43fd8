//! `/admin/users`: every user with their role, when they were added,
//! whether they have a password to sign in with, and whether they are
//! revoked; and the four changes, each through the `user` command's
//! function in [`admin`]:
//!
//! - `POST /admin/users` (`name`, `role`): adds a user ([`admin::add_user`])
//!   and shows their API token once;
//! - `POST /admin/users/{name}/password`: sets a new random password
//!   ([`random_password`], hashed by [`password::hash`], the hash sign-in verifies) and shows it once;
//!   their browsers are signed out;
//! - `POST /admin/users/{name}/token`: a new API token, shown once; the old
//!   one stops working ([`admin::rotate_user`]);
//! - `POST /admin/users/{name}/revoke` (`reason`): revokes the user
//!   ([`admin::revoke_user`]); an administrator cannot revoke themselves.
//!
//! A token or password is shown on the one response that made it (which
//! is `no-store`) and is never stored: only its hash is.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;

use super::{
    Answer, Problem, ReasonForm, admin_page, answer, confirmation, problem_for, reason_field,
    refusal_message, status_of, text_field,
};
use crate::admin;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{Role, Store, UserEntry};
use crate::web::login::password;
use crate::web::{Admin, Viewer, layout};

/// The letters of a generated password: 32 (so a random byte's low five
/// bits pick one without bias), none that is mistaken for another (no
/// `l`, `o`, `0`, `1`).
const PASSWORD_LETTERS: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new random password: four groups of five letters and digits joined
/// by `-` (23 characters, 100 bits), easy to read out or type once.
pub fn random_password() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    let mut out = String::with_capacity(23);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(PASSWORD_LETTERS[usize::from(b & 31)]));
    }
    out
}

/// The add-a-user form.
#[derive(Debug, Default, Deserialize)]
pub struct NewUser {
    /// Their name.
    #[serde(default)]
    pub name: String,
    /// Their role's word.
    #[serde(default)]
    pub role: String,
}

/// What the page says above the list.
#[derive(Default)]
pub struct Outcome {
    /// What was done (with a secret to copy, perhaps).
    pub done: Option<(String, Markup)>,
    /// What was refused, by field id.
    pub problems: Vec<Problem>,
    /// The add form's values, to fill in again.
    pub new_user: NewUser,
    /// The user whose revoke form had a problem, and the reason given.
    pub revoking: Option<(String, String)>,
}

/// `GET /admin/users`.
pub async fn page<S: Backend>(Admin(viewer): Admin, State(state): State<AppState<S>>) -> Response {
    answer(state, move |st| {
        list(st.store(), &st.zone, &viewer, Outcome::default())
    })
    .await
}

/// `POST /admin/users`.
pub async fn add<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Form(form): Form<NewUser>,
) -> Response {
    answer(state, move |st| {
        add_user(st.store(), st.clock.as_ref(), &st.zone, &viewer, form)
    })
    .await
}

/// `POST /admin/users/{name}/password`.
pub async fn password<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Response {
    answer(state, move |st| {
        reset_password(st.store(), st.clock.as_ref(), &st.zone, &viewer, &name)
    })
    .await
}

/// `POST /admin/users/{name}/token`.
pub async fn token<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Response {
    answer(state, move |st| {
        rotate_token(st.store(), &st.zone, &viewer, &name)
    })
    .await
}

/// `POST /admin/users/{name}/revoke`.
pub async fn revoke<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    answer(state, move |st| {
        revoke_user(
            st.store(),
            st.clock.as_ref(),
            &st.zone,
            &viewer,
            &name,
            &form.reason,
        )
    })
    .await
}

/// A secret to copy now: shown on this page only.
fn secret(what: &str, value: &str) -> Markup {
    html! {
        p { "Copy the " (what) " now: it is not shown again, and Hearth keeps only its hash." }
        p { code class="secret" id="secret" { (value) } }
    }
}

/// Adds the user the form names; answers with their API token, once.
pub fn add_user<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    form: NewUser,
) -> Answer {
    let mut outcome = Outcome::default();
    match form.role.parse::<Role>() {
        Err(_) => outcome.problems.push((
            "role-manager".into(),
            "Choose a role: manager, admin or auditor".into(),
        )),
        Ok(role) => match admin::add_user(store, clock, &form.name, role) {
            Ok(token) => {
                tracing::info!(who = %viewer.name, role = role.as_str(), "user added on the web");
                outcome.done = Some((
                    format!("{} is added as {}", form.name.trim(), role.as_str()),
                    html! {
                        (secret("API token", token.expose()))
                        p { "To let them sign in to this web app, give them a password: "
                            "\"Set a new password\" in their row below." }
                    },
                ));
            }
            Err(e) => outcome.problems.push(("name".into(), refusal_message(e)?)),
        },
    }
    if !outcome.problems.is_empty() {
        outcome.new_user = form;
    }
    list(store, zone, viewer, outcome)
}

/// Sets a new random password for `name`; answers with it, once.
pub fn reset_password<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    name: &str,
) -> Answer {
    let password = random_password();
    let mut outcome = Outcome::default();
    // Twenty-three characters of letters, digits and dashes: always a
    // password the rules accept.
    let hash = password::hash(&password).expect("a generated password passes the password rules");
    match admin::set_password(store, clock, name, &hash) {
        Ok(()) => {
            tracing::info!(who = %viewer.name, "password set on the web");
            let yours = name == viewer.name;
            outcome.done = Some((
                format!("{name} has a new password"),
                html! {
                    (secret("password", &password))
                    p { "Give it to them in person or by a channel you trust. "
                        @if yours { "You are signed out everywhere: sign in again with it." }
                        @else { "They are signed out everywhere and sign in with it." } }
                },
            ));
        }
        Err(e) => outcome.problems.push(("users".into(), refusal_message(e)?)),
    }
    list(store, zone, viewer, outcome)
}

/// Gives `name` a new API token; answers with it, once.
pub fn rotate_token<S: Store>(store: &S, zone: &Zone, viewer: &Viewer, name: &str) -> Answer {
    let mut outcome = Outcome::default();
    match admin::rotate_user(store, name) {
        Ok(token) => {
            tracing::info!(who = %viewer.name, "API token rotated on the web");
            outcome.done = Some((
                format!("{name} has a new API token"),
                html! {
                    (secret("API token", token.expose()))
                    p { "Their old token no longer works." }
                },
            ));
        }
        Err(e) => outcome.problems.push(("users".into(), refusal_message(e)?)),
    }
    list(store, zone, viewer, outcome)
}

/// Revokes `name` for `reason`: their token stops working and their
/// browsers are signed out. Nobody may revoke themselves (the last
/// administrator would lock everyone out).
pub fn revoke_user<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    name: &str,
    reason: &str,
) -> Answer {
    let mut outcome = Outcome::default();
    let refused = if name == viewer.name {
        Some("You cannot revoke your own account; ask another administrator".to_string())
    } else {
        match admin::revoke_user(store, clock, name, reason) {
            Ok(()) => {
                tracing::info!(who = %viewer.name, "user revoked on the web");
                outcome.done = Some((
                    format!("{name} is revoked"),
                    html! { p { "Their API token no longer works and their browsers are signed out." } },
                ));
                None
            }
            Err(e) => Some(refusal_message(e)?),
        }
    };
    if let Some(message) = refused {
        outcome.problems.push((reason_id(name), message));
        outcome.revoking = Some((name.to_string(), reason.to_string()));
    }
    list(store, zone, viewer, outcome)
}

/// The id of a user's reason field: the name in hex, since a name may
/// hold spaces and an id may not.
fn reason_id(name: &str) -> String {
    format!("reason-{}", hex::encode(name))
}

/// The users page over what the store holds.
pub fn list<S: Store>(store: &S, zone: &Zone, viewer: &Viewer, outcome: Outcome) -> Answer {
    let users = store.users()?;
    let mut rows = Vec::with_capacity(users.len());
    for u in users {
        let password = match u.revoked {
            Some(_) => None,
            None => store
                .login_user(&u.user.name)?
                .map(|(_, hash)| hash.is_some()),
        };
        rows.push((u, password));
    }
    let status = status_of(&outcome.problems);
    Ok((status, render(viewer, zone, &rows, &outcome)))
}

/// The users page: each user with whether they have a password (`None`
/// for a revoked user).
pub fn render(
    viewer: &Viewer,
    zone: &Zone,
    users: &[(UserEntry, Option<bool>)],
    outcome: &Outcome,
) -> Markup {
    let content = html! {
        @if let Some((title, body)) = &outcome.done { (confirmation(title, body.clone())) }
        h1 class="heading-l" { "Users" }
        p { "Managers read chronologies, administrators also run these pages, auditors read the access log only. "
            "Times are local (" (zone.name()) ")." }
        table class="table table--admin" id="users" {
            caption class="visually-hidden" { "Users" }
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Added" }
                th scope="col" { "Password" } th scope="col" { "Revoked" } th scope="col" { "Change" }
            } }
            tbody {
                @for (u, password) in users { (row(viewer, zone, u, *password, outcome)) }
            }
        }
        (add_form(viewer, outcome))
    };
    admin_page(viewer, "Users", &outcome.problems, content)
}

fn row(
    viewer: &Viewer,
    zone: &Zone,
    u: &UserEntry,
    password: Option<bool>,
    outcome: &Outcome,
) -> Markup {
    let name = &u.user.name;
    let base = format!("/admin/users/{}", crate::web::find::path_segment(name));
    html! {
        tr {
            td { (name) @if *name == viewer.name { " (you)" } }
            td { (u.user.role.as_str()) }
            td { (zone.show(u.created_at)) }
            td { @match password { Some(true) => "set", Some(false) => "none yet", None => "-" } }
            td {
                @if let Some(r) = &u.revoked { strong { "Revoked" } " " (zone.show(r.at)) ": " (r.reason) }
                @else { "No" }
            }
            td {
                @if u.revoked.is_none() {
                    form class="admin-inline" method="post" action={ (base) "/password" } {
                        (layout::csrf_field(viewer))
                        button class="button button--secondary" type="submit" { "Set a new password" span class="visually-hidden" { " for " (name) } }
                    }
                    form class="admin-inline" method="post" action={ (base) "/token" } {
                        (layout::csrf_field(viewer))
                        button class="button button--secondary" type="submit" { "New API token" span class="visually-hidden" { " for " (name) } }
                    }
                    @if *name != viewer.name { (revoke_form(viewer, name, &base, outcome)) }
                }
            }
        }
    }
}

fn revoke_form(viewer: &Viewer, name: &str, base: &str, outcome: &Outcome) -> Markup {
    let given = outcome
        .revoking
        .as_ref()
        .filter(|(n, _)| n == name)
        .map(|(_, r)| r.as_str());
    let problems: &[Problem] = if given.is_some() {
        &outcome.problems
    } else {
        &[]
    };
    html! {
        details class="admin-action" open[given.is_some()] {
            summary { "Revoke" span class="visually-hidden" { " " (name) } }
            form method="post" action={ (base) "/revoke" } novalidate {
                (layout::csrf_field(viewer))
                (reason_field(&reason_id(name), &format!("Why are you revoking {name}?"), given.unwrap_or(""), problems))
                button class="button button--warning" type="submit" { "Revoke user" }
            }
        }
    }
}

fn add_form(viewer: &Viewer, outcome: &Outcome) -> Markup {
    let role_error = problem_for(&outcome.problems, "role-manager");
    html! {
        h2 class="heading-m" id="add" { "Add a user" }
        form method="post" action="/admin/users" novalidate {
            (layout::csrf_field(viewer))
            (text_field("name", "Name", "Shown in the access log beside everything they read.", &outcome.new_user.name, &outcome.problems))
            div class={ "form-group" @if role_error.is_some() { " form-group--error" } } {
                fieldset class="fieldset" aria-describedby=[role_error.map(|_| "role-error")] {
                    legend class="fieldset__legend" { "Role" }
                    @if let Some(e) = role_error {
                        p class="error-message" id="role-error" { span class="visually-hidden" { "Error: " } (e) }
                    }
                    @for role in Role::ALL {
                        div class="radios__item" {
                            input class="radios__input" type="radio" name="role" id={ "role-" (role.as_str()) }
                                value=(role.as_str()) checked[outcome.new_user.role == role.as_str()];
                            label class="label radios__label" for={ "role-" (role.as_str()) } { (role_label(*role)) }
                        }
                    }
                }
            }
            button class="button" type="submit" { "Add user" }
        }
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Manager => "Manager: reads chronologies",
        Role::Admin => "Administrator: reads chronologies and runs these pages",
        Role::Auditor => "Auditor: reads the access log only",
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::clock::FixedClock;
    use crate::keys::token_hash;
    use crate::web::admin::testing::{INJECTIONS, NOW, inert, store, viewer};

    /// The secret a page shows once.
    fn shown_secret(page: &str) -> String {
        let start = page.find(r#"id="secret">"#).expect("a secret is shown") + 12;
        page[start..start + page[start..].find('<').unwrap()].to_string()
    }

    fn verifies(hash: &str, password: &str) -> bool {
        password::verify(password, Some(hash))
    }

    #[test]
    fn a_random_password_is_four_readable_groups() {
        let p = random_password();
        assert_eq!(p.len(), 23, "{p}");
        let groups: Vec<&str> = p.split('-').collect();
        assert_eq!(groups.len(), 4, "{p}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|c| PASSWORD_LETTERS.contains(&c)))
        );
        assert_ne!(random_password(), p);
    }

    fn new_user(name: &str, role: &str) -> NewUser {
        NewUser {
            name: name.into(),
            role: role.into(),
        }
    }

    #[test]
    fn an_added_user_gets_a_token_shown_once_that_works() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        let (status, page) = add_user(
            &store,
            &clock,
            &zone,
            &admin,
            new_user("dsl.lead", "manager"),
        )
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        let token = shown_secret(&page);
        let user = store.user_by_token(&token_hash(&token)).unwrap().unwrap();
        assert_eq!((user.name.as_str(), user.role), ("dsl.lead", Role::Manager));
        assert!(page.contains("none yet"), "no password yet: {page}");

        // The list alone never shows it.
        let (_, list) = list(&store, &zone, &admin, Outcome::default()).unwrap();
        assert!(!list.into_string().contains(&token));

        let (status, page) =
            add_user(&store, &clock, &zone, &admin, new_user("dsl.lead", "admin")).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = page.into_string();
        assert!(
            page.contains("already exists") && page.contains("href=\"#name\""),
            "{page}"
        );
        let (status, page) =
            add_user(&store, &clock, &zone, &admin, new_user("someone", "owner")).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.into_string().contains("href=\"#role-manager\""));
        assert_eq!(store.users().unwrap().len(), 1);
    }

    #[test]
    fn a_new_password_is_shown_once_and_is_what_the_store_verifies() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        admin::add_user(&store, &clock, "hv.jones", Role::Manager).unwrap();
        let (status, page) = reset_password(&store, &clock, &zone, &admin, "hv.jones").unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        let password = shown_secret(&page);
        let (_, hash) = store.login_user("hv.jones").unwrap().unwrap();
        assert!(verifies(&hash.unwrap(), &password));
        assert!(
            page.contains(">set<"),
            "the list says a password is set: {page}"
        );

        let (status, page) = reset_password(&store, &clock, &zone, &admin, "nobody").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.into_string().contains("No user is named"));
    }

    #[test]
    fn a_rotated_token_replaces_the_old_one() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        let old = admin::add_user(&store, &clock, "hv.jones", Role::Manager).unwrap();
        let (_, page) = rotate_token(&store, &zone, &admin, "hv.jones").unwrap();
        let new = shown_secret(&page.into_string());
        assert!(store.user_by_token(&old.hash()).unwrap().is_none());
        assert!(store.user_by_token(&token_hash(&new)).unwrap().is_some());
    }

    #[test]
    fn nobody_revokes_themselves_and_a_revocation_needs_a_reason() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        admin::add_user(&store, &clock, "root", Role::Admin).unwrap();
        admin::add_user(&store, &clock, "hv jones", Role::Manager).unwrap();
        let revoked = |name: &str| {
            store
                .users()
                .unwrap()
                .into_iter()
                .any(|u| u.user.name == name && u.revoked.is_some())
        };
        let (status, page) =
            revoke_user(&store, &clock, &zone, &admin, "root", "leaving the council").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.into_string()
                .contains("cannot revoke your own account")
        );
        assert!(!revoked("root"));

        let (status, page) =
            revoke_user(&store, &clock, &zone, &admin, "hv jones", "left").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = page.into_string();
        // The field's id is the name in hex (a name may hold a space).
        assert!(
            page.contains(r##"href="#reason-6876206a6f6e6573""##),
            "{page}"
        );
        assert!(
            page.contains(r#"action="/admin/users/hv%20jones/revoke""#),
            "{page}"
        );
        assert!(!revoked("hv jones"));

        let (status, _) = revoke_user(
            &store,
            &clock,
            &zone,
            &admin,
            "hv jones",
            "left the council in May",
        )
        .unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(revoked("hv jones"));
    }

    #[test]
    fn names_and_reasons_are_inert() {
        let (_dir, store) = store();
        let (zone, clock, admin) = (
            Zone::default(),
            FixedClock(NOW),
            viewer("root", Role::Admin),
        );
        for name in INJECTIONS {
            admin::add_user(&store, &clock, name, Role::Manager).unwrap();
        }
        admin::revoke_user(&store, &clock, INJECTIONS[0], INJECTIONS[1]).unwrap();
        let (_, page) =
            add_user(&store, &clock, &zone, &admin, new_user(INJECTIONS[1], "x")).unwrap();
        let page = page.into_string();
        assert!(inert(&page), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
}
