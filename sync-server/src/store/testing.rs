//! The store a unit test runs on, on either backend: SQLite in the test's
//! directory, or, with `HEARTH_TEST_BACKEND=postgres`, a fresh PostgreSQL
//! database of the test cluster (`hearth-testpg`), one per directory, so
//! that `open(dir)` and `connect(dir)` (the writer's store and the handlers'
//! reads) reach the same data as they do on SQLite. Tests about SQLite
//! itself (its migrations, file modes, WAL) keep `SqliteStore`.
//!
//! The `postgres` client runs a runtime of its own and so must not be called
//! on a thread that is driving async tasks: a `#[tokio::test]` that calls
//! the store directly does it through [`blocking`], as handlers do through
//! `spawn_blocking`. Nor may a `postgres` client be dropped there (closing
//! it blocks too), so every PostgreSQL store made here is also kept in
//! [`KEPT`] and dropped, on a plain thread, only once its test's directory
//! has been gone for a while: the test's own copies are dropped first and the
//! last one (ours) never on a runtime's thread.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::any::AnyStore;
use crate::backend::{Backend, Location};

/// The PostgreSQL stores of this process, with when their directory was
/// first seen gone.
static KEPT: Mutex<Vec<(PathBuf, AnyStore, Option<Instant>)>> = Mutex::new(Vec::new());

/// How long after its directory has gone a store is dropped: a test drops
/// its directory and its stores within microseconds of each other.
const GRACE: Duration = Duration::from_secs(2);

/// Where the store for `dir` is: SQLite in `dir`, or the PostgreSQL database
/// given to `dir` (made on first use).
pub(crate) fn location(dir: &Path) -> Location {
    Location {
        database: hearth_testpg::database_for(dir),
        ..Location::sqlite(dir)
    }
}

/// Opens (creating and migrating) the test store for `dir`. Opening the same
/// `dir` again reaches the same data, as reopening a SQLite directory does.
pub(crate) fn open(dir: &Path) -> AnyStore {
    let at = location(dir);
    let store = blocking(|| AnyStore::open(&at));
    keep(
        dir,
        store.unwrap_or_else(|e| panic!("test store for {}: {e}", dir.display())),
    )
}

/// A reading store on the store [`open`] made for `dir`.
pub(crate) fn connect(dir: &Path) -> AnyStore {
    let at = location(dir);
    let store = blocking(|| <AnyStore as Backend>::connect(&at));
    keep(
        dir,
        store.unwrap_or_else(|e| panic!("test store for {}: {e}", dir.display())),
    )
}

/// Keeps a copy of a PostgreSQL store (see the module's overview), and
/// drops, on a thread of their own, those whose directory has been gone for
/// [`GRACE`].
fn keep(dir: &Path, store: AnyStore) -> AnyStore {
    if let AnyStore::Sqlite(_) = store {
        return store;
    }
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let now = Instant::now();
    let mut done = Vec::new();
    let mut i = 0;
    while i < kept.len() {
        let (path, _, gone) = &mut kept[i];
        if path.exists() {
            *gone = None;
        } else if gone.is_none() {
            *gone = Some(now);
        }
        if gone.is_some_and(|t| now.duration_since(t) >= GRACE) {
            done.push(kept.swap_remove(i));
        } else {
            i += 1;
        }
    }
    kept.push((dir.to_path_buf(), store.clone(), None));
    drop(kept);
    if !done.is_empty() {
        std::thread::spawn(move || drop(done));
    }
    store
}

/// A new store in its own directory (kept while the guard lives).
pub(crate) fn fresh() -> (tempfile::TempDir, AnyStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    (dir, store)
}

/// Runs `f` on a thread of its own when called from inside an async runtime
/// (where the `postgres` client may not block), else here.
pub(crate) fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Runs `sql` on the test store of `dir` behind the store's back, as another
/// program with the database's credentials would (to show what the database
/// itself refuses); the error is the database's message.
pub(crate) fn execute(dir: &Path, sql: &str) -> Result<(), String> {
    let at = location(dir);
    match &at.database {
        None => {
            let conn = rusqlite::Connection::open(super::sqlite::db_path(dir))
                .map_err(|e| e.to_string())?;
            conn.execute_batch(sql).map_err(|e| e.to_string())
        }
        Some(url) => {
            let path = format!("SET search_path TO {}; {sql}", at.partnership.schema());
            hearth_testpg::cluster().execute(url, &[&path])
        }
    }
}
