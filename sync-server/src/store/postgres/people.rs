//! people: see the SQLite counterpart `store/sqlite/people.rs`; same behaviour over PostgreSQL.
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

pub(super) fn register(c: &mut Client) -> Result<Register, StoreError> {
    Err(StoreError::Unfinished("people::register"))
}

pub(super) fn change_register(
    c: &mut Client,
    change: &RegisterChange,
    who: &str,
    reason: &str,
    at: Timestamp,
) -> Result<RegisterOutcome, StoreError> {
    Err(StoreError::Unfinished("people::change_register"))
}

pub(super) fn log_register(c: &mut Client, entry: &RegisterEntry) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("people::log_register"))
}

pub(super) fn register_log(c: &mut Client) -> Result<Vec<RegisterEntry>, StoreError> {
    Err(StoreError::Unfinished("people::register_log"))
}
