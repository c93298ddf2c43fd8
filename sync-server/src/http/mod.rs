//! The HTTPS API: [`router`] (the routes, on [`AppState`]) and [`serve`]
//! (a hyper accept loop over tokio-rustls, with a TLS/header-read timeout
//! per connection and a timeout per request). What an unauthenticated peer
//! may hold (connections, body bytes) is bounded in [`admit`]; refusals are
//! counted in [`metrics`].
//!
//! | route | handler |
//! | --- | --- |
//! | `GET /v1/health` | [`health::health`] (the database answers) |
//! | `GET /v1/metrics` | [`metrics::Counters::render`] |
//! | `POST /v1/enrol` | [`enrol`] |
//! | `POST /v1/sync` | [`sync`] (protocol 2: [`wire`]) |
//! | `POST /v1/outbox` | [`outbox`] (protocol 2: [`wire`]) |
//! | `POST /v1/caseload` | [`caseload`] (protocol 2: [`wire`]) |
//! | `GET /v1/children/{ref}/chronology` | [`chronology`] |
//! | `GET /v1/children/{ref}/signals` | [`signals::child_signals`] |
//! | `GET /v1/signals` | [`signals::caseload`] |
//! | `POST /v1/children/{ref}/signals/{rule}/ack` | [`signals::acknowledge`] |
//! | `/v1/people…`, `/v1/households…`, `/v1/identity…`, `/v1/family/proposals…` | [`people`] |
//!
//! The web app's pages (and `GET /v1/records/{id}`) are [`crate::web`]'s
//! routes, merged with these by [`crate::web::app`].
//!
//! Handlers are generic over the store backend (`AppState<S: Backend>`,
//! [`crate::backend`]) and return `Result<T, ApiError>`: every refusal is an
//! [`ApiError`] (status, [`hearth_shared::protocol::ErrorCode`] and
//! message, as JSON), so a handler uses `?` ([`error`]).
//!
//! Handlers never call the store on an async worker: reads run in
//! `spawn_blocking` on their own connection ([`error::blocking`]); ingest
//! goes to the single writer thread ([`crate::ingest::writer`]).

pub mod admit;
pub mod caseload;
pub mod chronology;
pub mod enrol;
pub mod error;
pub mod health;
pub mod metrics;
pub mod outbox;
pub mod people;
pub mod signals;
pub mod sync;
pub mod wire;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::{ErrorCode, OutboxKeyNotice};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use self::admit::{BodyBudget, Gate, Refusal};
pub use self::error::ApiError;
use self::metrics::{Counters, Event};
use crate::backend::Backend;
use crate::clock::Clock;
use crate::config::Limits;
use crate::ingest::writer::Writer;
use crate::keys::OutboxSecret;
use crate::localtime::Zone;

/// What every handler shares, over a store backend `S`.
pub struct AppState<S: Backend> {
    /// The store request handlers read through, shared by all of them
    /// (the backend pools its own connections; see [`Backend::connect`]).
    pub reads: Arc<S>,
    /// The receipt-signing key.
    pub server_key: Arc<SigningKey>,
    /// The X25519 key tablets seal their outbox to, and its public half
    /// signed with the receipt key (sent with every sync response).
    pub outbox: Arc<OutboxKeys>,
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
    /// The practice signals' thresholds (`signals.toml` in the data
    /// directory, read at start).
    pub signals: Arc<crate::signals::Config>,
}

// By hand: a derive would ask for `S: Clone`, which the state does not need.
impl<S: Backend> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            reads: self.reads.clone(),
            server_key: self.server_key.clone(),
            outbox: self.outbox.clone(),
            writer: self.writer.clone(),
            limits: self.limits,
            clock: self.clock.clone(),
            counters: self.counters.clone(),
            budget: self.budget.clone(),
            zone: self.zone.clone(),
            signals: self.signals.clone(),
        }
    }
}

/// The outbox key and its signed notice, made once at start.
pub struct OutboxKeys {
    /// The secret that opens the boxes.
    pub secret: OutboxSecret,
    /// Its public half, signed with the receipt key.
    pub notice: OutboxKeyNotice,
}

impl OutboxKeys {
    /// The notice for `secret`, signed with `server_key`.
    pub fn new(secret: OutboxSecret, server_key: &SigningKey) -> Self {
        let notice = OutboxKeyNotice::sign(server_key, &secret.public_key());
        Self { secret, notice }
    }
}

impl<S: Backend> AppState<S> {
    /// The store a blocking task reads through.
    pub fn store(&self) -> &S {
        &self.reads
    }
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
pub fn router<S: Backend>(state: AppState<S>) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let counters = state.counters.clone();
    let batch_records = HeaderValue::from(state.limits.batch_records_taken());
    let advertise =
        || axum::middleware::from_fn_with_state(batch_records.clone(), wire::advertise_batch);
    Router::new()
        .route("/v1/health", get(health::health::<S>))
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
            post(enrol::enrol::<S>)
                .layer(DefaultBodyLimit::max(MAX_ENROL_BYTES))
                .layer(advertise()),
        )
        .merge(device_routes::<S>(state.counters.clone()).route_layer(advertise()))
        .route(
            "/v1/children/{child}/chronology",
            get(chronology::chronology::<S>),
        )
        .route(
            "/v1/children/{child}/signals",
            get(signals::child_signals::<S>),
        )
        .route("/v1/signals", get(signals::caseload::<S>))
        .route(
            "/v1/children/{child}/signals/{rule}/ack",
            post(signals::acknowledge::<S>).layer(DefaultBodyLimit::max(signals::MAX_ACK_BYTES)),
        )
        .merge(people::routes::<S>())
        // Both answer without reading a body the client may still be
        // sending, so they close the connection rather than leave the
        // client writing into one the server will not read.
        .fallback(|| async {
            (
                [(header::CONNECTION, "close")],
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    "no such endpoint; see docs/api.md",
                ),
            )
        })
        .method_not_allowed_fallback(|| async {
            (
                [(header::CONNECTION, "close")],
                ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    ErrorCode::MethodNotAllowed,
                    "this endpoint does not take that method; see docs/api.md",
                ),
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// The routes a tablet calls, which speak protocol 2: compressed bodies
/// both ways, negotiated ([`wire`]).
fn device_routes<S: Backend>(counters: Arc<Counters>) -> Router<AppState<S>> {
    Router::new()
        .route("/v1/sync", post(sync::sync::<S>))
        .route("/v1/outbox", post(outbox::outbox::<S>))
        .route(
            "/v1/caseload",
            post(caseload::caseload::<S>)
                .layer(DefaultBodyLimit::max(caseload::MAX_REQUEST_BYTES))
                .layer(axum::middleware::from_fn_with_state(
                    caseload::MAX_REQUEST_BYTES,
                    wire::inflate_small,
                )),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            counters,
            wire::negotiate,
        ))
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
        // Small writes go out at once: with Nagle's algorithm on, the
        // last TLS record of an answer waited for the client's delayed
        // ACK (tens of milliseconds) before leaving, once per request.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "TCP_NODELAY not set");
        }
        tokio::spawn(connection(
            stream,
            peer,
            acceptor.clone(),
            app.clone(),
            limits,
            admitted,
        ));
    }
}

/// Serves one admitted connection: the TLS handshake within the
/// header-read budget, then HTTP/1.1 with a timeout per request. The slot
/// is held until the connection ends.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: Router,
    limits: Limits,
    _admitted: admit::Admitted,
) {
    // The handshake shares the header-read budget: a client that opens a
    // socket and says nothing is dropped.
    let tls = match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
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
                Err(_) => Ok::<_, Infallible>(
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Timeout,
                        "the request took too long; retry",
                    )
                    .into_response(),
                ),
            }
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Headers of this API are small; a bounded read buffer keeps each
        // connection's cost small (see `admit`).
        .max_buf_size(MAX_READ_BUFFER);
    if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// hyper's read buffer per connection, which bounds request headers.
const MAX_READ_BUFFER: usize = 64 * 1024;
