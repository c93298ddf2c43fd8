//! The command line's shape: [`Cli`] and its subcommands, as clap parses
//! them. Strings become types here, at the edge: addresses
//! ([`SocketAddr`]), durations ([`Duration`], through
//! [`crate::config::parse_duration`]), roles and formats.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use super::store::{BackupArgs, StoreCommand};
use crate::chronology::format::Format;
use crate::config::parse_duration;
use crate::localtime::DEFAULT_ZONE;
use crate::store::Role;

/// Hearth's sync server and its administration.
#[derive(Debug, Parser)]
#[command(name = "hearth-server", version, about)]
pub struct Cli {
    /// The data directory (database, keys, certificate).
    #[arg(long, global = true, default_value = "hearth-data")]
    pub data: PathBuf,
    /// Keep the data in PostgreSQL at this URL (postgres://USER@HOST/DB)
    /// instead of SQLite in --data; the keys, certificate and signals.toml
    /// stay in --data, which every instance is given a copy of.
    #[arg(long, global = true, env = "HEARTH_DATABASE")]
    pub database: Option<String>,
    /// The PEM file of the CA that signed the PostgreSQL server's
    /// certificate; with it, the connection to the database must use TLS.
    #[arg(long, global = true, env = "HEARTH_DATABASE_CA", requires = "database")]
    pub database_ca: Option<PathBuf>,
    /// The partnership served (PostgreSQL hosts several, each in its own
    /// schema; SQLite holds one).
    #[arg(long, global = true, env = "HEARTH_PARTNERSHIP", default_value = crate::tenancy::Partnership::DEFAULT)]
    pub partnership: String,
    /// The IANA time zone of times shown to people (tables, CSV, messages;
    /// JSON stays UTC), such as Europe/London or America/New_York.
    #[arg(long, global = true, env = "HEARTH_TZ", default_value = DEFAULT_ZONE)]
    pub tz: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

// Roles and formats are offered by their words (`Role::ALL`,
// `Format::ALL`), never listed again here; clap shows each with its
// summary in `--help`.

impl ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        Role::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let summary = match self {
            Role::Manager => "Pulls chronologies",
            Role::Admin => "Pulls chronologies and administers",
            Role::Auditor => "Reads the access log only",
        };
        Some(PossibleValue::new(self.as_str()).help(summary))
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()).help(self.summary()))
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTPS sync server.
    Serve(ServeArgs),
    /// Issue a one-time device enrolment token (printed once).
    EnrolToken(EnrolTokenArgs),
    /// Manage who may author records on a shared device.
    Staff {
        /// What to do.
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// Manage users: their roles, API tokens and web-app passwords.
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
    Chronology(ChronologyArgs),
    /// Print a child's practice signals (audited), every child with an
    /// open signal (--all, audited), or acknowledge one (`signals ack`).
    Signals(SignalsArgs),
    /// List the access log (every filter given must match).
    AccessLog(AccessLogArgs),
    /// List quarantined and rejected records, and alarms (audited).
    Quarantine(QuarantineArgs),
    /// Manage family links, and the proposals of records that named
    /// children together.
    Family {
        /// What to do.
        #[command(subcommand)]
        action: FamilyCommand,
    },
    /// The people register: children, adults and their relationships
    /// (every read and change is written to the register log).
    Person {
        /// What to do.
        #[command(subcommand)]
        action: PersonCommand,
    },
    /// Household membership in the people register.
    Household {
        /// What to do.
        #[command(subcommand)]
        action: HouseholdCommand,
    },
    /// Say that two references name the same child, or undo it.
    Identity {
        /// What to do.
        #[command(subcommand)]
        action: IdentityCommand,
    },
    /// Caseloads: which children each device gets, and their visiting
    /// plans (every change is written to the register log).
    Caseload {
        /// What to do.
        #[command(subcommand)]
        action: CaseloadCommand,
    },
    /// Move a partnership's data between stores (`store copy`).
    Store {
        /// What to do.
        #[command(subcommand)]
        action: StoreCommand,
    },
    /// Take a consistent backup of the SQLite store while `serve` runs.
    Backup(BackupArgs),
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// PEM certificate chain (else self-signed in DATA/tls/).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Extra names for the self-signed certificate.
    #[arg(long = "tls-name")]
    pub tls_names: Vec<String>,
    /// Largest request body, bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most records per batch.
    #[arg(long, default_value_t = 256)]
    pub max_batch_records: usize,
    /// Largest signed record, bytes.
    #[arg(long, default_value_t = hearth_shared::MAX_SIGNED_SIZE)]
    pub max_record_bytes: usize,
    /// TLS handshake and header-read timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Captured this long after the event is a late entry.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub late_entry: Duration,
    /// Most connections served at once; more are closed at accept.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Bytes of rejected records kept per device before only their
    /// hash, length and reason are kept (and an alarm raised).
    #[arg(long, default_value_t = crate::ingest::DEFAULT_QUARANTINE_BUDGET)]
    pub quarantine_budget_bytes: u64,
    /// Most connections from one source address; more are closed at
    /// accept.
    #[arg(long, default_value_t = 32)]
    pub max_connections_per_ip: usize,
    /// Request-body bytes held in memory at once over all requests (at
    /// least --max-body-bytes); past it, 503 busy.
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes_in_flight: usize,
    /// Minutes a web-app session may go unused before its user must sign
    /// in again (1 to 1440).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub session_idle_minutes: u64,
}

/// `enrol-token`.
#[derive(Debug, Args)]
pub struct EnrolTokenArgs {
    /// Agency code.
    #[arg(long)]
    pub agency: String,
    /// Worker id (for a shared device, the device's own name, such as
    /// door-tablet).
    #[arg(long)]
    pub worker: String,
    /// A worker who may also author records on this device (a shared
    /// device's staff); repeat for each. Change the list later with
    /// `hearth-server staff add|remove`.
    #[arg(long = "staff")]
    pub staff: Vec<String>,
    /// How long it stays valid: 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub expires: Duration,
}

/// `chronology`.
#[derive(Debug, Args)]
pub struct ChronologyArgs {
    /// The child: nhs:<10 digits> or local:<issuer>:<id>.
    #[arg(long)]
    pub child: String,
    /// The whole family.
    #[arg(long)]
    pub family: bool,
    /// From, YYYY-MM-DD (a local day, --tz).
    #[arg(long)]
    pub from: Option<String>,
    /// To, YYYY-MM-DD (a local day, --tz; inclusive).
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Why you are reading it (required).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// A name to log beside the operating-system user running this
    /// command (who is always logged).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// `signals`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SignalsArgs {
    /// Acknowledge a signal instead.
    #[command(subcommand)]
    pub action: Option<SignalsCommand>,
    /// The child: nhs:<10 digits> or local:<issuer>:<id>.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub child: Option<String>,
    /// Every child with an open signal: the caseload.
    #[arg(long)]
    pub all: bool,
    /// The whole family's signals (with --child).
    #[arg(long, requires = "child")]
    pub family: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: SignalsFormat,
    /// Why you are reading them (required).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// A name to log beside the operating-system user running this
    /// command (who is always logged).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// How `signals` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignalsFormat {
    /// For people.
    Table,
    /// JSON.
    Json,
}

/// `signals ack`.
#[derive(Debug, Subcommand)]
pub enum SignalsCommand {
    /// Acknowledge a child's current signal: what was decided, kept with
    /// the evidence it covers (new evidence re-opens it).
    Ack(AckArgs),
}

/// `signals ack`.
#[derive(Debug, Args)]
pub struct AckArgs {
    /// The child: nhs:<10 digits> or local:<issuer>:<id>.
    #[arg(long)]
    pub child: String,
    /// The rule, as `signals` shows it (such as meetings_without_minutes).
    #[arg(long)]
    pub rule: String,
    /// What was decided, or why no action is needed (required).
    #[arg(long, default_value = "")]
    pub note: String,
    /// A name to log beside the operating-system user running this
    /// command (who is always logged).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// `access-log`.
#[derive(Debug, Args)]
pub struct AccessLogArgs {
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Only reads that asked for or disclosed this child.
    #[arg(long)]
    pub child: Option<String>,
    /// Only reads by this user (an API user, an operating-system user,
    /// or an --as name).
    #[arg(long)]
    pub user: Option<String>,
    /// Only reads on or after this day, YYYY-MM-DD (local, --tz).
    #[arg(long)]
    pub since: Option<String>,
    /// Only reads on or before this day, YYYY-MM-DD (local, --tz).
    #[arg(long)]
    pub until: Option<String>,
}

/// `quarantine`.
#[derive(Debug, Args)]
pub struct QuarantineArgs {
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Include each held record's bytes (JSON only).
    #[arg(long, requires = "json")]
    pub bytes: bool,
    /// Why you are reading it (required).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// A name to log beside the operating-system user running this
    /// command (who is always logged).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints their API token once. Give them a web-app
    /// password with `user passwd`.
    Add {
        /// Name.
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List users: role, when added, whether a web-app password is set,
    /// revocation (never tokens, passwords or their hashes).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a user: their API token and web-app sessions stop working at
    /// once, and they cannot sign in.
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
    /// Set a user's web-app password, read from the first line of
    /// standard input (at least 12 characters); their signed-in sessions
    /// end. Example: `read -rs PW && printf '%s\n' "$PW" | hearth-server
    /// user passwd dsl`.
    Passwd {
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
    Link(FamilyLinkArgs),
    /// Separate two children's families: records naming both no longer
    /// link them, now or later, until `family link`; written to the
    /// family-links history.
    Unlink(FamilyUnlinkArgs),
    /// Every family link and unlink: when, who, which children and why.
    History {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Pairs of children named together by records that do not imply a
    /// household, and not yet linked or unlinked.
    Proposals {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Confirm a proposal: `family link`.
    Confirm(FamilyLinkArgs),
    /// Reject a proposal: `family unlink`.
    Reject(FamilyUnlinkArgs),
}

/// `family link` and `family confirm`.
#[derive(Debug, Args)]
pub struct FamilyLinkArgs {
    /// One child.
    pub a: String,
    /// The other.
    pub b: String,
    /// Why (recommended; when given, at least 10 characters).
    #[arg(long)]
    pub reason: Option<String>,
    /// Who is linking (default: $USER).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// `family unlink` and `family reject`.
#[derive(Debug, Args)]
pub struct FamilyUnlinkArgs {
    /// One child.
    pub a: String,
    /// The other.
    pub b: String,
    /// Why (required, at least 10 characters).
    #[arg(long)]
    pub reason: String,
    /// Who is unlinking (default: $USER).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// Who reads or changes the register (`--as`, default $USER).
#[derive(Debug, Clone, Args)]
pub struct AsUser {
    /// Who is reading or changing the register (default: $USER).
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// A person's dates and sex as the command line gives them.
#[derive(Debug, Clone, Args)]
pub struct PersonFields {
    /// Date of birth, YYYY-MM-DD.
    #[arg(long, conflicts_with = "edd")]
    pub dob: Option<String>,
    /// Expected date of delivery of an unborn child, YYYY-MM-DD.
    #[arg(long)]
    pub edd: Option<String>,
    /// Sex: female, male or indeterminate.
    #[arg(long)]
    pub sex: Option<String>,
}

/// `person` subcommands.
#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Add a child (with --ref) or an adult (with --adult).
    Add {
        /// A reference of the child (nhs:NUMBER or local:ISSUER:ID); repeat
        /// for several.
        #[arg(long = "ref", conflicts_with = "adult")]
        refs: Vec<String>,
        /// An adult (no references, no dates).
        #[arg(long)]
        adult: bool,
        /// The name.
        #[arg(long)]
        name: String,
        /// Dates and sex.
        #[command(flatten)]
        fields: PersonFields,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// Relate an adult to a child.
    Relate {
        /// The adult (P12).
        #[arg(long)]
        adult: String,
        /// The child (a reference or P12).
        #[arg(long)]
        child: String,
        /// mother, father, male_carer, grandparent or other.
        #[arg(long)]
        relationship: String,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// Change a person's name, dates or sex, with a reason.
    Edit {
        /// The person (a reference or P12).
        person: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// New dates or sex.
        #[command(flatten)]
        fields: PersonFields,
        /// Why (required, at least 10 characters).
        #[arg(long)]
        reason: String,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// One person: name, dates, every reference, relations, households
    /// (logged).
    Show {
        /// The person (a reference or P12).
        person: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// Everyone, or those whose name or reference holds TEXT (logged).
    List {
        /// Text to find in names and references.
        #[arg(long)]
        find: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// Load people from a CSV file; rows refused are reported (exit 1).
    Import {
        /// The CSV file (header:
        /// kind,refs,name,dob,edd,sex,household,from,related_to,relationship).
        file: PathBuf,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// The register log: every read and change, oldest first.
    Log {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `household` subcommands.
#[derive(Debug, Subcommand)]
pub enum HouseholdCommand {
    /// Add a person to a household from a date.
    AddMember {
        /// The household's name.
        #[arg(long)]
        household: String,
        /// The person (a reference or P12).
        #[arg(long)]
        person: String,
        /// From, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// End a person's current membership of a household.
    EndMember {
        /// The household's name.
        #[arg(long)]
        household: String,
        /// The person (a reference or P12).
        #[arg(long)]
        person: String,
        /// Until (the last day there), YYYY-MM-DD.
        #[arg(long)]
        until: String,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
    /// A household's members, past and present (logged).
    Show {
        /// The household's name.
        name: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Who.
        #[command(flatten)]
        who: AsUser,
    },
}

/// `identity` subcommands.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Say two references name the same child: each one's chronology then
    /// shows the records made under both.
    Link(IdentityArgs),
    /// Undo `identity link`.
    Unlink(IdentityArgs),
}

/// `identity link` and `identity unlink`.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// One reference.
    pub a: String,
    /// The other.
    pub b: String,
    /// Why (required, at least 10 characters).
    #[arg(long)]
    pub reason: String,
    /// Who.
    #[command(flatten)]
    pub who: AsUser,
}

/// Whom a child is assigned to: a worker or a group (one of them).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AssigneeArgs {
    /// A worker (an enrolment's worker or staff id).
    #[arg(long)]
    pub worker: Option<String>,
    /// A group of devices (a nursery room, a school class).
    #[arg(long)]
    pub group: Option<String>,
}

/// Whose caseload `caseload show` prints (one of them).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct WhoseArgs {
    /// What this device would get at its next sync.
    #[arg(long)]
    pub device: Option<String>,
    /// The children assigned to this worker.
    #[arg(long)]
    pub worker: Option<String>,
    /// The children assigned to this group.
    #[arg(long)]
    pub group: Option<String>,
}

/// `caseload` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaseloadCommand {
    /// Assign a child to a worker or a group.
    Assign {
        /// The child (any of its references).
        #[arg(long)]
        child: String,
        /// To whom.
        #[command(flatten)]
        to: AssigneeArgs,
        /// Who is assigning (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Undo an assignment.
    Unassign {
        /// The child (the reference it was assigned by).
        #[arg(long)]
        child: String,
        /// From whom.
        #[command(flatten)]
        from: AssigneeArgs,
        /// Who is unassigning (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Put a device in a group (a room's shared tablet), or take it out.
    Group {
        /// The device id (`hearth-server devices`).
        #[arg(long)]
        device: String,
        /// The group.
        #[arg(long)]
        group: String,
        /// Take the device out of the group.
        #[arg(long)]
        leave: bool,
        /// Who is changing it (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Set a child's visiting plan (a home visit every DAYS working days),
    /// or end it (--end).
    Plan {
        /// The child.
        #[arg(long)]
        child: String,
        /// Working days (Monday to Friday) between home visits, 1 to 60.
        #[arg(long, required_unless_present = "end", conflicts_with = "end")]
        visit_every: Option<u16>,
        /// What the plan is, for the alerts line ("child protection plan").
        #[arg(long, required_unless_present = "end", conflicts_with = "end")]
        label: Option<String>,
        /// End the child's plan.
        #[arg(long)]
        end: bool,
        /// Who is changing it (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Print a caseload as a device would get it (the read is logged).
    Show {
        /// Whose.
        #[command(flatten)]
        whose: WhoseArgs,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Who is reading (default: $USER).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}
