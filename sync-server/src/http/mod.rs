//! The HTTPS API: [`router`] (the routes, on [`AppState`]) and [`serve`]
//! (a hyper accept loop over tokio-rustls, with a TLS/header-read timeout
//! per connection and a timeout per request). What an unauthenticated peer
//! may hold (connections, body bytes) is bounded in [`admit`]; refusals are
//! counted in [`metrics`].
//!
//! | route | handler |
//! | --- | --- |
//! | `GET /v1/health` | `ok` |
//! | `GET /v1/metrics` | [`metrics::Counters::render`] |
//! | `POST /v1/enrol` | [`enrol`] |
//! | `POST /v1/sync` | [`sync`] |
//! | `GET /v1/children/{ref}/chronology` | [`chronology`] |
//!
//! Handlers never call SQLite on an async worker: reads run in
//! `spawn_blocking` on their own connection; ingest goes to the single
//! writer thread ([`crate::ingest::writer`]).

pub mod admit;
pub mod chronology;
pub mod enrol;
pub mod metrics;
pub mod sync;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::{ErrorBody, ErrorCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use self::admit::{BodyBudget, Gate, Refusal};
use self::metrics::{Counters, Event};
use crate::clock::Clock;
use crate::config::Limits;
use crate::ingest::writer::Writer;
use crate::localtime::Zone;
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
    /// Refusals counted for operators.
    pub counters: Arc<Counters>,
    /// Request-body bytes in flight.
    pub budget: BodyBudget,
    /// The zone of times in table and CSV chronologies (`serve --tz`).
    pub zone: Zone,
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
pub fn error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(ErrorBody {
            error: code,
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
        ErrorCode::Internal,
        "the server failed; nothing was acknowledged; retry later",
    )
}

/// The largest enrolment body: a token and a key in JSON need a few
/// hundred bytes.
const MAX_ENROL_BYTES: usize = 16 * 1024;

/// The peer's address as the accept loop saw it, for logs: an extractor
/// that never fails (a request that did not come through [`serve`] shows
/// `-`).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Infallible> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("-"),
        }
    }
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let counters = state.counters.clone();
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route(
            "/v1/metrics",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    counters.render(),
                )
            }),
        )
        .route(
            "/v1/enrol",
            post(enrol::enrol).layer(DefaultBodyLimit::max(MAX_ENROL_BYTES)),
        )
        .route("/v1/sync", post(sync::sync))
        .route(
            "/v1/children/{child}/chronology",
            get(chronology::chronology),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such endpoint; see docs/api.md",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method; see docs/api.md",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Accepts connections forever on `listener`. A connection past
/// `max_connections`, or past `max_connections_per_ip` from its address,
/// is closed at once (see [`admit`]); the loop never waits for a slot.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    limits: Limits,
    counters: Arc<Counters>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let gate = Gate::new(limits.max_connections, limits.max_connections_per_ip);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                // Out of file descriptors, say: do not spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let admitted = match gate.admit(peer.ip()) {
            Ok(a) => a,
            Err(why) => {
                if let Some(left_out) = counters.count(Event::ConnectionRefused) {
                    let why = match why {
                        Refusal::Full => "every connection slot is taken",
                        Refusal::PerIp => "this address holds its share of connections",
                    };
                    tracing::warn!(%peer, why, left_out, "connection refused");
                }
                drop(stream);
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
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
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(ConnectInfo(peer));
                    match tokio::time::timeout(request_timeout, app.oneshot(req)).await {
                        Ok(r) => r,
                        Err(_) => Ok::<_, Infallible>(error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            ErrorCode::Timeout,
                            "the request took too long; retry",
                        )),
                    }
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                // Headers of this API are small; a bounded read buffer
                // keeps each connection's cost small (see `admit`).
                .max_buf_size(MAX_READ_BUFFER);
            if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

/// hyper's read buffer per connection, which bounds request headers.
const MAX_READ_BUFFER: usize = 64 * 1024;
