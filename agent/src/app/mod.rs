//! The tablet app (`hearth-agent app`): touch forms served to the tablet's
//! own browser on loopback, over the same core as the command line.
//!
//! - [`AppState`]: what every request shares: the store directory, the
//!   unlocked store behind a mutex (dropped, key zeroized, on idle lock),
//!   the clock, the per-process session and CSRF secret.
//! - [`router`]: every route, wrapped in [`security`]'s layer (Host and
//!   Origin checks, session, CSRF, idle lock, strict headers).
//! - [`layout`]: the page shell every screen is drawn in; [`assets`]: the
//!   CSS and JS compiled into the binary, served under content-hashed URLs.
//! - [`forms`]: one form per record kind, drafts, the register, the body
//!   map and check-your-answers.
//!
//! Why axum and maud: axum is already the server's (one HTTP stack in the
//! workspace), and on a `current_thread` tokio runtime it costs one thread;
//! maud templates are checked at compile time and escape every value by
//! default, so a child's words cannot become markup.

pub mod assets;
pub mod background;
pub mod forms;
pub mod home;
pub mod layout;
pub mod localtime;
pub mod records;
pub mod security;
pub mod unlock;

#[cfg(test)]
pub(crate) mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::get;
use hearth_shared::Timestamp;
use hearth_shared::clock::Clock;

use crate::keys::DeviceKey;
use crate::seal::{DataKey, Sealer};
use crate::store::{DeviceSettings, LocalStore, StoreError};

/// The default idle time before the app locks itself.
pub const DEFAULT_IDLE_MINUTES: u32 = 10;

/// How the app was started.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The store directory.
    pub store_dir: PathBuf,
    /// The address actually bound (its port is in every allowed Host).
    pub addr: SocketAddr,
    /// Idle seconds after which the data key is dropped.
    pub idle_seconds: i64,
}

/// The store while the app is unlocked: dropped whole on lock, which
/// zeroizes the data key and the device key with it.
pub struct Unlocked {
    /// The open store (sealed with the data key).
    pub store: LocalStore,
    /// The device's signing key.
    pub key: DeviceKey,
    /// The data key, kept so background sync can open its own connection
    /// rather than hold this one across the network.
    pub data_key: DataKey,
    /// The device's settings (agency, worker).
    pub settings: DeviceSettings,
    /// The id of the one browser session that unlocked it.
    pub(crate) session: security::SessionId,
}

/// What every request shares. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: AppConfig,
    clock: Arc<dyn Clock>,
    secrets: security::Secrets,
    unlocked: Mutex<Option<Unlocked>>,
    last_activity: Mutex<Timestamp>,
    sync: background::Syncer,
}

impl AppState {
    /// A locked app over `config.store_dir` with a fresh per-process secret.
    pub fn new(config: AppConfig, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Self {
            inner: Arc::new(Inner {
                config,
                clock,
                secrets: security::Secrets::generate(),
                unlocked: Mutex::new(None),
                last_activity: Mutex::new(now),
                sync: background::Syncer::new(),
            }),
        }
    }

    /// The store directory.
    pub fn store_dir(&self) -> &Path {
        &self.inner.config.store_dir
    }

    /// How the app was started.
    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// The per-process secrets.
    pub(crate) fn secrets(&self) -> &security::Secrets {
        &self.inner.secrets
    }

    /// The unlocked state (None when locked). Hold the guard briefly: a
    /// capture or a page's read, never a network call.
    pub fn unlocked(&self) -> MutexGuard<'_, Option<Unlocked>> {
        // A panic while holding the lock leaves a store whose last
        // transaction rolled back: still consistent, so keep going.
        self.inner
            .unlocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the unlocked store; None when the app is locked.
    pub fn with_unlocked<R>(&self, f: impl FnOnce(&mut Unlocked) -> R) -> Option<R> {
        self.unlocked().as_mut().map(f)
    }

    /// Whether the app is unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.unlocked().is_some()
    }

    /// Drops the unlocked state: the data key and device key are zeroized.
    pub fn lock(&self) {
        let dropped = self.unlocked().take();
        if dropped.is_some() {
            tracing::info!("app locked");
        }
    }

    /// Asks the background sync to run now, or right after the run in
    /// progress: call it after each capture.
    pub fn sync_soon(&self) {
        self.inner.sync.wake();
    }

    /// Where background sync stands.
    pub fn sync_status(&self) -> background::Status {
        self.inner.sync.status()
    }

    /// The sync indicator's text.
    pub fn sync_text(&self) -> String {
        self.sync_status().text()
    }

    /// A second connection to the unlocked store, and the device key, for
    /// work that must not hold the app's connection (the network: sync,
    /// enrolment). None when locked. SQLite serialises the writes.
    pub fn second_connection(&self) -> Option<Result<(LocalStore, DeviceKey), StoreError>> {
        let (data_key, key) = self.with_unlocked(|u| {
            (
                DataKey::from_bytes(*u.data_key.as_bytes()),
                DeviceKey::from_signing_key(u.key.signing_key().clone()),
            )
        })?;
        Some(
            LocalStore::open_dir(self.store_dir())
                .map(|store| (store.unlocked(Sealer::new(&data_key)), key)),
        )
    }

    /// The held caseload's children as the forms offer them by name;
    /// empty when locked, with no caseload, or if it does not open (then
    /// the forms fall back to typed references, and the failure is logged).
    pub fn caseload_children(&self) -> Vec<crate::caseload::ChildChoice> {
        match self.with_unlocked(|u| u.store.caseload()) {
            Some(Ok(Some(caseload))) => crate::caseload::choices(&caseload),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the caseload could not be read");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Counts now as the worker's last activity (the idle lock's start).
    pub(crate) fn touch(&self) {
        *self.last_activity() = self.inner.clock.now();
    }

    fn last_activity(&self) -> MutexGuard<'_, Timestamp> {
        self.inner
            .last_activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The address to open in the browser.
pub fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// Serves the app on `listener` until Ctrl-C or SIGTERM, then locks.
pub async fn serve(listener: std::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let ticker = tokio::spawn(idle_ticker(state.clone()));
    let syncer = tokio::spawn(background::run(state.clone()));
    let result = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    ticker.abort();
    syncer.abort();
    state.lock();
    result
}

/// Locks an idle app even when no request comes to notice it, so the key
/// does not stay in memory.
async fn idle_ticker(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
    loop {
        every.tick().await;
        security::lock_if_idle(&state);
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

/// Every route of the app, behind the security layer.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/static/{file}", get(assets::serve))
        .merge(home::routes())
        .merge(records::routes())
        .merge(security::routes())
        .merge(unlock::routes())
        .merge(forms::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}
