//! `hearth-agent`: the thin binary over the `hearth_agent` library. Parses
//! the command line, sets up logging (RUST_LOG, stderr) and the ring TLS
//! provider, runs the command, and turns an error into one line on stderr
//! and the exit code of `docs/sync-protocol.md`.

use std::io::IsTerminal;
use std::process::ExitCode;

use hearth_agent::cli::Cli;
use hearth_agent::commands::{self, CommandError, EXIT_ERROR};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    hearth_agent::tls::install_provider();
    // clap exits 2 on a usage error, but 2 means "records were refused"
    // here (docs/sync-protocol.md): usage errors are 1.
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    match commands::run(cli).map_err(anyhow::Error::from) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            let code = e
                .downcast_ref::<CommandError>()
                .map_or(EXIT_ERROR, CommandError::exit_code);
            ExitCode::from(code)
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the
/// message already contains.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
