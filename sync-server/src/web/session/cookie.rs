//! The session cookies: reading one from a request, and the `Set-Cookie`
//! values that begin and end them. Every cookie is `__Host-` prefixed
//! (so it is `Secure`, host-only, `Path=/`, and no other site, subdomain
//! or plain-HTTP page can set it), `HttpOnly` (no script reads it) and
//! `SameSite=Strict` (no other site's page sends it).

use axum::http::{HeaderMap, HeaderValue, header};
use rand_core::{OsRng, RngCore};

/// The signed-in session's cookie: 32 random bytes as 64 hex digits. The
/// store keeps only their SHA-256 ([`crate::keys::token_hash`]).
pub const SESSION: &str = "__Host-hearth";

/// The sign-in form's double-submit cookie: the same random value as the
/// form's hidden `csrf` field (see [`super::guard`]).
pub const LOGIN: &str = "__Host-hearth-login";

/// The attributes every cookie carries.
const ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";

/// How long a sign-in form may be left open before it must be reloaded.
pub const LOGIN_MAX_AGE_SECS: u32 = 3_600;

/// 32 fresh random bytes as 64 lower-case hex digits: a session id, a
/// CSRF token or a sign-in form's token.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether `value` has the shape of [`random_hex`]'s output.
fn well_formed(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The first well-formed value of cookie `name` in the request's `Cookie`
/// headers. Anything else (a value of another shape) is ignored, so no
/// odd value ever reaches the store.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && well_formed(v))
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value that gives cookie `name` `value` (hex), for
/// the browser's session or for `max_age` seconds.
pub fn set(name: &str, value: &str, max_age: Option<u32>) -> HeaderValue {
    let text = match max_age {
        Some(secs) => format!("{name}={value}; {ATTRIBUTES}; Max-Age={secs}"),
        None => format!("{name}={value}; {ATTRIBUTES}"),
    };
    HeaderValue::from_str(&text).expect("a cookie of hex digits is a valid header value")
}

/// The `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; {ATTRIBUTES}; Max-Age=0"))
        .expect("a cookie name is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookies(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_a_well_formed_value_of_the_exact_name_is_read() {
        let id = random_hex();
        assert_eq!(id.len(), 64);
        assert_ne!(id, random_hex());
        let h = with_cookies(&[&format!("a=b; {SESSION}-x={id}; {SESSION}={id}")]);
        assert_eq!(read(&h, SESSION), Some(id.clone()));
        let h = with_cookies(&["x=1", &format!("{LOGIN}={id}")]);
        assert_eq!(read(&h, LOGIN), Some(id.clone()));
        assert_eq!(read(&h, SESSION), None);
        let upper = id.to_uppercase();
        for bad in [&upper, "1234", "' OR 1=1 --", ""] {
            let h = with_cookies(&[&format!("{SESSION}={bad}")]);
            assert_eq!(read(&h, SESSION), None, "{bad}");
        }
    }

    #[test]
    fn every_cookie_is_host_only_secure_http_only_and_strict() {
        let v = set(SESSION, "ab", None);
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-hearth=ab; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert!(
            set(LOGIN, "ab", Some(60))
                .to_str()
                .unwrap()
                .ends_with("SameSite=Strict; Max-Age=60")
        );
        assert!(clear(SESSION).to_str().unwrap().ends_with("Max-Age=0"));
    }
}
