//! The forms' script and style sheet (`assets/forms/`), compiled in and
//! served under URLs with a hash of their content, so they are cached for
//! a year.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// The forms' script, compiled in.
pub const FORMS_JS: &str = include_str!("../../../assets/forms/forms.js");

pub static FORMS_JS_NAME: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(FORMS_JS.as_bytes());
    format!("forms.{}.js", hex::encode(&digest[..6]))
});

/// The script's URL, with a hash of its content (cached for a year).
pub fn forms_js_url() -> String {
    format!("/forms/assets/{}", *FORMS_JS_NAME)
}

/// The forms' style sheet, compiled in.
pub const FORMS_CSS: &str = include_str!("../../../assets/forms/forms.css");

/// Its name with the hash of its content.
pub static FORMS_CSS_NAME: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(FORMS_CSS.as_bytes());
    format!("forms.{}.css", hex::encode(&digest[..6]))
});

/// The style sheet's URL.
pub fn forms_css_url() -> String {
    format!("/forms/assets/{}", *FORMS_CSS_NAME)
}
