//! Store operations (issue 18): `backup --to FILE`, a consistent online
//! backup of the SQLite store while `serve` runs, and `store copy --from
//! sqlite:DIR --to postgres://...`, a partnership's data moved into
//! PostgreSQL with every record re-verified ([`crate::store::copy`]).
//!
//! Why the backup is consistent while `serve` keeps writing: it holds one
//! read transaction on the source for its whole run, so every step copies
//! pages of the same snapshot (WAL: readers never block the writer, and the
//! writer never changes what an open reader sees); the pages go in steps of
//! [`BACKUP_STEP_PAGES`] with a pause between, so it does not hog the disk.
//! The snapshot holds every batch committed (and so acknowledged) before
//! the backup began.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use rusqlite::{Connection, OpenFlags};

use super::{CliError, Context, out};
use crate::store::StoreError;
use crate::store::copy::{self, CopyError};
use crate::store::sqlite::db_path;
use crate::tenancy::Partnership;

/// Pages copied per backup step (4 KiB pages: 1 MiB a step).
pub const BACKUP_STEP_PAGES: i32 = 256;

/// The pause between two backup steps.
const BACKUP_PAUSE: Duration = Duration::from_millis(5);

/// `store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every table of a SQLite data directory into the partnership's
    /// empty schema in PostgreSQL (`--partnership`, default `default`), in
    /// one transaction, re-verifying every record's signature and chain
    /// on the way; nothing is copied if one fails.
    Copy {
        /// The SQLite data directory: sqlite:DIR.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database: postgres://USER@HOST/DB (TLS with
        /// --database-ca).
        #[arg(long)]
        to: String,
    },
}

/// `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to create (refused if it exists; created 0600).
    #[arg(long)]
    pub to: PathBuf,
}

/// Why `backup` or `store copy` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// `backup` with `--database`.
    #[error(
        "backup copies the SQLite store; a PostgreSQL database is backed up with pg_dump or pg_basebackup and its WAL archive (docs/operations.md)"
    )]
    NotSqlite,
    /// The backup file exists.
    #[error("{0} exists; backup never overwrites a file: give a new name")]
    Exists(PathBuf),
    /// The backup file cannot be created or written.
    #[error("cannot write the backup {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No store in the data directory.
    #[error("{0} holds no Hearth store (no hearth.db)")]
    NoStore(PathBuf),
    /// The backup's SQLite calls.
    #[error("backup failed: {0}; the partial file {1} was removed")]
    Backup(rusqlite::Error, PathBuf),
    /// `--from` is not `sqlite:DIR`.
    #[error("--from {0}: give the SQLite data directory as sqlite:DIR")]
    From(String),
    /// `--to` is not a PostgreSQL URL.
    #[error("--to {0}: give the PostgreSQL database as postgres://USER@HOST/DB")]
    To(String),
    /// The copy.
    #[error(transparent)]
    Copy(#[from] CopyError),
}

impl From<OpsError> for CliError {
    fn from(e: OpsError) -> Self {
        CliError::Ops(Box::new(e))
    }
}

/// `backup --to FILE`.
pub fn backup(ctx: &Context, to: &Path) -> Result<(), CliError> {
    if ctx.store.database.is_some() {
        return Err(OpsError::NotSqlite.into());
    }
    let pages = backup_sqlite(&ctx.store.data, to)?;
    out(format_args!(
        "backed up {pages} pages to {}\n",
        to.display()
    ))
}

/// Backs up the store in `data` to a new file `to` (mode 0600); the
/// number of pages copied.
pub fn backup_sqlite(data: &Path, to: &Path) -> Result<i32, OpsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let source = db_path(data);
    if !source.is_file() {
        return Err(OpsError::NoStore(data.to_path_buf()));
    }
    // Opened before the target is made, so a failure leaves no file.
    let src = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| OpsError::Backup(e, to.to_path_buf()))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|source| match source.kind() {
            ErrorKind::AlreadyExists => OpsError::Exists(to.to_path_buf()),
            _ => OpsError::Write {
                path: to.to_path_buf(),
                source,
            },
        })?;
    let result = copy_pages(&src, to);
    if result.is_err() {
        let _ = std::fs::remove_file(to);
    }
    result.map_err(|e| OpsError::Backup(e, to.to_path_buf()))
}

/// The backup proper: one read transaction on `src` (the snapshot), the
/// pages in steps.
fn copy_pages(src: &Connection, to: &Path) -> rusqlite::Result<i32> {
    use rusqlite::backup::{Backup, StepResult};
    src.busy_timeout(Duration::from_secs(30))?;
    let mut dst = Connection::open(to)?;
    // The snapshot starts at the first read, here, and lasts until the end.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    let pages = {
        let backup = Backup::new(src, &mut dst)?;
        loop {
            match backup.step(BACKUP_STEP_PAGES)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(BACKUP_PAUSE)
                }
                _ => std::thread::sleep(BACKUP_PAUSE),
            }
        }
        backup.progress().pagecount
    };
    src.execute_batch("COMMIT")?;
    // The copy is a complete database of its own, checked before it is
    // called a backup.
    let ok: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("the copy fails its check: {ok}")),
        ));
    }
    dst.close().map_err(|(_, e)| e)?;
    Ok(pages)
}

/// `store copy`.
pub fn run(ctx: &Context, action: StoreCommand) -> Result<(), CliError> {
    match action {
        StoreCommand::Copy { from, to } => store_copy(ctx, &from, &to),
    }
}

fn store_copy(ctx: &Context, from: &str, to: &str) -> Result<(), CliError> {
    let dir = from
        .strip_prefix("sqlite:")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| OpsError::From(from.to_string()))?;
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(OpsError::To(to.to_string()).into());
    }
    let dir = Path::new(dir);
    if !db_path(dir).is_file() {
        return Err(OpsError::NoStore(dir.to_path_buf()).into());
    }
    crate::datadir::prepare(dir)?;
    // Migrated to this build's schema, as every command does.
    drop(crate::store::sqlite::SqliteStore::open(dir)?);
    let mut src = Connection::open_with_flags(db_path(dir), OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(StoreError::from)?;
    src.busy_timeout(Duration::from_secs(30))
        .map_err(StoreError::from)?;
    let mut dst = connect_target(to, ctx.store.database_ca.as_deref(), &ctx.store.partnership)?;
    let report = copy::copy(&mut src, &mut dst).map_err(OpsError::from)?;
    for (table, rows) in &report.tables {
        out(format_args!("copied {rows} rows of {table}\n"))?;
    }
    out(format_args!("verified {} signatures\n", report.verified))
}

/// One connection to the target database, its partnership's schema
/// created and migrated, and `search_path` set to that schema alone (as
/// every pooled connection is). TLS when `ca` is given.
fn connect_target(
    url: &str,
    ca: Option<&Path>,
    partnership: &Partnership,
) -> Result<::postgres::Client, CliError> {
    let mut client = crate::store::postgres::pool::client(url, ca, partnership)?;
    crate::store::postgres::migrations::migrate(&mut client, partnership)?;
    Ok(client)
}

#[cfg(test)]
mod tests;
