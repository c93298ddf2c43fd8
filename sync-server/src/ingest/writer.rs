//! The single writer thread: [`Writer`] owns the ingest connection and
//! commits batches.
//!
//! Why one thread: SQLite allows one writer at a time, and a durable
//! commit (`synchronous=FULL`) costs an fsync. The writer takes every batch
//! already waiting (up to [`MAX_GROUP`]) and commits them in one
//! transaction, so concurrent devices share the fsync. Each caller gets its
//! own outcome only after that commit returns; the async workers never
//! touch SQLite.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc;

use hearth_shared::Timestamp;
use tokio::sync::oneshot;

use super::{BatchJob, IngestOutcome, apply_batch};
use crate::clock::Clock;
use crate::store::{Store, StoreError};

/// The most batches committed together.
pub const MAX_GROUP: usize = 32;

/// A batch's outcome with its commit time, or the store's error.
pub type Committed = Result<(IngestOutcome, Timestamp), Arc<StoreError>>;

struct Job {
    batch: BatchJob,
    reply: oneshot::Sender<Committed>,
}

/// A fault to inject, for the crash tests only.
///
/// The faults exist only with the cargo feature `test-hooks`, which only
/// the tests turn on: a release server holds neither the code nor the
/// `HEARTH_FAULT` name, so no environment can make it abort mid-commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// None.
    #[default]
    None,
    /// Abort the process after deciding a batch but before committing it.
    #[cfg(feature = "test-hooks")]
    AbortBeforeCommit,
}

impl Fault {
    /// The fault `HEARTH_FAULT` names (`abort-before-commit`), with the
    /// `test-hooks` feature; without it, [`Fault::None`] and nothing read.
    pub fn from_env() -> Self {
        #[cfg(feature = "test-hooks")]
        if std::env::var("HEARTH_FAULT").as_deref() == Ok("abort-before-commit") {
            return Self::AbortBeforeCommit;
        }
        Self::None
    }

    /// Injects the fault, if it is this point's: called with a group's
    /// outcomes decided and its transaction not yet committed.
    fn before_commit(self) {
        #[cfg(feature = "test-hooks")]
        if self == Self::AbortBeforeCommit {
            tracing::error!("fault injection: aborting before commit");
            std::process::abort();
        }
    }
}

/// How many times a group is run again after a transient failure
/// ([`StoreError::is_transient`]: PostgreSQL's serialisation failures,
/// deadlocks, and another instance storing a record first).
pub const RETRIES: usize = 3;

/// Decides and commits `batches` in one transaction, running the whole
/// group again (from the same batches) up to [`RETRIES`] times if it
/// failed transiently; never after any other error.
///
/// A bug that panics inside one group must not kill the writer (every
/// later sync would fail while /v1/health still said ok). The transaction
/// is dropped during the unwind, so nothing of the group commits; its
/// callers get an error, send again, and the writer goes on.
fn commit_group<S: Store>(
    store: &mut S,
    batches: &[BatchJob],
    fault: Fault,
) -> Result<Vec<IngestOutcome>, StoreError> {
    retry_transient(batches.len(), || {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            store.ingest(|tx| {
                let outcomes = batches
                    .iter()
                    .map(|b| apply_batch(tx, b.clone()))
                    .collect::<Result<Vec<_>, _>>()?;
                hearth_shared::kill_point::reach("ingest.before-commit");
                fault.before_commit();
                Ok(outcomes)
            })
        }))
        .unwrap_or(Err(StoreError::IngestPanicked))
    })
}

/// Runs `attempt` once, and again after each transient failure, up to
/// [`RETRIES`] more times; logs each retry (`batches`: how many batches
/// the transaction held).
pub(crate) fn retry_transient<T>(
    batches: usize,
    mut attempt: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut retries = 0;
    loop {
        match attempt() {
            Err(e) if e.is_transient() && retries < RETRIES => {
                retries += 1;
                tracing::warn!(error = %e, retry = retries, batches, "ingest transaction failed transiently; running it again");
            }
            other => return other,
        }
    }
}

/// A handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread over `store`; `after_commit` runs on the
    /// writer thread after each successful commit (the server uses it to
    /// wake its checkpoint thread).
    pub fn start<S: Store + Send + 'static>(
        mut store: S,
        clock: Arc<dyn Clock>,
        fault: Fault,
        after_commit: impl Fn() + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hearth-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(j) => group.push(j),
                            Err(_) => break,
                        }
                    }
                    // Two instances on one PostgreSQL database lock the
                    // devices' rows in the same order (store/postgres/tx.rs):
                    // sort by device id, each reply staying with its batch
                    // (a stable sort: one device's batches keep their order).
                    group.sort_by_key(|j| j.batch.device.0);
                    let (batches, replies): (Vec<_>, Vec<_>) =
                        group.into_iter().map(|j| (j.batch, j.reply)).unzip();
                    let result = commit_group(&mut store, &batches, fault);
                    let committed_at = clock.now();
                    match result {
                        Ok(outcomes) => {
                            hearth_shared::kill_point::reach("ingest.after-commit");
                            after_commit();
                            for (o, r) in outcomes.into_iter().zip(replies) {
                                let _ = r.send(Ok((o, committed_at)));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "ingest transaction failed; nothing committed");
                            let e = Arc::new(e);
                            for r in replies {
                                let _ = r.send(Err(e.clone()));
                            }
                        }
                    }
                }
            })
            .expect("spawning the writer thread");
        Self { tx }
    }

    /// Submits a batch and waits for its commit.
    pub async fn submit(&self, batch: BatchJob) -> Option<Committed> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Job { batch, reply }).ok()?;
        rx.await.ok()
    }
}
