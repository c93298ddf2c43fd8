//! caseload: see the SQLite counterpart `store/sqlite/caseload.rs`; same behaviour over PostgreSQL.
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

pub(super) fn caseload_setup(c: &mut Client) -> Result<CaseloadSetup, StoreError> {
    Err(StoreError::Unfinished("caseload::caseload_setup"))
}

pub(super) fn change_caseload(
    c: &mut Client,
    change: &CaseloadChange,
    who: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Err(StoreError::Unfinished("caseload::change_caseload"))
}
