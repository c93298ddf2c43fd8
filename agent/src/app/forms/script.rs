//! The forms' script (`assets/forms/forms.js`), compiled in and served
//! under a URL with a hash of its content, so it is cached for a year.

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
