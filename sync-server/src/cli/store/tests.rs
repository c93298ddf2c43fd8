//! `backup` against a store being written: the copy is a valid store
//! holding one snapshot, every commit made before the backup began, and
//! no half of a transaction; an existing file is never overwritten.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use rusqlite::{Connection, params};

use super::*;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;

/// Rows of the access log, two per transaction (so half of one would show
/// as an odd count).
fn log_pair(conn: &Connection, n: i64) {
    let tx = conn.unchecked_transaction().unwrap();
    for who in ["first", "second"] {
        tx.execute(
            "INSERT INTO access_log (at, who, via, child, family, reason) VALUES (?1, ?2, 'cli', 'nhs:9434765919', 0, ?3)",
            params![n, who, "x".repeat(2_000)],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn a_backup_taken_while_the_store_is_written_is_one_whole_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let conn = Connection::open(db_path(dir.path())).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    // Enough pages (about 8 MiB) that the backup takes many steps.
    for n in 0..2_000 {
        log_pair(&conn, n);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(2_000));
    let writer = {
        let (stop, written, path) = (stop.clone(), written.clone(), db_path(dir.path()));
        std::thread::spawn(move || {
            let conn = Connection::open(path).unwrap();
            conn.busy_timeout(Duration::from_secs(30)).unwrap();
            while !stop.load(Ordering::SeqCst) {
                let n = written.load(Ordering::SeqCst);
                log_pair(&conn, n);
                written.store(n + 1, Ordering::SeqCst);
            }
        })
    };
    while written.load(Ordering::SeqCst) < 2_050 {
        std::thread::yield_now();
    }
    let before = written.load(Ordering::SeqCst);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("hearth.db");
    let pages = backup_sqlite(dir.path(), &file).unwrap();
    let after = written.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(
        pages > BACKUP_STEP_PAGES * 4,
        "{pages} pages: several steps"
    );
    assert!(after > before, "the writer kept writing during the backup");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A store the server opens, holding whole transactions only, and every
    // one committed before the backup began.
    let copy = SqliteStore::open(out.path()).unwrap();
    let log = copy.access_log().unwrap();
    assert_eq!(log.len() % 2, 0, "no half of a transaction");
    let pairs = (log.len() / 2) as i64;
    assert!(
        pairs >= before && pairs <= after + 1,
        "{before} <= {pairs} <= {after}"
    );
}

#[test]
fn an_existing_file_or_a_missing_store_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let e = backup_sqlite(dir.path(), &file).unwrap_err();
    assert!(matches!(e, OpsError::NoStore(_)), "{e}");
    assert!(!file.exists());
    drop(SqliteStore::open(dir.path()).unwrap());
    std::fs::write(&file, b"precious").unwrap();
    let e = backup_sqlite(dir.path(), &file).unwrap_err();
    assert!(
        e.to_string().contains("exists; backup never overwrites"),
        "{e}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
}
