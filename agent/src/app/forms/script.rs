//! The forms' script and style sheet (`assets/forms/`), compiled in and
//! served under URLs with a hash of their content, so they are cached for
//! a year.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One served file.
pub struct Asset {
    /// Its name with the hash, like `forms.1a2b3c4d5e6f.js`.
    pub name: String,
    /// Its bytes.
    pub body: &'static str,
    /// Its content type.
    pub content_type: &'static str,
}

fn hashed(ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    Asset {
        name: format!("forms.{}.{ext}", hex::encode(&digest[..6])),
        body,
        content_type,
    }
}

/// The script (progressive enhancement only), then the style sheet.
pub static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        hashed(
            "js",
            include_str!("../../../assets/forms/forms.js"),
            "text/javascript; charset=utf-8",
        ),
        hashed(
            "css",
            include_str!("../../../assets/forms/forms.css"),
            "text/css; charset=utf-8",
        ),
    ]
});

/// The script's URL.
pub fn forms_js_url() -> String {
    format!("/forms/assets/{}", ASSETS[0].name)
}

/// The style sheet's URL.
pub fn forms_css_url() -> String {
    format!("/forms/assets/{}", ASSETS[1].name)
}
