//! The store's schema: the numbered migrations in `store/migrations/`,
//! compiled in, and what refuses a store this program cannot open.
//!
//! The version is kept in `PRAGMA user_version`: the number of migrations
//! applied, so `MIGRATIONS[i]` takes a store from version `i` to `i + 1`.

use hearth_shared::migrate::{self, MigrateError, Migration};
use rusqlite::Connection;

use crate::store::StoreError;

/// The migrations, in order; the version after applying `MIGRATIONS[i]` is
/// `i + 1`.
pub(super) const MIGRATIONS: &[Migration<StoreError>] = &[
    Migration::sql("0001_init", include_str!("../migrations/0001_init.sql")),
    Migration::sql(
        "0002_encryption_at_rest",
        include_str!("../migrations/0002_encryption_at_rest.sql"),
    ),
    Migration::sql(
        "0003_pending_without_a_row",
        include_str!("../migrations/0003_pending_without_a_row.sql"),
    ),
    Migration::sql(
        "0004_no_child_index_by_seq",
        include_str!("../migrations/0004_no_child_index_by_seq.sql"),
    ),
    Migration::sql(
        "0005_child_tags_in_the_record_row",
        include_str!("../migrations/0005_child_tags_in_the_record_row.sql"),
    ),
    Migration::sql("0006_drafts", include_str!("../migrations/0006_drafts.sql")),
    Migration::sql("0007_outbox", include_str!("../migrations/0007_outbox.sql")),
    Migration::sql(
        "0008_caseload",
        include_str!("../migrations/0008_caseload.sql"),
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

/// Applies the migrations the store lacks with the shared runner
/// ([`hearth_shared::migrate`]: one immediate transaction, the version
/// read inside it, so two commands opening an old store at once apply
/// each migration once); refuses a store newer than this program.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let done = migrate::migrate(conn, MIGRATIONS).map_err(|e| match e {
        MigrateError::TooNew { found, known } => StoreError::TooNew {
            found,
            supported: known,
        },
        MigrateError::Sql { version, source } => StoreError::Migration { version, source },
        MigrateError::Step { source, .. } => source,
    })?;
    if done.from != done.to {
        let applied: Vec<&str> = MIGRATIONS[done.from as usize..]
            .iter()
            .map(|m| m.name)
            .collect();
        tracing::info!(from = done.from, to = done.to, migrations = ?applied, "store migrated");
    }
    Ok(())
}
