//! SQL through `psql`: no client library and no runtime, so a test may create
//! databases from inside `#[tokio::test]`.

use std::path::Path;
use std::process::{Command, Output};

/// Runs each statement as its own command (so `CREATE DATABASE` is outside a
/// transaction block), stopping at the first error.
pub(crate) fn run(psql: &Path, url: &str, statements: &[&str]) -> Result<(), String> {
    let mut command = base(psql, url);
    for statement in statements {
        command.arg("-c").arg(statement);
    }
    output(command, statements.join("; ")).map(drop)
}

/// The first column of the first row, trimmed (empty when there is no row).
pub(crate) fn query_one(psql: &Path, url: &str, query: &str) -> Result<String, String> {
    let mut command = base(psql, url);
    command.args(["-A", "-t", "-c", query]);
    let out = output(command, query.to_owned())?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

fn base(psql: &Path, url: &str) -> Command {
    let mut command = Command::new(psql);
    command
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(std::process::Stdio::null());
    command
}

fn output(mut command: Command, what: String) -> Result<Output, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "psql failed ({}) on `{what}`: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
