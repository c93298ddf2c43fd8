//! Integration tests: the built `hearth-agent` binary against a temporary
//! store, with no server at all (issue 3).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const CHILD: &str = "nhs:9434765919";
const PASSPHRASE: &str = "correct horse battery staple";

/// The agent with `--store dir` and a clean, known environment.
fn agent_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth-agent"));
    cmd.arg("--store")
        .arg(dir)
        .args(args)
        .env_remove("HEARTH_CLOCK_SKEW_SECS")
        .env_remove("RUST_LOG")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("HEARTH_NEW_PASSPHRASE")
        .env("HEARTH_PASSPHRASE", PASSPHRASE)
        .env("HEARTH_INSECURE_TEST_KDF", "1");
    cmd
}

/// Runs the agent with `--store dir`, optionally feeding stdin.
fn agent(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = agent_command(dir, args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the agent runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
macro_rules! ok {
    ($out:expr) => {{
        let out = $out;
        assert_eq!(
            out.status.code(),
            Some(0),
            "expected success; stderr: {}",
            stderr(&out)
        );
        stdout(&out)
    }};
}

fn init() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let id = ok!(agent(
        dir.path(),
        &["init", "--agency", "HV-NORTH", "--worker", "hv-ann"],
        None
    ));
    assert_eq!(id.trim().len(), 16, "a device id is 16 hex digits: {id:?}");
    dir
}

fn list_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok!(agent(dir, &args, None))).unwrap()
}

fn concern_json(child: &str) -> String {
    format!(
        r#"{{"kind":"concern","children":["{child}"],"occurred_at":"2026-11-20T10:30:00Z",
        "headline":"Bruise on left arm","category":"physical","seen_or_said":"A bruise",
        "action":"shared","action_detail":"DSL"}}"#
    )
}

#[test]
fn issue_3_capture_works_with_no_server() {
    let dir = init();
    let d = dir.path();
    let a = ok!(agent(
        d,
        &[
            "record",
            "home-visit",
            "--child",
            CHILD,
            "--headline",
            "Unannounced visit",
            "--access",
            "unannounced",
            "--child-seen",
            "awake",
            "--present",
            "father",
            "--observation",
            "nutrition:4:little food",
            "--occurred-at",
            "2026-11-19T09:00:00Z",
        ],
        None
    ));
    let b = ok!(agent(
        d,
        &[
            "record",
            "daily-presentation",
            "--child",
            "local:LA-LEEDS:C1",
            "--headline",
            "Arrived late and hungry",
            "--attendance",
            "late",
            "--arrival-time",
            "08:40",
            "--hungry",
            "--author",
            "hv-ann",
        ],
        None
    ));
    let c = ok!(agent(
        d,
        &["record", "--json", "-"],
        Some(&concern_json(CHILD))
    ));
    let file = d.join("voice.json");
    std::fs::write(
        &file,
        r#"{"kind":"voice","children":["nhs:4010232137"],"occurred_at":"2026-11-20T11:00:00Z",
            "headline":"Child said she was hungry","mode":"words","words":"my tummy hurts",
            "action":"told the DSL"}"#,
    )
    .unwrap();
    let v = ok!(agent(
        d,
        &["record", "--json", file.to_str().unwrap()],
        None
    ));
    let ids: Vec<&str> = [&a, &b, &c, &v].iter().map(|s| s.trim()).collect();
    for (i, id) in ids.iter().enumerate() {
        assert!(
            id.ends_with(&format!("-{}", i + 1)),
            "id {id} is seq {}",
            i + 1
        );
        assert_eq!(id.lines().count(), 1, "record prints only the id");
    }

    let all = list_json(d, &[]);
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["kind"], "home_visit");
    assert_eq!(rows[0]["occurred_at"], "2026-11-19T09:00:00Z");
    assert_eq!(rows[1]["children"][0], "local:LA-LEEDS:C1");
    for row in rows {
        assert_eq!(row["status"], "pending");
        assert_eq!(row["reason"], "");
        for field in [
            "record_id",
            "seq",
            "kind",
            "occurred_at",
            "headline",
            "children",
        ] {
            assert!(!row[field].is_null(), "{field} in {row}");
        }
    }
    let for_child = list_json(d, &["--child", CHILD]);
    assert_eq!(for_child.as_array().unwrap().len(), 2);
    assert_eq!(list_json(d, &["--pending"]).as_array().unwrap().len(), 4);

    let shown: serde_json::Value =
        serde_json::from_str(&ok!(agent(d, &["show", ids[1], "--json"], None))).unwrap();
    assert_eq!(shown["record_id"], ids[1]);
    assert_eq!(shown["author"], "hv-ann");
    assert_eq!(shown["agency"], "HV-NORTH");
    assert_eq!(shown["arrival_time"], "08:40");
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["hash"].as_str().unwrap().len(), 64);
    assert!(shown["device_time"].is_string());

    let status: serde_json::Value =
        serde_json::from_str(&ok!(agent(d, &["status", "--json"], None))).unwrap();
    assert_eq!(status["pending"], 4);
    assert_eq!(status["synced"], 0);
    assert_eq!(status["enrolled"], false);
    let text = ok!(agent(d, &["status"], None));
    assert!(text.contains("pending      4"), "{text}");

    // Issue 7: no plaintext device key; the keyring is owner-only.
    assert!(!d.join("device.key").exists());
    let key = d.join("keyring.json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn issue_3_every_kind_has_a_subcommand() {
    let dir = init();
    let d = dir.path();
    let status: serde_json::Value =
        serde_json::from_str(&ok!(agent(d, &["status", "--json"], None))).unwrap();
    // An amendment corrects a record of this device (issue 11).
    let own = format!("{}-1", status["device_id"].as_str().unwrap());
    let common = [
        "--child",
        CHILD,
        "--headline",
        "Entry",
        "--occurred-at",
        "2026-11-20T10:00:00Z",
    ];
    let kinds: &[&[&str]] = &[
        &[
            "voice",
            "--mode",
            "behaviour",
            "--behaviour",
            "hid under the table",
        ],
        &[
            "concern",
            "--category",
            "neglect",
            "--seen-or-said",
            "no coat",
            "--action",
            "none",
            "--action-detail",
            "monitor",
        ],
        &[
            "developmental-review",
            "--contact",
            "2_2half_years",
            "--outcome",
            "communication:monitor",
        ],
        &[
            "meeting",
            "--meeting-type",
            "core_group",
            "--attendee",
            "Sam@HV-NORTH",
            "--minutes",
            "not_recorded",
        ],
        &[
            "escalation",
            "--stage",
            "1",
            "--raised-by",
            "HV",
            "--raised-with",
            "SW manager",
            "--disputed",
            "inaction",
            "--disagreement",
            "no visit in 6 weeks",
        ],
        &[
            "neglect-summary",
            "--grade",
            "nutrition:4",
            "--visits",
            "3",
            "--assessor-trained",
        ],
        &["amendment", "--corrects", &own, "--reason", "wrong date"],
    ];
    for args in kinds {
        let mut all = vec!["record"];
        all.push(args[0]);
        all.extend_from_slice(&common);
        all.extend_from_slice(&args[1..]);
        ok!(agent(d, &all, None));
    }
    assert_eq!(list_json(d, &[]).as_array().unwrap().len(), kinds.len());
}

/// Runs a `record` that must fail, and checks the message, exit code 1 and
/// that the store is unchanged.
fn refused(d: &Path, args: &[&str], stdin: Option<&str>, message: &str) {
    let before = list_json(d, &[]);
    let out = agent(d, args, stdin);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains(message),
        "expected stderr to contain\n  {message}\nactual:\n  {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "nothing on stdout");
    assert_eq!(list_json(d, &[]), before, "the store is unchanged");
}

/// `record concern` for `child` with `headline`, no action taken, and
/// `detail` saying why.
fn record_concern<'a>(child: &'a str, headline: &'a str, detail: &'a str) -> Vec<&'a str> {
    vec![
        "record",
        "concern",
        "--child",
        child,
        "--headline",
        headline,
        "--category",
        "physical",
        "--seen-or-said",
        "x",
        "--action",
        "none",
        "--action-detail",
        detail,
    ]
}

#[test]
fn issue_3_bad_input_is_refused_with_its_message_and_writes_nothing() {
    let dir = init();
    let d = dir.path();
    ok!(agent(
        d,
        &["record", "--json", "-"],
        Some(&concern_json(CHILD))
    ));
    refused(
        d,
        &["record", "--json", "-"],
        Some("{\"kind\": "),
        "the record is not valid JSON",
    );
    refused(
        d,
        &["record", "--json", "-"],
        Some(r#"{"kind":"sighting","children":["nhs:9434765919"]}"#),
        "kind \"sighting\" is not a record kind; use one of home_visit,",
    );
    let long = "a".repeat(1342);
    let voice = format!(
        r#"{{"kind":"voice","children":["{CHILD}"],"occurred_at":"2026-11-20T10:30:00Z",
        "headline":"h","mode":"words","words":"{long}"}}"#
    );
    refused(
        d,
        &["record", "--json", "-"],
        Some(&voice),
        "voice.words is 1,342 bytes; the limit is 1,024",
    );
    refused(
        d,
        &[
            "record",
            "voice",
            "--child",
            CHILD,
            "--headline",
            "h",
            "--mode",
            "words",
            "--words",
            &long,
        ],
        None,
        "voice.words is 1,342 bytes; the limit is 1,024",
    );
    refused(
        d,
        &["record", "--json", "-"],
        Some(&concern_json("nhs:9434765918")),
        "children[0] is not a valid NHS number: the check digit should be 9, not 8",
    );
    refused(
        d,
        &record_concern("nhs:9434765918", "h", "y"),
        None,
        "children[0] is not a valid NHS number: the check digit should be 9, not 8",
    );
}

#[test]
fn issue_3_commands_need_an_initialised_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = agent(dir.path(), &["list"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `hearth-agent init"),
        "{}",
        stderr(&out)
    );
    let d = init();
    let again = agent(d.path(), &["init", "--agency", "X", "--worker", "y"], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already initialised"),
        "{}",
        stderr(&again)
    );
    let sync = agent(d.path(), &["sync"], None);
    assert_eq!(sync.status.code(), Some(1));
    assert!(stderr(&sync).contains("not enrolled"), "{}", stderr(&sync));
}

#[test]
fn issue_3_the_store_dir_comes_from_hearth_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth-agent"))
        .args(["init", "--agency", "NURSERY-12", "--worker", "door"])
        .env("HEARTH_STORE", dir.path())
        .env("HEARTH_PASSPHRASE", PASSPHRASE)
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("hearth.db").exists());
}

#[test]
fn issue_3_usage_errors_exit_1_not_2() {
    let dir = init();
    let out = agent(dir.path(), &["record", "concern", "--no-such-flag"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = agent(dir.path(), &["frobnicate"], None);
    assert_eq!(out.status.code(), Some(1));
    let out = agent(dir.path(), &["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("HEARTH_CLOCK_SKEW_SECS"));
}
// Issue 7's tests live beside this file but in this one test binary.
#[path = "cli/issue_12.rs"]
mod issue_12;
#[path = "cli/issue_12_amend.rs"]
mod issue_12_amend;
#[path = "cli/issue_7.rs"]
mod issue_7;
// Issue 14's `app` command, likewise.
#[path = "cli/issue_14_app.rs"]
mod issue_14_app;
// Issue 11's store items (10 to 12), likewise.
#[path = "cli/issue_11_store.rs"]
mod issue_11_store;
// Issue 17's `caseload` command, likewise.
#[path = "cli/issue_17.rs"]
mod issue_17;

#[test]
fn an_enrolment_token_may_start_with_a_dash() {
    // Regression: URL-safe base64 tokens start with '-' one time in 64, and
    // clap took them for a flag ("unexpected argument '-I' found").
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = agent(
        &store,
        &["init", "--agency", "HV-NORTH", "--worker", "hv"],
        None,
    );
    assert!(out.status.success());
    let out = agent(
        &store,
        &[
            "enrol",
            "--server",
            "https://127.0.0.1:9",
            "--token",
            "-IE7sLYHowLEF7KyHYELNtRqKO08HijtE7jD14LgFLM",
            "--pin",
            &"ab".repeat(32),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
}

#[test]
fn issue_11_capture_refuses_hidden_characters_and_names_the_field() {
    let dir = init();
    let d = dir.path();
    let forged = "typo\n2026-11-01 08:30 | Concern: FORGED LINE | CSC-SOCIAL (sw.smith)";
    refused(
        d,
        &[
            "record",
            "amendment",
            "--child",
            CHILD,
            "--headline",
            "Bruise on left arm",
            "--corrects",
            "0000000000000000-1",
            "--reason",
            forged,
        ],
        None,
        "amendment.reason holds a line break (U+000A) at character 5; this field is one line",
    );
    refused(
        d,
        &record_concern(CHILD, "Seen \u{1b}[2J today", "nothing to add"),
        None,
        "headline holds a control character (U+001B) at character 6; remove it",
    );
    let rlo = concern_json(CHILD).replace("Bruise on left arm", "Bruise \\u202eon left arm");
    refused(
        d,
        &["record", "--json", "-"],
        Some(&rlo),
        "headline holds a bidirectional control, which reorders the text a reader sees (U+202E)",
    );
    // A narrative keeps its line breaks.
    let lines = concern_json(CHILD).replace("A bruise", "A bruise\\nabout 2cm");
    ok!(agent(d, &["record", "--json", "-"], Some(&lines)));
}

/// Issue 11: the agent refuses to capture a record under another agency or
/// author, or an amendment of another device's record; nothing is written.
#[test]
fn issue_11_the_agent_records_only_as_its_own_agency_and_worker() {
    let dir = init();
    let d = dir.path();
    let refused = |args: &[&str], stdin: Option<&str>, want: &str| {
        let out = agent(d, args, stdin);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
    };
    let body = concern_json(CHILD);
    let mut v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["agency"] = "POLICE-CAIT".into();
    v["author"] = "ds.nobody".into();
    refused(
        &["record", "--json", "-"],
        Some(&v.to_string()),
        "agency is \"POLICE-CAIT\", but this device records for \"HV-NORTH\"",
    );
    v["agency"] = "HV-NORTH".into();
    refused(
        &["record", "--json", "-"],
        Some(&v.to_string()),
        "author is \"ds.nobody\", who is neither this device's worker \"hv-ann\"",
    );
    refused(
        &[
            "record",
            "amendment",
            "--child",
            CHILD,
            "--headline",
            "Moved",
            "--occurred-at",
            "1900-01-01T09:00:00Z",
            "--corrects",
            "0badc0ffee15600d-2",
            "--reason",
            "wrong date",
        ],
        None,
        "corrects 0badc0ffee15600d-2, a record of another device",
    );
    assert_eq!(list_json(d, &[]).as_array().unwrap().len(), 0);
    // Its own worker, named or by default, is fine.
    v["author"] = "hv-ann".into();
    ok!(agent(d, &["record", "--json", "-"], Some(&v.to_string())));
}
