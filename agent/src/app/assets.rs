//! The app's CSS and JavaScript, compiled into the binary
//! (`agent/assets/`), served under URLs that carry a hash of their content
//! (`/static/app.<hash>.css`), so the browser may cache them for a year:
//! a new binary with new styles has new URLs ([`hearth_shared::assets`]).
//! Nothing is fetched from anywhere else.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_shared::assets::{self, Asset};

/// The style sheet (the project's own, after the GOV.UK / NHS.UK patterns).
pub const CSS: &str = include_str!("../../assets/app.css");
/// The progressive-enhancement script: every form works without it.
pub const JS: &str = include_str!("../../assets/app.js");

/// The forms' style sheet (`assets/forms/`): what the record forms,
/// check-your-answers, the register and "Saved" add to `app.css`.
pub const FORMS_CSS: &str = include_str!("../../assets/forms/forms.css");
/// The forms' script: byte counters, draft autosave and the body map; it
/// does nothing on a page without a draft form.
pub const FORMS_JS: &str = include_str!("../../assets/forms/forms.js");

static ASSETS: LazyLock<[Asset; 4]> = LazyLock::new(|| {
    [
        Asset::hashed("app", "css", CSS, assets::CSS),
        Asset::hashed("app", "js", JS, assets::JS),
        Asset::hashed("forms", "css", FORMS_CSS, assets::CSS),
        Asset::hashed("forms", "js", FORMS_JS, assets::JS),
    ]
});

/// The style sheet's URL, like `/static/app.1a2b3c4d5e6f.css`.
pub fn css_url() -> String {
    ASSETS[0].url()
}

/// The script's URL, like `/static/app.1a2b3c4d5e6f.js`.
pub fn js_url() -> String {
    ASSETS[1].url()
}

/// The forms' style sheet's URL, like `/static/forms.1a2b3c4d5e6f.css`.
pub fn forms_css_url() -> String {
    ASSETS[2].url()
}

/// The forms' script's URL, like `/static/forms.1a2b3c4d5e6f.js`.
pub fn forms_js_url() -> String {
    ASSETS[3].url()
}

/// `GET /static/{file}`: the asset whose hashed name is `file`, else 404
/// (an old hash is not served stale).
pub async fn serve(Path(file): Path<String>) -> Response {
    match assets::answer(ASSETS.as_slice(), &file) {
        Some(found) => found.into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn urls_carry_the_content_hash() {
        let css = css_url();
        let digest = hex::encode(&Sha256::digest(CSS.as_bytes())[..6]);
        assert_eq!(css, format!("/static/app.{digest}.css"));
        assert!(js_url().ends_with(".js"));
        assert_ne!(css_url(), js_url());
    }

    #[test]
    fn css_and_js_together_stay_under_150_kb() {
        let total = CSS.len() + JS.len() + FORMS_CSS.len() + FORMS_JS.len();
        assert!(total <= 150 * 1024, "{total}");
    }
}
