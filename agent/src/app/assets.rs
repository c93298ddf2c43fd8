//! The app's CSS and JavaScript, compiled into the binary
//! (`agent/assets/`), served under URLs that carry a hash of their content
//! (`/static/app.<hash>.css`), so the browser may cache them for a year:
//! a new binary with new styles has new URLs. Nothing is fetched from
//! anywhere else.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The style sheet (the project's own, after the GOV.UK / NHS.UK patterns).
pub const CSS: &str = include_str!("../../assets/app.css");
/// The progressive-enhancement script: every form works without it.
pub const JS: &str = include_str!("../../assets/app.js");

/// How long a browser may keep a hashed asset: a year, never revalidated.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// One served file: its name with the hash, its type, its bytes.
struct Asset {
    name: String,
    content_type: &'static str,
    body: &'static str,
}

fn hashed(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    Asset {
        name: format!("{stem}.{}.{ext}", hex::encode(&digest[..6])),
        content_type,
        body,
    }
}

/// The forms' style sheet (`assets/forms/`): what the record forms,
/// check-your-answers, the register and "Saved" add to `app.css`.
pub const FORMS_CSS: &str = include_str!("../../assets/forms/forms.css");
/// The forms' script: byte counters, draft autosave and the body map; it
/// does nothing on a page without a draft form.
pub const FORMS_JS: &str = include_str!("../../assets/forms/forms.js");

static ASSETS: LazyLock<[Asset; 4]> = LazyLock::new(|| {
    [
        hashed("app", "css", CSS, "text/css; charset=utf-8"),
        hashed("app", "js", JS, "text/javascript; charset=utf-8"),
        hashed("forms", "css", FORMS_CSS, "text/css; charset=utf-8"),
        hashed("forms", "js", FORMS_JS, "text/javascript; charset=utf-8"),
    ]
});

/// The style sheet's URL, like `/static/app.1a2b3c4d5e6f.css`.
pub fn css_url() -> String {
    format!("/static/{}", ASSETS[0].name)
}

/// The script's URL, like `/static/app.1a2b3c4d5e6f.js`.
pub fn js_url() -> String {
    format!("/static/{}", ASSETS[1].name)
}

/// The forms' style sheet's URL, like `/static/forms.1a2b3c4d5e6f.css`.
pub fn forms_css_url() -> String {
    format!("/static/{}", ASSETS[2].name)
}

/// The forms' script's URL, like `/static/forms.1a2b3c4d5e6f.js`.
pub fn forms_js_url() -> String {
    format!("/static/{}", ASSETS[3].name)
}

/// `GET /static/{file}`: the asset whose hashed name is `file`, else 404
/// (an old hash is not served stale).
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(CACHE_FOREVER),
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
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
