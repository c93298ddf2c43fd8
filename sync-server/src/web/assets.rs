//! The web app's style sheets and script, compiled into the binary and
//! served under URLs that carry a hash of their content
//! (`/static/app.<hash>.css`), so a browser may cache them for a year.
//!
//! `app.css` is the tablet app's own (`agent/assets/app.css`): one design
//! system, after the GOV.UK / NHS.UK patterns, for both. `web.css` adds
//! what only the manager's pages need (wide tables, the timeline, the
//! print stylesheet of the panel pack). Nothing is fetched from anywhere
//! else.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The design system's style sheet, shared with the tablet app.
pub const CSS: &str = include_str!("../../../agent/assets/app.css");
/// The manager's pages' own styles: wide tables, filters, counts, the
/// record behind a line.
pub const WEB_CSS: &str = include_str!("../../assets/web.css");
/// The administration pages' styles.
pub const ADMIN_CSS: &str = include_str!("../../assets/admin.css");
/// The timeline picture's styles.
pub const TIMELINE_CSS: &str = include_str!("../../assets/timeline.css");
/// The panel pack: what printing a chronology (or "Save as PDF") gives.
pub const PRINT_CSS: &str = include_str!("../../assets/print.css");
/// The progressive-enhancement script: every page works without it.
pub const JS: &str = include_str!("../../assets/web.js");

/// How long a browser may keep a hashed asset: a year, never revalidated.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

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

const CSS_TYPE: &str = "text/css; charset=utf-8";

static ASSETS: LazyLock<[Asset; 6]> = LazyLock::new(|| {
    [
        hashed("app", "css", CSS, CSS_TYPE),
        hashed("web", "css", WEB_CSS, CSS_TYPE),
        hashed("web", "js", JS, "text/javascript; charset=utf-8"),
        hashed("admin", "css", ADMIN_CSS, CSS_TYPE),
        hashed("timeline", "css", TIMELINE_CSS, CSS_TYPE),
        hashed("print", "css", PRINT_CSS, CSS_TYPE),
    ]
});

/// Every style sheet's URL, in the order a page links them.
pub fn css_urls() -> [String; 5] {
    [0, 1, 3, 4, 5].map(|i| format!("/static/{}", ASSETS[i].name))
}

/// The shared style sheet's URL.
pub fn css_url() -> String {
    format!("/static/{}", ASSETS[0].name)
}

/// The web app's own style sheet's URL.
pub fn web_css_url() -> String {
    format!("/static/{}", ASSETS[1].name)
}

/// The script's URL.
pub fn js_url() -> String {
    format!("/static/{}", ASSETS[2].name)
}

/// `GET /static/{file}`: the asset whose hashed name is `file`, else 404.
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
        let digest = hex::encode(&Sha256::digest(WEB_CSS.as_bytes())[..6]);
        assert_eq!(web_css_url(), format!("/static/web.{digest}.css"));
        assert_ne!(css_url(), web_css_url());
        assert!(js_url().ends_with(".js"));
    }
}
