//! Issue 17: the people register from the command line, round trip:
//! `person add/relate/edit/show/list/import/log`, `household`,
//! `identity link/unlink`, refusals naming the field with exit status 2,
//! an import with refused rows reported and exit status 1.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hearth-server");
const AMY: &str = "nhs:9434765919";
const NURSERY: &str = "local:NURSERY-12:amy-b";

fn private_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

fn run(data: &Path, args: &[&str]) -> Output {
    hearth_testpg::set_database(&mut Command::new(BIN), data)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("USER", "test-runner")
        .env("LOGNAME", "test-runner")
        .env_remove("HEARTH_TZ")
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "hearth-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A refusal: exit status 2 and `error: FIELD: …` on stderr.
fn refused(data: &Path, args: &[&str], field: &str) -> String {
    let out = run(data, args);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with(&format!("error: {field}: ")),
        "{args:?}: {err}"
    );
    err
}

#[test]
fn issue_17_the_register_round_trips_through_the_command_line() {
    let dir = private_dir();
    let data = dir.path();
    assert_eq!(
        ok(
            data,
            &[
                "person",
                "add",
                "--ref",
                AMY,
                "--name",
                "Amy Brown",
                "--dob",
                "2024-05-01",
                "--sex",
                "female",
                "--as",
                "registrar.amy"
            ]
        ),
        format!("added P1 Amy Brown ({AMY})\n")
    );
    assert_eq!(
        ok(data, &["person", "add", "--adult", "--name", "Dean Brown"]),
        "added P2 Dean Brown (adult)\n"
    );
    let err = refused(
        data,
        &[
            "person",
            "add",
            "--ref",
            "local:HV:baby",
            "--name",
            "Baby",
            "--dob",
            "2099-01-01",
        ],
        "dob",
    );
    assert!(
        err.contains("is in the future; for an unborn child give --edd"),
        "{err}"
    );
    refused(
        data,
        &["person", "add", "--ref", AMY, "--name", "Someone"],
        "ref",
    );
    ok(
        data,
        &[
            "person",
            "relate",
            "--adult",
            "P2",
            "--child",
            AMY,
            "--relationship",
            "father",
        ],
    );
    refused(
        data,
        &[
            "person",
            "relate",
            "--adult",
            "P2",
            "--child",
            "P1",
            "--relationship",
            "uncle",
        ],
        "relationship",
    );
    ok(
        data,
        &[
            "household",
            "add-member",
            "--household",
            "Brown",
            "--person",
            "P1",
            "--from",
            "2024-05-01",
        ],
    );
    ok(
        data,
        &[
            "household",
            "add-member",
            "--household",
            "Brown",
            "--person",
            "P2",
            "--from",
            "2023-01-01",
        ],
    );
    refused(
        data,
        &[
            "household",
            "end-member",
            "--household",
            "Green",
            "--person",
            "P1",
            "--until",
            "2025-01-01",
        ],
        "household",
    );
    refused(
        data,
        &["identity", "link", AMY, NURSERY, "--reason", "short"],
        "reason",
    );
    ok(
        data,
        &[
            "identity",
            "link",
            NURSERY,
            AMY,
            "--reason",
            "nursery registration form",
        ],
    );
    ok(
        data,
        &[
            "person",
            "edit",
            NURSERY,
            "--name",
            "Amy Green",
            "--reason",
            "change of name by deed poll",
        ],
    );

    let shown: Value =
        serde_json::from_str(&ok(data, &["person", "show", NURSERY, "--json"])).unwrap();
    assert_eq!(shown["id"], "P1");
    assert_eq!(shown["name"], "Amy Green");
    assert_eq!(shown["dob"], "2024-05-01");
    assert_eq!(shown["refs"].as_array().unwrap().len(), 2);
    assert_eq!(shown["relations"][0]["relationship"], "father");
    assert_eq!(shown["memberships"][0]["household"], "Brown");
    let text = ok(data, &["person", "show", "P1"]);
    assert!(
        text.starts_with("P1 Amy Green\nborn 2024-05-01\n"),
        "{text}"
    );
    assert!(text.contains("father P2 Dean Brown"), "{text}");
    let list = ok(data, &["person", "list", "--find", "green"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.starts_with("P1\tAmy Green\t2024-05-01\t"), "{list}");
    let household = ok(data, &["household", "show", "Brown"]);
    assert_eq!(household.lines().count(), 2, "{household}");

    ok(
        data,
        &[
            "identity",
            "unlink",
            AMY,
            NURSERY,
            "--reason",
            "the nursery's Amy is another child",
        ],
    );
    let shown: Value =
        serde_json::from_str(&ok(data, &["person", "show", "P1", "--json"])).unwrap();
    assert_eq!(shown["refs"].as_array().unwrap().len(), 1);

    let log: Value = serde_json::from_str(&ok(data, &["person", "log", "--json"])).unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "add",
            "add",
            "relate",
            "add_member",
            "add_member",
            "link",
            "edit",
            "read",
            "read",
            "read",
            "read",
            "unlink",
            "read"
        ]
    );
    let who = log[0]["who"].as_str().unwrap();
    assert!(who.contains("registrar.amy"), "{who}");
}

#[test]
fn issue_17_an_import_reports_refused_rows_and_stores_the_rest() {
    let dir = private_dir();
    let data = dir.path();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "kind,refs,name,dob,edd,sex,household,from,related_to,relationship\n\
         child,nhs:9434765919,Amy Brown,2024-05-01,,female,Brown,2024-05-01,,\n\
         adult,,Dean Brown,,,,Brown,2023-01-01,nhs:9434765919,father\n\
         child,nhs:9434765918,Bad Number,2024-05-01,,,,,,\n\
         child,local:HV:baby-brown,Baby Brown,,2026-12-01,,,,,\n",
    )
    .unwrap();
    let out = run(data, &["person", "import", file.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("imported 3 rows; refused 1 rows"));
    assert!(
        lines.next().unwrap().starts_with("row 3: refs: "),
        "{stdout}"
    );
    let people: Value = serde_json::from_str(&ok(data, &["person", "list", "--json"])).unwrap();
    assert_eq!(people["people"].as_array().unwrap().len(), 3);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "kind,refs,name\nchild,nhs:9434765919,Amy\n").unwrap();
    refused(data, &["person", "import", bad.to_str().unwrap()], "header");
}
