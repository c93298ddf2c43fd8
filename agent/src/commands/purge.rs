//! `purge`: drop the local copy of records the server holds (synced, with
//! a verified receipt kept, long enough ago); seqs, hashes and receipts
//! stay. The held caseload is wiped too (the next sync fetches it).

use std::io::Write;
use std::path::Path;

use hearth_shared::clock::Clock;

use super::render::emit;
use super::{CommandError, EXIT_OK, open};
use crate::store::RecordStore;

/// `purge --older-than-days N`.
pub(super) fn purge(
    dir: &Path,
    clock: &dyn Clock,
    older_than_days: u32,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let (mut store, settings, _key) = open(dir, clock)?;
    let now = clock.now();
    let before = hearth_shared::Timestamp(now.0 - i64::from(older_than_days) * 86_400);
    let purged = store.purge(before, now)?;
    tracing::info!(count = purged.len(), "records purged");
    // The caseload is the server's to send again: the next sync does.
    if store.clear_caseload()? {
        eprintln!("the caseload was wiped; the next sync fetches it again");
    }
    let first_last = match (purged.first(), purged.last()) {
        (Some(a), Some(b)) => format!(
            " ({}-{a} to {}-{b})",
            settings.device_id, settings.device_id
        ),
        _ => String::new(),
    };
    emit(
        out,
        &format!(
            "purged {} synced record(s) with receipts, synced before {before}{first_last}; their seqs, hashes and receipts are kept",
            purged.len()
        ),
    )?;
    Ok(EXIT_OK)
}
