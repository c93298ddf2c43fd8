//! `hearth-server`: see the library's [`hearth_sync_server::cli`].
//!
//! Thin on purpose: parse, run, and on failure print one clear line to
//! stderr and exit 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    match hearth_sync_server::cli::run().map_err(anyhow::Error::from) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The messages already name their cause; `{e}` keeps it to one line.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
