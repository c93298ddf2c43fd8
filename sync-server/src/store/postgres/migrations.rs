//! The PostgreSQL migration runner: the numbered files in `migrations/`,
//! applied in order inside the partnership's schema, tracked in its
//! `schema_version` table, under a transaction-level advisory lock (two
//! instances starting together migrate once). SKELETON: pg-core fills this in.

#![allow(unused_variables)]

use ::postgres::Client;

use crate::store::StoreError;
use crate::tenancy::Partnership;

/// The migrations, in order: (version, SQL).
pub const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/0001_init.sql"))];

/// Creates the partnership's schema if need be and applies every migration
/// it lacks.
pub fn migrate(c: &mut Client, partnership: &Partnership) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("migrations::migrate"))
}
