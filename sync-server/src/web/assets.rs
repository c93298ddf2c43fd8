//! The web app's style sheets and script, compiled into the binary and
//! served under URLs that carry a hash of their content
//! (`/static/app.<hash>.css`), so a browser may cache them for a year.
//!
//! `app.css` is the tablet app's own (`agent/assets/app.css`): one design
//! system, after the GOV.UK / NHS.UK patterns, for both. `web.css` adds
//! what only the manager's pages need (wide tables, the timeline, the
//! print stylesheet of the panel pack). Names and answers are
//! [`hearth_shared::assets`]'s, as the tablet app's. Nothing is fetched
//! from anywhere else.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_shared::assets::{self, Asset};

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

static ASSETS: LazyLock<[Asset; 6]> = LazyLock::new(|| {
    [
        Asset::hashed("app", "css", CSS, assets::CSS),
        Asset::hashed("web", "css", WEB_CSS, assets::CSS),
        Asset::hashed("web", "js", JS, assets::JS),
        Asset::hashed("admin", "css", ADMIN_CSS, assets::CSS),
        Asset::hashed("timeline", "css", TIMELINE_CSS, assets::CSS),
        Asset::hashed("print", "css", PRINT_CSS, assets::CSS),
    ]
});

/// Every style sheet's URL, in the order a page links them.
pub fn css_urls() -> [String; 5] {
    [0, 1, 3, 4, 5].map(|i| ASSETS[i].url())
}

/// The script's URL.
pub fn js_url() -> String {
    ASSETS[2].url()
}

/// `GET /static/{file}`: the asset whose hashed name is `file`, else 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    match assets::answer(ASSETS.as_slice(), &file) {
        Some(found) => found.into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_content_hash() {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(&Sha256::digest(WEB_CSS.as_bytes())[..6]);
        let [app, web, ..] = css_urls();
        assert_eq!(web, format!("/static/web.{digest}.css"));
        assert_ne!(app, web);
        assert!(js_url().ends_with(".js"));
    }
}
