//! Issue 12, the agent's command line: enrolment messages, required flags
//! reported at once and marked in `--help`, every injury field from flags,
//! a closed pipe, sync while locked, and an amendment's reason in `show`.
//! Each test drives the built binary.

use std::process::{Output, Stdio};
use std::sync::Arc;

use serde_json::Value;

use super::{
    CHILD, agent, agent_command, init, list_json, record_concern, refused, stderr, stdout,
};

/// Runs the agent with no passphrase in the environment and no terminal.
fn agent_locked(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = agent_command(dir, args);
    cmd.env_remove("HEARTH_PASSPHRASE").stdin(Stdio::null());
    cmd.output().unwrap()
}

fn show_json(dir: &std::path::Path, id: &str) -> Value {
    serde_json::from_str(&ok!(agent(dir, &["show", id, "--json"], None))).unwrap()
}

#[test]
fn issue_12_enrol_without_pin_or_ca_says_where_the_pin_comes_from() {
    let dir = init();
    let out = agent(
        dir.path(),
        &["enrol", "--server", "https://127.0.0.1:9", "--token", "t"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("give --pin sha256:… (from your administrator) or --ca FILE"),
        "{}",
        stderr(&out)
    );
}

/// Serves one TLS handshake with a fresh self-signed certificate; returns
/// the URL and the certificate's SHA-256 in hex.
fn one_shot_tls_server() -> (String, String, std::thread::JoinHandle<()>) {
    use rustls::ServerConfig;
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use sha2::{Digest, Sha256};
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = ck.cert.der().clone();
    let fingerprint = hex::encode(Sha256::digest(der.as_ref()));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der], key)
            .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                return;
            }
        }
    });
    (format!("https://localhost:{port}"), fingerprint, handle)
}

#[test]
fn issue_12_a_pin_mismatch_does_not_print_the_fingerprint_presented() {
    let dir = init();
    let (url, presented, server) = one_shot_tls_server();
    let wrong = format!("sha256:{}", "00".repeat(32));
    let out = agent(
        dir.path(),
        &["enrol", "--server", &url, "--token", "t", "--pin", &wrong],
        None,
    );
    server.join().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Printing it would invite pasting it into --pin: trusting whoever is
    // in the middle.
    assert!(!err.contains(&presented), "{err}");
    assert!(err.contains("does not match"), "{err}");
    assert!(
        err.contains("check the fingerprint with your administrator"),
        "{err}"
    );
    assert!(!dir.path().join("server-cert.der").exists());
}

/// `args` without each of `flags` and the value after it.
fn without<'a>(args: &[&'a str], flags: &[&str]) -> Vec<&'a str> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if flags.contains(arg) {
            skip_value = true;
        } else {
            kept.push(*arg);
        }
    }
    kept
}

#[test]
fn issue_12_missing_required_flags_are_reported_at_once() {
    let dir = init();
    let concern = record_concern(CHILD, "Bruise seen", "unused");
    refused(
        dir.path(),
        &without(
            &concern,
            &["--category", "--seen-or-said", "--action-detail"],
        ),
        None,
        "`record concern` needs --category, --seen-or-said and --action-detail;",
    );
    // `--action none` still needs --action-detail: why nothing was done.
    refused(
        dir.path(),
        &without(&concern, &["--action-detail"]),
        None,
        "`record concern` needs --action-detail;",
    );
}

/// The help text of `flag`: its line and the wrapped lines under it.
fn help_of(help: &str, flag: &str) -> String {
    let mut block = Vec::new();
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        let starts_flag = indent <= 6 && line.trim_start().starts_with('-');
        if starts_flag && !block.is_empty() {
            break;
        }
        if !block.is_empty() || (starts_flag && line.trim_start().starts_with(&format!("{flag} ")))
        {
            block.push(line.trim());
        }
    }
    assert!(!block.is_empty(), "no {flag} in\n{help}");
    block.join(" ")
}

#[test]
fn issue_12_help_marks_each_required_flag() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok!(agent(dir.path(), &["record", "concern", "--help"], None));
    for flag in [
        "--child",
        "--headline",
        "--category",
        "--seen-or-said",
        "--action",
        "--action-detail",
    ] {
        let text = help_of(&help, flag);
        assert!(text.contains("(required"), "{flag}: {text}");
    }
    for flag in ["--occurred-at", "--author"] {
        let text = help_of(&help, flag);
        assert!(!text.contains("(required"), "{flag}: {text}");
    }
}

#[test]
fn issue_12_injury_flags_carry_every_field_to_the_signed_record() {
    let dir = init();
    let d = dir.path();
    let id = ok!(agent(
        d,
        &[
            "record",
            "daily-presentation",
            "--child",
            CHILD,
            "--headline",
            "Arrived with two injuries",
            "--attendance",
            "present",
            "--injury",
            "arm:Bruise 3 cm, yellow-green: left upper arm",
            "--injury-carer-explanation",
            "Fell off the sofa at the weekend",
            "--injury-child-account",
            "Not asked: child is pre-verbal",
            "--injury",
            "leg:Graze on the knee",
            "--injury-child-account",
            "I fell over in the park",
        ],
        None
    ));
    let shown = show_json(d, id.trim());
    let injuries = shown["injuries"].as_array().unwrap();
    assert_eq!(injuries.len(), 2, "{shown}");
    assert_eq!(injuries[0]["body_region"], "arm");
    assert_eq!(
        injuries[0]["description"],
        "Bruise 3 cm, yellow-green: left upper arm"
    );
    assert_eq!(
        injuries[0]["carer_explanation"],
        "Fell off the sofa at the weekend"
    );
    assert_eq!(
        injuries[0]["child_account"],
        "Not asked: child is pre-verbal"
    );
    assert_eq!(injuries[1]["body_region"], "leg");
    assert_eq!(injuries[1]["description"], "Graze on the knee");
    assert_eq!(injuries[1]["carer_explanation"], "");
    assert_eq!(injuries[1]["child_account"], "I fell over in the park");
}

#[test]
fn issue_12_a_closed_pipe_is_not_an_error() {
    let dir = init();
    let d = dir.path();
    for _ in 0..25 {
        ok!(agent(
            d,
            &["record", "--json", "-"],
            Some(&super::concern_json(CHILD))
        ));
    }
    assert_eq!(list_json(d, &[]).as_array().unwrap().len(), 25);
    // `hearth-agent list | head -0`: the reader has gone before the agent
    // writes its first line (unlocking comes first), so every write meets
    // a closed pipe.
    let mut child = agent_command(d, &["list"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn issue_12_sync_while_locked_says_exactly_what_to_run() {
    let dir = init();
    let out = agent_locked(dir.path(), &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: the store is locked: run `hearth-agent unlock` at a terminal (or set HEARTH_PASSPHRASE for scripts), then `hearth-agent sync` again"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn issue_12_show_prints_an_amendments_reason() {
    let dir = init();
    let d = dir.path();
    let original = ok!(agent(
        d,
        &["record", "--json", "-"],
        Some(&super::concern_json(CHILD))
    ));
    let amendment = ok!(agent(
        d,
        &[
            "record",
            "amendment",
            "--child",
            CHILD,
            "--headline",
            "Bruise on the left arm, not the right",
            "--corrects",
            original.trim(),
            "--reason",
            "The arm was typed wrongly",
        ],
        None
    ));
    let shown = show_json(d, amendment.trim());
    assert_eq!(shown["reason"], "The arm was typed wrongly", "{shown}");
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["status_reason"], "");
    let text = ok!(agent(d, &["show", amendment.trim()], None));
    assert!(
        text.contains(r#""reason": "The arm was typed wrongly""#),
        "{text}"
    );
}

/// Issue 12, item 1: `record amendment` without `--occurred-at` keeps the
/// original's date. On main it took the moment the correction was typed,
/// which moved the event in the chronology.
#[test]
fn issue_12_record_amendment_keeps_the_originals_date() {
    let dir = init();
    let d = dir.path();
    let original = ok!(agent(
        d,
        &["record", "--json", "-"],
        Some(&super::concern_json(CHILD))
    ));
    let when = show_json(d, original.trim())["occurred_at"].clone();
    assert!(when.is_string(), "{when}");
    let amend = |extra: &[&str]| {
        let mut args = vec![
            "record",
            "amendment",
            "--child",
            CHILD,
            "--headline",
            "Bruise on the left arm, not the right",
            "--corrects",
            original.trim(),
            "--reason",
            "The arm was typed wrongly",
        ];
        args.extend_from_slice(extra);
        ok!(agent(d, &args, None))
    };
    let kept = amend(&[]);
    assert_eq!(show_json(d, kept.trim())["occurred_at"], when);
    // A date given on purpose is the correction's to make.
    let moved = amend(&["--occurred-at", "2026-11-19T09:00:00Z"]);
    assert_eq!(
        show_json(d, moved.trim())["occurred_at"],
        "2026-11-19T09:00:00Z"
    );
}
