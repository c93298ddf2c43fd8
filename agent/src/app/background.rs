//! Sync while the app runs and is unlocked: when it unlocks, soon after
//! each capture ([`super::AppState::sync_soon`]), and every few minutes,
//! backing off after failures ([`next_delay`]: 30 s doubling to 15 min).
//!
//! Each run is the `sync` command's own [`crate::commands::sync_store`],
//! on the blocking pool, over a second connection to the store
//! ([`super::AppState::second_connection`]): the network never holds the
//! app's connection, and SQLite (WAL, a busy timeout) lets a capture commit
//! while a batch is in flight; sync's own transactions are one per batch,
//! after the server's answer. A revocation signed by the enrolled server
//! destroys the data key exactly as `sync` does, and the app locks.
//!
//! [`Status`] is what the indicator in the page header shows.

use std::sync::Mutex;
use std::time::Duration;

use hearth_shared::Timestamp;
use tokio::sync::Notify;

use super::{AppState, localtime};
use crate::commands::{CommandError, EXIT_UNREACHABLE, sync_store};

/// How often to sync when all is well.
pub const INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The first wait after a failure; it doubles with each further one.
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
/// The longest wait between tries.
pub const MAX_RETRY: Duration = Duration::from_secs(15 * 60);

/// The wait before the next run after `failures` failures in a row.
pub fn next_delay(failures: u32) -> Duration {
    if failures == 0 {
        return INTERVAL;
    }
    let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
    FIRST_RETRY.saturating_mul(factor).min(MAX_RETRY)
}

/// Where background sync stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No run yet since the app started.
    NotYet,
    /// Sending; this many records still to go.
    Sending(usize),
    /// The last run succeeded at this time.
    Synced(Timestamp),
    /// The server could not be reached; will retry.
    Offline,
    /// The device is not enrolled: nothing to sync to.
    NotEnrolled,
    /// The last run failed for another reason (the message); will retry.
    Failed(String),
    /// The server revoked this device (the message).
    Revoked(String),
}

impl Status {
    /// The indicator's text.
    pub fn text(&self) -> String {
        match self {
            Self::NotYet => "Not synced yet".into(),
            Self::Sending(n) => format!("Sending {n}…"),
            Self::Synced(t) => format!("Synced {}", localtime::clock_time(*t)),
            Self::Offline => "Offline — will retry".into(),
            Self::NotEnrolled => "Not connected to a server".into(),
            Self::Failed(_) => "Sync failed — will retry".into(),
            Self::Revoked(_) => "This tablet has been revoked".into(),
        }
    }
}

/// The background sync's shared half: the wake-up and the status.
pub(crate) struct Syncer {
    wake: Notify,
    status: Mutex<Status>,
}

impl Syncer {
    pub(crate) fn new() -> Self {
        Self {
            wake: Notify::new(),
            status: Mutex::new(Status::NotYet),
        }
    }

    /// Asks for a run now (or right after the one in progress).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set(&self, status: Status) {
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }
}

/// The status a finished run leaves, and whether it counts as a failure.
fn judge(state: &AppState, result: Result<usize, CommandError>) -> (Status, bool) {
    match result {
        Ok(0) => (Status::Synced(state.clock().now()), false),
        Ok(unconfirmed) => (
            Status::Failed(format!(
                "{unconfirmed} record(s) sent but not confirmed by a receipt; they stay pending"
            )),
            true,
        ),
        Err(CommandError::NotEnrolled) => (Status::NotEnrolled, false),
        Err(e @ CommandError::Revoked { .. }) => (Status::Revoked(e.to_string()), false),
        Err(e) if e.exit_code() == EXIT_UNREACHABLE => (Status::Offline, true),
        Err(e) => (Status::Failed(e.to_string()), true),
    }
}

/// One run: sync on a second connection on the blocking pool. Returns
/// how many sent records stayed unconfirmed.
async fn run_once(state: &AppState) -> Option<Result<usize, CommandError>> {
    let task = state.clone();
    tokio::task::spawn_blocking(move || {
        let (mut store, key) = match task.second_connection()? {
            Ok(opened) => opened,
            Err(e) => return Some(Err(e.into())),
        };
        let syncer = &task.inner.sync;
        let pending = crate::store::RecordStore::pending_seqs(&store).map(|p| p.len());
        if let Ok(n @ 1..) = pending {
            syncer.set(Status::Sending(n));
        }
        let report = sync_store(
            task.store_dir(),
            task.clock(),
            &mut store,
            &key,
            &mut |done, total| {
                syncer.set(Status::Sending(total.saturating_sub(done)));
            },
        );
        Some(report.map(|r| r.unconfirmed.len()))
    })
    .await
    .unwrap_or_else(|e| {
        Some(Err(CommandError::Output(std::io::Error::other(
            e.to_string(),
        ))))
    })
}

/// The loop: wait for a wake-up or the delay, run if unlocked, judge.
pub async fn run(state: AppState) {
    let mut failures = 0u32;
    loop {
        let delay = next_delay(failures);
        tokio::select! {
            () = state.inner.sync.wake.notified() => {}
            () = tokio::time::sleep(delay) => {}
        }
        let Some(result) = run_once(&state).await else {
            continue; // locked: nothing to do until the next unlock
        };
        let (status, failed) = judge(&state, result);
        if let Status::Revoked(message) = &status {
            tracing::warn!(%message, "device revoked: locking the app");
            state.lock();
        }
        failures = if failed {
            failures.saturating_add(1)
        } else {
            0
        };
        tracing::info!(?status, failures, "background sync");
        state.inner.sync.set(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_30_seconds_to_15_minutes() {
        assert_eq!(next_delay(0), INTERVAL);
        assert_eq!(next_delay(1), Duration::from_secs(30));
        assert_eq!(next_delay(2), Duration::from_secs(60));
        assert_eq!(next_delay(5), Duration::from_secs(480));
        assert_eq!(next_delay(6), MAX_RETRY);
        assert_eq!(next_delay(40), MAX_RETRY);
        assert_eq!(next_delay(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn the_indicator_says_what_is_happening() {
        assert_eq!(Status::Sending(3).text(), "Sending 3…");
        assert_eq!(Status::Offline.text(), "Offline — will retry");
        assert!(
            Status::Synced(Timestamp(1_800_000_000))
                .text()
                .starts_with("Synced ")
        );
    }
}
