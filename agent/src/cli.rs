//! The command line (clap derive): [`Cli`] and its [`Command`]s. The
//! translation of `record <kind>` flags into the documented JSON form
//! ([`KindCommand::to_json`]) lives in the `flags` module, so flags and `--json`
//! share one parser and one set of error messages.

mod flags;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

pub use flags::MissingFlags;

/// The test hooks' lines of `--help`: only in a build with the `test-hooks`
/// feature (the tests'), so a tablet's binary does not even name them.
#[cfg(feature = "test-hooks")]
macro_rules! test_hooks_help {
    () => {
        "  HEARTH_INSECURE_TEST_KDF test hook (test builds only): 1 makes `init` use weak Argon2 parameters\n  HEARTH_CLOCK_SKEW_SECS  test hook (test builds only): signed seconds added to the system clock (default 0)\n"
    };
}
#[cfg(not(feature = "test-hooks"))]
macro_rules! test_hooks_help {
    () => {
        ""
    };
}

/// Hearth's tablet program: capture safeguarding observations offline,
/// sync them when there is a connection.
#[derive(Debug, Parser)]
#[command(
    name = "hearth-agent",
    version,
    after_help = concat!("Environment:\n  HEARTH_STORE            the store directory when --store is not given\n  HEARTH_PASSPHRASE       the passphrase, for scripts (every command that needs the key reads it; no `unlock` needed)\n  HEARTH_NEW_PASSPHRASE   the new passphrase for `passphrase change`, for scripts\n  HEARTH_PURGE_AFTER_DAYS the default for `purge --older-than-days` (30)\n  RUST_LOG                log filter for stderr (e.g. hearth_agent=debug); logs never hold observation text\n", test_hooks_help!(), "\nExit codes: 0 success; 1 error (bad input, usage, local failure); 2 sync finished but records were rejected or quarantined; 3 server unreachable; 4 this device has been revoked.")
)]
pub struct Cli {
    /// The store directory (default: $HEARTH_STORE, else
    /// $XDG_DATA_HOME/hearth, else ~/.local/share/hearth).
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` as clap's `try_parse_from` does, then ties each
    /// `--injury-carer-explanation` and `--injury-child-account` to the
    /// `--injury` given before it on the command line. (Why positions:
    /// matching the n-th explanation to the n-th injury would give one
    /// injury's explanation to another whenever an injury has none.)
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Self::command().try_get_matches_from(args)?;
        let mut cli = Self::from_arg_matches(&matches)?;
        if let Command::Record(RecordArgs {
            kind: Some(KindCommand::DailyPresentation { kind, .. }),
            ..
        }) = &mut cli.command
        {
            let sub = matches
                .subcommand_matches("record")
                .and_then(|m| m.subcommand_matches("daily-presentation"));
            if let Some(sub) = sub {
                kind.injury_accounts = flags::injury_accounts(kind, sub).map_err(|message| {
                    Self::command().error(ErrorKind::ArgumentConflict, message)
                })?;
            }
        }
        Ok(cli)
    }
}

/// The commands.
// `record`'s flags make its variant large; one value is parsed per process,
// so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and the device key; prints the device id.
    Init {
        /// The agency code, such as HV-NORTH (at most 16 bytes).
        #[arg(long, value_name = "CODE")]
        agency: String,
        /// The worker id (at most 32 bytes): the default author.
        #[arg(long, value_name = "ID")]
        worker: String,
    },
    /// Capture a record; prints its id.
    Record(RecordArgs),
    /// Correct a record of this device, starting from it: every field is
    /// the original's unless a flag changes it. Prints the correction's id.
    Amend(AmendArgs),
    /// List records.
    List {
        /// Only records not yet synced.
        #[arg(long)]
        pending: bool,
        /// Only records naming this child (nhs:<10 digits> or local:<issuer>:<id>).
        #[arg(long, value_name = "REF")]
        child: Option<String>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Show one record.
    Show {
        /// The record id, like 3f9a2c1d7e4b8a01-7.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Register this device with a server.
    Enrol {
        /// The server's base URL, https://host:port.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The one-time enrolment token.
        // Tokens are URL-safe base64 and one in 64 starts with '-'; without
        // this, clap would take such a token for a flag.
        #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
        token: String,
        /// Trust this PEM CA (or self-signed server certificate). Give
        /// this or --pin.
        // Not `required_unless_present`: clap's own message would not say
        // where a pin comes from (`CommandError::NoServerTrust` does).
        #[arg(long, value_name = "FILE", conflicts_with = "pin")]
        ca: Option<PathBuf>,
        /// Trust the server whose leaf certificate has this SHA-256
        /// fingerprint (sha256:<64 hex>), as your administrator gives it
        /// from the server's startup line. Give this or --ca.
        #[arg(long, value_name = "SHA256")]
        pin: Option<String>,
    },
    /// Upload pending records (and learn whether this device was revoked).
    Sync,
    /// Ask for the passphrase once and keep the store unlocked for a
    /// while (a key file on the in-memory $XDG_RUNTIME_DIR).
    Unlock {
        /// How long the unlock lasts, in minutes.
        #[arg(long, value_name = "N", default_value_t = crate::unlock::DEFAULT_SESSION_MINUTES)]
        minutes: u32,
    },
    /// End the unlock session now.
    Lock,
    /// Manage the passphrase.
    Passphrase {
        /// What to do.
        #[command(subcommand)]
        action: PassphraseCommand,
    },
    /// Drop the local copy of records the server holds: synced, with a
    /// verified receipt kept, synced at least N days ago. Receipts, seqs
    /// and hashes are kept.
    Purge {
        /// Only records synced at least this many days ago.
        #[arg(
            long,
            value_name = "N",
            env = "HEARTH_PURGE_AFTER_DAYS",
            default_value_t = 30
        )]
        older_than_days: u32,
    },
    /// The caseload the server last sent (children, households, alerts,
    /// tasks due); a task a record captured here clears shows done.
    Caseload {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the device, its registration and sync state.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the tablet app to this tablet's own browser; prints the
    /// address to open as its first line.
    App(AppArgs),
}

/// `app`'s options.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// The loopback address and port to listen on (port 0: any free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8380")]
    pub listen: std::net::SocketAddr,
    /// Listen on a non-loopback --listen address too (with a warning):
    /// anyone on that network could then reach the passphrase page.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Lock (drop the key) after this many minutes without a request.
    #[arg(long, value_name = "N", default_value_t = crate::app::DEFAULT_IDLE_MINUTES,
          value_parser = clap::value_parser!(u32).range(1..=24 * 60))]
    pub idle_minutes: u32,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Init { .. } => "init",
            Self::Record(_) => "record",
            Self::Amend(_) => "amend",
            Self::List { .. } => "list",
            Self::Show { .. } => "show",
            Self::Enrol { .. } => "enrol",
            Self::Sync => "sync",
            Self::Unlock { .. } => "unlock",
            Self::Lock => "lock",
            Self::Passphrase { .. } => "passphrase",
            Self::Purge { .. } => "purge",
            Self::Caseload { .. } => "caseload",
            Self::Status { .. } => "status",
            Self::App(_) => "app",
        }
    }
}

/// `passphrase` subcommands.
#[derive(Debug, Subcommand)]
pub enum PassphraseCommand {
    /// Re-wrap the data key under a new passphrase (the data is not
    /// re-encrypted). New passphrase: HEARTH_NEW_PASSPHRASE or a prompt.
    Change,
}

/// `record`: a kind's flags, or `--json FILE`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_required = false,
    arg_required_else_help = true
)]
pub struct RecordArgs {
    /// A record of any kind in its JSON form; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The kind, with its flags.
    #[command(subcommand)]
    pub kind: Option<KindCommand>,
}

/// The fields every record carries.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// A child: nhs:<10 digits> or local:<issuer>:<id>. Repeat for siblings.
    /// (required)
    #[arg(long = "child", value_name = "REF")]
    pub children: Vec<String>,
    /// When it happened, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub occurred_at: Option<String>,
    /// A short factual line for the chronology. (required)
    #[arg(long, value_name = "TEXT")]
    pub headline: Option<String>,
    /// The author, overriding the device's worker (shared tablets).
    #[arg(long, value_name = "ID")]
    pub author: Option<String>,
}

/// One subcommand per record kind.
#[derive(Debug, Subcommand)]
pub enum KindCommand {
    /// A home visit.
    HomeVisit {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: HomeVisitArgs,
    },
    /// A nursery or school daily presentation.
    DailyPresentation {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: DailyPresentationArgs,
    },
    /// The voice of the child.
    Voice {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: VoiceArgs,
    },
    /// A safeguarding concern.
    Concern {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: ConcernArgs,
    },
    /// A developmental review.
    DevelopmentalReview {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: DevelopmentalReviewArgs,
    },
    /// A multi-agency meeting.
    Meeting {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: MeetingArgs,
    },
    /// An escalation of a professional disagreement.
    Escalation {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: EscalationArgs,
    },
    /// A neglect assessment summary (area grades only).
    NeglectSummary {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: NeglectSummaryArgs,
    },
    /// A correction of an earlier record.
    Amendment {
        #[command(flatten)]
        #[allow(missing_docs)]
        common: CommonArgs,
        #[command(flatten)]
        #[allow(missing_docs)]
        kind: AmendmentArgs,
    },
}

/// Home visit fields.
#[derive(Debug, Args)]
pub struct HomeVisitArgs {
    /// announced, unannounced or no_access. (required)
    #[arg(long)]
    pub access: Option<String>,
    /// Who was present: ROLE or ROLE:relationship (mother, father,
    /// male_carer_or_partner, grandparent, sibling, other_adult, unknown_adult).
    #[arg(long, value_name = "ROLE[:RELATIONSHIP]")]
    pub present: Vec<String>,
    /// awake, asleep or not_seen. (required)
    #[arg(long)]
    pub child_seen: Option<String>,
    /// Why the child was not seen.
    #[arg(long)]
    pub not_seen_reason: Option<String>,
    /// Whether the child was seen alone.
    #[arg(long)]
    pub seen_alone: Option<bool>,
    /// Whether the child's bedroom was seen.
    #[arg(long)]
    pub bedroom_seen: Option<bool>,
    /// An observation by care domain: DOMAIN:GRADE[:note], grade 1 (best) to 5.
    #[arg(long, value_name = "DOMAIN:GRADE[:NOTE]")]
    pub observation: Vec<String>,
    /// What happened, in the worker's words.
    #[arg(long)]
    pub narrative: Option<String>,
}

/// Daily presentation fields.
#[derive(Debug, Args)]
pub struct DailyPresentationArgs {
    /// present, late, absent_with_reason or absent_unexplained. (required)
    #[arg(long)]
    pub attendance: Option<String>,
    /// The reason given for an absence.
    #[arg(long)]
    pub absence_reason: Option<String>,
    /// Arrival time, HH:MM.
    #[arg(long, value_name = "HH:MM")]
    pub arrival_time: Option<String>,
    /// Who brought the child.
    #[arg(long)]
    pub brought_by: Option<String>,
    /// Who collected the child.
    #[arg(long)]
    pub collected_by: Option<String>,
    /// The child arrived hungry.
    #[arg(long)]
    pub hungry: bool,
    /// A hygiene concern.
    #[arg(long)]
    pub hygiene_concern: bool,
    /// A clothing concern.
    #[arg(long)]
    pub clothing_concern: bool,
    /// A nappy concern.
    #[arg(long)]
    pub nappy_concern: bool,
    /// A note on the concerns.
    #[arg(long)]
    pub concern_note: Option<String>,
    /// An injury: REGION:DESCRIPTION, split at the first colon (REGION is
    /// head, face, ears, neck, chest, abdomen, back, buttocks, genital, arm,
    /// hand, leg, foot or other; the description may hold colons). Repeat
    /// for each injury, at most 4.
    #[arg(long, value_name = "REGION:DESCRIPTION")]
    pub injury: Vec<String>,
    /// What the carer said happened, for the --injury given just before
    /// this flag.
    #[arg(long, value_name = "TEXT")]
    pub injury_carer_explanation: Vec<String>,
    /// What the child said, in their words, for the --injury given just
    /// before this flag.
    #[arg(long, value_name = "TEXT")]
    pub injury_child_account: Vec<String>,
    /// For each --injury, its carer's explanation and child's account, tied
    /// to it by position on the command line ([`Cli::try_parse_args`]).
    #[arg(skip)]
    pub injury_accounts: Vec<InjuryAccounts>,
}

/// The carer's explanation and the child's account of one `--injury`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjuryAccounts {
    /// `--injury-carer-explanation`.
    pub carer_explanation: Option<String>,
    /// `--injury-child-account`.
    pub child_account: Option<String>,
}

/// Voice of the child fields.
#[derive(Debug, Args)]
pub struct VoiceArgs {
    /// words, behaviour, play or drawing. (required)
    #[arg(long)]
    pub mode: Option<String>,
    /// The child's own words, verbatim.
    #[arg(long)]
    pub words: Option<String>,
    /// The observed behaviour (pre-verbal children).
    #[arg(long)]
    pub behaviour: Option<String>,
    /// Who was present: ROLE or ROLE:relationship.
    #[arg(long, value_name = "ROLE[:RELATIONSHIP]")]
    pub present: Vec<String>,
    /// Whether the child was seen alone.
    #[arg(long)]
    pub seen_alone: Option<bool>,
    /// What it may be telling us.
    #[arg(long)]
    pub meaning: Option<String>,
    /// The action taken.
    #[arg(long)]
    pub action: Option<String>,
}

/// Concern fields.
#[derive(Debug, Args)]
pub struct ConcernArgs {
    /// neglect, physical, emotional, sexual, harmful_sexual_behaviour,
    /// domestic_abuse, parental_substance_misuse, parental_mental_health,
    /// developmental. (required)
    #[arg(long)]
    pub category: Option<String>,
    /// What was seen or said. (required)
    #[arg(long)]
    pub seen_or_said: Option<String>,
    /// referred, shared or none. (required)
    #[arg(long)]
    pub action: Option<String>,
    /// To whom it was referred, with whom it was shared, or, for
    /// `--action none`, why nothing was done. (required, for every action)
    #[arg(long)]
    pub action_detail: Option<String>,
}

/// Developmental review fields.
#[derive(Debug, Args)]
pub struct DevelopmentalReviewArgs {
    /// new_birth, 6_8_weeks, 1_year or 2_2half_years. (required)
    #[arg(long)]
    pub contact: Option<String>,
    /// The child was not brought to the appointment.
    #[arg(long)]
    pub was_not_brought: bool,
    /// An outcome: DOMAIN:OUTCOME (communication, gross_motor, fine_motor,
    /// problem_solving, personal_social : on_track, monitor, below_threshold).
    #[arg(long, value_name = "DOMAIN:OUTCOME")]
    pub outcome: Vec<String>,
    /// A note.
    #[arg(long)]
    pub note: Option<String>,
}

/// Meeting fields.
#[derive(Debug, Args)]
pub struct MeetingArgs {
    /// strategy_discussion, initial_conference, review_conference,
    /// core_group, child_in_need_review or team_around_the_child.
    /// (required)
    #[arg(long)]
    pub meeting_type: Option<String>,
    /// An attendee: NAME or NAME@AGENCY. Repeat for each. (required)
    #[arg(long, value_name = "NAME[@AGENCY]")]
    pub attendee: Vec<String>,
    /// An agency that was absent.
    #[arg(long, value_name = "AGENCY")]
    pub absent_agency: Vec<String>,
    /// The decisions.
    #[arg(long)]
    pub decisions: Option<String>,
    /// recorded or not_recorded. (required)
    #[arg(long)]
    pub minutes: Option<String>,
    /// Who recorded the minutes.
    #[arg(long)]
    pub minutes_by: Option<String>,
}

/// Escalation fields.
#[derive(Debug, Args)]
pub struct EscalationArgs {
    /// The escalation stage. (required)
    #[arg(long)]
    pub stage: Option<String>,
    /// Who raised it. (required)
    #[arg(long)]
    pub raised_by: Option<String>,
    /// With whom it was raised. (required)
    #[arg(long)]
    pub raised_with: Option<String>,
    /// threshold, decision, inaction, information_sharing or drift.
    /// (required)
    #[arg(long)]
    pub disputed: Option<String>,
    /// The disagreement. (required)
    #[arg(long)]
    pub disagreement: Option<String>,
    /// The outcome.
    #[arg(long)]
    pub outcome: Option<String>,
    /// It is resolved.
    #[arg(long)]
    pub resolved: bool,
}

/// Neglect summary fields.
#[derive(Debug, Args)]
pub struct NeglectSummaryArgs {
    /// An area grade: AREA:GRADE, grade 1 (best) to 5. Repeat for each
    /// area. (required)
    #[arg(long, value_name = "AREA:GRADE")]
    pub grade: Vec<String>,
    /// How many visits the assessment drew on. (required)
    #[arg(long)]
    pub visits: Option<String>,
    /// The assessor is trained in the tool.
    #[arg(long)]
    pub assessor_trained: bool,
    /// Evidence, in the assessor's words.
    #[arg(long)]
    pub evidence: Option<String>,
}

/// `amend RECORD_ID`: what to change. Unnamed fields keep the
/// original's values.
#[derive(Debug, Args)]
pub struct AmendArgs {
    /// The record corrected, like 3f9a2c1d7e4b8a01-7 (see `hearth-agent list`).
    #[arg(value_name = "RECORD_ID")]
    pub id: String,
    /// Why it is corrected. (required)
    #[arg(long, required = true)]
    pub reason: String,
    /// The record was entered in error: it stays in the chronology, struck
    /// through, with who, when and why. Takes only --reason.
    #[arg(long)]
    pub entered_in_error: bool,
    /// The corrected children (repeat for each); default: the original's.
    #[arg(long = "child", value_name = "REF")]
    pub children: Vec<String>,
    /// The corrected time, RFC 3339; default: the original's.
    #[arg(long, value_name = "RFC3339")]
    pub occurred_at: Option<String>,
    /// The corrected headline; default: the original's.
    #[arg(long, value_name = "TEXT")]
    pub headline: Option<String>,
    /// The author of the correction, overriding the device's worker.
    #[arg(long, value_name = "ID")]
    pub author: Option<String>,
    /// A corrected field of the record's JSON form (see `hearth-agent show`),
    /// like --set action="Shared with the GP". VALUE is read as JSON when
    /// it is JSON (true, 3, ["a"], null to remove), else as text. Repeatable.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// A JSON object of corrected fields, as --set; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Amendment fields.
#[derive(Debug, Args)]
pub struct AmendmentArgs {
    /// The record corrected, like 3f9a2c1d7e4b8a01-7. (required)
    #[arg(long, value_name = "ID")]
    pub corrects: Option<String>,
    /// Why it is corrected. (required)
    #[arg(long)]
    pub reason: Option<String>,
    /// The correction.
    #[arg(long)]
    pub correction: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
