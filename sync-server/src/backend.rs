//! [`Backend`]: how the server opens a [`Store`] in a data directory, the
//! one thing the HTTP layer and the CLI need beyond the trait itself.
//!
//! Everything above the store ([`crate::http`], [`crate::cli`],
//! [`crate::admin`], [`crate::ingest::writer`]) is generic over
//! `S: Backend`; the binary picks the backend (`main.rs` names
//! [`SqliteStore`], and the impl below is the only other place that does).
//! A second backend (PostgreSQL) implements `Store` and `Backend` in its own
//! module and needs no change elsewhere.

use std::path::Path;

use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};

/// A store the server can run on.
pub trait Backend: Store + Send + Sized + 'static {
    /// Opens the store in `data`, creating and migrating it if need be:
    /// the connection a CLI command uses, and the ingest writer's.
    fn open(data: &Path) -> Result<Self, StoreError>;

    /// The store request handlers read through, opened on a store already
    /// opened and migrated: one value shared by every handler (in
    /// [`crate::http::AppState`]), which pools its own connections.
    fn connect(data: &Path) -> Result<Self, StoreError>;

    /// Starts what the backend runs beside the writer while serving, and
    /// returns what the writer calls after each commit.
    fn maintain(&mut self, data: &Path) -> Result<Box<dyn Fn() + Send>, StoreError>;
}

impl Backend for SqliteStore {
    fn open(data: &Path) -> Result<Self, StoreError> {
        SqliteStore::open(data)
    }

    fn connect(data: &Path) -> Result<Self, StoreError> {
        SqliteStore::connect(data)
    }

    /// WAL checkpoints on a thread of their own, nudged after each commit.
    fn maintain(&mut self, data: &Path) -> Result<Box<dyn Fn() + Send>, StoreError> {
        let checkpointer = self.checkpoint_in_background(data)?;
        Ok(Box::new(move || checkpointer.nudge()))
    }
}
