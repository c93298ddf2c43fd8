//! The ingest transaction over PostgreSQL. SKELETON: pg-core fills this in.

#![allow(unused_variables)]

use ::postgres::Client;

use crate::store::{IngestTx, StoreError};

/// Runs `f` in one transaction on `c`, committed if it returns `Ok`.
pub(super) fn ingest<T>(
    c: &mut Client,
    f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    Err(StoreError::Unfinished("tx::ingest"))
}
