//! The one SQLite migration runner, for the agent's store and the server's
//! (feature `sqlite`). Migrations are numbered `.sql` files compiled into
//! each binary; the version is `PRAGMA user_version`, the number of
//! migrations applied, so `migrations[i]` takes a database from version `i`
//! to `i + 1`.
//!
//! Everything runs in one `BEGIN IMMEDIATE` transaction, and the version is
//! read inside it: two processes opening an old database at once (the
//! server and an administration command, or two agent commands) queue on
//! the write lock, and the second finds the work done. A failure leaves the
//! database at the version it had. A database newer than the build is
//! refused, never downgraded.
//!
//! Why not `rusqlite_migration` (its 2.3 release matches our rusqlite):
//! it reads `user_version` before it opens its transaction, so the two
//! processes above could both apply the same step, and its hooks return a
//! string, where a step here returns the store's own error (a damaged row
//! stays the store's "damaged" error). This runner is the 30 lines below.

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// A Rust step run after a migration's SQL, in the same transaction.
pub type Step<E> = fn(&Transaction<'_>) -> Result<(), E>;

/// One numbered migration: its SQL, and the Rust step (if any) that runs
/// after it in the same transaction (a backfill the SQL cannot do).
pub struct Migration<E> {
    /// The file's name, for logs: `0004_compact_records`.
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
    /// What must follow the SQL, in the same transaction.
    pub after: Option<Step<E>>,
}

impl<E> Migration<E> {
    /// A migration that is SQL only.
    pub const fn sql(name: &'static str, sql: &'static str) -> Self {
        Self {
            name,
            sql,
            after: None,
        }
    }
}

/// What migrating did: the versions before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The version the database had.
    pub from: u32,
    /// The version it has now.
    pub to: u32,
}

/// Why a database could not be brought up to date.
#[derive(Debug)]
pub enum MigrateError<E> {
    /// The database was written by a newer build.
    TooNew {
        /// Its version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
    /// SQLite refused: taking the lock, reading the version, committing,
    /// or the SQL of migration `version` (0 when no migration had begun).
    Sql {
        /// The migration that failed (its version once applied).
        version: u32,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Migration `version`'s Rust step failed.
    Step {
        /// The migration whose step failed.
        version: u32,
        /// The step's error.
        source: E,
    },
}

/// Brings the database on `conn` up to the last of `migrations`.
pub fn migrate<E>(
    conn: &mut Connection,
    migrations: &[Migration<E>],
) -> Result<Migrated, MigrateError<E>> {
    let sql = |version| move |source| MigrateError::Sql { version, source };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(0))?;
    let from: u32 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql(0))?;
    let known = migrations.len() as u32;
    if from > known {
        return Err(MigrateError::TooNew { found: from, known });
    }
    for (version, m) in (1..).zip(migrations).skip(from as usize) {
        tx.execute_batch(m.sql).map_err(sql(version))?;
        if let Some(after) = m.after {
            after(&tx).map_err(|source| MigrateError::Step { version, source })?;
        }
        tx.pragma_update(None, "user_version", version)
            .map_err(sql(version))?;
    }
    tx.commit().map_err(sql(known))?;
    Ok(Migrated { from, to: known })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> u32 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    fn fill(tx: &Transaction<'_>) -> Result<(), &'static str> {
        tx.execute("INSERT INTO t (x) VALUES (41)", [])
            .map_err(|_| "insert")?;
        Ok(())
    }

    const STEPS: &[Migration<&'static str>] = &[
        Migration::sql("0001_t", "CREATE TABLE t (x INTEGER);"),
        Migration {
            name: "0002_fill",
            sql: "ALTER TABLE t ADD COLUMN y INTEGER;",
            after: Some(fill),
        },
    ];

    #[test]
    fn applies_what_is_missing_once_and_counts_versions() {
        let mut conn = Connection::open_in_memory().unwrap();
        let m = migrate(&mut conn, &STEPS[..1]).unwrap();
        assert_eq!((m.from, m.to, version(&conn)), (0, 1, 1));
        let m = migrate(&mut conn, STEPS).unwrap();
        assert_eq!((m.from, m.to, version(&conn)), (1, 2, 2));
        let again = migrate(&mut conn, STEPS).unwrap();
        assert_eq!((again.from, again.to), (2, 2));
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the step ran once");
    }

    #[test]
    fn a_failure_leaves_the_version_it_had_and_a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        let broken: &[Migration<&'static str>] = &[
            Migration::sql("0001_t", "CREATE TABLE t (x INTEGER);"),
            Migration::sql("0002_bad", "ALTER TABLE missing ADD COLUMN y;"),
        ];
        match migrate(&mut conn, broken) {
            Err(MigrateError::Sql { version: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(version(&conn), 0, "nothing of the failed run stayed");
        migrate(&mut conn, STEPS).unwrap();
        match migrate(&mut conn, &STEPS[..1]) {
            Err(MigrateError::TooNew { found: 2, known: 1 }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_second_process_finds_the_work_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut a = Connection::open(&path).unwrap();
        let mut b = Connection::open(&path).unwrap();
        b.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        // `a` holds the write lock while `b` starts: `b` waits, then reads
        // the version `a` committed and applies nothing.
        let tx = a
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let waiting = std::thread::spawn(move || {
            let m = migrate(&mut b, STEPS).unwrap();
            (m.from, m.to)
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(tx);
        migrate(&mut a, STEPS).unwrap();
        let (from, to) = waiting.join().unwrap();
        let rows: i64 = a
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the backfill ran once ({from}->{to})");
    }
}
