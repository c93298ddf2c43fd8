//! Migrations: the numbered `.sql` files in `migrations/`, applied in
//! order by the shared runner ([`hearth_shared::migrate`], the agent's
//! too) and tracked in `PRAGMA user_version` (the number of migrations
//! applied: list order is the version), each with the Rust step, if any,
//! that runs after its SQL in the same transaction (0004 fills the
//! chronology lines of rows stored before it; 0005 the digests of rows
//! held before 0002; 0009 the flags of every row, and every child's
//! signals marked stale).

use hearth_shared::migrate::{MigrateError, Migration};
use hearth_shared::signed::{SIGNATURE_LEN, decode_stored_envelope};
use rusqlite::{Connection, Transaction, params};
use sha2::{Digest, Sha256};

use super::rows::Columns;
use crate::line::Line;
use crate::store::StoreError;

/// The numbered migrations, in order, each with the step (if any) that
/// must follow its SQL.
pub(super) const MIGRATIONS: &[Migration<StoreError>] = &[
    Migration::sql("0001_init", include_str!("migrations/0001_init.sql")),
    Migration::sql(
        "0002_lookup_by_hash",
        include_str!("migrations/0002_lookup_by_hash.sql"),
    ),
    Migration::sql(
        "0003_access_log_children",
        include_str!("migrations/0003_access_log_children.sql"),
    ),
    Migration {
        name: "0004_compact_records",
        sql: include_str!("migrations/0004_compact_records.sql"),
        after: Some(backfill_lines),
    },
    Migration {
        name: "0005_identity_and_quarantine_budget",
        sql: include_str!("migrations/0005_identity_and_quarantine_budget.sql"),
        after: Some(backfill_digests),
    },
    Migration::sql(
        "0006_user_revocation",
        include_str!("migrations/0006_user_revocation.sql"),
    ),
    Migration::sql(
        "0007_family_unlinks",
        include_str!("migrations/0007_family_unlinks.sql"),
    ),
    Migration::sql(
        "0008_web_accounts",
        include_str!("migrations/0008_web_accounts.sql"),
    ),
    Migration {
        name: "0009_signals",
        sql: include_str!("migrations/0009_signals.sql"),
        after: Some(backfill_flags_and_mark_stale),
    },
    Migration::sql("0010_people", include_str!("migrations/0010_people.sql")),
];

/// Brings the database on `conn` up to the last of `migrations`, in one
/// immediate transaction; refuses a database written by a newer build.
pub(super) fn migrate(
    conn: &mut Connection,
    migrations: &[Migration<StoreError>],
) -> Result<(), StoreError> {
    let done = hearth_shared::migrate::migrate(conn, migrations).map_err(|e| match e {
        MigrateError::TooNew { found, known } => StoreError::TooNew {
            found: found.into(),
            known: known.into(),
        },
        MigrateError::Sql { source, .. } => StoreError::Sqlite(source),
        MigrateError::Step { source, .. } => source,
    })?;
    if done.from != done.to {
        tracing::info!(from = done.from, to = done.to, "database migrated");
    }
    Ok(())
}

/// After migration 0004: fills the chronology columns of the rows stored
/// before it, from their bytes (verified when they arrived).
fn backfill_lines(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT device, seq, bytes FROM records WHERE agency IS NULL")?;
    let mut write = tx.prepare(
        "UPDATE records SET agency = ?3, author = ?4, headline = ?5, children = ?6, detail_flags = ?7, amend_reason = ?8
         WHERE device = ?1 AND seq = ?2",
    )?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (device, seq, bytes): (Vec<u8>, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let line = line_of(&bytes)?;
        let c = Columns::of(&line);
        write.execute(params![
            device, seq, c.agency, c.author, c.headline, c.children, c.flags, c.reason,
        ])?;
    }
    Ok(())
}

/// The chronology line of a stored record, from its signed bytes
/// (verified when they arrived).
fn line_of(bytes: &[u8]) -> Result<Line, StoreError> {
    let env_len = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .ok_or(StoreError::Corrupt("a stored record"))?;
    let e = decode_stored_envelope(&bytes[..env_len])
        .map_err(|_| StoreError::Corrupt("a stored record"))?;
    Ok(Line::of(&e))
}

/// After migration 0009: recomputes the flags of every stored record
/// from its bytes (issue 16 added ten that the rules read), and marks
/// every child named by a record stale, so that its signals are computed
/// before they are first read.
fn backfill_flags_and_mark_stale(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT device, seq, bytes FROM records")?;
    let mut write =
        tx.prepare("UPDATE records SET detail_flags = ?3 WHERE device = ?1 AND seq = ?2")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (device, seq, bytes): (Vec<u8>, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let flags = line_of(&bytes)?.detail_flags.bits();
        write.execute(params![device, seq, flags])?;
    }
    tx.execute(
        "INSERT INTO signal_state (child, dirty) SELECT DISTINCT child, 1 FROM record_children WHERE true
         ON CONFLICT (child) DO UPDATE SET dirty = dirty + 1",
        [],
    )?;
    Ok(())
}

/// After migration 0005: gives the rows held before migration 0002 their
/// digest, so that a resend is found by its digest alone.
fn backfill_digests(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT id, bytes FROM quarantine WHERE digest IS NULL")?;
    let mut write = tx.prepare("UPDATE quarantine SET digest = ?2 WHERE id = ?1")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (id, bytes): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        write.execute(params![id, Sha256::digest(&bytes).as_slice()])?;
    }
    Ok(())
}
