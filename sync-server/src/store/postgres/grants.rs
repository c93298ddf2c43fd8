//! grants: see the SQLite counterpart `store/sqlite/grants.rs`; same behaviour over PostgreSQL.
//! SKELETON: every function below is a stand-in that the issue-18 helpers replace.

#![allow(unused_variables)]

use ::postgres::Client;

#[allow(unused_imports)]
use crate::caseload::*;
#[allow(unused_imports)]
use crate::links::*;
#[allow(unused_imports)]
use crate::people::*;
#[allow(unused_imports)]
use crate::signals::*;
#[allow(unused_imports)]
use crate::store::*;
#[allow(unused_imports)]
use hearth_shared::*;

pub(super) fn add_grant(c: &mut Client, g: &ReadGrant) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("grants::add_grant"))
}

pub(super) fn grant(c: &mut Client, id: &str) -> Result<Option<ReadGrant>, StoreError> {
    Err(StoreError::Unfinished("grants::grant"))
}
