//! Pooled connections (`r2d2_postgres`): every connection is opened with
//! `search_path` set to the partnership's schema alone (so no query can
//! reach another partnership's tables), and with TLS when `--database-ca`
//! is given. SKELETON: the pg-core helper fills this in.

#![allow(unused_variables)]

use std::path::Path;

use ::postgres::Client;

use crate::store::StoreError;
use crate::tenancy::Partnership;

/// The pool type (TLS or not is inside the connector).
pub type PgPool =
    r2d2::Pool<r2d2_postgres::PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>>;

/// A connection borrowed from the pool; it goes back when dropped.
pub(super) type Conn = r2d2::PooledConnection<
    r2d2_postgres::PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>,
>;

/// A pool of connections to `url` for `partnership`.
pub(super) fn pool(
    url: &str,
    ca: Option<&Path>,
    partnership: &Partnership,
) -> Result<PgPool, StoreError> {
    Err(StoreError::Unfinished("pool::pool"))
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
