//! The people register and its log (migration 0010). (Issue 17: stand-in
//! until the register work lands; every call fails.)

use hearth_shared::Timestamp;
use rusqlite::Connection;

use crate::people::{Register, RegisterChange, RegisterEntry, RegisterOutcome};
use crate::store::StoreError;

const TODO: StoreError = StoreError::Corrupt("the people register is not built yet");

pub(super) fn register(_: &Connection) -> Result<Register, StoreError> {
    Err(TODO)
}

pub(super) fn change_register(
    _: &Connection,
    _: &RegisterChange,
    _: &str,
    _: &str,
    _: Timestamp,
) -> Result<RegisterOutcome, StoreError> {
    Err(TODO)
}

pub(super) fn log_register(_: &Connection, _: &RegisterEntry) -> Result<(), StoreError> {
    Err(TODO)
}

pub(super) fn register_log(_: &Connection) -> Result<Vec<RegisterEntry>, StoreError> {
    Err(TODO)
}
