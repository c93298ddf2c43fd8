//! Caseload assignments, device groups and visiting plans (migration
//! 0011). (Issue 17: stand-in until the caseload work lands; every call
//! fails.)

use hearth_shared::Timestamp;
use rusqlite::Connection;

use crate::caseload::{CaseloadChange, CaseloadSetup};
use crate::store::StoreError;

const TODO: StoreError = StoreError::Corrupt("caseloads are not built yet");

pub(super) fn caseload_setup(_: &Connection) -> Result<CaseloadSetup, StoreError> {
    Err(TODO)
}

pub(super) fn change_caseload(
    _: &Connection,
    _: &CaseloadChange,
    _: &str,
    _: Timestamp,
) -> Result<bool, StoreError> {
    Err(TODO)
}
