//! The store's schema: the numbered migrations in `store/migrations/`,
//! compiled in, and what refuses a store this program cannot open.
//!
//! The version is kept in `PRAGMA user_version`: the number of migrations
//! applied, so `MIGRATIONS[i]` takes a store from version `i` to `i + 1`.

use rusqlite::{Connection, TransactionBehavior};

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

/// Applies the migrations the store lacks; refuses a store newer than
/// this program.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let wrap = |source| StoreError::Migration { version, source };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap)?;
        // Another process may have migrated while we waited for the lock.
        let now: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(wrap)?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(wrap)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        tracing::info!(migration = name, version, "store migrated");
    }
    Ok(())
}
