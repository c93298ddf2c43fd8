//! `hearth-server`: see the library's [`hearth_sync_server::cli`].
//!
//! Thin on purpose: pick the store backend, parse, run, and on failure
//! print one clear line to stderr and exit 1.

use std::process::ExitCode;

use hearth_sync_server::store::sqlite::SqliteStore;

fn main() -> ExitCode {
    match hearth_sync_server::cli::run::<SqliteStore>().map_err(anyhow::Error::from) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The messages already name their cause; `{e}` keeps it to one line.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
