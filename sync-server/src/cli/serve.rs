//! `serve`: the limits and certificate from the flags, the writer thread
//! over the backend's store (and the thread keeping signals current,
//! woken after each commit), and the HTTPS server on a tokio runtime.

use std::io::Write;
use std::sync::Arc;

use super::args::ServeArgs;
use super::{CliError, Context};
use crate::backend::Backend;
use crate::config::Limits;
use crate::http::OutboxKeys;
use crate::http::admit::BodyBudget;
use crate::http::metrics::Counters;
use crate::http::{AppState, serve};
use crate::ingest::writer::{Fault, Writer};
use crate::keys::{load_or_create_outbox_key, load_or_create_server_key};
use crate::signals::refresh::Refresher;
use crate::tls::{CertSource, load_server_config};

/// The limits the flags set, checked.
fn limits(a: &ServeArgs) -> Result<Limits, CliError> {
    if a.max_record_bytes == 0 || a.max_record_bytes > hearth_shared::MAX_SIGNED_SIZE {
        return Err(CliError::RecordLimit);
    }
    if a.max_body_bytes_in_flight < a.max_body_bytes {
        return Err(CliError::InFlightBudget);
    }
    Ok(Limits {
        max_body_bytes: a.max_body_bytes,
        max_batch_records: a.max_batch_records,
        max_record_bytes: a.max_record_bytes,
        header_timeout: a.header_timeout,
        request_timeout: a.request_timeout,
        late_entry_secs: a.late_entry.as_secs() as i64,
        max_connections: a.max_connections.max(1),
        quarantine_budget_bytes: a.quarantine_budget_bytes,
        max_connections_per_ip: a.max_connections_per_ip.max(1),
        max_body_bytes_in_flight: a.max_body_bytes_in_flight,
        session_idle: std::time::Duration::from_secs(a.session_idle_minutes * 60),
    })
}

/// Runs the server until the process is stopped.
pub fn run<S: Backend>(ctx: Context, a: ServeArgs) -> Result<(), CliError> {
    super::init_tracing("info");
    let limits = limits(&a)?;
    // The dummy password hash, made now rather than at the first sign-in.
    crate::web::login::password::warm_up();
    let source = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => CertSource::Files { cert, key },
        (None, None) => CertSource::SelfSigned { names: a.tls_names },
        _ => return Err(CliError::HalfTls),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Context {
        store: at,
        zone,
        clock,
    } = ctx;
    let data = at.data.clone();
    let (app, tls, fingerprint, counters) = {
        let signals = Arc::new(crate::signals::Config::load(&data)?);
        let mut store = S::open(&at)?;
        let enrolled = !store.devices()?.is_empty();
        let server_key = Arc::new(load_or_create_server_key(&data, enrolled)?);
        let outbox = Arc::new(OutboxKeys::new(
            load_or_create_outbox_key(&data, enrolled)?,
            &server_key,
        ));
        let (tls, fingerprint) = load_server_config(&data, &source)?;
        // Test-only fault injection for the crash tests (the `test-hooks`
        // feature; a release server has none); see docs/api.md.
        let fault = Fault::from_env();
        let maintain = store.maintain(&at)?;
        // Signals are recomputed off the writer, woken after each commit.
        let refresher = Refresher::start(S::connect(&at)?, signals.clone(), clock.clone());
        let after_commit = move || {
            maintain();
            refresher.wake();
        };
        let writer = Writer::start(store, clock.clone(), fault, after_commit);
        let counters = Arc::new(Counters::default());
        let reads = Arc::new(S::connect(&at)?);
        let state = AppState::<S> {
            reads,
            server_key,
            outbox,
            writer,
            limits,
            clock,
            counters: counters.clone(),
            budget: BodyBudget::new(limits.max_body_bytes_in_flight),
            zone,
            signals,
        };
        (crate::web::app(state), tls, fingerprint, counters)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let listen = a.listen;
    runtime.block_on(async move {
        let listening = |source| CliError::Listen {
            addr: listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(listening)?;
        let addr = listener.local_addr().map_err(listening)?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "fingerprint {fingerprint}");
        let _ = writeln!(out, "listening on https://{addr}");
        let _ = out.flush();
        drop(out);
        tracing::info!(%addr, "serving");
        serve(listener, tls, app, limits, counters).await;
        Ok(())
    })
}
