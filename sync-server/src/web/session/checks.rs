//! The guard's checks on a request that changes something (any method but
//! GET and HEAD): [`same_origin`] and the CSRF token ([`presented_csrf`],
//! [`tokens_match`]); and the strict headers every response of the web
//! app carries ([`strict_headers`]). Pure over headers and bytes.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::Refusal;
use crate::web::layout::CSRF_FIELD;

/// The header a script may send the CSRF token in instead of the form
/// field.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The largest form body the guard reads to find the CSRF field; the web
/// app's forms are a few fields of text.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The Content-Security-Policy of every page: nothing from anywhere but
/// this server, no inline script or style, no framing.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether the request comes from a page of this server: its `Origin`
/// (or, if a browser sent none, its `Referer`) is `https://{Host}`.
/// Neither header, or no `Host`, is refused: every browser that honours
/// `SameSite` sends `Origin` on a POST.
pub fn same_origin(headers: &HeaderMap) -> Result<(), Refusal> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(host) = text(header::HOST).filter(|h| !h.is_empty()) else {
        return Err(Refusal::CrossOrigin);
    };
    let ours = format!("https://{host}");
    let same = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => origin == ours,
        (None, Some(referer)) => {
            referer == ours
                || referer
                    .strip_prefix(ours.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        (None, None) => false,
    };
    if same {
        Ok(())
    } else {
        Err(Refusal::CrossOrigin)
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

/// The CSRF token the request presents: the `x-csrf-token` header, else
/// the `csrf` field of a form body (read here, at most
/// [`MAX_FORM_BYTES`], and put back for the handler). A form that does
/// not parse, or names the field twice, presents none.
pub async fn presented_csrf(request: Request) -> Result<(Request, Option<String>), Refusal> {
    if let Some(v) = request.headers().get(CSRF_HEADER) {
        let token = v.to_str().ok().map(str::to_string);
        return Ok((request, token));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim() == "application/x-www-form-urlencoded")
        });
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let token = serde_urlencoded::from_bytes::<CsrfOnly>(&bytes)
        .ok()
        .and_then(|f| f.csrf);
    debug_assert_eq!(CSRF_FIELD, "csrf");
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// Whether the presented token is the expected one, compared in constant
/// time. An empty expected token (an API token's viewer) matches nothing.
pub fn tokens_match(expected: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(p) if !expected.is_empty() => bool::from(expected.as_bytes().ct_eq(p.as_bytes())),
        _ => false,
    }
}

/// Sets the strict headers on a response of the web app. A hashed asset
/// under `/static/` keeps its own long `Cache-Control`; everything else
/// is `no-store` (pages hold children's records).
pub fn strict_headers(headers: &mut HeaderMap, is_static: bool) {
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !(is_static && headers.contains_key(header::CACHE_CONTROL)) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_this_servers_origin_or_referer_passes() {
        let host = (header::HOST, "hearth.example:8443");
        let ok = |pairs: &[(HeaderName, &str)]| same_origin(&headers(pairs)).is_ok();
        assert!(ok(&[
            host.clone(),
            (header::ORIGIN, "https://hearth.example:8443")
        ]));
        assert!(ok(&[
            host.clone(),
            (header::REFERER, "https://hearth.example:8443/find?x=1")
        ]));
        for (name, value) in [
            (header::ORIGIN, "https://evil.example"),
            (header::ORIGIN, "http://hearth.example:8443"),
            (header::ORIGIN, "https://hearth.example:8443.evil.example"),
            (header::ORIGIN, "null"),
            (header::REFERER, "https://hearth.example:8443.evil.example/"),
            (header::REFERER, "https://hearth.example:84430/"),
        ] {
            assert!(!ok(&[host.clone(), (name, value)]), "{value}");
        }
        // The Origin decides when both are sent.
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example"),
            (header::REFERER, "https://hearth.example:8443/")
        ]));
        assert!(!ok(std::slice::from_ref(&host)));
        assert!(!ok(&[(header::ORIGIN, "https://hearth.example:8443")]));
    }

    #[test]
    fn tokens_compare_whole_and_never_match_an_empty_expectation() {
        assert!(tokens_match("abc", Some("abc")));
        assert!(!tokens_match("abc", Some("abd")));
        assert!(!tokens_match("abc", Some("ab")));
        assert!(!tokens_match("abc", None));
        assert!(!tokens_match("", Some("")));
    }

    async fn presented(content_type: &str, body: &str) -> Option<String> {
        let req = Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        let (req, token) = presented_csrf(req).await.ok().unwrap();
        // The body is put back whole for the handler.
        let back = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(back, body.as_bytes());
        token
    }

    #[tokio::test]
    async fn the_form_field_is_read_and_the_body_left_for_the_handler() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(
            presented(form, "reason=a+b&csrf=c0ffee").await.as_deref(),
            Some("c0ffee")
        );
        assert_eq!(
            presented(&format!("{form}; charset=utf-8"), "csrf=1")
                .await
                .as_deref(),
            Some("1")
        );
        assert_eq!(presented(form, "csrf=1&csrf=2").await, None);
        assert_eq!(presented(form, "reason=x").await, None);
        assert_eq!(presented("text/plain", "csrf=1").await, None);
        let big = format!("csrf=1&pad={}", "x".repeat(MAX_FORM_BYTES));
        let req = Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, form)
            .body(Body::from(big))
            .unwrap();
        assert!(matches!(
            presented_csrf(req).await.err(),
            Some(Refusal::TooLarge)
        ));
    }
}
