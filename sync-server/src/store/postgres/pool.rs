//! Pooled connections (`r2d2_postgres`): every connection is opened with
//! `search_path` set to the partnership's schema alone (so no query can
//! reach another partnership's tables) and `application_name` set to
//! `hearth-server`, and with TLS when `--database-ca` is given.
//!
//! TLS: with `--database-ca FILE`, the server's certificate must chain to
//! a certificate in FILE (PEM) and TLS is required (`sslmode=require`,
//! verified by rustls, so it is what libpq calls `verify-full`). Without
//! it, the connection is plain (`sslmode=disable`): a URL asking for TLS
//! without a CA to check it against is refused, rather than trusting any
//! certificate.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::postgres::config::SslMode;
use ::postgres::{Client, Config};
use r2d2::{CustomizeConnection, HandleError};
use r2d2_postgres::PostgresConnectionManager;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{StoreError, postgres_message};
use crate::tenancy::Partnership;

/// The most connections one pool keeps (the ingest writer takes one;
/// request handlers share the rest).
pub const CONNECTIONS: u32 = 8;

/// How long a request waits for a connection.
const CONNECTION_WAIT: Duration = Duration::from_secs(30);

/// The pool type (TLS or not is inside the connector).
pub type PgPool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// A connection borrowed from the pool; it goes back when dropped.
pub(super) type Conn = r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>;

/// What every URL error says after its cause.
const URL_HINT: &str = "a URL such as postgres://hearth@db.example/hearth";

/// A pool of connections to `url` for `partnership`. Connections are
/// opened when first needed (nothing is connected here: a database that
/// is down shows on first use, as a [`StoreError::Pool`]).
pub(super) fn pool(
    url: &str,
    ca: Option<&Path>,
    partnership: &Partnership,
) -> Result<PgPool, StoreError> {
    let (config, tls) = config(url, ca)?;
    let manager = PostgresConnectionManager::new(config, tls);
    Ok(r2d2::Pool::builder()
        .max_size(CONNECTIONS)
        .min_idle(Some(0))
        // No `SELECT` round trip on every checkout: a broken connection
        // fails its statement, the pool drops it (`has_broken`), and the
        // next call gets a new one.
        .test_on_check_out(false)
        .connection_timeout(CONNECTION_WAIT)
        .connection_customizer(Box::new(confine(partnership)))
        .error_handler(Box::new(TracingErrors))
        .thread_pool(crate::store::sqlite::pool::scheduler())
        .build_unchecked(manager))
}

/// One connection to `url` for `partnership`, outside any pool (a
/// one-off command such as `store copy`): the same settings, TLS and
/// confinement to the partnership's schema as a pooled one.
pub(crate) fn client(
    url: &str,
    ca: Option<&Path>,
    partnership: &Partnership,
) -> Result<Client, StoreError> {
    let (config, tls) = config(url, ca)?;
    let mut c = config.connect(tls)?;
    confine(partnership).on_acquire(&mut c)?;
    Ok(c)
}

/// What confines each new connection to `partnership`'s schema.
fn confine(partnership: &Partnership) -> Confine {
    Confine {
        schema: partnership.schema(),
        warned: Arc::new(AtomicBool::new(false)),
    }
}

/// The connection settings and TLS connector for `url` and `ca`.
fn config(url: &str, ca: Option<&Path>) -> Result<(Config, MakeRustlsConnect), StoreError> {
    let mut config: Config = url.parse().map_err(|e| {
        StoreError::Config(format!("--database: {}; {URL_HINT}", postgres_message(&e)))
    })?;
    let tls = match ca {
        Some(path) => {
            config.ssl_mode(SslMode::Require);
            connector(roots(path)?)
        }
        None => {
            if config.get_ssl_mode() == SslMode::Require {
                return Err(StoreError::Config(
                    "--database asks for TLS (sslmode=require) but no --database-ca was given: give the PEM file of the CA that signed the database server's certificate, e.g. --database-ca /etc/hearth/db-ca.pem".into(),
                ));
            }
            // Never used: TLS is off.
            config.ssl_mode(SslMode::Disable);
            connector(RootCertStore::empty())
        }
    };
    Ok((config, tls))
}

/// The certificates in the PEM file `path`, as trust roots.
fn roots(path: &Path) -> Result<RootCertStore, StoreError> {
    let bad = |why: String| {
        StoreError::Config(format!(
            "--database-ca {}: {why}; give the PEM file of the CA that signed the database server's certificate",
            path.display()
        ))
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    Ok(roots)
}

/// A rustls connector trusting `roots` (ring, as the rest of the server).
fn connector(roots: RootCertStore) -> MakeRustlsConnect {
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    MakeRustlsConnect::new(config)
}

/// A store's pool, shared by its clones, and dropped where dropping it is
/// allowed. A `postgres::Client` closes its connection by blocking on a
/// runtime of its own, which panics on a thread that drives async tasks
/// (and aborts the process if it happens during an unwind). So when the
/// last clone of a store is dropped inside the server's runtime (at the
/// end of `serve`, or by a handler that held the last clone), the pool is
/// handed to a short-lived thread of its own to close its connections.
pub struct Shared(Option<PgPool>);

impl Shared {
    /// Shares `pool`.
    pub(super) fn new(pool: PgPool) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(Some(pool)))
    }
}

impl std::ops::Deref for Shared {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        self.0
            .as_ref()
            .expect("the pool is taken only when dropped")
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(pool) = self.0.take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            return; // dropped here, on a plain thread
        }
        // If no thread can be started, the connections are leaked (the
        // process is ending), never closed here.
        let pool = std::mem::ManuallyDrop::new(pool);
        let _ = std::thread::Builder::new()
            .name("hearth-pg-close".into())
            .spawn(move || drop(std::mem::ManuallyDrop::into_inner(pool)));
    }
}

/// Borrows a connection.
pub(super) fn get(pool: &PgPool) -> Result<Conn, StoreError> {
    pool.get().map_err(|e| StoreError::Pool(e.to_string()))
}

/// Checks the database answers (`/v1/health`).
pub(super) fn ping(c: &mut Client) -> Result<(), StoreError> {
    c.simple_query("SELECT 1")?;
    Ok(())
}

/// Confines each new connection to the partnership's schema, and warns
/// (once per pool) if the role bypasses the per-partnership grants.
#[derive(Debug)]
struct Confine {
    /// `hearth_<partnership>` (checked: safe unquoted).
    schema: String,
    /// Whether the superuser warning was given.
    warned: Arc<AtomicBool>,
}

impl CustomizeConnection<Client, ::postgres::Error> for Confine {
    fn on_acquire(&self, c: &mut Client) -> Result<(), ::postgres::Error> {
        c.batch_execute(&format!(
            "SET search_path TO {}; SET application_name = 'hearth-server'",
            self.schema
        ))?;
        if !self.warned.load(Ordering::Relaxed) {
            let superuser: bool = c
                .query_one(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                    &[],
                )?
                .get(0);
            if superuser && !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    schema = %self.schema,
                    "the database role is a superuser: it bypasses the per-partnership grants; give each partnership a role that owns only its schema (docs/operations.md)"
                );
            }
            if !superuser {
                self.warned.store(true, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// Reports a connection that could not be opened to the log.
#[derive(Debug)]
struct TracingErrors;

impl HandleError<::postgres::Error> for TracingErrors {
    fn handle_error(&self, error: ::postgres::Error) {
        let error = postgres_message(&error);
        tracing::warn!(%error, "cannot open a database connection");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error(url: &str, ca: Option<&Path>) -> String {
        match config(url, ca) {
            Err(StoreError::Config(m)) => m,
            Err(e) => panic!("not a Config error: {e}"),
            Ok(_) => panic!("{url} accepted"),
        }
    }

    #[test]
    fn a_bad_url_names_the_flag_and_an_example() {
        let m = config_error("postgres://h:notaport/db", None);
        assert!(m.starts_with("--database: "), "{m}");
        assert!(m.contains("port"), "the cause is said: {m}");
        assert!(m.ends_with(URL_HINT), "{m}");
    }

    #[test]
    fn tls_without_a_ca_is_refused_and_plain_is_explicit() {
        let m = config_error("postgres://h/db?sslmode=require", None);
        assert!(m.contains("--database-ca"), "{m}");
        let (c, _) = config("postgres://h/db", None).unwrap();
        assert_eq!(c.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let m = config_error("postgres://h/db", Some(&missing));
        assert!(m.starts_with("--database-ca "), "{m}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(config_error("postgres://h/db", Some(&empty)).contains("no certificate"));
        let cert = rcgen::generate_simple_self_signed(vec!["db.example".into()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, cert.cert.pem()).unwrap();
        let (c, _) = config("postgres://h/db", Some(&good)).unwrap();
        assert_eq!(c.get_ssl_mode(), SslMode::Require);
    }
}
