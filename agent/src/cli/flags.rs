//! `record <kind>` flags into the record's documented JSON form
//! ([`KindCommand::to_json`]), which `hearth_shared::json::parse_body` then
//! reads exactly as it reads `record --json`. Two things only flags need
//! are done here: every missing required flag is named at once
//! ([`MissingFlags`]; the JSON parser stops at its first problem), and
//! each `--injury-*` account is tied to the `--injury` before it on the
//! command line ([`injury_accounts`]).

use clap::ArgMatches;
use serde_json::{Map, Value};

use super::{
    AmendmentArgs, CommonArgs, ConcernArgs, DailyPresentationArgs, DevelopmentalReviewArgs,
    EscalationArgs, HomeVisitArgs, InjuryAccounts, KindCommand, MeetingArgs, NeglectSummaryArgs,
    VoiceArgs,
};

/// Picks one account out of an [`InjuryAccounts`].
type AccountField = fn(&mut InjuryAccounts) -> &mut Option<String>;

/// Each `--injury`'s accounts, from where the flags stand on the command
/// line: an account belongs to the nearest `--injury` before it.
pub(super) fn injury_accounts(
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

/// Each kind's flags as the fields of its JSON form, noting each required
/// flag not given (in `--help` order, which a test checks).
trait KindFields {
    fn fields(&self) -> Obj;
}

fn obj() -> Obj {
    Obj(Map::new(), Vec::new())
}

impl KindFields for HomeVisitArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--access", k.access.is_some())
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
            .text("narrative", &k.narrative)
    }
}

impl KindFields for DailyPresentationArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--attendance", k.attendance.is_some())
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
            .list("injuries", injuries(k))
    }
}

impl KindFields for VoiceArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--mode", k.mode.is_some())
            .text("mode", &k.mode)
            .text("words", &k.words)
            .text("behaviour", &k.behaviour)
            .list("present", present(&k.present))
            .opt_bool("seen_alone", k.seen_alone)
            .text("meaning", &k.meaning)
            .text("action", &k.action)
    }
}

impl KindFields for ConcernArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--category", k.category.is_some())
            .need("--seen-or-said", k.seen_or_said.is_some())
            .need("--action", k.action.is_some())
            // The core asks why, for every action including none:
            // a decision not to act is one a case review examines.
            .need("--action-detail", k.action_detail.is_some())
            .text("category", &k.category)
            .text("seen_or_said", &k.seen_or_said)
            .text("action", &k.action)
            .text("action_detail", &k.action_detail)
    }
}

impl KindFields for DevelopmentalReviewArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--contact", k.contact.is_some())
            .text("contact", &k.contact)
            .flag("was_not_brought", k.was_not_brought)
            .list("outcomes", pairs(&k.outcome, &["domain", "outcome"], &[]))
            .text("note", &k.note)
    }
}

/// `--attendee NAME[@AGENCY]` as `attendees` objects.
fn attendees(items: &[String]) -> Vec<Value> {
    items
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
        .collect()
}

impl KindFields for MeetingArgs {
    fn fields(&self) -> Obj {
        let k = self;
        let absent = k
            .absent_agency
            .iter()
            .map(|a| Value::from(a.as_str()))
            .collect();
        obj()
            .need("--meeting-type", k.meeting_type.is_some())
            .need("--attendee", !k.attendee.is_empty())
            .need("--minutes", k.minutes.is_some())
            .text("meeting_type", &k.meeting_type)
            .list("attendees", attendees(&k.attendee))
            .list("absent_agencies", absent)
            .text("decisions", &k.decisions)
            .text("minutes", &k.minutes)
            .text("minutes_by", &k.minutes_by)
    }
}

impl KindFields for EscalationArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--stage", k.stage.is_some())
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
            .flag("resolved", k.resolved)
    }
}

impl KindFields for NeglectSummaryArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--grade", !k.grade.is_empty())
            .need("--visits", k.visits.is_some())
            .list("grades", pairs(&k.grade, &["area", "grade"], &["grade"]))
            .number("visits", &k.visits)
            .opt_bool("assessor_trained", Some(k.assessor_trained))
            .text("evidence", &k.evidence)
    }
}

impl KindFields for AmendmentArgs {
    fn fields(&self) -> Obj {
        let k = self;
        obj()
            .need("--corrects", k.corrects.is_some())
            .need("--reason", k.reason.is_some())
            .text("corrects", &k.corrects)
            .text("reason", &k.reason)
            .text("correction", &k.correction)
    }
}

impl KindCommand {
    /// The common fields and the kind's JSON name and fields.
    fn parts(&self) -> (&CommonArgs, &'static str, Obj) {
        match self {
            Self::HomeVisit { common, kind } => (common, "home_visit", kind.fields()),
            Self::DailyPresentation { common, kind } => {
                (common, "daily_presentation", kind.fields())
            }
            Self::Voice { common, kind } => (common, "voice", kind.fields()),
            Self::Concern { common, kind } => (common, "concern", kind.fields()),
            Self::DevelopmentalReview { common, kind } => {
                (common, "developmental_review", kind.fields())
            }
            Self::Meeting { common, kind } => (common, "meeting", kind.fields()),
            Self::Escalation { common, kind } => (common, "escalation", kind.fields()),
            Self::NeglectSummary { common, kind } => (common, "neglect_summary", kind.fields()),
            Self::Amendment { common, kind } => (common, "amendment", kind.fields()),
        }
    }

    /// Whether `--occurred-at` was given.
    pub fn occurred_at_given(&self) -> bool {
        self.parts().0.occurred_at.is_some()
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
    use crate::cli::{Cli, Command, RecordArgs};
    use clap::CommandFactory;

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
