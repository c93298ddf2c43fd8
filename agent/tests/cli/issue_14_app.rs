//! Issue 14, the tablet app's command: loopback only unless forced with a
//! flag that warns, and the address to open as the first line of stdout.
//! Each test drives the built binary; the page-level security tests are
//! the router's (agent/src/app/tests.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use super::{agent, agent_command, stderr, stdout};

/// Starts `app` with `args`; returns the child and its first stdout line.
fn start(dir: &std::path::Path, args: &[&str]) -> (Child, String) {
    let mut cmd = agent_command(dir, args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the agent runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

/// One HTTP/1.1 request to `addr` with `host`; the whole response.
fn http_get(addr: &str, path: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn issue_14_app_refuses_a_non_loopback_address_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = agent(dir.path(), &["app", "--listen", "0.0.0.0:0"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--allow-non-loopback"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("not a loopback address"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn issue_14_app_forced_onto_a_non_loopback_address_warns() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, line) = start(
        dir.path(),
        &["app", "--listen", "0.0.0.0:0", "--allow-non-loopback"],
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(line.starts_with("open http://0.0.0.0:"), "{line}");
    assert!(
        stderr(&out).contains("warning: listening on 0.0.0.0:"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("not loopback"), "{}", stderr(&out));
}

#[test]
fn issue_14_app_prints_the_address_first_and_serves_only_its_own_host() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, line) = start(dir.path(), &["app", "--listen", "127.0.0.1:0"]);
    let url = line
        .trim()
        .strip_prefix("open http://")
        .expect("the first line")
        .to_string();
    let addr = url.trim_end_matches('/').to_string();
    let page = http_get(&addr, "/", &addr);
    let wrong = http_get(&addr, "/", "evil.example");
    child.kill().unwrap();
    child.wait().unwrap();
    // No store yet: set-up first, with the strict headers.
    assert!(page.starts_with("HTTP/1.1 303"), "{page}");
    assert!(
        page.to_ascii_lowercase().contains("location: /setup"),
        "{page}"
    );
    assert!(page.contains("default-src 'none'"), "{page}");
    assert!(wrong.starts_with("HTTP/1.1 421"), "{wrong}");
}
