//! Issue 11, items 10 to 12: the tablet's own store, damaged or moved, must
//! never cost a record silently. Through the built binary; the damage is
//! done with SQLite directly, as a bit flip on disk would (bypassing the
//! immutability trigger, which a flip on disk never meets).

use std::fs;
use std::path::Path;
use std::process::Output;

use rusqlite::Connection;

use super::{CHILD, agent, concern_json, init, list_json, stderr, stdout};

const OTHER_CHILD: &str = "nhs:4010232137";

fn record_for(d: &Path, child: &str) -> String {
    let out = agent(d, &["record", "--json", "-"], Some(&concern_json(child)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

fn db(d: &Path) -> Connection {
    Connection::open(d.join("hearth.db")).unwrap()
}

/// A `records` row as stored: seq, hash, sealed body, child tags.
type Row = (i64, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// Every row of `records`, as stored, in seq order.
fn rows(d: &Path) -> Vec<Row> {
    let conn = db(d);
    let mut stmt = conn
        .prepare("SELECT seq, hash, sealed, child_tags FROM records ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Flips bit 0 of byte `byte` of `column` in record `seq`, as damage on
/// disk would: the immutability trigger is set aside for the write and put
/// back after it.
fn flip_bit(d: &Path, seq: i64, column: &str, byte: i64) {
    let conn = db(d);
    let trigger: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'records_are_immutable'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch("DROP TRIGGER records_are_immutable")
        .unwrap();
    let mut value: Vec<u8> = conn
        .query_row(
            &format!("SELECT {column} FROM records WHERE seq = ?1"),
            [seq],
            |r| r.get(0),
        )
        .unwrap();
    value[byte as usize] ^= 1;
    conn.execute(
        &format!("UPDATE records SET {column} = ?1 WHERE seq = ?2"),
        rusqlite::params![value, seq],
    )
    .unwrap();
    conn.execute_batch(&trigger).unwrap();
}

/// Asserts `out` failed with an integrity error about record `seq` saying `what`.
fn failed_integrity(out: &Output, seq: u64, what: &str) {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(out));
    let err = stderr(out);
    assert!(
        err.contains(&format!("integrity check failed for record {seq}: {what}")),
        "{err}"
    );
    assert!(err.contains("tell your administrator"), "{err}");
}

/// Item 10: `init` next to a keyring whose database was moved aside (or
/// is empty) refuses and leaves the keyring byte for byte; restoring the
/// database makes the old records readable again.
#[test]
fn issue_11_init_never_replaces_a_keyring() {
    let dir = init();
    let d = dir.path();
    let id = record_for(d, CHILD);
    let keyring = fs::read(d.join("keyring.json")).unwrap();
    let aside = tempfile::tempdir().unwrap();
    fs::rename(d.join("hearth.db"), aside.path().join("hearth.db")).unwrap();
    for wal in ["hearth.db-wal", "hearth.db-shm"] {
        if d.join(wal).exists() {
            fs::rename(d.join(wal), aside.path().join(wal)).unwrap();
        }
    }
    let init_args = ["init", "--agency", "HV-NORTH", "--worker", "hv-ann"];

    // The database is missing.
    let out = agent(d, &init_args, None);
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("keyring.json exists"), "{err}");
    assert!(err.contains("restore it to this directory"), "{err}");
    assert!(err.contains("move the keyring aside deliberately"), "{err}");
    assert_eq!(fs::read(d.join("keyring.json")).unwrap(), keyring);
    assert!(!d.join("hearth.db").exists(), "init created nothing");

    // The database is an empty file.
    fs::write(d.join("hearth.db"), b"").unwrap();
    let out = agent(d, &init_args, None);
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    assert!(
        stderr(&out).contains("keyring.json exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(d.join("keyring.json")).unwrap(), keyring);

    // Restored, the old record opens with the old keyring.
    fs::remove_file(d.join("hearth.db")).unwrap();
    for f in ["hearth.db-wal", "hearth.db-shm"] {
        let _ = fs::remove_file(d.join(f));
        if aside.path().join(f).exists() {
            fs::rename(aside.path().join(f), d.join(f)).unwrap();
        }
    }
    fs::rename(aside.path().join("hearth.db"), d.join("hearth.db")).unwrap();
    let listed = list_json(d, &[]);
    assert_eq!(listed[0]["record_id"], id.as_str());

    // Moved aside deliberately, the keyring no longer stops a new device.
    fs::rename(d.join("keyring.json"), d.join("keyring.json.old")).unwrap();
    fs::rename(d.join("hearth.db"), aside.path().join("hearth.db")).unwrap();
    for f in ["hearth.db-wal", "hearth.db-shm"] {
        let _ = fs::remove_file(d.join(f));
    }
    let out = agent(d, &init_args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read(d.join("keyring.json.old")).unwrap(), keyring);
}

/// Item 11: one flipped bit in the head's stored chain hash stops the next
/// capture with an integrity error naming the record, instead of signing
/// the wrong `prev` (a fork the server can never accept). Nothing is
/// written; undoing the flip lets capture carry on from the right hash.
#[test]
fn issue_11_a_damaged_chain_hash_stops_capture_instead_of_forking() {
    let dir = init();
    let d = dir.path();
    record_for(d, CHILD);
    record_for(d, CHILD);
    let before = rows(d);
    flip_bit(d, 2, "hash", 7);
    let damaged = rows(d);

    let out = agent(d, &["record", "--json", "-"], Some(&concern_json(CHILD)));
    let what = "its stored chain hash is not the hash of its sealed, signed bytes";
    failed_integrity(&out, 2, what);
    assert_eq!(rows(d), damaged, "nothing written, nothing else changed");
    // Reading the damaged record says so too, rather than show a false hash.
    failed_integrity(&agent(d, &["list", "--json"], None), 2, what);

    flip_bit(d, 2, "hash", 7);
    assert_eq!(rows(d), before);
    let third = record_for(d, CHILD);
    let shown: serde_json::Value =
        serde_json::from_str(&ok!(agent(d, &["show", "--json", &third], None))).unwrap();
    assert_eq!(
        shown["prev"],
        hex::encode(&before[1].1),
        "chained from the true hash"
    );
}

/// Item 12: one flipped bit in a record's child tags used to drop it from
/// `list --child` with exit 0. Now the lookup fails loudly, naming it.
#[test]
fn issue_11_a_damaged_child_tag_is_reported_not_hidden() {
    let dir = init();
    let d = dir.path();
    record_for(d, CHILD);
    record_for(d, OTHER_CHILD);
    record_for(d, CHILD);
    assert_eq!(
        list_json(d, &["--child", CHILD]).as_array().unwrap().len(),
        2
    );
    flip_bit(d, 3, "child_tags", 0);
    for child in [CHILD, OTHER_CHILD] {
        let out = agent(d, &["list", "--json", "--child", child], None);
        failed_integrity(&out, 3, "its stored child tags do not match");
    }
    // The record itself is intact: `list` still shows all three.
    assert_eq!(list_json(d, &[]).as_array().unwrap().len(), 3);
}
