//! Static files served under names that carry a hash of their content
//! (`app.1a2b3c4d5e6f.css`), so a browser may keep them for a year: a new
//! build with new content has new names. The tablet app and the manager's
//! web app both serve their style sheets and scripts this way; each keeps
//! its own list, and its HTTP handler answers a request for a file with
//! [`answer`]: the headers and body, or `None` for a name not in the list
//! (a 404: an old hash is never served stale).

use alloc::format;
use alloc::string::String;

use sha2::{Digest, Sha256};

use crate::hex::Hex;

/// How long a browser may keep a hashed asset: a year, never revalidated.
pub const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// The `Content-Type` of a style sheet.
pub const CSS: &str = "text/css; charset=utf-8";

/// The `Content-Type` of a script.
pub const JS: &str = "text/javascript; charset=utf-8";

/// One served file: its name with the hash, its type, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// `stem.<12 hex digits of its SHA-256>.ext`.
    pub name: String,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
}

impl Asset {
    /// `body` served as `stem.<hash>.ext`.
    pub fn hashed(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        Self {
            name: format!("{stem}.{}.{ext}", Hex(&digest[..6])),
            content_type,
            body,
        }
    }

    /// Its URL under `/static/`.
    pub fn url(&self) -> String {
        format!("/static/{}", self.name)
    }
}

/// The asset of `assets` whose hashed name is `file`.
pub fn find<'a>(assets: &'a [Asset], file: &str) -> Option<&'a Asset> {
    assets.iter().find(|a| a.name == file)
}

/// The answer to a request for `file`: its `Content-Type` and
/// `Cache-Control` headers (as name and value) and its body; `None` when
/// no asset has that name.
pub fn answer(
    assets: &[Asset],
    file: &str,
) -> Option<([(&'static str, &'static str); 2], &'static str)> {
    find(assets, file).map(|a| {
        (
            [
                ("content-type", a.content_type),
                ("cache-control", CACHE_FOREVER),
            ],
            a.body,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_carries_the_first_six_bytes_of_the_content_hash() {
        let a = Asset::hashed("app", "css", "body { }", CSS);
        let digest = Sha256::digest(b"body { }");
        assert_eq!(a.name, format!("app.{}.css", Hex(&digest[..6])));
        assert_eq!(a.name.len(), "app..css".len() + 12);
        assert_eq!(a.url(), format!("/static/{}", a.name));
        let b = Asset::hashed("app", "css", "body { color: red }", CSS);
        assert_ne!(a.name, b.name);
        let all = [a.clone(), b];
        assert_eq!(find(&all, &a.name), Some(&a));
        assert_eq!(find(&all, "app.000000000000.css"), None);
        let (headers, body) = answer(&all, &a.name).unwrap();
        assert_eq!(body, "body { }");
        assert_eq!(
            headers,
            [("content-type", CSS), ("cache-control", CACHE_FOREVER)]
        );
        assert!(answer(&all, "app.css").is_none());
    }
}
