//! record: see the SQLite counterpart `store/sqlite/record.rs`; same behaviour over PostgreSQL.
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

pub(super) fn record(c: &mut Client, id: RecordId) -> Result<Option<StoredRecord>, StoreError> {
    Err(StoreError::Unfinished("record::record"))
}

pub(super) fn record_bytes(
    c: &mut Client,
    ids: &[RecordId],
) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
    Err(StoreError::Unfinished("record::record_bytes"))
}
