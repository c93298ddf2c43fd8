//! The HTTPS API: [`router`] (the routes, on [`AppState`]) and [`serve`]
//! (a hyper accept loop over tokio-rustls, with a TLS/header-read timeout
//! per connection and a timeout per request).
//!
//! | route | handler |
//! | --- | --- |
//! | `GET /v1/health` | `ok` |
//! | `POST /v1/enrol` | [`enrol`] |
//! | `POST /v1/sync` | [`sync`] |
//! | `GET /v1/children/{ref}/chronology` | [`chronology`] |
//!
//! Handlers never call SQLite on an async worker: reads run in
//! `spawn_blocking` on their own connection; ingest goes to the single
//! writer thread ([`crate::ingest::writer`]).

pub mod chronology;
pub mod enrol;
pub mod sync;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::ErrorBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::clock::Clock;
use crate::config::Limits;
use crate::ingest::writer::Writer;
use crate::store::StoreError;
use crate::store::sqlite::SqliteStore;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The data directory.
    pub data: PathBuf,
    /// Read connections kept for reuse by blocking tasks (see
    /// [`AppState::store`]).
    pub pool: Arc<std::sync::Mutex<Vec<SqliteStore>>>,
    /// The receipt-signing key.
    pub server_key: Arc<SigningKey>,
    /// The ingest writer.
    pub writer: Writer,
    /// Limits.
    pub limits: Limits,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// A read connection for a blocking task: one kept from an earlier
    /// request if there is one (opening a connection parses the schema,
    /// which the ingest profile showed on every batch), else a new one.
    /// It goes back to the pool when the guard drops.
    pub fn store(&self) -> Result<Pooled, StoreError> {
        let kept = self.pool.lock().map_or(None, |mut p| p.pop());
        let conn = match kept {
            Some(c) => c,
            None => SqliteStore::connect(&self.data)?,
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self.pool.clone(),
        })
    }
}

/// The most read connections kept for reuse.
const POOL_SIZE: usize = 8;

/// A read connection borrowed from [`AppState`]'s pool.
pub struct Pooled {
    conn: Option<SqliteStore>,
    pool: Arc<std::sync::Mutex<Vec<SqliteStore>>>,
}

impl std::ops::Deref for Pooled {
    type Target = SqliteStore;

    fn deref(&self) -> &SqliteStore {
        self.conn.as_ref().expect("present until drop")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.pool.lock())
            && pool.len() < POOL_SIZE
        {
            pool.push(conn);
        }
    }
}

/// A JSON error response.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(ErrorBody {
            error: code.to_string(),
            message: message.into(),
            revocation: None,
        }),
    )
        .into_response()
}

/// The response for a server-side failure; details go to the log only.
pub fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "internal error");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed; nothing was acknowledged; retry later",
    )
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/enrol", post(enrol::enrol))
        .route("/v1/sync", post(sync::sync))
        .route(
            "/v1/children/{child}/chronology",
            get(chronology::chronology),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see docs/api.md",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Accepts connections forever on `listener`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    limits: Limits,
) {
    let acceptor = TlsAcceptor::from(tls);
    // Each connection holds a permit: past the limit, new connections wait
    // in the kernel's backlog instead of each buffering a request body.
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // The handshake shares the header-read budget: a client that
            // opens a socket and says nothing is dropped.
            let tls =
                match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let request_timeout = limits.request_timeout;
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let app = app.clone();
                async move {
                    let req = req.map(axum::body::Body::new);
                    match tokio::time::timeout(request_timeout, app.oneshot(req)).await {
                        Ok(r) => r,
                        Err(_) => Ok::<_, Infallible>(error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "timeout",
                            "the request took too long; retry",
                        )),
                    }
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
