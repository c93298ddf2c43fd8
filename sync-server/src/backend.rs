//! [`Backend`]: how the server opens a [`Store`] at a [`Location`] (the
//! data directory, and the PostgreSQL database and partnership if one is
//! given), the one thing the HTTP layer and the CLI need beyond the trait
//! itself.
//!
//! Everything above the store ([`crate::http`], [`crate::cli`],
//! [`crate::admin`], [`crate::ingest::writer`]) is generic over
//! `S: Backend`; the binary runs [`crate::store::any::AnyStore`], which
//! picks SQLite or PostgreSQL from the location. The tests also run the
//! generic code over [`SqliteStore`] directly.

use std::path::{Path, PathBuf};

use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use crate::tenancy::Partnership;

/// Where a store is: what `--data`, `--database`, `--database-ca` and
/// `--partnership` say.
#[derive(Debug, Clone)]
pub struct Location {
    /// The data directory: the SQLite database (when no `database` is
    /// given), and always the keys, the certificate and `signals.toml`.
    pub data: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host/db`); `None` for SQLite.
    pub database: Option<String>,
    /// The PEM file of the CA that signed the database server's
    /// certificate; with it, the connection must use TLS.
    pub database_ca: Option<PathBuf>,
    /// The partnership served.
    pub partnership: Partnership,
}

impl Location {
    /// SQLite in `data`, the default partnership.
    pub fn sqlite(data: &Path) -> Self {
        Self {
            data: data.to_path_buf(),
            database: None,
            database_ca: None,
            partnership: Partnership::default_one(),
        }
    }
}

/// A store the server can run on.
pub trait Backend: Store + Send + Sized + 'static {
    /// Opens the store, creating and migrating it if need be: the
    /// connection a CLI command uses, and the ingest writer's.
    fn open(at: &Location) -> Result<Self, StoreError>;

    /// The store request handlers read through, opened on a store already
    /// opened and migrated: one value shared by every handler (in
    /// [`crate::http::AppState`]), which pools its own connections.
    fn connect(at: &Location) -> Result<Self, StoreError>;

    /// Starts what the backend runs beside the writer while serving, and
    /// returns what the writer calls after each commit.
    fn maintain(&mut self, at: &Location) -> Result<Box<dyn Fn() + Send>, StoreError>;
}

impl SqliteStore {
    /// [`SqliteStore::open`] at a location, refusing what SQLite cannot
    /// be: a data directory holds one partnership.
    pub fn open_at(at: &Location) -> Result<Self, StoreError> {
        only_default(at)?;
        SqliteStore::open(&at.data)
    }
}

fn only_default(at: &Location) -> Result<(), StoreError> {
    if at.partnership.is_default() {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "--partnership {}: a SQLite data directory holds one partnership; give --database postgres://... to host several",
            at.partnership
        )))
    }
}

impl Backend for SqliteStore {
    fn open(at: &Location) -> Result<Self, StoreError> {
        SqliteStore::open_at(at)
    }

    fn connect(at: &Location) -> Result<Self, StoreError> {
        only_default(at)?;
        SqliteStore::connect(&at.data)
    }

    /// WAL checkpoints on a thread of their own, nudged after each commit.
    fn maintain(&mut self, at: &Location) -> Result<Box<dyn Fn() + Send>, StoreError> {
        let checkpointer = self.checkpoint_in_background(&at.data)?;
        Ok(Box::new(move || checkpointer.nudge()))
    }
}
