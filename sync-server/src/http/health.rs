//! `GET /v1/health`: whether this instance can reach its database, for a
//! load balancer's health check (docs/operations.md).
//!
//! 200 `ok` when [`Store::ping`] answers within [`PING_TIMEOUT`]; 503
//! `database unavailable` otherwise, with the cause logged at `warn`. A
//! database that has gone away rarely fails fast: a pooled connection
//! waits for a new one to open (up to the pool's connection timeout, 30 s
//! on SQLite), so the check gives up on its own bound and answers before
//! the load balancer's own timeout would. The ping runs in
//! `spawn_blocking`, never on an async worker; one that outlives the
//! bound finishes there in the background.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::backend::Backend;
use crate::store::Store;

/// How long the check waits for the database: under the 5 s that load
/// balancers commonly allow a check, far over a healthy `SELECT 1`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// The body of a failed check.
pub const UNAVAILABLE: &str = "database unavailable";

/// The route's handler.
pub async fn health<S: Backend>(State(st): State<AppState<S>>) -> (StatusCode, &'static str) {
    check(st.reads.clone(), PING_TIMEOUT).await
}

/// Pings `store` on a blocking thread, waiting at most `timeout`: 200
/// `ok`, or 503 [`UNAVAILABLE`] (logged with the cause).
pub async fn check<S: Store + Send + Sync + 'static>(
    store: Arc<S>,
    timeout: Duration,
) -> (StatusCode, &'static str) {
    let ping = tokio::task::spawn_blocking(move || store.ping());
    let failure = match tokio::time::timeout(timeout, ping).await {
        Ok(Ok(Ok(()))) => return (StatusCode::OK, "ok"),
        Ok(Ok(Err(e))) => e.to_string(),
        Ok(Err(e)) => format!("the ping failed: {e}"),
        Err(_) => format!("no answer within {} ms", timeout.as_millis()),
    };
    tracing::warn!(error = %failure, "health check: database unavailable");
    (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    const QUICK: Duration = Duration::from_millis(300);

    /// Runs one check on a runtime of its own, which is then left without
    /// waiting for a ping still blocked in the pool (as the server leaves
    /// it, finishing in the background).
    fn run_check(store: SqliteStore) -> ((StatusCode, &'static str), Duration) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let answer = rt.block_on(check(Arc::new(store), QUICK));
        let took = started.elapsed();
        rt.shutdown_background();
        (answer, took)
    }

    #[test]
    fn a_store_that_answers_is_ok() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path()).unwrap();
        let (answer, _) = run_check(SqliteStore::connect(dir.path()).unwrap());
        assert_eq!(answer, (StatusCode::OK, "ok"));
    }

    #[test]
    fn a_database_gone_is_unavailable_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path()).unwrap();
        let store = SqliteStore::connect(dir.path()).unwrap();
        // The data directory goes (a lost volume): no connection can be
        // opened, and the pool keeps trying for far longer than a check.
        drop(dir);
        let (answer, took) = run_check(store);
        assert_eq!(answer, (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE));
        assert!(took < QUICK * 3, "{took:?}");
    }
}
