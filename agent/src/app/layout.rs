//! The page shell every screen is drawn in: [`page`] (header, navigation,
//! the sync indicator, the main content) and [`error_summary`], the
//! GOV.UK / NHS.UK error summary that links to each field.
//!
//! What the shell needs to know about the request (the CSRF token for the
//! header's Lock button, whether the app is unlocked, the sync indicator's
//! text) is set by the security layer for the duration of the request
//! ([`security::request_context`]), so a handler only passes its title and
//! content. Every value goes through maud, which escapes it.

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

use super::{assets, security};

/// The full HTML page: `<title>{title} – Hearth</title>`, the header with
/// navigation and the sync indicator (when unlocked), and `content` in
/// `<main>`.
pub fn page(title: &str, content: Markup) -> Markup {
    let ctx = security::request_context();
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Hearth" }
                // No favicon request: the browser would otherwise ask for
                // /favicon.ico on every page.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::css_url());
                link rel="stylesheet" href=(assets::forms_css_url());
                script src=(assets::js_url()) defer {}
                script src=(assets::forms_js_url()) defer {}
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" {
                    div class="width-container header__inner" {
                        a class="header__brand" href="/" { "Hearth" }
                        @if let Some(ctx) = &ctx {
                            @if ctx.unlocked {
                                nav class="header__nav" aria-label="Main" {
                                    ul {
                                        li { a href="/" { "Home" } }
                                        li { a href="/records" { "Records" } }
                                        li { a href="/forms" { "New record" } }
                                        li { a href="/register" { "Register" } }
                                    }
                                }
                                p class="sync-indicator" id="sync-indicator" role="status" aria-live="polite" {
                                    a href="/sync" { (ctx.sync_text) }
                                }
                                form class="header__lock" method="post" action="/lock" {
                                    (security::csrf_field())
                                    button class="button button--secondary" type="submit" { "Lock" }
                                }
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

/// The error summary at the top of a form: a heading and one link per
/// problem to the field whose id is given (`#field_id`), with the core's
/// own message. Empty when there are no problems.
pub fn error_summary(errors: &[(&str, &str)]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title" data-module="error-summary" {
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

/// A page as the response body (the security layer adds the headers).
pub fn html(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_summary_links_each_field_and_escapes() {
        let out = error_summary(&[("children", "<b>children</b> is required")]).into_string();
        assert!(out.contains(r##"href="#children""##), "{out}");
        assert!(
            out.contains("&lt;b&gt;children&lt;/b&gt; is required"),
            "{out}"
        );
        assert!(!out.contains("<b>"), "{out}");
        assert_eq!(error_summary(&[]).into_string(), "");
    }

    #[test]
    fn page_escapes_the_title_and_links_hashed_assets() {
        let out = page("<script>x</script>", html! { p { "hi" } }).into_string();
        assert!(
            out.contains("&lt;script&gt;x&lt;/script&gt; – Hearth"),
            "{out}"
        );
        assert!(out.contains(&assets::css_url()), "{out}");
        assert!(out.contains(&assets::js_url()), "{out}");
        assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
    }
}
