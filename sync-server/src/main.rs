//! `hearth-server`: see the library's [`hearth_sync_server::cli`].
//!
//! Thin on purpose: pick the store backend, parse, run, and on failure
//! print one clear line to stderr and exit 1 (2 for a refusal of the
//! people register).

use std::process::ExitCode;

use hearth_sync_server::store::any::AnyStore;

fn main() -> ExitCode {
    match hearth_sync_server::cli::run::<AnyStore>() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            // The messages already name their cause; `{e}` keeps it to one line.
            eprintln!("error: {}", anyhow::Error::from(e));
            ExitCode::from(code)
        }
    }
}
