//! The store's schema: the numbered migrations in `store/migrations/`,
//! compiled in, and what refuses a store this program cannot open.
//!
//! The version is kept in `PRAGMA user_version`: the number of migrations
//! applied, so `MIGRATIONS[i]` takes a store from version `i` to `i + 1`.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use rusqlite_migration::{HookError, M, Migrations};

use crate::store::StoreError;

/// The migrations, in order; the version after applying `MIGRATIONS[i]` is
/// `i + 1`.
pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    (
        "0002_encryption_at_rest",
        include_str!("../migrations/0002_encryption_at_rest.sql"),
    ),
    (
        "0003_pending_without_a_row",
        include_str!("../migrations/0003_pending_without_a_row.sql"),
    ),
    (
        "0004_no_child_index_by_seq",
        include_str!("../migrations/0004_no_child_index_by_seq.sql"),
    ),
    (
        "0005_child_tags_in_the_record_row",
        include_str!("../migrations/0005_child_tags_in_the_record_row.sql"),
    ),
];

/// The version of a store with every migration applied.
pub(super) const LATEST: u32 = MIGRATIONS.len() as u32;

/// The store's schema version.
pub(super) fn version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// A version-1 store with records holds them in plaintext; migration 0002
/// would drop them, and encrypting needs a passphrase the old store never
/// had. Refuse, with what to do.
pub(super) fn refuse_plaintext_records(conn: &Connection) -> Result<(), StoreError> {
    if version(conn)? != 1 {
        return Ok(());
    }
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?;
    if n > 0 {
        return Err(StoreError::Plaintext(n as u64));
    }
    Ok(())
}

/// Applies the migrations the store lacks, with [`rusqlite_migration`]
/// (which numbers `user_version` as this store always has: the count of
/// migrations applied), in one immediate transaction; refuses a store
/// newer than this program.
///
/// Two processes may open an old store at once. The write lock is taken
/// before the first migration runs (immediate), and the first pending
/// migration's hook checks, inside that transaction, that the store is
/// still at the version read before it; if another process migrated
/// meanwhile, nothing of ours commits and we start again from where it
/// left the store.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let from = version(conn)?;
        if from > LATEST {
            return Err(StoreError::TooNew {
                found: from,
                supported: LATEST,
            });
        }
        if from == LATEST {
            return Ok(());
        }
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        let result = migrations_from(from).to_latest(conn);
        conn.set_transaction_behavior(TransactionBehavior::Deferred);
        match result {
            Ok(()) => {
                let applied: Vec<&str> = MIGRATIONS[from as usize..].iter().map(|m| m.0).collect();
                tracing::info!(from, to = LATEST, migrations = ?applied, "store migrated");
                return Ok(());
            }
            Err(_) if version(conn)? != from => continue,
            Err(e) => return Err(migration_error(from, e)),
        }
    }
}

/// The migrations for a store at version `from`: the first pending one
/// refuses to commit if the store has moved on since `from` was read.
fn migrations_from(from: u32) -> Migrations<'static> {
    let ms = MIGRATIONS.iter().enumerate().map(|(i, (_, sql))| {
        if i == from as usize {
            M::up_with_hook(sql, move |tx: &Transaction<'_>| {
                let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if now == from {
                    Ok(())
                } else {
                    Err(HookError::Hook(format!(
                        "another process migrated the store from version {from} to {now}"
                    )))
                }
            })
        } else {
            M::up(sql)
        }
    });
    Migrations::new(ms.collect())
}

/// A failed migration as a [`StoreError`] naming the migration that
/// failed (the runner names it by its SQL).
fn migration_error(from: u32, e: rusqlite_migration::Error) -> StoreError {
    match e {
        rusqlite_migration::Error::RusqliteError { query, err } => {
            let version = MIGRATIONS
                .iter()
                .position(|(_, sql)| *sql == query)
                .map_or(from + 1, |i| i as u32 + 1);
            StoreError::Migration {
                version,
                source: err,
            }
        }
        other => StoreError::Corrupt(format!(
            "upgrading the local store from version {from} failed: {other}"
        )),
    }
}
