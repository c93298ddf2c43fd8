//! `hearth-server backup` while a device syncs (issue 18): the backup is a
//! store the server opens, and it holds every record acknowledged before
//! the backup began.

use std::collections::BTreeSet;
use std::process::Command;

use hearth_e2e::bins;
use hearth_e2e::server::{Server, private_tempdir};

use crate::fixture::*;

/// Runs an administration command on the data directory `data`.
fn admin_in(data: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(bins::path("hearth-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hearth-server");
    assert!(
        out.status.success(),
        "hearth-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_backup_taken_during_a_sync_holds_everything_acknowledged_before_it() {
    let server = Server::start();
    if server.database().is_some() {
        eprintln!("backup copies a SQLite store; this run's server is on PostgreSQL (pg_dump)");
        return;
    }
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let t = now();
    for n in 0..20 {
        agent.record(&daily(CHILD_A, t - 3_600 - n, &format!("Before {n}")));
    }
    sync_until_done(&agent, 3);
    let acknowledged: BTreeSet<String> = statuses(&agent)
        .into_iter()
        .filter(|(_, s)| s == "synced")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(acknowledged.len(), 20);
    for n in 0..120 {
        agent.record(&concern(CHILD_A, t - 60 - n, &format!("During {n}")));
    }

    // The backup runs while the device sends its 120 new records.
    let mut sync = agent.spawn(&["sync"]);
    let dir = private_tempdir();
    let file = dir.path().join("hearth.db");
    let printed = server.admin_ok(&["backup", "--to", file.to_str().unwrap()]);
    assert!(
        printed.starts_with("backed up ") && printed.contains(" pages to "),
        "{printed}"
    );
    assert!(sync.wait().unwrap().success());

    // A second backup to the same file is refused; the first is kept.
    let again = server.admin(&["backup", "--to", file.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is for the server's user alone");
    let devices = admin_in(dir.path(), &["devices", "--json"]);
    assert!(devices.contains(&agent.device_id()), "{devices}");
    let chronology: serde_json::Value = serde_json::from_str(&admin_in(
        dir.path(),
        &[
            "chronology",
            "--child",
            CHILD_A,
            "--format",
            "json",
            "--reason",
            "restore test",
        ],
    ))
    .unwrap();
    let held: BTreeSet<String> = entries(&chronology)
        .iter()
        .map(|e| e["record_id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = acknowledged.difference(&held).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not in it: {missing:?}"
    );
}
