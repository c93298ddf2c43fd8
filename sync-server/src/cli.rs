//! The `hearth-server` command line: [`run`] parses arguments ([`Cli`]) and
//! runs one command. `serve` runs the HTTPS server; every other command
//! administers the same data directory, safely while `serve` runs (SQLite
//! WAL and a busy timeout).
//!
//! Output contract (tests rely on it): `serve` prints exactly
//! `fingerprint sha256:<64 hex>` then `listening on https://<addr>` on
//! stdout; `enrol-token`, `user add` and `user rotate` print the token
//! alone on one stdout line (details go to stderr).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use hearth_shared::{ChildRef, DeviceId};

use crate::admin::{self, AdminError};
use crate::audit::{BadReader, PullError, PullRequest, check_reader, day_range, pull};
use crate::chronology::format::Format;
use crate::clock::{Clock, SystemClock};
use crate::config::{BadDuration, Limits, parse_duration};
use crate::datadir::{self, DataDirError};
use crate::http::admit::BodyBudget;
use crate::http::metrics::Counters;
use crate::http::{AppState, router, serve};
use crate::ingest::writer::{Fault, Writer};
use crate::keys::{KeyError, load_or_create_server_key};
use crate::localtime::{BadZone, DEFAULT_ZONE, Zone};
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use crate::store::{Role, StoreError, Via};
use crate::tls::{CertSource, TlsError, load_server_config};

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
    /// TLS.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The data directory's permissions.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// A duration flag.
    #[error(transparent)]
    Duration(#[from] BadDuration),
    /// The time zone (`--tz`, `HEARTH_TZ`).
    #[error(transparent)]
    Zone(#[from] BadZone),
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
}

/// Hearth's sync server and its administration.
#[derive(Debug, Parser)]
#[command(name = "hearth-server", version, about)]
pub struct Cli {
    /// The data directory (database, keys, certificate).
    #[arg(long, global = true, default_value = "hearth-data")]
    pub data: PathBuf,
    /// The IANA time zone of times shown to people (tables, CSV, messages;
    /// JSON stays UTC), such as Europe/London or America/New_York.
    #[arg(long, global = true, env = "HEARTH_TZ", default_value = DEFAULT_ZONE)]
    pub tz: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A role for `user add`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Pulls chronologies.
    Manager,
    /// Pulls chronologies and administers.
    Admin,
}

/// An output format for `chronology`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// DATE | ACTIVITY | AGENCY (a family table adds CHILDREN).
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTPS sync server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
        /// PEM certificate chain (else self-signed in DATA/tls/).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Extra names for the self-signed certificate.
        #[arg(long = "tls-name")]
        tls_names: Vec<String>,
        /// Largest request body, bytes.
        #[arg(long, default_value_t = 4 * 1024 * 1024)]
        max_body_bytes: usize,
        /// Most records per batch.
        #[arg(long, default_value_t = 256)]
        max_batch_records: usize,
        /// Largest signed record, bytes.
        #[arg(long, default_value_t = hearth_shared::MAX_SIGNED_SIZE)]
        max_record_bytes: usize,
        /// TLS handshake and header-read timeout.
        #[arg(long, default_value = "10s")]
        header_timeout: String,
        /// Per-request timeout.
        #[arg(long, default_value = "60s")]
        request_timeout: String,
        /// Captured this long after the event is a late entry.
        #[arg(long, default_value = "24h")]
        late_entry: String,
        /// Most connections served at once; more are closed at accept.
        #[arg(long, default_value_t = 256)]
        max_connections: usize,
        /// Bytes of rejected records kept per device before only their
        /// hash, length and reason are kept (and an alarm raised).
        #[arg(long, default_value_t = crate::ingest::DEFAULT_QUARANTINE_BUDGET)]
        quarantine_budget_bytes: u64,
        /// Most connections from one source address; more are closed at
        /// accept.
        #[arg(long, default_value_t = 32)]
        max_connections_per_ip: usize,
        /// Request-body bytes held in memory at once over all requests (at
        /// least --max-body-bytes); past it, 503 busy.
        #[arg(long, default_value_t = 32 * 1024 * 1024)]
        max_body_bytes_in_flight: usize,
    },
    /// Issue a one-time device enrolment token (printed once).
    EnrolToken {
        /// Agency code.
        #[arg(long)]
        agency: String,
        /// Worker id (for a shared device, the device's own name, such as
        /// door-tablet).
        #[arg(long)]
        worker: String,
        /// A worker who may also author records on this device (a shared
        /// device's staff); repeat for each. Change the list later with
        /// `hearth-server staff add|remove`.
        #[arg(long = "staff")]
        staff: Vec<String>,
        /// How long it stays valid: 30m, 24h, 7d.
        #[arg(long, default_value = "24h")]
        expires: String,
    },
    /// Manage who may author records on a shared device.
    Staff {
        /// What to do.
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// Manage API users.
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// List devices.
    Devices {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device.
    Revoke {
        /// Device id.
        device: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Print a child's chronology (audited).
    Chronology {
        /// The child: nhs:<10 digits> or local:<issuer>:<id>.
        #[arg(long)]
        child: String,
        /// The whole family.
        #[arg(long)]
        family: bool,
        /// From, YYYY-MM-DD (a local day, --tz).
        #[arg(long)]
        from: Option<String>,
        /// To, YYYY-MM-DD (a local day, --tz; inclusive).
        #[arg(long)]
        to: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: FormatArg,
        /// Why you are reading it (required).
        #[arg(long, default_value = "")]
        reason: String,
        /// A name to log beside the operating-system user running this
        /// command (who is always logged).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// List the access log (every filter given must match).
    AccessLog {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Only reads that asked for or disclosed this child.
        #[arg(long)]
        child: Option<String>,
        /// Only reads by this user (an API user, an operating-system user,
        /// or an --as name).
        #[arg(long)]
        user: Option<String>,
        /// Only reads on or after this day, YYYY-MM-DD (local, --tz).
        #[arg(long)]
        since: Option<String>,
        /// Only reads on or before this day, YYYY-MM-DD (local, --tz).
        #[arg(long)]
        until: Option<String>,
    },
    /// List quarantined and rejected records, and alarms (audited).
    Quarantine {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Include each held record's bytes (JSON only).
        #[arg(long, requires = "json")]
        bytes: bool,
        /// Why you are reading it (required).
        #[arg(long, default_value = "")]
        reason: String,
        /// A name to log beside the operating-system user running this
        /// command (who is always logged).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Manage family links.
    Family {
        /// What to do.
        #[command(subcommand)]
        action: FamilyCommand,
    },
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints their API token once.
    Add {
        /// Name.
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List users (never their tokens).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a user's API token; it stops working at once.
    Revoke {
        /// Name.
        name: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Give a user a new API token (printed once); the old one stops
    /// working at once.
    Rotate {
        /// Name.
        name: String,
    },
}

/// `staff` subcommands.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Let workers author records on a device.
    Add {
        /// Device id.
        device: String,
        /// Worker ids.
        #[arg(required = true)]
        workers: Vec<String>,
    },
    /// Stop workers authoring records on a device (their stored records
    /// stay; a record of theirs synced later is rejected into quarantine).
    Remove {
        /// Device id.
        device: String,
        /// Worker ids.
        #[arg(required = true)]
        workers: Vec<String>,
    },
}

/// `family` subcommands.
#[derive(Debug, Subcommand)]
pub enum FamilyCommand {
    /// Link two children into one family (this also undoes an unlink of
    /// the pair); written to the family-links history.
    Link {
        /// One child.
        a: String,
        /// The other.
        b: String,
        /// Why (recommended; when given, at least 10 characters).
        #[arg(long)]
        reason: Option<String>,
        /// Who is linking (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Separate two children's families: records naming both no longer
    /// link them, now or later, until `family link`; written to the
    /// family-links history.
    Unlink {
        /// One child.
        a: String,
        /// The other.
        b: String,
        /// Why (required, at least 10 characters).
        #[arg(long)]
        reason: String,
        /// Who is unlinking (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Every family link and unlink: when, who, which children and why.
    History {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

fn child(value: &str) -> Result<ChildRef, CliError> {
    value.parse().map_err(|problem| CliError::BadChild {
        value: value.to_string(),
        problem,
    })
}

/// Who is reading, as the access log records it: the operating-system
/// user running the command, and the `--as` name beside it if one is
/// given ([`crate::whoami`]).
fn reader(as_user: Option<&str>) -> Result<String, CliError> {
    if let Some(name) = as_user {
        check_reader(name)?;
    }
    Ok(crate::whoami::reader(
        &crate::whoami::os_user(),
        as_user.map(str::trim),
    ))
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Parses the command line and runs it.
pub fn run() -> Result<(), CliError> {
    let cli = Cli::parse();
    // Before anything is created: the database and keys are for the
    // server's user alone, whatever umask it was started with.
    datadir::restrict_umask();
    datadir::prepare(&cli.data)?;
    let zone = Zone::parse(&cli.tz)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            tls_names,
            max_body_bytes,
            max_batch_records,
            max_record_bytes,
            header_timeout,
            request_timeout,
            late_entry,
            max_connections,
            quarantine_budget_bytes,
            max_connections_per_ip,
            max_body_bytes_in_flight,
        } => {
            init_tracing("info");
            if max_record_bytes == 0 || max_record_bytes > hearth_shared::MAX_SIGNED_SIZE {
                return Err(CliError::RecordLimit);
            }
            let limits = Limits {
                max_body_bytes,
                max_batch_records,
                max_record_bytes,
                header_timeout: parse_duration(&header_timeout)?,
                request_timeout: parse_duration(&request_timeout)?,
                late_entry_secs: parse_duration(&late_entry)?.as_secs() as i64,
                max_connections: max_connections.max(1),
                quarantine_budget_bytes,
                max_connections_per_ip: max_connections_per_ip.max(1),
                max_body_bytes_in_flight,
            };
            if max_body_bytes_in_flight < max_body_bytes {
                return Err(CliError::InFlightBudget);
            }
            let source = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => CertSource::Files { cert, key },
                (None, None) => CertSource::SelfSigned { names: tls_names },
                _ => return Err(CliError::HalfTls),
            };
            serve_command(cli.data, listen, source, limits, clock, zone)
        }
        Command::EnrolToken {
            agency,
            worker,
            staff,
            expires,
        } => {
            let valid_for: Duration = parse_duration(&expires)?;
            let store = SqliteStore::open(&cli.data)?;
            let (token, until) = admin::issue_enrol_token(
                &store,
                clock.as_ref(),
                &agency,
                &worker,
                &staff,
                valid_for,
            )?;
            println!("{}", token.expose());
            eprintln!(
                "enrolment token for {agency}/{worker}, valid once until {}; it is not shown again",
                zone.show(until)
            );
            Ok(())
        }
        Command::Staff { action } => {
            let (device, workers, on) = match action {
                StaffCommand::Add { device, workers } => (device, workers, true),
                StaffCommand::Remove { device, workers } => (device, workers, false),
            };
            let id: DeviceId = device
                .parse()
                .map_err(|_| CliError::BadDevice(device.clone()))?;
            let store = SqliteStore::open(&cli.data)?;
            admin::set_staff(&store, clock.as_ref(), id, &workers, on)?;
            let staff = store.device(id)?.map(|d| d.staff).unwrap_or_default();
            println!("staff of {id}: {}", staff.join(", "));
            Ok(())
        }
        Command::User {
            action: UserCommand::Add { name, role },
        } => {
            let store = SqliteStore::open(&cli.data)?;
            let role = match role {
                RoleArg::Manager => Role::Manager,
                RoleArg::Admin => Role::Admin,
            };
            let token = admin::add_user(&store, clock.as_ref(), &name, role)?;
            println!("{}", token.expose());
            eprintln!(
                "API token for {name} ({}); it is not shown again",
                role.as_str()
            );
            Ok(())
        }
        Command::User {
            action: UserCommand::List { json },
        } => {
            let store = SqliteStore::open(&cli.data)?;
            print!("{}", admin::users(&store, json, &zone)?);
            Ok(())
        }
        Command::User {
            action: UserCommand::Revoke { name, reason },
        } => {
            let store = SqliteStore::open(&cli.data)?;
            admin::revoke_user(&store, clock.as_ref(), &name, &reason)?;
            println!("revoked user {name}; their API token no longer works");
            Ok(())
        }
        Command::User {
            action: UserCommand::Rotate { name },
        } => {
            let store = SqliteStore::open(&cli.data)?;
            let token = admin::rotate_user(&store, &name)?;
            println!("{}", token.expose());
            eprintln!(
                "new API token for {name}; the old one no longer works; it is not shown again"
            );
            Ok(())
        }
        Command::Devices { json } => {
            let store = SqliteStore::open(&cli.data)?;
            print!("{}", admin::devices(&store, json, &zone)?);
            Ok(())
        }
        Command::Revoke { device, reason } => {
            let id: DeviceId = device
                .parse()
                .map_err(|_| CliError::BadDevice(device.clone()))?;
            let store = SqliteStore::open(&cli.data)?;
            admin::revoke(&store, clock.as_ref(), id, &reason)?;
            println!("revoked {id}");
            Ok(())
        }
        Command::Chronology {
            child: c,
            family,
            from,
            to,
            format,
            reason,
            as_user,
        } => {
            let who = reader(as_user.as_deref())?;
            let req = PullRequest {
                child: child(&c)?,
                family,
                range: day_range(&zone, from.as_deref(), to.as_deref(), ["--from", "--to"])?,
                reason,
                who,
                via: Via::Cli,
            };
            let store = SqliteStore::open(&cli.data)?;
            let chron = pull(&store, clock.as_ref(), &req)?;
            let format = match format {
                FormatArg::Table => Format::Table,
                FormatArg::Csv => Format::Csv,
                FormatArg::Json => Format::Json,
            };
            print!("{}", format.render_in(&chron, &zone));
            Ok(())
        }
        Command::AccessLog {
            json,
            child: c,
            user,
            since,
            until,
        } => {
            let filter = admin::AccessFilter {
                child: c.as_deref().map(child).transpose()?,
                user,
                range: day_range(
                    &zone,
                    since.as_deref(),
                    until.as_deref(),
                    ["--since", "--until"],
                )?,
            };
            let store = SqliteStore::open(&cli.data)?;
            print!("{}", admin::access_log(&store, json, &filter, &zone)?);
            Ok(())
        }
        Command::Quarantine {
            json,
            bytes,
            reason,
            as_user,
        } => {
            let who = reader(as_user.as_deref())?;
            let store = SqliteStore::open(&cli.data)?;
            let read = admin::QuarantineRead {
                who: &who,
                reason: &reason,
                json,
                bytes,
                zone: &zone,
            };
            print!("{}", admin::quarantine(&store, clock.as_ref(), &read)?);
            Ok(())
        }
        Command::Family { action } => family_command(&cli.data, clock.as_ref(), &zone, action),
    }
}

fn family_request<'a>(
    a: &'a ChildRef,
    b: &'a ChildRef,
    who: &'a str,
    reason: Option<&'a str>,
) -> admin::FamilyRequest<'a> {
    admin::FamilyRequest { a, b, who, reason }
}

fn family_command(
    data: &Path,
    clock: &dyn Clock,
    zone: &Zone,
    action: FamilyCommand,
) -> Result<(), CliError> {
    let store = SqliteStore::open(data)?;
    match action {
        FamilyCommand::Link {
            a,
            b,
            reason,
            as_user,
        } => {
            let (a, b) = (child(&a)?, child(&b)?);
            let who = reader(as_user.as_deref())?;
            admin::link_family(
                &store,
                clock,
                &family_request(&a, &b, &who, reason.as_deref()),
            )?;
            println!("linked {a} and {b}");
        }
        FamilyCommand::Unlink {
            a,
            b,
            reason,
            as_user,
        } => {
            let (a, b) = (child(&a)?, child(&b)?);
            let who = reader(as_user.as_deref())?;
            let req = family_request(&a, &b, &who, Some(&reason));
            let through = admin::unlink_family(&store, clock, &req)?;
            println!(
                "unlinked {a} and {b}; records naming both no longer link them until `family link`"
            );
            if !through.is_empty() {
                let names: Vec<String> = through.iter().map(ToString::to_string).collect();
                println!(
                    "note: they are still in one family through {}; unlink those pairs too to separate them",
                    names.join(", ")
                );
            }
        }
        FamilyCommand::History { json } => print!("{}", admin::family_history(&store, json, zone)?),
    }
    Ok(())
}

fn serve_command(
    data: PathBuf,
    listen: SocketAddr,
    source: CertSource,
    limits: Limits,
    clock: Arc<dyn Clock>,
    zone: Zone,
) -> Result<(), CliError> {
    use std::io::Write;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut store = SqliteStore::open(&data)?;
    let enrolled = !store.devices()?.is_empty();
    let server_key = Arc::new(load_or_create_server_key(&data, enrolled)?);
    let (tls, fingerprint) = load_server_config(&data, &source)?;
    // Test-only fault injection for the crash tests (the `test-hooks`
    // feature; a release server has none); see docs/api.md.
    let fault = Fault::from_env();
    let checkpointer = store.checkpoint_in_background(&data)?;
    let writer = Writer::start(store, clock.clone(), fault, move || checkpointer.nudge());
    let counters = Arc::new(Counters::default());
    let state = AppState {
        data,
        pool: Arc::default(),
        server_key,
        writer,
        limits,
        clock,
        counters: counters.clone(),
        budget: BodyBudget::new(limits.max_body_bytes_in_flight),
        zone,
    };
    let app = router(state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| CliError::Listen {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| CliError::Listen {
            addr: listen,
            source,
        })?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "fingerprint {fingerprint}");
        let _ = writeln!(out, "listening on https://{addr}");
        let _ = out.flush();
        drop(out);
        tracing::info!(%addr, "serving");
        serve(listener, tls, app, limits, counters).await;
        Ok(())
    })
}
