//! The page shell every screen of the web app is drawn in: [`page`]
//! (header with the navigation the viewer's role allows, the main content),
//! [`csrf_field`], [`error_summary`] and [`refusal`]. Every value goes
//! through maud, which escapes it: no page may use `PreEscaped` with data.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::{Viewer, assets};

/// The form field that carries the session's CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The hidden CSRF field every form must carry.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(viewer.csrf); }
}

/// The full HTML page: `<title>{title} – Hearth</title>`, the header with
/// the navigation `viewer`'s role allows (none when nobody is signed in),
/// and `content` in `<main>`.
pub fn page(viewer: Option<&Viewer>, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Hearth" }
                link rel="icon" href="data:,";
                @for href in assets::css_urls() {
                    link rel="stylesheet" href=(href);
                }
                script src=(assets::js_url()) defer {}
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" {
                    div class="width-container header__inner" {
                        a class="header__brand" href="/" { "Hearth" }
                        @if let Some(v) = viewer {
                            nav class="header__nav" aria-label="Main" {
                                ul {
                                    @if v.role.reads_chronologies() {
                                        li { a href="/find" { "Find a child" } }
                                        li { a href="/signals" { "Signals" } }
                                        li { a href="/proposals" { "Proposals" } }
                                    }
                                    @if v.role.administers() {
                                        li { a href="/admin/devices" { "Devices" } }
                                        li { a href="/admin/users" { "Users" } }
                                        li { a href="/admin/families" { "Families" } }
                                        li { a href="/admin/people" { "People" } }
                                        li { a href="/admin/quarantine" { "Quarantine" } }
                                    }
                                    @if v.role.reads_access_log() {
                                        li { a href="/access-log" { "Access log" } }
                                    }
                                }
                            }
                            p class="header__who" { "Signed in as " strong { (v.name) } " (" (v.role.as_str()) ")" }
                            form class="header__lock" method="post" action="/logout" {
                                (csrf_field(v))
                                button class="button button--secondary" type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main class="width-container main" id="main" tabindex="-1" {
                    (content)
                }
            }
        }
    }
}

/// The error summary at the top of a form: one link per problem to the
/// field whose id is given. Empty when there are no problems.
pub fn error_summary(errors: &[(&str, &str)]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 class="error-summary__title" id="error-summary-title" { "There is a problem" }
                ul class="error-summary__list" {
                    @for (field, message) in errors {
                        li { a href={ "#" (field) } { (message) } }
                    }
                }
            }
        }
    }
}

/// A page as the response body (the session guard adds the headers).
pub fn html(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}

/// A refusal page with `status`: a heading and what to do, no navigation.
pub fn refusal(status: StatusCode, title: &str, why: &str) -> Response {
    let body = page(None, title, html! { h1 { (title) } p { (why) } });
    (status, html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;
    use crate::web::SignedInBy;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            name: "<b>dsl</b>".into(),
            role,
            csrf: "c0ffee".into(),
            by: SignedInBy::Session,
        }
    }

    #[test]
    fn the_navigation_follows_the_role_and_every_value_is_escaped() {
        let manager = page(Some(&viewer(Role::Manager)), "<x>", html! {}).into_string();
        assert!(
            manager.contains("/find") && !manager.contains("/admin/"),
            "{manager}"
        );
        assert!(manager.contains("&lt;b&gt;dsl&lt;/b&gt;") && !manager.contains("<b>dsl"));
        assert!(manager.contains("&lt;x&gt; – Hearth"));
        assert!(manager.contains(r#"name="csrf" value="c0ffee""#));
        let auditor = page(Some(&viewer(Role::Auditor)), "t", html! {}).into_string();
        assert!(!auditor.contains("/find") && auditor.contains("/access-log"));
        let admin = page(Some(&viewer(Role::Admin)), "t", html! {}).into_string();
        assert!(admin.contains("/admin/users") && admin.contains("/find"));
        let nobody = page(None, "t", html! {}).into_string();
        assert!(!nobody.contains("/logout"));
    }
}
