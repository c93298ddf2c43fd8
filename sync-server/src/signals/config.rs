//! Each rule's thresholds: [`Config`], with defaults, overridden per
//! deployment by `signals.toml` in the data directory ([`FILE`]).
//!
//! One TOML table per rule, named by the rule's word; every field is
//! optional (a missing one keeps its default), and an unknown rule or
//! field is refused, so a typo never silently leaves a default in place.
//! The defaults are the numbers; each field says why. A window
//! or a count must be at least 1: an error names the file, the
//! `table.field` and the fix. `docs/signals.example.toml` holds every
//! default (a test keeps it equal to [`Config::default`]).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The configuration file's name, in the data directory.
pub const FILE: &str = "signals.toml";

/// Declares one rule's table: a struct with `deny_unknown_fields`,
/// every field defaulted, and its fields listed for validation.
macro_rules! table {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident = $default:expr, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: i64, )+
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )+ }
            }
        }

        impl $name {
            /// Each field by name.
            fn fields(&self) -> Vec<(&'static str, i64)> {
                vec![$( (stringify!($field), self.$field), )+]
            }
        }
    };
}

table! {
    /// `concerns_accumulating`.
    ConcernsAccumulating {
        /// 90 days: a quarter, about the span over which a health visitor,
        /// a nursery and a school each see a family at least once, so
        /// concerns from different agencies can meet in one window.
        window_days = 90,
        /// 3 concern entries: one is an event, two can be chance, three in a
        /// quarter is a pattern (LP3, LP5).
        min_entries = 3,
        /// 2 agencies: the point of the rule is what no single agency saw.
        min_agencies = 2,
        /// 365 days: neglect concerns from any agency over a year; neglect is
        /// chronic and builds slowly.
        neglect_window_days = 365,
        /// 3 neglect concerns in that year.
        min_neglect_concerns = 3,
    }
}

table! {
    /// `developmental_delay_repeated`.
    DevelopmentalDelayRepeated {
        /// 365 days: the gap between routine reviews (1 year, 2 to 2½
        /// years) is about a year.
        window_days = 365,
        /// 2 reviews below threshold in that window: delay noted twice
        /// is delay not acted on (LP5).
        min_reviews = 2,
        /// 2 reviews with the same domain below threshold, at any dates.
        min_same_domain = 2,
    }
}

table! {
    /// `child_not_seen`.
    ChildNotSeen {
        /// 60 days: two missed visits within two months.
        window_days = 60,
        /// 2 home visits with the child not seen or no access.
        min_visits = 2,
        /// 28 days: after a concern, someone should see the child within
        /// four weeks (statutory visits on a plan are at least every 10
        /// working days; this is a generous outer limit).
        unseen_days = 28,
    }
}

table! {
    /// `voice_not_acted_on`.
    VoiceNotActedOn {
        /// 14 days: two weeks for a referral, a strategy discussion or an
        /// escalation to follow a child's words (LP6).
        days = 14,
    }
}

table! {
    /// `meetings_without_minutes`.
    MeetingsWithoutMinutes {
        /// 1 meeting: every core group, conference and strategy discussion
        /// should be minuted (LP9).
        min_meetings = 1,
    }
}

table! {
    /// `agency_absent_from_meetings`.
    AgencyAbsentFromMeetings {
        /// 182 days: about six months of core groups (held every four to
        /// six weeks).
        window_days = 182,
        /// 2 meetings: an agency absent twice in six months (LP2, LP9).
        min_meetings = 2,
    }
}

table! {
    /// `harmful_sexual_behaviour_without_meeting`.
    HarmfulSexualBehaviourWithoutMeeting {
        /// 14 days: a strategy discussion or conference should follow a
        /// harmful sexual behaviour concern within two weeks (LP7).
        days = 14,
    }
}

table! {
    /// `escalation_unresolved`.
    EscalationUnresolved {
        /// 28 days: local escalation protocols expect each stage answered
        /// within days to a few weeks; four weeks unresolved is drift (LP8).
        days = 28,
    }
}

table! {
    /// `was_not_brought_repeated`.
    WasNotBroughtRepeated {
        /// 365 days: a year of health appointments.
        window_days = 365,
        /// 2 entries: a child not brought twice is a pattern of health
        /// needs not met.
        min_entries = 2,
    }
}

table! {
    /// `neglect_without_assessment`.
    NeglectWithoutAssessment {
        /// 182 days: six months of neglect seen, long enough for an
        /// assessment tool to have been started (LP5).
        window_days = 182,
        /// 3 neglect concerns or grade 4 or 5 observations.
        min_entries = 3,
    }
}

table! {
    /// `male_carer_unseen`.
    MaleCarerUnseen {
        /// 90 days: a quarter of visits, meetings and assessments without
        /// the father or male carer last recorded as present (LP4).
        days = 90,
    }
}

/// Every rule's thresholds: one table per rule, named by its word.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// [`super::Rule::ConcernsAccumulating`].
    pub concerns_accumulating: ConcernsAccumulating,
    /// [`super::Rule::DevelopmentalDelayRepeated`].
    pub developmental_delay_repeated: DevelopmentalDelayRepeated,
    /// [`super::Rule::ChildNotSeen`].
    pub child_not_seen: ChildNotSeen,
    /// [`super::Rule::VoiceNotActedOn`].
    pub voice_not_acted_on: VoiceNotActedOn,
    /// [`super::Rule::MeetingsWithoutMinutes`].
    pub meetings_without_minutes: MeetingsWithoutMinutes,
    /// [`super::Rule::AgencyAbsentFromMeetings`].
    pub agency_absent_from_meetings: AgencyAbsentFromMeetings,
    /// [`super::Rule::HarmfulSexualBehaviourWithoutMeeting`].
    pub harmful_sexual_behaviour_without_meeting: HarmfulSexualBehaviourWithoutMeeting,
    /// [`super::Rule::EscalationUnresolved`].
    pub escalation_unresolved: EscalationUnresolved,
    /// [`super::Rule::WasNotBroughtRepeated`].
    pub was_not_brought_repeated: WasNotBroughtRepeated,
    /// [`super::Rule::NeglectWithoutAssessment`].
    pub neglect_without_assessment: NeglectWithoutAssessment,
    /// [`super::Rule::MaleCarerUnseen`].
    pub male_carer_unseen: MaleCarerUnseen,
}

/// Why `signals.toml` was refused: the file, what is wrong, and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The largest window or count accepted: a hundred years of days, far
/// beyond any record's span, and small enough that no arithmetic on it
/// overflows.
pub const MAX: i64 = 36_525;

impl Config {
    /// The configuration in `data_dir`: the defaults, with whatever
    /// `signals.toml` there sets (the defaults alone if there is none).
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Self::parse(&text).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ConfigError(format!(
                "{}: cannot be read ({e}); make it readable by the server, or remove it to use the defaults",
                path.display()
            ))),
        }
    }

    /// The configuration `text` (the TOML of `signals.toml`) sets: the
    /// defaults for whatever it leaves out. Refuses an unknown rule or
    /// field, and a window or count below 1 (or above [`MAX`]).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| ConfigError(format!("not valid TOML: {}", e.message())))?;
        let config: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let fix = if inner.message().starts_with("unknown field") {
                "remove it or correct its spelling (see docs/signals.example.toml)"
            } else {
                "give a whole number, such as the default in docs/signals.example.toml"
            };
            ConfigError(format!("{path}: {}; {fix}", inner.message()))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Each table's name and fields.
    fn tables(&self) -> [(&'static str, Vec<(&'static str, i64)>); 11] {
        [
            ("concerns_accumulating", self.concerns_accumulating.fields()),
            (
                "developmental_delay_repeated",
                self.developmental_delay_repeated.fields(),
            ),
            ("child_not_seen", self.child_not_seen.fields()),
            ("voice_not_acted_on", self.voice_not_acted_on.fields()),
            (
                "meetings_without_minutes",
                self.meetings_without_minutes.fields(),
            ),
            (
                "agency_absent_from_meetings",
                self.agency_absent_from_meetings.fields(),
            ),
            (
                "harmful_sexual_behaviour_without_meeting",
                self.harmful_sexual_behaviour_without_meeting.fields(),
            ),
            ("escalation_unresolved", self.escalation_unresolved.fields()),
            (
                "was_not_brought_repeated",
                self.was_not_brought_repeated.fields(),
            ),
            (
                "neglect_without_assessment",
                self.neglect_without_assessment.fields(),
            ),
            ("male_carer_unseen", self.male_carer_unseen.fields()),
        ]
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (table, fields) in self.tables() {
            for (field, value) in fields {
                if !(1..=MAX).contains(&value) {
                    let what = if field.contains("days") {
                        "a window of days"
                    } else {
                        "a count"
                    };
                    return Err(ConfigError(format!(
                        "{table}.{field} is {value}: {what} must be from 1 to {MAX}; set it to a whole number in that range, or remove it to use the default"
                    )));
                }
            }
        }
        Ok(())
    }

    /// A short fingerprint of the thresholds: stored beside each child's
    /// computed signals, so that a changed configuration recomputes them.
    /// The first 16 hex digits of the SHA-256 of the configuration's
    /// JSON (fields in declaration order): the same on every run, and
    /// different when any threshold changes.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).expect("config serializes");
        let digest = Sha256::digest(json.as_bytes());
        hearth_shared::hex::Hex(&digest[..8]).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_holds_every_default() {
        let text = include_str!("../../../docs/signals.example.toml");
        assert_eq!(Config::parse(text).unwrap(), Config::default());
        // And every field appears in it (not merely defaulted).
        for (table, fields) in Config::default().tables() {
            assert!(text.contains(&format!("[{table}]")), "{table}");
            for (field, _) in fields {
                assert!(text.contains(&format!("\n{field} = ")), "{table}.{field}");
            }
        }
    }

    #[test]
    fn an_empty_file_is_the_defaults_and_a_table_overrides_only_its_fields() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("[concerns_accumulating]\nwindow_days = 120\n").unwrap();
        assert_eq!(c.concerns_accumulating.window_days, 120);
        assert_eq!(c.concerns_accumulating.min_entries, 3);
        assert_eq!(c.child_not_seen, ChildNotSeen::default());
    }

    #[test]
    fn errors_name_the_table_field_and_fix() {
        let e = Config::parse("[child_not_seen]\nwindow_days = 0\n").unwrap_err();
        assert!(e.0.contains("child_not_seen.window_days is 0"), "{e}");
        assert!(e.0.contains("from 1 to"), "{e}");
        let e = Config::parse("[male_carer_unseen]\ndays = -3\n").unwrap_err();
        assert!(e.0.contains("male_carer_unseen.days is -3"), "{e}");
        let e = Config::parse("[child_not_seen]\nwindow_dayz = 10\n").unwrap_err();
        assert!(e.0.contains("child_not_seen"), "{e}");
        assert!(e.0.contains("window_dayz"), "{e}");
        assert!(e.0.contains("remove it or correct its spelling"), "{e}");
        let e = Config::parse("[no_such_rule]\ndays = 1\n").unwrap_err();
        assert!(e.0.contains("no_such_rule"), "{e}");
        let e = Config::parse("[voice_not_acted_on]\ndays = \"two weeks\"\n").unwrap_err();
        assert!(e.0.contains("voice_not_acted_on.days"), "{e}");
        assert!(Config::parse("[voice_not_acted_on\n").is_err());
    }

    #[test]
    fn load_names_the_file_and_a_missing_file_is_the_defaults() {
        let dir =
            std::env::temp_dir().join(format!("hearth-signals-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join(FILE));
        assert_eq!(Config::load(&dir).unwrap(), Config::default());
        std::fs::write(dir.join(FILE), "[escalation_unresolved]\ndays = 0\n").unwrap();
        let e = Config::load(&dir).unwrap_err();
        assert!(
            e.0.contains(FILE) && e.0.contains("escalation_unresolved.days"),
            "{e}"
        );
        std::fs::write(dir.join(FILE), "[escalation_unresolved]\ndays = 21\n").unwrap();
        assert_eq!(Config::load(&dir).unwrap().escalation_unresolved.days, 21);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_fingerprint_is_stable_and_follows_every_threshold() {
        let d = Config::default();
        assert_eq!(d.fingerprint(), Config::default().fingerprint());
        assert_eq!(d.fingerprint().len(), 16);
        let mut seen = std::collections::BTreeSet::from([d.fingerprint()]);
        for (table, fields) in d.tables() {
            for (field, value) in fields {
                let text = format!("[{table}]\n{field} = {}\n", value + 1);
                let c = Config::parse(&text).unwrap();
                assert!(seen.insert(c.fingerprint()), "{table}.{field}");
            }
        }
    }
}
