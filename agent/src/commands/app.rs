//! `app`: serve the tablet app ([`crate::app`]) on loopback until stopped.
//!
//! Loopback only, unless `--allow-non-loopback` (which warns on stderr):
//! the app shows records to whoever reaches it, and the passphrase page to
//! anyone. The first line on stdout is the address to open.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hearth_shared::clock::SystemClock;

use super::CommandError;
use crate::app::{self, AppConfig, AppState};
use crate::cli::AppArgs;

/// Refuses a non-loopback address unless forced; returns the warning to
/// print when forced.
pub(super) fn check_listen(addr: SocketAddr, allow: bool) -> Result<Option<String>, CommandError> {
    if addr.ip().is_loopback() {
        return Ok(None);
    }
    if !allow {
        return Err(CommandError::NonLoopback { addr });
    }
    Ok(Some(format!(
        "warning: listening on {addr}, which is not loopback: other devices on that network can reach this app's passphrase page"
    )))
}

/// `app`.
pub(super) fn app(
    dir: &Path,
    clock: &SystemClock,
    args: &AppArgs,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    if let Some(warning) = check_listen(args.listen, args.allow_non_loopback)? {
        eprintln!("{warning}");
    }
    let serve_err = |source| CommandError::Serve {
        addr: args.listen,
        source,
    };
    let listener = std::net::TcpListener::bind(args.listen).map_err(serve_err)?;
    let addr = listener.local_addr().map_err(serve_err)?;
    listener.set_nonblocking(true).map_err(serve_err)?;
    let config = AppConfig {
        store_dir: dir.to_path_buf(),
        addr,
        idle_seconds: i64::from(args.idle_minutes) * 60,
    };
    let state = AppState::new(config, Arc::new(*clock));
    writeln!(out, "open {}", app::url(addr)).map_err(CommandError::Output)?;
    out.flush().map_err(CommandError::Output)?;
    // One thread serves the one worker at this tablet; blocking work
    // (Argon2, SQLite commits, the network) goes to tokio's blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(serve_err)?;
    runtime
        .block_on(app::serve(listener, state))
        .map_err(serve_err)?;
    Ok(super::EXIT_OK)
}
