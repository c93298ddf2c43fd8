//! reads: see the SQLite counterpart `store/sqlite/reads.rs`; same behaviour over PostgreSQL.
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

pub(super) fn family_links(c: &mut Client) -> Result<FamilyLinks, StoreError> {
    Err(StoreError::Unfinished("reads::family_links"))
}

pub(super) fn records_for(
    c: &mut Client,
    children: &[ChildRef],
) -> Result<Vec<FiledRecord>, StoreError> {
    Err(StoreError::Unfinished("reads::records_for"))
}

pub(super) fn log_access(c: &mut Client, a: &Access) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("reads::log_access"))
}

pub(super) fn access_log(c: &mut Client) -> Result<Vec<Access>, StoreError> {
    Err(StoreError::Unfinished("reads::access_log"))
}

pub(super) fn held(c: &mut Client) -> Result<Vec<Held>, StoreError> {
    Err(StoreError::Unfinished("reads::held"))
}

pub(super) fn alarms(c: &mut Client) -> Result<Vec<Alarm>, StoreError> {
    Err(StoreError::Unfinished("reads::alarms"))
}
