//! Every form against the core: each enumeration's choices are the core's
//! `WORDS` and each is accepted, each text limit is the core's capacity
//! (at the limit accepted, one byte over refused by the core).

use hearth_shared::json::Defaults;
use hearth_shared::kinds::concern::{ConcernAction, ConcernCategory};
use hearth_shared::kinds::daily_presentation::{Attendance, BodyRegion};
use hearth_shared::kinds::developmental_review::{DevDomain, DevOutcome, ReviewContact};
use hearth_shared::kinds::escalation::Disputed;
use hearth_shared::kinds::home_visit::{ChildSeen, VisitAccess};
use hearth_shared::kinds::meeting::{MeetingType, Minutes};
use hearth_shared::kinds::voice::VoiceMode;
use hearth_shared::kinds::{CareDomain, PersonRole};
use hearth_shared::{RecordKind, Text};

use super::super::answers::{Answers, check};
use super::super::zone::FixedZone;
use super::*;

pub(crate) fn defaults() -> Defaults {
    Defaults {
        author: Text::try_from_str("hv-ann").unwrap(),
        agency: Text::try_from_str("HV-NORTH").unwrap(),
    }
}

/// Answers the core accepts for `kind`, with one entry in each group.
pub(crate) fn valid(kind: RecordKind) -> Answers {
    let mut a = Answers::default();
    let common = [
        ("children[0]", "nhs:9434765919"),
        ("occurred_at.date", "2026-11-20"),
        ("occurred_at.time", "10:30"),
        ("headline", "Seen at home"),
    ];
    let own: &[(&str, &str)] = match kind {
        RecordKind::HomeVisit => &[
            ("access", "announced"),
            ("child_seen", "awake"),
            ("present[0].role", "mother"),
            ("observations[0].domain", "nutrition"),
            ("observations[0].grade", "4"),
        ],
        RecordKind::DailyPresentation => &[
            ("attendance", "present"),
            ("arrival_time", "08:05"),
            ("injuries[0].body_region", "arm"),
            ("injuries[0].description", "bruise"),
        ],
        RecordKind::Voice => &[
            ("mode", "words"),
            ("words", "I like it here"),
            ("behaviour", "smiled"),
            ("present[0].role", "father"),
        ],
        RecordKind::Concern => &[
            ("category", "neglect"),
            ("seen_or_said", "No food"),
            ("action", "none"),
            ("action_detail", "watch"),
        ],
        RecordKind::DevelopmentalReview => &[
            ("contact", "1_year"),
            ("outcomes[0].domain", "communication"),
            ("outcomes[0].outcome", "on_track"),
        ],
        RecordKind::Meeting => &[
            ("meeting_type", "core_group"),
            ("attendees[0].name", "Social worker"),
            ("attendees[0].agency", "CSC"),
            ("absent_agencies[0]", "POLICE"),
            ("minutes", "recorded"),
            ("minutes_by", "Chair"),
        ],
        RecordKind::Escalation => &[
            ("stage", "2"),
            ("raised_by", "HV"),
            ("raised_with", "CSC"),
            ("disputed", "drift"),
            ("disagreement", "No plan"),
        ],
        RecordKind::NeglectSummary => &[
            ("grades[0].area", "nutrition"),
            ("grades[0].grade", "3"),
            ("visits", "2"),
            ("assessor_trained", "yes"),
        ],
        _ => &[],
    };
    for (k, v) in common.iter().chain(own) {
        a.set(k, v);
    }
    a
}

fn spec(kind: RecordKind) -> FormSpec {
    FormSpec::of(kind).unwrap()
}

fn errors_at(kind: RecordKind, a: &Answers, name: &str) -> Vec<String> {
    match check(&spec(kind), a, &FixedZone(0), &defaults()) {
        Ok(_) => Vec::new(),
        Err(errs) => errs
            .into_iter()
            .filter(|e| e.name == name)
            .map(|e| e.message)
            .collect(),
    }
}

/// Every field of `kind`'s form with its form name for entry 0.
fn every_field(kind: RecordKind) -> Vec<(String, FieldSpec)> {
    let mut out = Vec::new();
    for f in spec(kind).fields {
        match &f.input {
            Input::Group { fields, .. } => {
                for s in fields {
                    out.push((format!("{}[0].{}", f.name, s.name), s.clone()));
                }
            }
            Input::List { .. } => out.push((format!("{}[0]", f.name), f.clone())),
            _ => out.push((f.name.to_string(), f.clone())),
        }
    }
    out
}

fn choices(kind: RecordKind) -> Vec<(String, &'static [&'static str])> {
    every_field(kind)
        .into_iter()
        .filter_map(|(n, f)| match f.input {
            Input::Choice(words) => Some((n, words)),
            _ => None,
        })
        .collect()
}

/// The enumerations of `kind` are exactly the core's, field by field.
fn assert_vocabularies(kind: RecordKind, expected: &[(&str, &[&str])]) {
    let got = choices(kind);
    let want: Vec<(String, &[&str])> = expected.iter().map(|(n, w)| (n.to_string(), *w)).collect();
    assert_eq!(got, want, "{kind}");
    for (name, words) in got {
        for w in words {
            let mut a = valid(kind);
            a.set(&name, w);
            assert!(
                !errors_at(kind, &a, &name)
                    .iter()
                    .any(|m| m.contains("variant")),
                "{kind} {name}={w} refused"
            );
        }
        let mut a = valid(kind);
        a.set(&name, "not_a_word");
        assert!(
            !errors_at(kind, &a, &name).is_empty(),
            "{kind} {name}: a word outside the vocabulary was not refused at the field"
        );
    }
}

/// Each text field of `kind` takes exactly the core's capacity.
fn assert_limits(kind: RecordKind) {
    let a = valid(kind);
    assert!(
        check(&spec(kind), &a, &FixedZone(0), &defaults()).is_ok(),
        "{kind}: the sample answers are refused: {:?}",
        check(&spec(kind), &a, &FixedZone(0), &defaults()).err()
    );
    let mut seen = 0;
    for (name, f) in every_field(kind) {
        let max = match f.input {
            Input::Line { max } | Input::Area { max, .. } => max,
            Input::List { max, .. } if name != "children[0]" => max,
            _ => continue,
        };
        seen += 1;
        let mut at = a.clone();
        at.set(&name, &"A".repeat(max));
        assert_eq!(
            errors_at(kind, &at, &name),
            Vec::<String>::new(),
            "{kind} {name} at {max}"
        );
        let mut over = a.clone();
        over.set(&name, &"A".repeat(max + 1));
        let errs = errors_at(kind, &over, &name);
        assert!(
            errs.iter().any(|m| m.contains("the limit is")),
            "{kind} {name}: {} bytes not refused by the core: {errs:?}",
            max + 1
        );
    }
    assert!(seen > 0);
}

#[test]
fn home_visit_matches_the_core() {
    let k = RecordKind::HomeVisit;
    assert_vocabularies(
        k,
        &[
            ("access", VisitAccess::WORDS),
            ("present[0].role", PersonRole::WORDS),
            ("child_seen", ChildSeen::WORDS),
            ("observations[0].domain", CareDomain::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn daily_presentation_matches_the_core() {
    let k = RecordKind::DailyPresentation;
    assert_vocabularies(
        k,
        &[
            ("attendance", Attendance::WORDS),
            ("injuries[0].body_region", BodyRegion::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn voice_matches_the_core() {
    let k = RecordKind::Voice;
    assert_vocabularies(
        k,
        &[
            ("mode", VoiceMode::WORDS),
            ("present[0].role", PersonRole::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn concern_matches_the_core() {
    let k = RecordKind::Concern;
    assert_vocabularies(
        k,
        &[
            ("category", ConcernCategory::WORDS),
            ("action", ConcernAction::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn developmental_review_matches_the_core() {
    let k = RecordKind::DevelopmentalReview;
    assert_vocabularies(
        k,
        &[
            ("contact", ReviewContact::WORDS),
            ("outcomes[0].domain", DevDomain::WORDS),
            ("outcomes[0].outcome", DevOutcome::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn meeting_matches_the_core() {
    let k = RecordKind::Meeting;
    assert_vocabularies(
        k,
        &[
            ("meeting_type", MeetingType::WORDS),
            ("minutes", Minutes::WORDS),
        ],
    );
    assert_limits(k);
}

#[test]
fn escalation_matches_the_core() {
    let k = RecordKind::Escalation;
    assert_vocabularies(k, &[("disputed", Disputed::WORDS)]);
    assert_limits(k);
}

#[test]
fn neglect_summary_matches_the_core() {
    let k = RecordKind::NeglectSummary;
    assert_vocabularies(k, &[("grades[0].area", CareDomain::WORDS)]);
    assert_limits(k);
}

#[test]
fn scales_are_the_cores_ranges() {
    for (kind, name) in [
        (RecordKind::HomeVisit, "observations[0].grade"),
        (RecordKind::NeglectSummary, "grades[0].grade"),
        (RecordKind::Escalation, "stage"),
    ] {
        let f = every_field(kind)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1;
        let Input::Scale { min, max } = f.input else {
            panic!("{name} is not a scale")
        };
        for v in min..=max {
            let mut a = valid(kind);
            a.set(name, &v.to_string());
            assert!(errors_at(kind, &a, name).is_empty(), "{kind} {name}={v}");
        }
        for v in [min - 1, max + 1] {
            let mut a = valid(kind);
            a.set(name, &v.to_string());
            assert!(
                !errors_at(kind, &a, name).is_empty(),
                "{kind} {name}={v} accepted"
            );
        }
    }
}

#[test]
fn every_kind_but_the_corrections_has_a_form() {
    for k in RecordKind::ALL {
        let has = FormSpec::of(*k).is_some();
        assert_eq!(has, FORM_KINDS.contains(k), "{k}");
    }
}

#[test]
fn words_read_as_plain_english() {
    assert_eq!(word_label("male_carer_or_partner"), "Male carer or partner");
    assert_eq!(word_label("6_8_weeks"), "6–8 weeks");
}
