//! The PostgreSQL migration runner: the numbered files in `migrations/`,
//! applied in order inside the partnership's schema, tracked in its
//! `schema_version` table (one row per migration applied), in one
//! transaction that first takes a transaction-level advisory lock keyed
//! by the schema, so that two instances starting together migrate once:
//! the second waits for the first to commit, then finds nothing to do.
//! A database written by a newer build is refused ([`StoreError::TooNew`]).

use ::postgres::Client;

use crate::store::StoreError;
use crate::tenancy::Partnership;

/// The migrations, in order: (version, SQL).
pub const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/0001_init.sql"))];

/// The first key of the advisory lock (the second is the schema's hash).
const LOCK_CLASS: i32 = 1212;

/// Creates the partnership's schema if need be and applies every migration
/// it lacks.
pub fn migrate(c: &mut Client, partnership: &Partnership) -> Result<(), StoreError> {
    migrate_with(c, partnership, MIGRATIONS)
}

/// [`migrate`] with the list of migrations given (tests add one).
pub(super) fn migrate_with(
    c: &mut Client,
    partnership: &Partnership,
    migrations: &[(i64, &str)],
) -> Result<(), StoreError> {
    let schema = partnership.schema();
    let mut tx = c.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &schema],
    )?;
    // The schema is created only if missing (creating needs the right to
    // create schemas in the database; an administrator may instead have
    // made it for the partnership's role), and must belong to the role
    // this server connects as: a schema another partnership's role made
    // first (squatting on the name) is refused, never written to.
    let owner: Option<(String, String)> = tx
        .query_opt(
            "SELECT pg_get_userbyid(nspowner)::text, current_user::text FROM pg_namespace WHERE nspname = $1",
            &[&schema],
        )?
        .map(|r| (r.get(0), r.get(1)));
    match owner {
        None => tx.batch_execute(&format!("CREATE SCHEMA {schema}"))?,
        Some((owner, me)) if owner != me => {
            return Err(StoreError::Config(format!(
                "--partnership {partnership}: the schema {schema} belongs to the role {owner}, not to {me}, the role this server connects as; a partnership's schema must belong to its own role (docs/operations.md)"
            )));
        }
        Some(_) => {}
    }
    // The schema name was checked (`Partnership::new`): safe unquoted.
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO {schema};
         CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         );"
    ))?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
        .get(0);
    let known = migrations.last().map_or(0, |(v, _)| *v);
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (version, sql) in migrations.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at)
             VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT)",
            &[version],
        )?;
    }
    tx.commit()?;
    if found != known {
        tracing::info!(%schema, from = found, to = known, "database migrated");
    }
    Ok(())
}
