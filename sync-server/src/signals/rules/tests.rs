//! The rules, one by one, at and around each threshold, through the real
//! reconciliation (amendments folded, retractions flagged) and the
//! fields as the latest correction leaves them.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, Timestamp};

use super::{DAY, Evaluation, evaluate, evaluate_known};
use crate::caseload::{CaseloadSetup, VisitPlan};
use crate::chronology::tests::{ANNA, BEN, record};
use crate::chronology::{Chronology, DateRange, reconcile};
use crate::people::{Membership, Person, PersonId, Register, Relation, Relationship, Sex};
use crate::signals::known::Known;
use crate::signals::{Config, Rule, Signal};
use crate::store::FiledRecord;

/// 2025-01-01T00:00:00Z: day 0 of every fixture.
const T0: i64 = 1_735_689_600;

/// The instant `day` days (and `secs` seconds) after day 0.
fn t(day: i64, secs: i64) -> i64 {
    T0 + day * DAY + secs
}

const CONCERN_NEGLECT: &str = r#""kind":"concern","category":"neglect","seen_or_said":"x","action":"none","action_detail":"monitoring""#;
const CONCERN_PHYSICAL: &str = r#""kind":"concern","category":"physical","seen_or_said":"x","action":"none","action_detail":"monitoring""#;
const CONCERN_REFERRED: &str = r#""kind":"concern","category":"emotional","seen_or_said":"x","action":"referred","action_detail":"CSC front door""#;
const CONCERN_HSB: &str = r#""kind":"concern","category":"harmful_sexual_behaviour","seen_or_said":"x","action":"none","action_detail":"monitoring""#;
const HUNGRY: &str = r#""kind":"daily_presentation","attendance":"present","hungry":true"#;
const PRESENT: &str = r#""kind":"daily_presentation","attendance":"present""#;
const SEEN: &str = r#""kind":"home_visit","access":"announced","child_seen":"awake""#;
const NOT_SEEN: &str = r#""kind":"home_visit","access":"announced","child_seen":"not_seen","not_seen_reason":"at school""#;
const NO_ACCESS: &str = r#""kind":"home_visit","access":"no_access","child_seen":"not_seen","not_seen_reason":"no answer""#;
const GRADE_4: &str = r#""kind":"home_visit","access":"announced","child_seen":"awake","observations":[{"domain":"nutrition","grade":4}]"#;
const FATHER_SEEN: &str = r#""kind":"home_visit","access":"announced","child_seen":"awake","present":[{"role":"father","relationship":"dad"}]"#;
const VOICE_NO_ACTION: &str = r#""kind":"voice","mode":"words","words":"I am hungry at home""#;
const VOICE_ACTED: &str = r#""kind":"voice","mode":"words","words":"I am hungry at home","action":"shared with the social worker""#;
const BELOW_COMMS: &str = r#""kind":"developmental_review","contact":"1_year","outcomes":[{"domain":"communication","outcome":"below_threshold"}]"#;
const BELOW_MOTOR: &str = r#""kind":"developmental_review","contact":"2_2half_years","outcomes":[{"domain":"gross_motor","outcome":"below_threshold"}]"#;
const ON_TRACK: &str = r#""kind":"developmental_review","contact":"1_year","outcomes":[{"domain":"communication","outcome":"on_track"}]"#;
const NOT_BROUGHT: &str =
    r#""kind":"developmental_review","contact":"1_year","was_not_brought":true"#;
const CORE_GROUP_UNMINUTED: &str = r#""kind":"meeting","meeting_type":"core_group","attendees":[{"name":"SW","agency":"CSC"}],"minutes":"not_recorded""#;
const CIN_UNMINUTED: &str = r#""kind":"meeting","meeting_type":"child_in_need_review","attendees":[{"name":"SW","agency":"CSC"}],"minutes":"not_recorded""#;
const CORE_GROUP: &str = r#""kind":"meeting","meeting_type":"core_group","attendees":[{"name":"SW","agency":"CSC"}],"minutes":"recorded","minutes_by":"SW""#;
const STRATEGY: &str = r#""kind":"meeting","meeting_type":"strategy_discussion","attendees":[{"name":"SW","agency":"CSC"}],"minutes":"recorded","minutes_by":"SW""#;
const UNRESOLVED: &str = r#""kind":"escalation","stage":1,"raised_by":"HV","raised_with":"CSC team manager","disputed":"inaction","disagreement":"no reply""#;
const RESOLVED: &str = r#""kind":"escalation","stage":1,"raised_by":"HV","raised_with":"CSC team manager","disputed":"inaction","disagreement":"no reply","outcome":"visit booked","resolved":true"#;
const SUMMARY: &str = r#""kind":"neglect_summary","grades":[{"area":"nutrition","grade":3}],"visits":2,"assessor_trained":true,"evidence":"two visits""#;

/// Absent agencies on a minuted core group.
fn absent(agencies: &[&str]) -> String {
    let list: Vec<String> = agencies.iter().map(|a| format!("\"{a}\"")).collect();
    format!(r#"{CORE_GROUP},"absent_agencies":[{}]"#, list.join(","))
}

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

/// Anna and Ben, sorted (as a signal's `children` are).
fn both() -> Vec<ChildRef> {
    let mut v = vec![child(ANNA), child(BEN)];
    v.sort();
    v
}

/// A family's records, built through the real parser and reconciled as
/// a pull does.
#[derive(Default)]
struct Family {
    records: Vec<FiledRecord>,
    decoded: BTreeMap<RecordId, Detail>,
}

impl Family {
    /// Adds a record of `agency` naming `children` at `at`, with `fields`.
    fn add(&mut self, agency: &str, children: &[&str], at: i64, fields: &str) -> RecordId {
        let named: Vec<String> = children.iter().map(|c| format!("\"{c}\"")).collect();
        let when = jiff::Timestamp::from_second(at).unwrap();
        let json = format!(
            r#"{{"agency":"{agency}","children":[{}],"occurred_at":"{when}","headline":"h",{fields}}}"#,
            named.join(",")
        );
        let seq = self.records.len() as u64 + 1;
        let r = record(1, seq, &json);
        let body = parse_body(
            &json,
            &Defaults {
                author: "hv.jones".try_into().unwrap(),
                agency: "HV-NORTH".try_into().unwrap(),
            },
        )
        .unwrap();
        self.decoded.insert(r.line.id, body.detail);
        self.records.push(r);
        self.records.last().unwrap().line.id
    }

    /// Anna's record from the health visitor.
    fn anna(&mut self, at: i64, fields: &str) -> RecordId {
        self.add("HV-NORTH", &[ANNA], at, fields)
    }

    /// A revision of `id` (same device) with `rest` (`"revised":…` or
    /// `"entered_in_error":true`).
    fn revise(&mut self, id: RecordId, at: i64, rest: &str) -> RecordId {
        let when = jiff::Timestamp::from_second(at).unwrap();
        self.add_raw(&format!(
            r#"{{"kind":"revision","children":["{ANNA}"],"occurred_at":"{when}","headline":"h","corrects":"{id}","reason":"typed wrongly",{rest}}}"#
        ))
    }

    fn add_raw(&mut self, json: &str) -> RecordId {
        let seq = self.records.len() as u64 + 1;
        let r = record(1, seq, json);
        let body = parse_body(
            json,
            &Defaults {
                author: "hv.jones".try_into().unwrap(),
                agency: "HV-NORTH".try_into().unwrap(),
            },
        )
        .unwrap();
        self.decoded.insert(r.line.id, body.detail);
        self.records.push(r);
        self.records.last().unwrap().line.id
    }

    fn eval_with(&self, who: &str, now: i64, config: &Config) -> Evaluation {
        let view = BTreeSet::from([child(ANNA), child(BEN)]);
        let mut c = Chronology {
            child: child(who),
            family: true,
            children: view.iter().cloned().collect(),
            entries: reconcile(&self.records, &view, DateRange::default()),
            details: BTreeMap::new(),
            signals: Vec::new(),
            names: Default::default(),
        };
        crate::record::fill_all(&mut c, self.decoded.clone());
        evaluate(&child(who), &c.entries, &c.details, config, Timestamp(now))
    }

    /// Anna's evaluation with what the register and plans say.
    fn eval_known(&self, known: &Known, now: i64) -> Evaluation {
        let view = BTreeSet::from([child(ANNA), child(BEN)]);
        let mut c = Chronology {
            child: child(ANNA),
            family: true,
            children: view.iter().cloned().collect(),
            entries: reconcile(&self.records, &view, DateRange::default()),
            details: BTreeMap::new(),
            signals: Vec::new(),
            names: Default::default(),
        };
        crate::record::fill_all(&mut c, self.decoded.clone());
        let config = Config::default();
        evaluate_known(
            &child(ANNA),
            &c.entries,
            &c.details,
            &config,
            known,
            Timestamp(now),
        )
    }

    fn eval(&self, now: i64) -> Evaluation {
        self.eval_with(ANNA, now, &Config::default())
    }

    /// Anna's signal of `rule`, if raised.
    fn signal(&self, rule: Rule, now: i64) -> Option<Signal> {
        self.eval(now).signals.into_iter().find(|s| s.rule == rule)
    }
}

/// Far enough after every fixture that no deadline is pending.
const LATER: i64 = T0 + 2_000 * DAY;

fn rules(e: &Evaluation) -> Vec<Rule> {
    e.signals.iter().map(|s| s.rule).collect()
}

#[test]
fn concerns_accumulating_across_agencies_at_and_around_90_days() {
    let build = |last: i64| {
        let mut f = Family::default();
        let a = f.add("HV-NORTH", &[ANNA], t(0, 0), CONCERN_PHYSICAL);
        let b = f.add("NURSERY-12", &[ANNA], t(45, 0), HUNGRY);
        let c = f.add("HV-NORTH", &[BEN], last, GRADE_4);
        (f, [a, b, c])
    };
    let (f, ids) = build(t(90, 0));
    let s = f
        .signal(Rule::ConcernsAccumulating, LATER)
        .expect("at 90 days");
    assert_eq!(s.evidence, ids);
    assert_eq!(s.first_seen, Timestamp(t(0, 0)));
    assert_eq!(s.last_seen, Timestamp(t(90, 0)));
    assert_eq!(s.children, both(), "the family's children named, sorted");
    assert_eq!(
        s.explanation,
        "3 concern entries from 2 agencies (HV-NORTH, NURSERY-12) between 1 January 2025 and 1 April 2025: at least 3 from at least 2 agencies within 90 days."
    );
    assert_eq!(s.title, "Concerns are building up across agencies");
    assert!(s.learning_point.starts_with("LP3, LP5"));
    let (f, _) = build(t(90, 1));
    assert_eq!(
        f.signal(Rule::ConcernsAccumulating, LATER),
        None,
        "one second over"
    );
    // Two entries only, or one agency only: nothing.
    let mut f = Family::default();
    f.add("HV-NORTH", &[ANNA], t(0, 0), CONCERN_PHYSICAL);
    f.add("NURSERY-12", &[ANNA], t(1, 0), HUNGRY);
    assert_eq!(f.signal(Rule::ConcernsAccumulating, LATER), None);
    f.add("NURSERY-12", &[ANNA], t(2, 0), PRESENT);
    assert_eq!(
        f.signal(Rule::ConcernsAccumulating, LATER),
        None,
        "not a concern"
    );
    let mut f = Family::default();
    for d in 0..3 {
        f.add("HV-NORTH", &[ANNA], t(d, 0), CONCERN_PHYSICAL);
    }
    assert_eq!(
        f.signal(Rule::ConcernsAccumulating, LATER),
        None,
        "one agency"
    );
}

#[test]
fn concerns_accumulating_from_neglect_concerns_within_a_year() {
    let build = |last: i64| {
        let mut f = Family::default();
        f.anna(t(0, 0), CONCERN_NEGLECT);
        f.anna(t(200, 0), CONCERN_NEGLECT);
        f.anna(last, CONCERN_NEGLECT);
        f
    };
    let s = build(t(365, 0))
        .signal(Rule::ConcernsAccumulating, LATER)
        .expect("3 within 365 days");
    assert_eq!(s.evidence.len(), 3);
    assert!(
        s.explanation
            .contains("3 neglect concerns between 1 January 2025 and 1 January 2026: at least 3 within 365 days"),
        "{}",
        s.explanation
    );
    assert_eq!(
        build(t(365, 1)).signal(Rule::ConcernsAccumulating, LATER),
        None
    );
}

#[test]
fn an_entry_entered_in_error_is_ignored_by_every_rule() {
    let mut f = Family::default();
    f.add("HV-NORTH", &[ANNA], t(0, 0), CONCERN_PHYSICAL);
    f.add("NURSERY-12", &[ANNA], t(1, 0), HUNGRY);
    let third = f.add("SCHOOL-3", &[ANNA], t(2, 0), CONCERN_PHYSICAL);
    let unminuted = f.anna(t(3, 0), CORE_GROUP_UNMINUTED);
    let before = rules(&f.eval(LATER));
    assert!(before.contains(&Rule::ConcernsAccumulating), "{before:?}");
    assert!(before.contains(&Rule::MeetingsWithoutMinutes), "{before:?}");
    // The same device retracts both (record() puts every fixture on one
    // device, so the retractions are its own).
    f.revise(third, t(2, 0), r#""entered_in_error":true"#);
    f.revise(unminuted, t(3, 0), r#""entered_in_error":true"#);
    let e = f.eval(LATER);
    assert!(!rules(&e).contains(&Rule::ConcernsAccumulating), "{e:?}");
    assert!(!rules(&e).contains(&Rule::MeetingsWithoutMinutes), "{e:?}");
}

#[test]
fn developmental_delay_within_a_year_or_the_same_domain_twice() {
    let build = |second: i64, fields: &str| {
        let mut f = Family::default();
        f.anna(t(0, 0), BELOW_COMMS);
        f.anna(second, fields);
        f
    };
    let s = build(t(365, 0), BELOW_MOTOR)
        .signal(Rule::DevelopmentalDelayRepeated, LATER)
        .expect("two reviews within 365 days");
    assert_eq!(s.evidence.len(), 2);
    assert!(
        s.explanation
            .starts_with("2 developmental reviews with an outcome below threshold"),
        "{}",
        s.explanation
    );
    assert_eq!(
        build(t(365, 1), BELOW_MOTOR).signal(Rule::DevelopmentalDelayRepeated, LATER),
        None
    );
    assert_eq!(
        build(t(10, 0), ON_TRACK).signal(Rule::DevelopmentalDelayRepeated, LATER),
        None
    );
    // The same domain twice, years apart.
    let s = build(t(900, 0), BELOW_COMMS)
        .signal(Rule::DevelopmentalDelayRepeated, LATER)
        .expect("same domain twice");
    assert!(
        s.explanation
            .contains("communication below threshold in 2 reviews"),
        "{}",
        s.explanation
    );
    assert_eq!(s.last_seen, Timestamp(t(900, 0)));
    // A sibling's reviews are not Anna's.
    let mut f = Family::default();
    f.add("HV-NORTH", &[BEN], t(0, 0), BELOW_COMMS);
    f.add("HV-NORTH", &[BEN], t(1, 0), BELOW_COMMS);
    assert_eq!(f.signal(Rule::DevelopmentalDelayRepeated, LATER), None);
    assert!(
        f.eval_with(BEN, LATER, &Config::default())
            .signals
            .iter()
            .any(|s| s.rule == Rule::DevelopmentalDelayRepeated)
    );
}

#[test]
fn child_not_seen_at_two_missed_visits_within_60_days() {
    let build = |second: i64| {
        let mut f = Family::default();
        f.anna(t(0, 0), NOT_SEEN);
        f.anna(second, NO_ACCESS);
        f
    };
    let s = build(t(60, 0))
        .signal(Rule::ChildNotSeen, LATER)
        .expect("at 60 days");
    assert_eq!(s.evidence.len(), 2);
    assert!(
        s.explanation
            .starts_with("2 home visits with the child not seen or no access"),
        "{}",
        s.explanation
    );
    assert_eq!(build(t(60, 1)).signal(Rule::ChildNotSeen, LATER), None);
}

#[test]
fn child_not_seen_for_28_days_after_a_concern() {
    let mut f = Family::default();
    let concern = f.add("SCHOOL-3", &[ANNA], t(0, 0), CONCERN_PHYSICAL);
    let visit = f.anna(t(10, 0), NOT_SEEN);
    let deadline = t(28, 0);
    let e = f.eval(deadline - 1);
    assert!(!rules(&e).contains(&Rule::ChildNotSeen));
    assert_eq!(e.recheck_at, Some(Timestamp(deadline)));
    let s = f
        .signal(Rule::ChildNotSeen, deadline)
        .expect("28 days passed");
    assert_eq!(
        s.evidence,
        [concern, visit],
        "the concern, and the visit that did not see her"
    );
    assert!(
        s.explanation.contains(
            "Nobody recorded seeing the child in the 28 days after 1 concern on 1 January 2025"
        ),
        "{}",
        s.explanation
    );
    // Seen on the 28th day: nothing, and nothing pending.
    f.anna(t(28, 0), PRESENT);
    let e = f.eval(deadline - 1);
    assert_eq!(e.recheck_at, None);
    assert_eq!(f.signal(Rule::ChildNotSeen, LATER), None);
    // Seen a second too late.
    let mut f = Family::default();
    f.add("SCHOOL-3", &[ANNA], t(0, 0), CONCERN_PHYSICAL);
    f.anna(t(28, 1), SEEN);
    assert!(f.signal(Rule::ChildNotSeen, LATER).is_some());
}

#[test]
fn voice_not_acted_on_after_14_days() {
    let mut f = Family::default();
    let voice = f.anna(t(0, 0), VOICE_NO_ACTION);
    let e = f.eval(t(14, 0) - 1);
    assert!(!rules(&e).contains(&Rule::VoiceNotActedOn));
    assert_eq!(e.recheck_at, Some(Timestamp(t(14, 0))));
    let s = f
        .signal(Rule::VoiceNotActedOn, t(14, 0))
        .expect("14 days passed");
    assert_eq!(s.evidence, [voice]);
    assert_eq!(s.first_seen, s.last_seen);
    // A referral on day 15 is too late; on day 14 it acts.
    let mut late = Family::default();
    late.anna(t(0, 0), VOICE_NO_ACTION);
    late.anna(t(14, 1), CONCERN_REFERRED);
    assert!(late.signal(Rule::VoiceNotActedOn, LATER).is_some());
    let mut acted = Family::default();
    acted.anna(t(0, 0), VOICE_NO_ACTION);
    acted.anna(t(14, 0), CONCERN_REFERRED);
    assert_eq!(acted.signal(Rule::VoiceNotActedOn, LATER), None);
    let mut acted = Family::default();
    acted.anna(t(0, 0), VOICE_NO_ACTION);
    acted.anna(t(2, 0), STRATEGY);
    assert_eq!(acted.eval(t(1, 0)).recheck_at, None, "already acted on");
    // A strategy discussion or an escalation acts too.
    for fields in [STRATEGY, UNRESOLVED] {
        let mut f = Family::default();
        f.anna(t(0, 0), VOICE_NO_ACTION);
        f.anna(t(3, 0), fields);
        assert_eq!(f.signal(Rule::VoiceNotActedOn, LATER), None, "{fields}");
    }
    // A sibling's referral does not act for Anna.
    let mut f = Family::default();
    f.anna(t(0, 0), VOICE_NO_ACTION);
    f.add("HV-NORTH", &[BEN], t(3, 0), CONCERN_REFERRED);
    assert!(f.signal(Rule::VoiceNotActedOn, LATER).is_some());
}

#[test]
fn an_amendment_that_adds_the_action_clears_voice_not_acted_on() {
    let mut f = Family::default();
    let voice = f.anna(t(0, 0), VOICE_NO_ACTION);
    assert!(f.signal(Rule::VoiceNotActedOn, LATER).is_some());
    let revised = VOICE_ACTED.replacen("\"kind\"", "\"revised\":{\"kind\"", 1) + "}";
    f.revise(voice, t(0, 0), &revised);
    assert_eq!(f.signal(Rule::VoiceNotActedOn, LATER), None);
}

#[test]
fn meetings_without_minutes_counts_core_groups_conferences_and_strategy() {
    let mut f = Family::default();
    f.anna(t(0, 0), CIN_UNMINUTED);
    f.anna(t(1, 0), CORE_GROUP);
    assert_eq!(f.signal(Rule::MeetingsWithoutMinutes, LATER), None);
    let id = f.add("CSC", &[ANNA, BEN], t(5, 0), CORE_GROUP_UNMINUTED);
    let s = f
        .signal(Rule::MeetingsWithoutMinutes, LATER)
        .expect("one core group");
    assert_eq!(s.evidence, [id]);
    assert_eq!(s.children, both());
    assert!(s.explanation.starts_with("1 meeting (core group, conference or strategy discussion) with minutes not recorded, on 6 January 2025"), "{}", s.explanation);
}

#[test]
fn an_agency_absent_twice_within_182_days() {
    let build = |second: i64| {
        let mut f = Family::default();
        f.anna(t(0, 0), &absent(&["SCHOOL-3", "GP-1"]));
        f.anna(t(100, 0), &absent(&["GP-1"]));
        f.anna(second, &absent(&["SCHOOL-3"]));
        f
    };
    let s = build(t(182, 0))
        .signal(Rule::AgencyAbsentFromMeetings, LATER)
        .expect("at 182 days");
    assert_eq!(s.evidence.len(), 3);
    assert_eq!(
        s.explanation,
        "GP-1 absent from 2 meetings between 1 January 2025 and 11 April 2025; SCHOOL-3 absent from 2 meetings between 1 January 2025 and 2 July 2025 (at least 2 meetings within 182 days)."
    );
    let s = build(t(182, 1))
        .signal(Rule::AgencyAbsentFromMeetings, LATER)
        .expect("GP-1 still");
    assert_eq!(s.evidence.len(), 2);
    assert!(!s.explanation.contains("SCHOOL-3"));
    let mut f = Family::default();
    f.anna(t(0, 0), &absent(&["SCHOOL-3"]));
    assert_eq!(f.signal(Rule::AgencyAbsentFromMeetings, LATER), None);
}

#[test]
fn harmful_sexual_behaviour_without_a_meeting_within_14_days() {
    let mut f = Family::default();
    let c = f.add("SCHOOL-3", &[ANNA], t(0, 0), CONCERN_HSB);
    let e = f.eval(t(14, 0) - 1);
    assert!(!rules(&e).contains(&Rule::HarmfulSexualBehaviourWithoutMeeting));
    assert_eq!(e.recheck_at, Some(Timestamp(t(14, 0))));
    let s = f
        .signal(Rule::HarmfulSexualBehaviourWithoutMeeting, t(14, 0))
        .expect("14 days passed");
    assert_eq!(s.evidence, [c]);
    let mut f = Family::default();
    f.add("SCHOOL-3", &[ANNA], t(0, 0), CONCERN_HSB);
    f.anna(t(14, 0), STRATEGY);
    assert_eq!(
        f.signal(Rule::HarmfulSexualBehaviourWithoutMeeting, LATER),
        None
    );
    let mut f = Family::default();
    f.add("SCHOOL-3", &[ANNA], t(0, 0), CONCERN_HSB);
    f.anna(t(14, 1), STRATEGY);
    f.anna(t(1, 0), CORE_GROUP);
    assert!(
        f.signal(Rule::HarmfulSexualBehaviourWithoutMeeting, LATER)
            .is_some(),
        "too late, and a core group is not a strategy meeting"
    );
}

#[test]
fn an_escalation_unresolved_after_28_days() {
    let mut f = Family::default();
    let esc = f.anna(t(0, 0), UNRESOLVED);
    let e = f.eval(t(28, 0) - 1);
    assert!(!rules(&e).contains(&Rule::EscalationUnresolved));
    assert_eq!(e.recheck_at, Some(Timestamp(t(28, 0))));
    let s = f
        .signal(Rule::EscalationUnresolved, t(28, 0))
        .expect("28 days");
    assert_eq!(s.evidence, [esc]);
    assert_eq!(
        s.explanation,
        "1 escalation raised on 1 January 2025, unresolved after 28 days, with no later escalation resolved."
    );
    // A resolved escalation before it does not resolve it; one after does,
    // whichever child it names.
    f.anna(t(-5, 0), RESOLVED);
    assert!(f.signal(Rule::EscalationUnresolved, LATER).is_some());
    f.add("CSC", &[BEN], t(20, 0), RESOLVED);
    let e = f.eval(t(1, 0));
    assert!(!rules(&e).contains(&Rule::EscalationUnresolved));
    assert_eq!(e.recheck_at, None);
}

#[test]
fn was_not_brought_twice_within_a_year() {
    let build = |second: i64| {
        let mut f = Family::default();
        f.anna(t(0, 0), NOT_BROUGHT);
        f.anna(second, NOT_BROUGHT);
        f
    };
    let s = build(t(365, 0))
        .signal(Rule::WasNotBroughtRepeated, LATER)
        .expect("at 365 days");
    assert_eq!(s.evidence.len(), 2);
    assert!(
        s.explanation
            .starts_with("Not brought 2 times between 1 January 2025 and 1 January 2026"),
        "{}",
        s.explanation
    );
    assert_eq!(
        build(t(365, 1)).signal(Rule::WasNotBroughtRepeated, LATER),
        None
    );
}

#[test]
fn neglect_without_assessment_within_182_days() {
    let build = |third: i64| {
        let mut f = Family::default();
        f.anna(t(0, 0), CONCERN_NEGLECT);
        f.anna(t(50, 0), GRADE_4);
        f.add("NURSERY-12", &[BEN], third, CONCERN_NEGLECT);
        f
    };
    let s = build(t(182, 0))
        .signal(Rule::NeglectWithoutAssessment, LATER)
        .expect("at 182 days");
    assert_eq!(s.evidence.len(), 3);
    assert!(
        s.explanation.ends_with("and no neglect summary recorded."),
        "{}",
        s.explanation
    );
    assert_eq!(
        build(t(182, 1)).signal(Rule::NeglectWithoutAssessment, LATER),
        None
    );
    // A summary before the first does not count; one on the first day does.
    let mut f = build(t(100, 0));
    f.anna(t(-1, 0), SUMMARY);
    assert!(f.signal(Rule::NeglectWithoutAssessment, LATER).is_some());
    f.anna(t(0, 0), SUMMARY);
    assert_eq!(f.signal(Rule::NeglectWithoutAssessment, LATER), None);
}

#[test]
fn male_carer_unseen_for_90_days_while_work_went_on() {
    let mut f = Family::default();
    let father = f.anna(t(0, 0), FATHER_SEEN);
    let e = f.eval(LATER);
    assert!(!rules(&e).contains(&Rule::MaleCarerUnseen), "no work since");
    assert_eq!(e.recheck_at, None);
    let visit = f.anna(t(30, 0), SEEN);
    let meeting = f.anna(t(40, 0), CORE_GROUP);
    let e = f.eval(t(90, 0) - 1);
    assert!(!rules(&e).contains(&Rule::MaleCarerUnseen));
    assert_eq!(e.recheck_at, Some(Timestamp(t(90, 0))));
    let s = f.signal(Rule::MaleCarerUnseen, t(90, 0)).expect("90 days");
    assert_eq!(s.evidence, [father, visit, meeting]);
    assert!(s.explanation.starts_with("A father or male carer was last recorded as present on 1 January 2025; since then 2 visits, meetings or assessments"), "{}", s.explanation);
    // Seen again: the clock restarts from the latest.
    f.anna(t(60, 0), FATHER_SEEN);
    assert!(!rules(&f.eval(LATER)).contains(&Rule::MaleCarerUnseen));
}

#[test]
fn a_routine_family_raises_nothing() {
    let mut f = Family::default();
    for week in 0..104 {
        let d = week * 7;
        f.add("NURSERY-12", &[ANNA], t(d, 0), PRESENT);
        f.add("SCHOOL-3", &[BEN], t(d, 3_600), PRESENT);
        if week % 4 == 0 {
            f.add("HV-NORTH", &[ANNA, BEN], t(d + 1, 0), SEEN);
            f.add("CSC", &[ANNA, BEN], t(d + 2, 0), CORE_GROUP);
        }
        if week % 26 == 0 {
            f.anna(t(d + 3, 0), ON_TRACK);
        }
    }
    for who in [ANNA, BEN] {
        let e = f.eval_with(who, LATER, &Config::default());
        assert_eq!(e, Evaluation::default(), "{who}");
    }
}

#[test]
fn signals_come_in_rule_order_one_per_rule() {
    let mut f = Family::default();
    f.anna(t(0, 0), UNRESOLVED);
    f.anna(t(1, 0), CORE_GROUP_UNMINUTED);
    f.anna(t(2, 0), CORE_GROUP_UNMINUTED);
    f.anna(t(3, 0), NOT_BROUGHT);
    f.anna(t(4, 0), NOT_BROUGHT);
    f.anna(t(5, 0), VOICE_NO_ACTION);
    let got = rules(&f.eval(LATER));
    assert_eq!(
        got,
        [
            Rule::VoiceNotActedOn,
            Rule::MeetingsWithoutMinutes,
            Rule::EscalationUnresolved,
            Rule::WasNotBroughtRepeated
        ]
    );
}

#[test]
fn a_tuned_threshold_is_the_one_applied() {
    let mut f = Family::default();
    f.anna(t(0, 0), NOT_BROUGHT);
    f.anna(t(400, 0), NOT_BROUGHT);
    assert_eq!(f.signal(Rule::WasNotBroughtRepeated, LATER), None);
    let config = Config::parse("[was_not_brought_repeated]\nwindow_days = 400\n").unwrap();
    let e = f.eval_with(ANNA, LATER, &config);
    assert_eq!(rules(&e), [Rule::WasNotBroughtRepeated]);
    assert!(e.signals[0].explanation.contains("within 400 days"));
}

#[test]
fn five_thousand_entries_are_read_in_windows_not_pairs() {
    // Not a timing test (the benchmark is): a large family still yields
    // each rule once, with evidence in chronology order.
    let mut f = Family::default();
    for n in 0..5_000 {
        let fields = [CONCERN_NEGLECT, HUNGRY, NOT_SEEN, PRESENT, CORE_GROUP][n % 5];
        let agency = ["HV-NORTH", "NURSERY-12"][n % 2];
        f.add(agency, &[ANNA, BEN], t(n as i64 / 5, n as i64), fields);
    }
    let e = f.eval(LATER);
    let s = &e.signals[0];
    assert_eq!(s.rule, Rule::ConcernsAccumulating);
    assert_eq!(s.evidence.len(), 2_000, "every concern and hungry day");
    let mut sorted = s.evidence.clone();
    sorted.sort_by_key(|id| id.seq);
    assert_eq!(s.evidence, sorted);
}

/// What the register and the plans say of Anna: born `born` (if any),
/// a plan of a visit every `every` working days from day 0 (if any), and
/// `adult` (a name, a relationship or none, a sex) in her household.
fn known(
    born: Option<i64>,
    every: Option<u16>,
    adult: Option<(&str, Option<Relationship>, Option<Sex>)>,
    now: i64,
) -> Known {
    let person = |id, refs: Vec<ChildRef>, name: &str, sex| Person {
        id: PersonId(id),
        child: !refs.is_empty(),
        refs,
        name: name.into(),
        born: born.filter(|_| id == 1).map(Timestamp),
        expected: None,
        sex,
    };
    let home = |id| Membership {
        household: "12 Elm Road".into(),
        person: PersonId(id),
        from: Timestamp(T0),
        until: None,
    };
    let mut register = Register {
        people: vec![person(1, vec![child(ANNA)], "Anna Brown", None)],
        memberships: vec![home(1)],
        ..Register::default()
    };
    if let Some((name, relationship, sex)) = adult {
        register.people.push(person(2, vec![], name, sex));
        register.memberships.push(home(2));
        register
            .relations
            .extend(relationship.map(|relationship| Relation {
                adult: PersonId(2),
                child: PersonId(1),
                relationship,
            }));
    }
    let setup = CaseloadSetup {
        plans: every
            .map(|every_working_days| VisitPlan {
                child: child(ANNA),
                every_working_days,
                label: "child protection plan".into(),
                since: Timestamp(T0),
            })
            .into_iter()
            .collect(),
        ..CaseloadSetup::default()
    };
    Known::new(
        &register,
        &setup,
        |c| BTreeSet::from([c.clone()]),
        Timestamp(now),
    )
}

fn not_seen(e: &Evaluation) -> Option<&Signal> {
    e.signals.iter().find(|s| s.rule == Rule::ChildNotSeen)
}

#[test]
fn child_not_seen_when_a_planned_visit_is_overdue_until_a_visit_sees_the_child() {
    // Day 0 is Wednesday 1 January 2025; seen on Friday 3 January, the
    // next visit is due 10 working days later, Friday 17 January (day 16).
    let mut f = Family::default();
    let visit = f.anna(t(2, 0), SEEN);
    let k = known(None, Some(10), None, t(16, 0));
    let e = f.eval_known(&k, t(16, 43_200));
    assert_eq!(not_seen(&e), None, "due today: not overdue");
    assert_eq!(
        e.recheck_at,
        Some(Timestamp(t(17, 0))),
        "overdue at the end of the due day"
    );
    let e = f.eval_known(&k, t(17, 0));
    let s = not_seen(&e).expect("overdue");
    assert_eq!(
        s.explanation,
        "Visit due 17 January 2025 (every 10 working days), overdue."
    );
    assert_eq!(
        s.evidence,
        [visit],
        "the visit the next one is counted from"
    );
    // Without the plan, nothing.
    assert_eq!(not_seen(&f.eval(t(17, 0))), None);
    // A visit without seeing the child does not clear it; one seeing her does.
    f.anna(t(17, 3_600), NOT_SEEN);
    assert!(not_seen(&f.eval_known(&k, t(17, 7_200))).is_some());
    f.anna(t(17, 10_800), SEEN);
    let e = f.eval_known(&k, t(17, 14_400));
    assert_eq!(not_seen(&e), None);
    // Seen on Saturday 18 January: the next is due 10 working days
    // later, Friday 31 January (day 30).
    assert_eq!(e.recheck_at, Some(Timestamp(t(31, 0))));
}

#[test]
fn child_not_seen_when_a_review_by_age_is_overdue_until_it_is_done() {
    // Born on day 0: the new birth review is due on day 14.
    let mut f = Family::default();
    let k = known(Some(T0), None, None, t(15, 0));
    let e = f.eval_known(&k, t(15, 0) - 1);
    assert_eq!(not_seen(&e), None);
    assert_eq!(e.recheck_at, Some(Timestamp(t(15, 0))));
    let s = not_seen(&f.eval_known(&k, t(15, 0)))
        .expect("overdue")
        .clone();
    assert_eq!(
        s.explanation,
        "New birth review due 15 January 2025, overdue."
    );
    assert!(s.evidence.is_empty());
    assert_eq!(
        (s.first_seen, s.last_seen),
        (Timestamp(t(14, 0)), Timestamp(t(14, 0)))
    );
    // Not brought: still overdue (and a rebooking is due, which is not
    // this rule's); brought: cleared.
    f.anna(
        t(15, 3_600),
        NOT_BROUGHT.replace("1_year", "new_birth").as_str(),
    );
    assert!(not_seen(&f.eval_known(&k, t(16, 0))).is_some());
    f.anna(
        t(16, 3_600),
        ON_TRACK.replace("1_year", "new_birth").as_str(),
    );
    assert_eq!(not_seen(&f.eval_known(&k, t(17, 0))), None);
}

#[test]
fn male_carer_unseen_knows_a_father_or_male_adult_from_the_register() {
    let mut f = Family::default();
    let first = f.anna(t(0, 0), SEEN);
    let later = f.anna(t(60, 0), CORE_GROUP);
    let father = known(
        None,
        None,
        Some(("Dean Brown", Some(Relationship::Father), None)),
        t(0, 0),
    );
    // Never recorded present, and nothing known: nothing raised.
    assert!(!rules(&f.eval(LATER)).contains(&Rule::MaleCarerUnseen));
    let e = f.eval_known(&father, t(90, 0) - 1);
    assert!(!rules(&e).contains(&Rule::MaleCarerUnseen));
    assert_eq!(e.recheck_at, Some(Timestamp(t(90, 0))));
    let e = f.eval_known(&father, t(90, 0));
    let s = e
        .signals
        .iter()
        .find(|s| s.rule == Rule::MaleCarerUnseen)
        .expect("90 days");
    assert_eq!(s.evidence, [first, later]);
    assert_eq!(
        s.explanation,
        "No record shows a father or male carer present, and 2 visits, meetings or assessments have been recorded between 1 January 2025 and 2 March 2025 (at least 90 days). The register names Dean Brown (father)."
    );
    // A male adult living there, related as nothing: known too.
    let lodger = known(
        None,
        None,
        Some(("Tom Lodger", None, Some(Sex::Male))),
        t(0, 0),
    );
    let s = f.eval_known(&lodger, t(90, 0)).signals;
    assert!(s.iter().any(|s| {
        s.rule == Rule::MaleCarerUnseen
            && s.explanation
                .ends_with("Tom Lodger (lives in the household).")
    }));
    // A woman, related as nothing: not a male carer.
    let aunt = known(
        None,
        None,
        Some(("Ada Aunt", None, Some(Sex::Female))),
        t(0, 0),
    );
    assert!(!rules(&f.eval_known(&aunt, t(90, 0))).contains(&Rule::MaleCarerUnseen));
    // Recorded present: the recorded rule, naming whom the register knows.
    f.anna(t(70, 0), FATHER_SEEN);
    f.anna(t(80, 0), SEEN);
    let s = f.eval_known(&father, t(160, 0)).signals;
    let s = s
        .iter()
        .find(|s| s.rule == Rule::MaleCarerUnseen)
        .expect("recorded rule");
    assert!(
        s.explanation
            .starts_with("A father or male carer was last recorded as present on 12 March 2025"),
        "{}",
        s.explanation
    );
    assert!(
        s.explanation
            .ends_with(" The register names Dean Brown (father)."),
        "{}",
        s.explanation
    );
}
