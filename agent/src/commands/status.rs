//! `status`: the device, its registration and sync state. Needs no key:
//! counts and settings are not sealed.

use std::io::Write;
use std::path::Path;

use super::render::{StatusReport, emit};
use super::{CommandError, EXIT_OK, open_locked};
use crate::store::RecordStore;

/// `status`.
pub(super) fn status(dir: &Path, as_json: bool, out: &mut dyn Write) -> Result<u8, CommandError> {
    let (store, settings) = open_locked(dir)?;
    let report = StatusReport {
        reg: store.registration()?,
        counts: store.counts()?,
        state: store.sync_state()?,
        settings,
    };
    if as_json {
        emit(out, &report.to_json().to_string())?;
        return Ok(EXIT_OK);
    }
    for line in report.lines() {
        emit(out, &line)?;
    }
    Ok(EXIT_OK)
}
