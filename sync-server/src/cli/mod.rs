//! The `hearth-server` command line: [`run`] parses arguments
//! ([`args::Cli`]) and runs one command over the store backend `S` the
//! binary picks (`main.rs`). One module per concern: [`serve`],
//! [`devices`], [`users`], [`families`], the audited [`reads`] and
//! [`signals`] (practice signals, the caseload, acknowledgements), and
//! [`people`] (the people register: `person`, `household`, `identity`), and
//! [`store`] (`backup`, `store copy`). `serve` runs the HTTPS server; every other command
//! administers the same data directory, safely while `serve` runs (SQLite
//! WAL and a busy timeout).
//!
//! Output contract (tests rely on it): `serve` prints exactly
//! `fingerprint sha256:<64 hex>` then `listening on https://<addr>` on
//! stdout; `enrol-token`, `user add` and `user rotate` print the token
//! alone on one stdout line (details go to stderr).

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use hearth_shared::ChildRef;

pub mod args;
pub mod caseload;
pub mod devices;
pub mod families;
pub mod people;
pub mod reads;
pub mod serve;
pub mod signals;
pub mod store;
pub mod users;

pub use self::args::{Cli, Command};
use crate::admin::AdminError;
use crate::audit::{BadReader, PullError, check_reader};
use crate::backend::{Backend, Location};
use crate::clock::{Clock, SystemClock};
use crate::datadir::{self, DataDirError};
use crate::keys::KeyError;
use crate::localtime::{BadZone, Zone};
use crate::store::StoreError;
use crate::tenancy::{BadPartnership, Partnership};
use crate::tls::TlsError;

/// Why a command failed: one line for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Administration.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// A pull.
    #[error(transparent)]
    Pull(#[from] PullError),
    /// An acknowledgement.
    #[error(transparent)]
    Ack(#[from] crate::audit::AckError),
    /// A caseload change.
    #[error(transparent)]
    Caseload(#[from] crate::caseload::ops::CaseloadError),
    /// No rule has the name given.
    #[error("no rule is called \"{0}\"; the rules are {rules}", rules = crate::signals::Rule::WORDS.join(", "))]
    BadRule(String),
    /// The practice signals' configuration (`signals.toml`).
    #[error(transparent)]
    Signals(#[from] crate::signals::config::ConfigError),
    /// TLS.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The data directory's permissions.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The time zone (`--tz`, `HEARTH_TZ`).
    #[error(transparent)]
    Zone(#[from] BadZone),
    /// The `--partnership` name.
    #[error(transparent)]
    Partnership(#[from] BadPartnership),
    /// The `--as` name.
    #[error(transparent)]
    Reader(#[from] BadReader),
    /// A child reference.
    #[error("child \"{value}\": {problem}")]
    BadChild {
        /// What was given.
        value: String,
        /// What is wrong.
        problem: hearth_shared::Problem,
    },
    /// A device id.
    #[error("device \"{0}\" is not a device id (16 hex digits); see `hearth-server devices`")]
    BadDevice(String),
    /// Only one of the TLS files.
    #[error("give both --tls-cert and --tls-key, or neither for a self-signed certificate")]
    HalfTls,
    /// The record size limit.
    #[error(
        "--max-record-bytes must be between 1 and {}",
        hearth_shared::MAX_SIGNED_SIZE
    )]
    RecordLimit,
    /// Binding the listen address or running the runtime.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An in-flight body budget that one full body would not fit in.
    #[error(
        "--max-body-bytes-in-flight must be at least --max-body-bytes, or no full batch could ever be received"
    )]
    InFlightBudget,
    /// The async runtime.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A new password that is not acceptable (`user passwd`).
    #[error("{0}; nothing was changed")]
    Password(#[from] crate::web::login::password::BadPassword),
    /// Reading standard input failed (`user passwd`).
    #[error("cannot read the new password from standard input: {0}")]
    Stdin(#[source] std::io::Error),
    /// The people register refused (exit status 2).
    #[error(transparent)]
    Register(#[from] crate::people::ops::RegisterError),
    /// An import refused rows (they are listed on stdout; exit status 1).
    #[error("the import refused {0} rows (listed above); correct them and import those rows again")]
    ImportRefused(usize),
    /// `backup` or `store copy`.
    #[error(transparent)]
    Ops(Box<store::OpsError>),
    /// Writing to standard output failed (not a reader that stopped
    /// reading: see [`out`]).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

/// Writes a command's output. A reader that stops reading early
/// (`hearth-server devices | head -1`) is not an error: the command did
/// its work (a read was logged before it was served), so a broken pipe
/// ends the output quietly with success, as ripgrep does, instead of a
/// panic from `print!`.
pub(crate) fn out(text: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    match write_out(text) {
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Writes a secret that is shown once (a new token): unlike [`out`], a
/// closed output is an error, so that nobody believes a token was handed
/// over when it was not (rotate it, and it is shown again).
pub(crate) fn out_once(text: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    write_out(text)
}

fn write_out(text: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(text)
        .and_then(|()| stdout.flush())
        .map_err(CliError::Output)
}

/// What every command is given: where the store is, the zone of times
/// shown to people, and the clock.
pub struct Context {
    /// The data directory (`--data`), and the database and partnership
    /// (`--database`, `--database-ca`, `--partnership`).
    pub store: Location,
    /// The zone (`--tz`, `HEARTH_TZ`).
    pub zone: Zone,
    /// The wall clock.
    pub clock: Arc<dyn Clock>,
}

pub(crate) fn child(value: &str) -> Result<ChildRef, CliError> {
    value.parse().map_err(|problem| CliError::BadChild {
        value: value.to_string(),
        problem,
    })
}

/// Who is reading, as the access log records it: the operating-system
/// user running the command, and the `--as` name beside it if one is
/// given ([`crate::whoami`]).
pub(crate) fn reader(as_user: Option<&str>) -> Result<String, CliError> {
    if let Some(name) = as_user {
        check_reader(name)?;
    }
    Ok(crate::whoami::reader(
        &crate::whoami::os_user(),
        as_user.map(str::trim),
    ))
}

pub(crate) fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Parses the command line and runs it over the backend `S`.
pub fn run<S: Backend>() -> Result<(), CliError> {
    let cli = Cli::parse();
    // Before anything is created: the database and keys are for the
    // server's user alone, whatever umask it was started with.
    datadir::restrict_umask();
    datadir::prepare(&cli.data)?;
    let ctx = Context {
        zone: Zone::parse(&cli.tz)?,
        store: Location {
            data: cli.data,
            database: cli.database,
            database_ca: cli.database_ca,
            partnership: Partnership::new(&cli.partnership)?,
        },
        clock: Arc::new(SystemClock::default()),
    };
    match cli.command {
        Command::Serve(a) => serve::run::<S>(ctx, a),
        Command::EnrolToken(a) => devices::enrol_token::<S>(&ctx, a),
        Command::Staff { action } => devices::staff::<S>(&ctx, action),
        Command::User { action } => users::run::<S>(&ctx, action),
        Command::Devices { json } => devices::list::<S>(&ctx, json),
        Command::Revoke { device, reason } => devices::revoke::<S>(&ctx, &device, &reason),
        Command::Chronology(a) => reads::chronology::<S>(&ctx, a),
        Command::Signals(a) => signals::run::<S>(&ctx, a),
        Command::AccessLog(a) => reads::access_log::<S>(&ctx, a),
        Command::Quarantine(a) => reads::quarantine::<S>(&ctx, a),
        Command::Family { action } => families::run::<S>(&ctx, action),
        Command::Person { action } => people::person::<S>(&ctx, action),
        Command::Household { action } => people::household::<S>(&ctx, action),
        Command::Identity { action } => people::identity::<S>(&ctx, action),
        Command::Caseload { action } => caseload::run::<S>(&ctx, action),
        Command::Store { action } => store::run(&ctx, action),
        Command::Backup(a) => store::backup(&ctx, &a.to),
    }
}

impl CliError {
    /// The exit status: 2 for a refusal of the people register or of a
    /// caseload change (the input was wrong, as for a command line clap
    /// refuses), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Register(_) => 2,
            Self::Caseload(crate::caseload::ops::CaseloadError::BadInput { .. }) => 2,
            _ => 1,
        }
    }
}
