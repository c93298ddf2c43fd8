//! The app's defences seen from outside, over raw HTTP to the real
//! process: what another program on the tablet, or a page in its browser,
//! can send. The same requests with our own Host, Origin and token are
//! accepted, so each refusal is the check's and not a blanket one.

use hearth_e2e::app::RawResponse;
use hearth_e2e::browser::Browser;

use crate::fixture::Tablet;

/// A POST to `/lock` with the given Origin and CSRF token.
fn post_lock(
    tablet: &Tablet,
    host: &str,
    cookie: &str,
    origin: Option<&str>,
    csrf: Option<&str>,
) -> RawResponse {
    let mut head = format!(
        "POST /lock HTTP/1.1\nHost: {host}\nCookie: {cookie}\nContent-Type: application/x-www-form-urlencoded"
    );
    if let Some(origin) = origin {
        head.push_str(&format!("\nOrigin: {origin}"));
    }
    let body = csrf.map_or_else(String::new, |t| format!("csrf={t}"));
    tablet.app.raw(&head, &body)
}

pub fn wrong_host_cross_origin_and_bad_csrf_are_refused(_browser: &mut Browser) {
    let tablet = Tablet::offline();
    let port = tablet.app.port();
    let host = format!("127.0.0.1:{port}");

    // DNS rebinding: a page on evil.example, its name pointed at
    // 127.0.0.1, sends its own name as the Host.
    for wrong in [
        format!("evil.example:{port}"),
        "evil.example".into(),
        format!("127.0.0.2:{port}"),
    ] {
        let r = tablet
            .app
            .raw(&format!("GET /unlock HTTP/1.1\nHost: {wrong}"), "");
        assert_eq!(r.status, 421, "Host {wrong} was not refused: {r:?}");
        assert!(r.session_cookie().is_none(), "a refused Host got a session");
    }

    let page = tablet
        .app
        .raw(&format!("GET /unlock HTTP/1.1\nHost: {host}"), "");
    assert_eq!(page.status, 200, "{page:?}");
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let cookie = page
        .session_cookie()
        .expect("the unlock page sets a session cookie");
    let set_cookie = page.header("set-cookie").unwrap().to_ascii_lowercase();
    assert!(
        set_cookie.contains("httponly") && set_cookie.contains("samesite=strict"),
        "{set_cookie}"
    );
    let csrf = page.csrf_field().expect("the unlock form has a CSRF field");
    let ours = format!("http://{host}");

    // A page on another origin posting to the app: refused even with a
    // good token (it cannot read one, but the Origin check stands alone).
    for origin in [
        "http://evil.example",
        "null",
        "http://localhost.evil.example",
    ] {
        let r = post_lock(&tablet, &host, &cookie, Some(origin), Some(&csrf));
        assert_eq!(r.status, 403, "a POST from {origin} was not refused: {r:?}");
    }
    // Our origin, but no token or a wrong one.
    let r = post_lock(&tablet, &host, &cookie, Some(&ours), None);
    assert_eq!(
        r.status, 403,
        "a POST without a CSRF token was accepted: {r:?}"
    );
    let mut wrong = csrf.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let r = post_lock(&tablet, &host, &cookie, Some(&ours), Some(&wrong));
    assert_eq!(
        r.status, 403,
        "a POST with a wrong CSRF token was accepted: {r:?}"
    );
    // Another session's token (a fresh cookie) does not do.
    let other = tablet
        .app
        .raw(&format!("GET /unlock HTTP/1.1\nHost: {host}"), "");
    let other_cookie = other.session_cookie().expect("a second session");
    let r = post_lock(&tablet, &host, &other_cookie, Some(&ours), Some(&csrf));
    assert_eq!(r.status, 403, "another session's token was accepted: {r:?}");

    // The same POST from our own page with its token is accepted.
    let r = post_lock(&tablet, &host, &cookie, Some(&ours), Some(&csrf));
    assert!(
        (200..400).contains(&r.status),
        "our own POST with its token was refused: {r:?}"
    );
}

pub fn non_loopback_listen_is_refused_unless_forced(_browser: &mut Browser) {
    let tablet = Tablet::offline();
    let mut child = tablet.agent.spawn(&["app", "--listen", "0.0.0.0:0"]);
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the app") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the app listened on 0.0.0.0 without --allow-non-loopback");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success(), "the app exited 0 on 0.0.0.0");
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("loopback"), "{stderr}");
}
