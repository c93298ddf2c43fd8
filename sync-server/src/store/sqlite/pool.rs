//! Pooled connections (`r2d2` with `r2d2_sqlite`): the pragmas each kind
//! of connection gets, and the pool settings.
//!
//! Two kinds, as before the pool: the writer's ([`Kind::Writer`]: one
//! connection, WAL, `synchronous=FULL`, foreign keys; the ingest writer and
//! administration commands) and request handlers' reads ([`Kind::Reader`]:
//! up to [`READ_CONNECTIONS`], `synchronous=FULL`, opened on demand and kept
//! for reuse, because opening one parses the schema, which the ingest
//! profile showed on every batch). Both wait up to 30 s for a lock.
//!
//! Why r2d2: the store's API is blocking (handlers call it in
//! `spawn_blocking`), which r2d2 is; deadpool-sqlite is async.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use r2d2::{HandleError, Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use scheduled_thread_pool::ScheduledThreadPool;

use super::db_path;
use crate::store::StoreError;

/// The most read connections a reader pool keeps (and opens at once; a
/// request beyond them waits for one, up to [`LOCK_WAIT`]).
pub const READ_CONNECTIONS: u32 = 8;

/// How long a connection waits for a lock, and a request for a connection.
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(30);

/// A connection borrowed from the pool; it goes back when dropped.
pub(super) type Conn = PooledConnection<SqliteConnectionManager>;

/// Which connections a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The one connection that writes (and migrates).
    Writer,
    /// Request handlers' read connections.
    Reader,
}

/// The pragmas every connection of `kind` is opened with.
pub(super) fn configure(conn: &Connection, kind: Kind) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(LOCK_WAIT)?;
    if kind == Kind::Writer {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    if kind == Kind::Writer {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    Ok(())
}

/// A pool of `kind` connections to the database in `data`. Connections are
/// opened when first needed and kept: no idle timeout, no maximum
/// lifetime (the writer's `wal_autocheckpoint` lives on its one
/// connection), no check on checkout (SQLite connections do not go stale).
pub(super) fn pool(data: &Path, kind: Kind) -> Pool<SqliteConnectionManager> {
    let manager =
        SqliteConnectionManager::file(db_path(data)).with_init(move |conn| configure(conn, kind));
    let size = match kind {
        Kind::Writer => 1,
        Kind::Reader => READ_CONNECTIONS,
    };
    Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .idle_timeout(None)
        .max_lifetime(None)
        .test_on_check_out(false)
        .connection_timeout(LOCK_WAIT)
        .error_handler(Box::new(TracingErrors))
        .thread_pool(scheduler())
        .build_unchecked(manager)
}

/// The one thread, shared by every pool in the process (PostgreSQL's
/// too), on which r2d2 opens connections (it would start three per
/// pool). Opening a SQLite connection takes a millisecond, and these
/// pools open few: no minimum of idle connections, nothing to reap.
pub(crate) fn scheduler() -> Arc<ScheduledThreadPool> {
    static ONE: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();
    ONE.get_or_init(|| {
        Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("hearth-db-{}")
                .build(),
        )
    })
    .clone()
}

/// Borrows a connection from `pool`.
pub(super) fn get(pool: &Pool<SqliteConnectionManager>) -> Result<Conn, StoreError> {
    pool.get().map_err(|e| StoreError::Pool(e.to_string()))
}

/// Reports a connection that could not be opened to the log (r2d2's own
/// handler writes to the `log` crate, which this server does not read).
#[derive(Debug)]
struct TracingErrors;

impl HandleError<rusqlite::Error> for TracingErrors {
    fn handle_error(&self, error: rusqlite::Error) {
        tracing::warn!(%error, "cannot open a database connection");
    }
}
