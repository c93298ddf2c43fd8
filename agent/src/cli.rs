//! The command line (clap derive): [`Cli`] and its [`Command`]s, and the
//! translation of `record <kind>` flags into the documented JSON form
//! ([`KindArgs::to_json`]), so flags and `--json` share one parser and one
//! set of error messages.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::{Map, Value};

/// Hearth's tablet program: capture safeguarding observations offline,
/// sync them when there is a connection.
#[derive(Debug, Parser)]
#[command(
    name = "hearth-agent",
    version,
    after_help = "Environment:\n  HEARTH_STORE            the store directory when --store is not given\n  HEARTH_PASSPHRASE       the passphrase, for scripts (every command that needs the key reads it; no `unlock` needed)\n  HEARTH_NEW_PASSPHRASE   the new passphrase for `passphrase change`, for scripts\n  HEARTH_PURGE_AFTER_DAYS the default for `purge --older-than-days` (30)\n  HEARTH_INSECURE_TEST_KDF test hook, debug builds only: 1 makes `init` use weak Argon2 parameters\n  RUST_LOG                log filter for stderr (e.g. hearth_agent=debug); logs never hold observation text\n  HEARTH_CLOCK_SKEW_SECS  test hook: signed seconds added to the system clock (default 0)\n\nExit codes: 0 success; 1 error (bad input, usage, local failure); 2 sync finished but records were rejected or quarantined; 3 server unreachable; 4 this device has been revoked."
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
                kind.injury_accounts = injury_accounts(kind, sub).map_err(|message| {
                    Self::command().error(ErrorKind::ArgumentConflict, message)
                })?;
            }
        }
        Ok(cli)
    }
}

/// Picks one account out of an [`InjuryAccounts`].
type AccountField = fn(&mut InjuryAccounts) -> &mut Option<String>;

/// Each `--injury`'s accounts, from where the flags stand on the command
/// line: an account belongs to the nearest `--injury` before it.
fn injury_accounts(
    k: &DailyPresentationArgs,
    m: &ArgMatches,
) -> Result<Vec<InjuryAccounts>, String> {
    let positions =
        |id: &str| -> Vec<usize> { m.indices_of(id).map(Iterator::collect).unwrap_or_default() };
    let injuries = positions("injury");
    let mut accounts = vec![InjuryAccounts::default(); injuries.len()];
    let flags: [(&str, &str, &[String], AccountField); 2] = [
        (
            "injury_carer_explanation",
            "--injury-carer-explanation",
            &k.injury_carer_explanation,
            |a| &mut a.carer_explanation,
        ),
        (
            "injury_child_account",
            "--injury-child-account",
            &k.injury_child_account,
            |a| &mut a.child_account,
        ),
    ];
    for (id, flag, values, slot) in flags {
        for (at, value) in positions(id).into_iter().zip(values) {
            let owner = injuries.iter().rposition(|&i| i < at).ok_or_else(|| {
                format!("{flag} {value:?} comes before any --injury; give it after the --injury REGION:DESCRIPTION it belongs to")
            })?;
            let slot = slot(&mut accounts[owner]);
            if slot.is_some() {
                return Err(format!(
                    "{flag} is given twice for --injury {:?}; give one per injury, after the --injury it belongs to",
                    k.injury[owner]
                ));
            }
            *slot = Some(value.clone());
        }
    }
    Ok(accounts)
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
    /// Show the device, its registration and sync state.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Init { .. } => "init",
            Self::Record(_) => "record",
            Self::List { .. } => "list",
            Self::Show { .. } => "show",
            Self::Enrol { .. } => "enrol",
            Self::Sync => "sync",
            Self::Unlock { .. } => "unlock",
            Self::Lock => "lock",
            Self::Passphrase { .. } => "passphrase",
            Self::Purge { .. } => "purge",
            Self::Status { .. } => "status",
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

/// A number if it parses as one (so the JSON parser reports range errors),
/// else the text (so it reports a type error naming the field).
fn number_or_text(s: &str) -> Value {
    s.trim()
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(s.to_string()))
}

/// Builds a JSON object from optional fields, skipping unset ones, and
/// notes each required flag that was not given.
struct Obj(Map<String, Value>, Vec<&'static str>);

impl Obj {
    /// Notes `flag` as missing unless it was `given`.
    fn need(mut self, flag: &'static str, given: bool) -> Self {
        if !given {
            self.1.push(flag);
        }
        self
    }
    fn text(mut self, name: &str, v: &Option<String>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), Value::String(v.clone()));
        }
        self
    }
    fn number(mut self, name: &str, v: &Option<String>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), number_or_text(v));
        }
        self
    }
    fn flag(mut self, name: &str, v: bool) -> Self {
        if v {
            self.0.insert(name.into(), Value::Bool(true));
        }
        self
    }
    fn opt_bool(mut self, name: &str, v: Option<bool>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), Value::Bool(v));
        }
        self
    }
    fn list(mut self, name: &str, items: Vec<Value>) -> Self {
        if !items.is_empty() {
            self.0.insert(name.into(), Value::Array(items));
        }
        self
    }
}

/// `A:B[:C]` split into named parts; a part that is a number becomes one.
fn pairs(items: &[String], names: &[&str], numeric: &[&str]) -> Vec<Value> {
    items
        .iter()
        .map(|item| {
            let mut obj = Map::new();
            for (name, part) in names.iter().zip(item.splitn(names.len(), ':')) {
                let v = if numeric.contains(name) {
                    number_or_text(part)
                } else {
                    Value::String(part.to_string())
                };
                obj.insert((*name).into(), v);
            }
            Value::Object(obj)
        })
        .collect()
}

fn present(items: &[String]) -> Vec<Value> {
    pairs(items, &["role", "relationship"], &[])
}

/// `--injury REGION:DESCRIPTION` with its accounts, as `injuries` objects.
fn injuries(k: &DailyPresentationArgs) -> Vec<Value> {
    // A programming error, not an input one: losing a child's account in
    // silence would be worse than stopping.
    assert!(
        k.injury_accounts.len() == k.injury.len()
            || (k.injury_carer_explanation.is_empty() && k.injury_child_account.is_empty()),
        "parse with Cli::try_parse_args, which ties each injury account to its --injury"
    );
    let mut list = pairs(&k.injury, &["body_region", "description"], &[]);
    for (injury, accounts) in list.iter_mut().zip(&k.injury_accounts) {
        if let Value::Object(obj) = injury {
            for (name, text) in [
                ("carer_explanation", &accounts.carer_explanation),
                ("child_account", &accounts.child_account),
            ] {
                if let Some(text) = text {
                    obj.insert(name.into(), text.as_str().into());
                }
            }
        }
    }
    list
}

/// Record flags that must be given were not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`record {command}` needs {}; every flag marked (required) in `hearth-agent record {command} --help` must be given",
    and_list(.missing)
)]
pub struct MissingFlags {
    /// The subcommand, such as `concern`.
    pub command: String,
    /// Every missing flag, in `--help` order.
    pub missing: Vec<&'static str>,
}

/// "--a", "--a and --b", "--a, --b and --c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl KindCommand {
    /// The common fields and the kind's JSON name and fields.
    fn parts(&self) -> (&CommonArgs, &'static str, Obj) {
        let o = Obj(Map::new(), Vec::new());
        match self {
            Self::HomeVisit { common, kind: k } => (
                common,
                "home_visit",
                o.need("--access", k.access.is_some())
                    .need("--child-seen", k.child_seen.is_some())
                    .text("access", &k.access)
                    .list("present", present(&k.present))
                    .text("child_seen", &k.child_seen)
                    .text("not_seen_reason", &k.not_seen_reason)
                    .opt_bool("seen_alone", k.seen_alone)
                    .opt_bool("bedroom_seen", k.bedroom_seen)
                    .list(
                        "observations",
                        pairs(&k.observation, &["domain", "grade", "note"], &["grade"]),
                    )
                    .text("narrative", &k.narrative),
            ),
            Self::DailyPresentation { common, kind: k } => (
                common,
                "daily_presentation",
                o.need("--attendance", k.attendance.is_some())
                    .text("attendance", &k.attendance)
                    .text("absence_reason", &k.absence_reason)
                    .text("arrival_time", &k.arrival_time)
                    .text("brought_by", &k.brought_by)
                    .text("collected_by", &k.collected_by)
                    .flag("hungry", k.hungry)
                    .flag("hygiene_concern", k.hygiene_concern)
                    .flag("clothing_concern", k.clothing_concern)
                    .flag("nappy_concern", k.nappy_concern)
                    .text("concern_note", &k.concern_note)
                    .list("injuries", injuries(k)),
            ),
            Self::Voice { common, kind: k } => (
                common,
                "voice",
                o.need("--mode", k.mode.is_some())
                    .text("mode", &k.mode)
                    .text("words", &k.words)
                    .text("behaviour", &k.behaviour)
                    .list("present", present(&k.present))
                    .opt_bool("seen_alone", k.seen_alone)
                    .text("meaning", &k.meaning)
                    .text("action", &k.action),
            ),
            Self::Concern { common, kind: k } => (
                common,
                "concern",
                o.need("--category", k.category.is_some())
                    .need("--seen-or-said", k.seen_or_said.is_some())
                    .need("--action", k.action.is_some())
                    // The core asks why, for every action including none:
                    // a decision not to act is one a case review examines.
                    .need("--action-detail", k.action_detail.is_some())
                    .text("category", &k.category)
                    .text("seen_or_said", &k.seen_or_said)
                    .text("action", &k.action)
                    .text("action_detail", &k.action_detail),
            ),
            Self::DevelopmentalReview { common, kind: k } => (
                common,
                "developmental_review",
                o.need("--contact", k.contact.is_some())
                    .text("contact", &k.contact)
                    .flag("was_not_brought", k.was_not_brought)
                    .list("outcomes", pairs(&k.outcome, &["domain", "outcome"], &[]))
                    .text("note", &k.note),
            ),
            Self::Meeting { common, kind: k } => {
                let attendees = k
                    .attendee
                    .iter()
                    .map(|a| {
                        let mut obj = Map::new();
                        let (name, agency) = match a.rsplit_once('@') {
                            Some((n, ag)) => (n, Some(ag)),
                            None => (a.as_str(), None),
                        };
                        obj.insert("name".into(), name.into());
                        if let Some(ag) = agency {
                            obj.insert("agency".into(), ag.into());
                        }
                        Value::Object(obj)
                    })
                    .collect();
                let absent = k
                    .absent_agency
                    .iter()
                    .map(|a| Value::from(a.as_str()))
                    .collect();
                (
                    common,
                    "meeting",
                    o.need("--meeting-type", k.meeting_type.is_some())
                        .need("--attendee", !k.attendee.is_empty())
                        .need("--minutes", k.minutes.is_some())
                        .text("meeting_type", &k.meeting_type)
                        .list("attendees", attendees)
                        .list("absent_agencies", absent)
                        .text("decisions", &k.decisions)
                        .text("minutes", &k.minutes)
                        .text("minutes_by", &k.minutes_by),
                )
            }
            Self::Escalation { common, kind: k } => (
                common,
                "escalation",
                o.need("--stage", k.stage.is_some())
                    .need("--raised-by", k.raised_by.is_some())
                    .need("--raised-with", k.raised_with.is_some())
                    .need("--disputed", k.disputed.is_some())
                    .need("--disagreement", k.disagreement.is_some())
                    .number("stage", &k.stage)
                    .text("raised_by", &k.raised_by)
                    .text("raised_with", &k.raised_with)
                    .text("disputed", &k.disputed)
                    .text("disagreement", &k.disagreement)
                    .text("outcome", &k.outcome)
                    .flag("resolved", k.resolved),
            ),
            Self::NeglectSummary { common, kind: k } => (
                common,
                "neglect_summary",
                o.need("--grade", !k.grade.is_empty())
                    .need("--visits", k.visits.is_some())
                    .list("grades", pairs(&k.grade, &["area", "grade"], &["grade"]))
                    .number("visits", &k.visits)
                    .opt_bool("assessor_trained", Some(k.assessor_trained))
                    .text("evidence", &k.evidence),
            ),
            Self::Amendment { common, kind: k } => (
                common,
                "amendment",
                o.need("--corrects", k.corrects.is_some())
                    .need("--reason", k.reason.is_some())
                    .text("corrects", &k.corrects)
                    .text("reason", &k.reason)
                    .text("correction", &k.correction),
            ),
        }
    }

    /// The record's documented JSON form; `now` fills `occurred_at` when
    /// the flag is absent. Refuses, all at once, every required flag that
    /// is missing (the JSON parser stops at the first).
    pub fn to_json(&self, now: &str) -> Result<String, MissingFlags> {
        let (common, kind, detail) = self.parts();
        let mut missing = Vec::new();
        if common.children.is_empty() {
            missing.push("--child");
        }
        if common.headline.is_none() {
            missing.push("--headline");
        }
        missing.extend(&detail.1);
        if !missing.is_empty() {
            return Err(MissingFlags {
                command: kind.replace('_', "-"),
                missing,
            });
        }
        let mut obj = Map::new();
        obj.insert("kind".into(), kind.into());
        if !common.children.is_empty() {
            obj.insert(
                "children".into(),
                common
                    .children
                    .iter()
                    .map(|c| Value::from(c.as_str()))
                    .collect(),
            );
        }
        obj.insert(
            "occurred_at".into(),
            common.occurred_at.as_deref().unwrap_or(now).into(),
        );
        if let Some(h) = &common.headline {
            obj.insert("headline".into(), h.as_str().into());
        }
        if let Some(a) = &common.author {
            obj.insert("author".into(), a.as_str().into());
        }
        obj.extend(detail.0);
        Ok(Value::Object(obj).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::tests::defaults;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> String {
        let cli = Cli::try_parse_args(args).unwrap();
        let Command::Record(RecordArgs { kind: Some(k), .. }) = cli.command else {
            panic!("not a record command");
        };
        k.to_json("2026-11-20T10:30:00Z").unwrap()
    }

    #[test]
    fn flags_build_the_documented_json() {
        let json = parse(&[
            "hearth-agent",
            "record",
            "home-visit",
            "--child",
            "nhs:9434765919",
            "--headline",
            "Visit",
            "--access",
            "unannounced",
            "--child-seen",
            "awake",
            "--present",
            "father:dad",
            "--observation",
            "nutrition:3:empty fridge",
            "--seen-alone",
            "true",
        ]);
        let body = hearth_shared::json::parse_body(&json, &defaults()).unwrap();
        assert_eq!(body.detail.kind().as_str(), "home_visit");
        let json = parse(&[
            "hearth-agent",
            "record",
            "neglect-summary",
            "--child",
            "nhs:9434765919",
            "--headline",
            "GCP2",
            "--grade",
            "nutrition:4",
            "--visits",
            "3",
        ]);
        hearth_shared::json::parse_body(&json, &defaults()).unwrap();
        let json = parse(&[
            "hearth-agent",
            "record",
            "meeting",
            "--child",
            "nhs:9434765919",
            "--headline",
            "Core group",
            "--meeting-type",
            "core_group",
            "--attendee",
            "Sam@HV-NORTH",
            "--minutes",
            "not_recorded",
        ]);
        hearth_shared::json::parse_body(&json, &defaults()).unwrap();
    }

    fn kind_of(args: &[&str]) -> KindCommand {
        let cli = Cli::try_parse_args(args).unwrap();
        let Command::Record(RecordArgs { kind: Some(k), .. }) = cli.command else {
            panic!("not a record command");
        };
        k
    }

    /// The flags whose help says "(required)", for one `record` subcommand.
    fn marked_required(sub: &str) -> Vec<String> {
        let cmd = Cli::command();
        let kind = cmd
            .find_subcommand("record")
            .and_then(|r| r.find_subcommand(sub))
            .unwrap();
        kind.get_arguments()
            .filter(|a| {
                a.get_help()
                    .is_some_and(|h| h.to_string().contains("(required"))
            })
            .map(|a| format!("--{}", a.get_long().unwrap()))
            .collect()
    }

    #[test]
    fn issue_12_every_missing_required_flag_is_named_at_once_and_marked_in_help() {
        let cmd = Cli::command();
        let record = cmd.find_subcommand("record").unwrap();
        let subs: Vec<String> = record
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        assert_eq!(subs.len(), 9, "{subs:?}");
        for sub in subs {
            let err = kind_of(&["hearth-agent", "record", &sub])
                .to_json("2026-11-20T10:30:00Z")
                .unwrap_err();
            assert_eq!(err.command, sub);
            // What the flag layer demands is exactly what --help marks.
            assert_eq!(err.missing, marked_required(&sub), "record {sub}");
            assert!(err.missing.len() >= 3, "record {sub}: {err}");
        }
        let err = kind_of(&[
            "hearth-agent",
            "record",
            "concern",
            "--child",
            "nhs:9434765919",
            "--headline",
            "h",
            "--action",
            "none",
        ])
        .to_json("2026-11-20T10:30:00Z")
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`record concern` needs --category, --seen-or-said and --action-detail; every flag marked (required) in `hearth-agent record concern --help` must be given"
        );
    }

    #[test]
    fn issue_12_required_flags_given_satisfy_the_json_parser() {
        // Each kind with only its required flags (and values that pass the
        // rules) parses: the flag layer demands nothing the core does not.
        let cases: &[&[&str]] = &[
            &[
                "home-visit",
                "--access",
                "announced",
                "--child-seen",
                "awake",
            ],
            &["daily-presentation", "--attendance", "present"],
            // Which of words and behaviour is needed depends on the mode:
            // a rule across fields, left to the core's one message.
            &["voice", "--mode", "play", "--behaviour", "built a tower"],
            &[
                "concern",
                "--category",
                "neglect",
                "--seen-or-said",
                "x",
                "--action",
                "none",
                "--action-detail",
                "monitor at the next visit",
            ],
            &[
                "developmental-review",
                "--contact",
                "1_year",
                "--was-not-brought",
            ],
            &[
                "meeting",
                "--meeting-type",
                "core_group",
                "--attendee",
                "Sam",
                "--minutes",
                "not_recorded",
            ],
            &[
                "escalation",
                "--stage",
                "1",
                "--raised-by",
                "HV",
                "--raised-with",
                "SW",
                "--disputed",
                "drift",
                "--disagreement",
                "d",
            ],
            &["neglect-summary", "--grade", "nutrition:3", "--visits", "2"],
            &[
                "amendment",
                "--corrects",
                "0000000000000000-1",
                "--reason",
                "wrong date typed",
            ],
        ];
        for case in cases {
            let mut args = vec![
                "hearth-agent",
                "record",
                case[0],
                "--child",
                "nhs:9434765919",
                "--headline",
                "h",
            ];
            args.extend_from_slice(&case[1..]);
            let json = parse(&args);
            hearth_shared::json::parse_body(&json, &defaults())
                .unwrap_or_else(|e| panic!("record {}: {e}", case[0]));
        }
    }

    #[test]
    fn issue_12_injury_accounts_belong_to_the_injury_before_them() {
        let json = parse(&[
            "hearth-agent",
            "record",
            "daily-presentation",
            "--child",
            "nhs:9434765919",
            "--headline",
            "h",
            "--attendance",
            "present",
            "--injury",
            "arm:Bruise 3 cm: yellow-green",
            "--injury",
            "leg:Graze",
            "--injury-child-account",
            "I fell in the park",
            "--injury-carer-explanation",
            "Fell at the park: mum says",
        ]);
        let body = hearth_shared::json::parse_body(&json, &defaults()).unwrap();
        let v = hearth_shared::json::body_to_json(&body);
        let injuries = v["injuries"].as_array().unwrap();
        assert_eq!(injuries[0]["body_region"], "arm");
        assert_eq!(injuries[0]["description"], "Bruise 3 cm: yellow-green");
        assert_eq!(injuries[0]["carer_explanation"], "");
        assert_eq!(injuries[0]["child_account"], "");
        assert_eq!(injuries[1]["body_region"], "leg");
        assert_eq!(
            injuries[1]["carer_explanation"],
            "Fell at the park: mum says"
        );
        assert_eq!(injuries[1]["child_account"], "I fell in the park");

        let base = [
            "hearth-agent",
            "record",
            "daily-presentation",
            "--attendance",
            "present",
        ];
        let before: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--injury-child-account", "x", "--injury", "arm:b"])
            .collect();
        let e = Cli::try_parse_args(before).unwrap_err().to_string();
        assert!(e.contains("comes before any --injury"), "{e}");
        let twice: Vec<&str> = base
            .iter()
            .copied()
            .chain([
                "--injury",
                "arm:b",
                "--injury-carer-explanation",
                "x",
                "--injury-carer-explanation",
                "y",
            ])
            .collect();
        let e = Cli::try_parse_args(twice).unwrap_err().to_string();
        assert!(e.contains("given twice for --injury \"arm:b\""), "{e}");
    }
}
