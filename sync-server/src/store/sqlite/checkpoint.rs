//! WAL checkpointing off the writer: [`SqliteStore::checkpoint_in_background`]
//! and the [`Checkpointer`] that wakes its thread.

use std::path::Path;

use rusqlite::Connection;

use super::{SqliteStore, db_path};
use crate::store::StoreError;

/// How far (in pages) the WAL may grow before the writer checkpoints for
/// itself, when a background [`Checkpointer`] has fallen behind: 64 MiB.
pub const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// Wakes the background checkpoint thread (see
/// [`SqliteStore::checkpoint_in_background`]).
#[derive(Clone)]
pub struct Checkpointer {
    wake: std::sync::mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Asks for a checkpoint soon; never blocks (a wake-up already pending
    /// covers this one).
    pub fn nudge(&self) {
        let _ = self.wake.try_send(());
    }
}

impl SqliteStore {
    /// Moves WAL checkpointing off this connection (the ingest writer's)
    /// onto a thread of its own, and returns the handle that wakes it.
    ///
    /// Why: with SQLite's automatic checkpoint, the commit that takes the
    /// WAL past 1,000 pages also copies those pages into the database file,
    /// on the single writer thread: in the ingest profile that was 23 % of
    /// the writer's time. A checkpoint does not affect durability (a commit
    /// is durable once its WAL frames are synced), so another thread can do
    /// it while the writer goes on. If that thread falls far behind, this
    /// connection checkpoints for itself again once the WAL passes
    /// [`WRITER_CHECKPOINT_PAGES`], so the WAL stays bounded.
    pub fn checkpoint_in_background(&mut self, data: &Path) -> Result<Checkpointer, StoreError> {
        self.conn()?
            .pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(super::pool::LOCK_WAIT)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("hearth-ckpt".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    hearth_shared::kill_point::reach("checkpoint");
                    // PASSIVE: copies what it can without blocking the
                    // writer or readers; the next nudge does the rest.
                    if let Err(e) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "WAL checkpoint failed; the writer will checkpoint itself if the WAL keeps growing");
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                path: data.to_path_buf(),
                source,
            })?;
        Ok(Checkpointer { wake: tx })
    }
}
