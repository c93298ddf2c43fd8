//! Issue 16: practice signals from two synthetic families, built through
//! the real agent CLI (`record --json`) on five agencies' tablets and
//! synced to a real server.
//!
//! - The **neglect family** (Kai, 8, at school; Mia, 2, at nursery; Noah,
//!   a baby) holds, in 2025: neglect building up across health visiting,
//!   nursery, school and police (hunger, care grades of 4, two neglect
//!   concerns) with no neglect assessment; Mia's communication below
//!   threshold at two reviews; Mia's words recorded with nothing done;
//!   Noah not brought twice; mother's partner seen once and never again;
//!   harmful sexual behaviour by Kai with no strategy discussion; two core
//!   groups the school missed, one without minutes; the school's
//!   escalation left unresolved; and two visits that found nobody in.
//!   Every intended rule is raised for the right child with exactly its
//!   evidence, and no other.
//! - The **control family** (Ava and Leo) has routine contacts over the
//!   same months (visits seeing both, grades of 3 or better, on-track
//!   reviews, present days, minuted meetings nobody missed, a child's
//!   words acted on) and raises **no** signal.
//! - **Order and origin**: the same records captured in reverse order,
//!   the health visitor's split across two tablets, social care's backlog
//!   synced in several runs and the tablets synced in reverse order, on a
//!   second server, give the same signals.
//! - **The caseload** (`signals --all`) lists the neglect family's
//!   children and not the control's, audited as one read naming them.
//!
//! Every record is dated in 2025, so each "once N days have passed"
//! condition holds against the real clock.

use std::collections::BTreeMap;

use hearth_e2e::agent::Agent;
use hearth_e2e::server::Server;
use hearth_shared::Timestamp;
use serde_json::{Value, json};

use crate::fixture::*;

const DAY: i64 = 86_400;
const REASON: &str = "end-to-end test of practice signals";
const CASELOAD_REASON: &str = "end-to-end test of the signals caseload";

/// The neglect family: Kai, 8, at school.
const KAI: &str = "nhs:9434761018";
/// Kai's sister Mia, 2, at nursery.
const MIA: &str = "nhs:9434762022";
/// Their baby brother Noah.
const NOAH: &str = "nhs:9434763037";
/// The neglect family's children, sorted.
const NEGLECT: [&str; 3] = [KAI, MIA, NOAH];
/// The control family: Ava, at school.
const AVA: &str = "nhs:4010234040";
/// Ava's brother Leo, at nursery.
const LEO: &str = "nhs:4010235055";

/// The agencies, one tablet each (health visiting two in the shuffled
/// world).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Agency {
    Hv,
    Nursery,
    School,
    Police,
    Csc,
}

impl Agency {
    const ALL: [Self; 5] = [
        Self::Hv,
        Self::Nursery,
        Self::School,
        Self::Police,
        Self::Csc,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::Hv => "HV-NORTH",
            Self::Nursery => "NURSERY-12",
            Self::School => "SCHOOL-3",
            Self::Police => "POLICE-7",
            Self::Csc => "CSC-EAST",
        }
    }

    fn worker(self) -> &'static str {
        match self {
            Self::Hv => "hv.jones",
            Self::Nursery => "dsl.patel",
            Self::School => "dsl.osei",
            Self::Police => "pc.hughes",
            Self::Csc => "sw.khan",
        }
    }
}

/// One record of the script: a label the assertions use, the agency that
/// captures it, and its JSON form for `record --json`.
struct Rec {
    label: &'static str,
    agency: Agency,
    body: Value,
}

/// 10:00 UTC on day `n` of 2025 (day 0 is 1 January).
fn day(n: i64) -> i64 {
    Timestamp::from_civil(2025, 1, 1, 10, 0, 0)
        .expect("a date")
        .0
        + n * DAY
}

/// A record of `kind` about `children` on day `n`, with `fields`.
fn rec(
    label: &'static str,
    agency: Agency,
    kind: &str,
    children: &[&str],
    n: i64,
    headline: &str,
    fields: Value,
) -> Rec {
    let mut body = json!({
        "kind": kind,
        "children": children,
        "occurred_at": at(day(n)),
        "headline": headline,
    });
    let (Value::Object(b), Value::Object(f)) = (&mut body, fields) else {
        unreachable!("both are objects")
    };
    b.extend(f);
    Rec {
        label,
        agency,
        body,
    }
}

/// A home visit that saw `children`, with these care grades.
fn visit_seen(
    label: &'static str,
    agency: Agency,
    children: &[&str],
    n: i64,
    present: Value,
    grades: Value,
) -> Rec {
    rec(
        label,
        agency,
        "home_visit",
        children,
        n,
        "Home visit; children seen",
        json!({"access": "announced", "present": present, "child_seen": "awake", "observations": grades}),
    )
}

/// A visit that found nobody in.
fn no_access(label: &'static str, n: i64) -> Rec {
    rec(
        label,
        Agency::Csc,
        "home_visit",
        &NEGLECT,
        n,
        "Visit: no answer at the door",
        json!({"access": "no_access", "child_seen": "not_seen", "not_seen_reason": "No answer at the door"}),
    )
}

/// A day at nursery or school.
fn day_at(label: &'static str, agency: Agency, child: &str, n: i64, flags: Value) -> Rec {
    let mut fields = json!({"attendance": "present"});
    if let (Value::Object(f), Value::Object(extra)) = (&mut fields, flags) {
        f.extend(extra);
    }
    rec(
        label,
        agency,
        "daily_presentation",
        &[child],
        n,
        "Arrival",
        fields,
    )
}

/// A developmental review with these outcomes (none: not brought).
fn review(
    label: &'static str,
    child: &str,
    n: i64,
    contact: &str,
    outcomes: &[(&str, &str)],
) -> Rec {
    let fields = if outcomes.is_empty() {
        json!({"contact": contact, "was_not_brought": true, "note": "Not brought; letter sent"})
    } else {
        let o: Vec<Value> = outcomes
            .iter()
            .map(|(d, o)| json!({"domain": d, "outcome": o}))
            .collect();
        json!({"contact": contact, "outcomes": o})
    };
    rec(
        label,
        Agency::Hv,
        "developmental_review",
        &[child],
        n,
        "Developmental review",
        fields,
    )
}

/// A concern about `child`.
fn concern_about(
    label: &'static str,
    agency: Agency,
    child: &str,
    n: i64,
    category: &str,
    action: &str,
) -> Rec {
    rec(
        label,
        agency,
        "concern",
        &[child],
        n,
        "Concern raised",
        json!({"category": category, "seen_or_said": "What was seen", "action": action, "action_detail": "Children's social care front door"}),
    )
}

/// A meeting about `children` with `absent` agencies.
fn meeting(
    label: &'static str,
    children: &[&str],
    n: i64,
    meeting_type: &str,
    absent: &[&str],
    minuted: bool,
) -> Rec {
    let mut fields = json!({
        "meeting_type": meeting_type,
        "attendees": [
            {"name": "Social worker", "agency": "CSC-EAST"},
            {"name": "Health visitor", "agency": "HV-NORTH"},
            {"name": "Nursery DSL", "agency": "NURSERY-12"},
        ],
        "absent_agencies": absent,
        "decisions": "Plan reviewed",
        "minutes": if minuted { "recorded" } else { "not_recorded" },
    });
    if minuted {
        fields["minutes_by"] = json!("Team administrator");
    }
    rec(
        label,
        Agency::Csc,
        "meeting",
        children,
        n,
        "Meeting",
        fields,
    )
}

/// A voice record of `child`'s words; `action` empty: nothing done.
fn voice(label: &'static str, agency: Agency, child: &str, n: i64, action: &str) -> Rec {
    rec(
        label,
        agency,
        "voice",
        &[child],
        n,
        "The child's words",
        json!({"mode": "words", "words": "There is no dinner at home", "action": action}),
    )
}

/// The neglect family's records, by day.
fn neglect_family() -> Vec<Rec> {
    use Agency::*;
    let grade = |domain: &str, g: u8| json!({"domain": domain, "grade": g});
    let mother = json!([{"role": "mother"}]);
    vec![
        // Mother's partner at home: the only record of him.
        visit_seen(
            "partner_seen",
            Hv,
            &NEGLECT,
            10,
            json!([{"role": "mother"}, {"role": "male_carer_or_partner", "relationship": "Mother's partner"}]),
            json!([grade("nutrition", 3), grade("housing", 3)]),
        ),
        review(
            "mia_review_1",
            MIA,
            40,
            "2_2half_years",
            &[
                ("communication", "below_threshold"),
                ("gross_motor", "on_track"),
            ],
        ),
        voice("mia_words", Nursery, MIA, 60, ""),
        review("noah_not_brought_1", NOAH, 100, "1_year", &[]),
        review("noah_not_brought_2", NOAH, 130, "1_year", &[]),
        // Neglect builds up: days 150 to 220, four agencies.
        day_at("mia_hungry_1", Nursery, MIA, 150, json!({"hungry": true})),
        day_at(
            "mia_hungry_2",
            Nursery,
            MIA,
            165,
            json!({"hungry": true, "hygiene_concern": true}),
        ),
        visit_seen(
            "grade_4_visit_1",
            Hv,
            &NEGLECT,
            170,
            mother.clone(),
            json!([grade("nutrition", 4), grade("housing", 3)]),
        ),
        day_at("mia_day", Nursery, MIA, 175, json!({})),
        concern_about("police_concern", Police, KAI, 180, "neglect", "shared"),
        day_at("kai_hungry", School, KAI, 185, json!({"hungry": true})),
        review(
            "noah_review",
            NOAH,
            190,
            "1_year",
            &[("communication", "on_track"), ("gross_motor", "on_track")],
        ),
        concern_about("school_concern", School, KAI, 195, "neglect", "referred"),
        review(
            "mia_review_2",
            MIA,
            200,
            "2_2half_years",
            &[
                ("communication", "below_threshold"),
                ("personal_social", "monitor"),
            ],
        ),
        visit_seen(
            "grade_4_visit_2",
            Hv,
            &NEGLECT,
            205,
            mother.clone(),
            json!([grade("hygiene", 4)]),
        ),
        visit_seen(
            "csc_visit",
            Csc,
            &NEGLECT,
            215,
            mother,
            json!([grade("nutrition", 3), grade("hygiene", 3)]),
        ),
        concern_about(
            "hsb_concern",
            School,
            KAI,
            220,
            "harmful_sexual_behaviour",
            "shared",
        ),
        voice(
            "kai_words",
            School,
            KAI,
            225,
            "Shared with his social worker the same day",
        ),
        day_at("kai_day", School, KAI, 230, json!({})),
        meeting(
            "core_group_unminuted",
            &NEGLECT,
            240,
            "core_group",
            &["SCHOOL-3"],
            false,
        ),
        meeting(
            "core_group_minuted",
            &NEGLECT,
            260,
            "core_group",
            &["SCHOOL-3"],
            true,
        ),
        rec(
            "escalation",
            School,
            "escalation",
            &[KAI],
            280,
            "Escalation to social care",
            json!({
                "stage": 1,
                "raised_by": "School DSL",
                "raised_with": "CSC team manager",
                "disputed": "drift",
                "disagreement": "No plan after two core groups",
            }),
        ),
        no_access("no_access_1", 300),
        no_access("no_access_2", 320),
    ]
}

/// The control family's records, by day: routine contacts only.
fn control_family() -> Vec<Rec> {
    use Agency::*;
    let grade = |domain: &str, g: u8| json!({"domain": domain, "grade": g});
    let family = json!([{"role": "mother"}, {"role": "grandparent"}]);
    let on_track = [("communication", "on_track"), ("gross_motor", "on_track")];
    vec![
        visit_seen(
            "ctl_visit_1",
            Hv,
            &[AVA, LEO],
            20,
            family.clone(),
            json!([grade("nutrition", 2), grade("housing", 2)]),
        ),
        review("ctl_leo_review_1", LEO, 50, "2_2half_years", &on_track),
        day_at("ctl_leo_day_1", Nursery, LEO, 60, json!({})),
        day_at("ctl_ava_day_1", School, AVA, 70, json!({})),
        voice(
            "ctl_ava_words",
            School,
            AVA,
            75,
            "Told her class teacher; nothing of concern",
        ),
        meeting(
            "ctl_tac",
            &[AVA, LEO],
            110,
            "team_around_the_child",
            &[],
            true,
        ),
        visit_seen(
            "ctl_visit_2",
            Hv,
            &[AVA, LEO],
            120,
            family.clone(),
            json!([grade("nutrition", 3)]),
        ),
        day_at("ctl_leo_day_2", Nursery, LEO, 160, json!({})),
        day_at("ctl_ava_day_2", School, AVA, 170, json!({})),
        review("ctl_leo_review_2", LEO, 200, "2_2half_years", &on_track),
        meeting(
            "ctl_cin",
            &[AVA, LEO],
            210,
            "child_in_need_review",
            &[],
            true,
        ),
        visit_seen(
            "ctl_visit_3",
            Hv,
            &[AVA, LEO],
            220,
            family,
            json!([grade("hygiene", 3), grade("safety", 2)]),
        ),
    ]
}

/// Both families' records, by day.
fn script() -> Vec<Rec> {
    let mut all = neglect_family();
    all.extend(control_family());
    let occurred = |r: &Rec| r.body["occurred_at"].as_str().unwrap().to_string();
    all.sort_by_key(occurred);
    all
}

/// How a world captures and syncs the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// One tablet per agency; records captured by day; each tablet syncs
    /// once at the end, health visiting first.
    Forward,
    /// Records captured newest first; health visiting's split between two
    /// tablets in turn; social care syncs after every second capture; the
    /// tablets sync in reverse order.
    Shuffled,
}

/// A server holding both families, and each record's id by label.
struct World {
    server: Server,
    ids: BTreeMap<&'static str, String>,
}

impl World {
    fn build(plan: Plan) -> Self {
        let server = Server::start();
        let mut tablets: Vec<(Agency, Agent)> = Agency::ALL
            .iter()
            .map(|&a| (a, enrolled(&server, a.code(), a.worker(), 0, None)))
            .collect();
        let mut records = script();
        if plan == Plan::Shuffled {
            records.reverse();
            tablets.push((
                Agency::Hv,
                enrolled(&server, Agency::Hv.code(), Agency::Hv.worker(), 0, None),
            ));
        }
        let mut ids = BTreeMap::new();
        let (mut hv_turn, mut csc_captures) = (0, 0);
        for r in &records {
            let candidates: Vec<&Agent> = tablets
                .iter()
                .filter(|(a, _)| *a == r.agency)
                .map(|(_, t)| t)
                .collect();
            let tablet = if r.agency == Agency::Hv {
                hv_turn += 1;
                candidates[hv_turn % candidates.len()]
            } else {
                candidates[0]
            };
            let id = tablet.record(&r.body);
            assert!(ids.insert(r.label, id).is_none(), "label {} twice", r.label);
            if plan == Plan::Shuffled && r.agency == Agency::Csc {
                csc_captures += 1;
                if csc_captures % 2 == 0 {
                    assert_eq!(tablet.sync(), 0, "social care's partial sync");
                }
            }
        }
        if plan == Plan::Shuffled {
            tablets.reverse();
        }
        for (agency, tablet) in &tablets {
            assert_eq!(tablet.sync(), 0, "{agency:?}'s sync");
            assert!(
                statuses(tablet).values().all(|s| s == "synced"),
                "{agency:?}: every record synced"
            );
        }
        Self { server, ids }
    }

    fn id(&self, label: &str) -> &str {
        self.ids
            .get(label)
            .unwrap_or_else(|| panic!("no record labelled {label}"))
    }

    /// The label of a record id.
    fn label(&self, id: &str) -> &'static str {
        self.ids
            .iter()
            .find(|(_, v)| v.as_str() == id)
            .map(|(k, _)| *k)
            .unwrap_or_else(|| panic!("{id} is no record of the script"))
    }

    /// The `signals` of `child`'s chronology (or family chronology).
    fn signals(&self, child: &str, family: bool) -> Vec<Value> {
        self.server.chronology_json(child, family)["signals"]
            .as_array()
            .unwrap_or_else(|| panic!("the chronology JSON of {child} has a signals array"))
            .clone()
    }

    /// The signals with each evidence id replaced by its record's label:
    /// what two worlds of the same script must agree on.
    fn by_label(&self, signals: &[Value]) -> Vec<Value> {
        signals
            .iter()
            .map(|s| {
                let mut s = s.clone();
                let labels: Vec<Value> = s["evidence"]
                    .as_array()
                    .expect("a signal has an evidence array")
                    .iter()
                    .map(|id| json!(self.label(id.as_str().expect("a record id"))))
                    .collect();
                s["evidence"] = Value::Array(labels);
                s
            })
            .collect()
    }

    /// When the record labelled `label` happened, as the chronology says.
    fn occurred(&self, family_view: &Value, label: &str) -> String {
        let id = self.id(label);
        entries(family_view)
            .iter()
            .find(|e| e["record_id"] == id)
            .unwrap_or_else(|| panic!("{label} ({id}) is in the family chronology"))["occurred_at"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A signal the test expects: its rule, its evidence (labels, in order)
/// and its children (sorted).
struct Want {
    rule: &'static str,
    evidence: &'static [&'static str],
    children: &'static [&'static str],
}

const fn want(
    rule: &'static str,
    evidence: &'static [&'static str],
    children: &'static [&'static str],
) -> Want {
    Want {
        rule,
        evidence,
        children,
    }
}

/// Every concern-type entry: days 150 to 220, within 90 days, from
/// nursery, health visiting, police and school.
const ACCUMULATING: &[&str] = &[
    "mia_hungry_1",
    "mia_hungry_2",
    "grade_4_visit_1",
    "police_concern",
    "kai_hungry",
    "school_concern",
    "grade_4_visit_2",
    "hsb_concern",
];
/// Neglect concerns and grades of 4: days 170 to 205; no assessment.
const NEGLECT_SEEN: &[&str] = &[
    "grade_4_visit_1",
    "police_concern",
    "school_concern",
    "grade_4_visit_2",
];
/// The partner's only appearance, then every visit and meeting after it.
const PARTNER_UNSEEN: &[&str] = &[
    "partner_seen",
    "grade_4_visit_1",
    "grade_4_visit_2",
    "csc_visit",
    "core_group_unminuted",
    "core_group_minuted",
    "no_access_1",
    "no_access_2",
];
const NO_ACCESS: &[&str] = &["no_access_1", "no_access_2"];
const UNMINUTED: &[&str] = &["core_group_unminuted"];
const SCHOOL_ABSENT: &[&str] = &["core_group_unminuted", "core_group_minuted"];
const ESCALATION: &[&str] = &["escalation"];

/// Each neglect-family child's own signals, in rule order.
fn wanted(child: &str) -> Vec<Want> {
    const ALL: &[&str] = &NEGLECT;
    match child {
        KAI => vec![
            want("concerns_accumulating", ACCUMULATING, ALL),
            want("child_not_seen", NO_ACCESS, ALL),
            want("meetings_without_minutes", UNMINUTED, ALL),
            want("agency_absent_from_meetings", SCHOOL_ABSENT, ALL),
            want(
                "harmful_sexual_behaviour_without_meeting",
                &["hsb_concern"],
                &[KAI],
            ),
            want("escalation_unresolved", ESCALATION, &[KAI]),
            want("neglect_without_assessment", NEGLECT_SEEN, ALL),
            want("male_carer_unseen", PARTNER_UNSEEN, ALL),
        ],
        MIA => vec![
            want("concerns_accumulating", ACCUMULATING, ALL),
            want(
                "developmental_delay_repeated",
                &["mia_review_1", "mia_review_2"],
                &[MIA],
            ),
            want("child_not_seen", NO_ACCESS, ALL),
            want("voice_not_acted_on", &["mia_words"], &[MIA]),
            want("meetings_without_minutes", UNMINUTED, ALL),
            want("agency_absent_from_meetings", SCHOOL_ABSENT, ALL),
            want("escalation_unresolved", ESCALATION, &[KAI, MIA]),
            want("neglect_without_assessment", NEGLECT_SEEN, ALL),
            want("male_carer_unseen", PARTNER_UNSEEN, ALL),
        ],
        NOAH => vec![
            want("concerns_accumulating", ACCUMULATING, ALL),
            want("child_not_seen", NO_ACCESS, ALL),
            want("meetings_without_minutes", UNMINUTED, ALL),
            want("agency_absent_from_meetings", SCHOOL_ABSENT, ALL),
            want("escalation_unresolved", ESCALATION, &[KAI, NOAH]),
            want(
                "was_not_brought_repeated",
                &["noah_not_brought_1", "noah_not_brought_2"],
                &[NOAH],
            ),
            want("neglect_without_assessment", NEGLECT_SEEN, ALL),
            want("male_carer_unseen", PARTNER_UNSEEN, ALL),
        ],
        _ => Vec::new(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is an array"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Asserts that `got` (signals in the JSON form) are exactly `want`, in
/// order, each with its evidence, children, first and last seen, words,
/// and no acknowledgement.
fn assert_signals(world: &World, family_view: &Value, what: &str, got: &[Value], want: &[Want]) {
    let rules: Vec<&str> = got.iter().map(|s| s["rule"].as_str().unwrap()).collect();
    let wanted_rules: Vec<&str> = want.iter().map(|w| w.rule).collect();
    assert_eq!(rules, wanted_rules, "{what}: the rules raised");
    for (s, w) in got.iter().zip(want) {
        let evidence: Vec<String> = w.evidence.iter().map(|l| world.id(l).to_string()).collect();
        assert_eq!(
            strings(&s["evidence"]),
            evidence,
            "{what}: {}'s evidence (labels {:?}, got {:?})",
            w.rule,
            w.evidence,
            s["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| world.label(id.as_str().unwrap()))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            strings(&s["children"]),
            w.children,
            "{what}: {}'s children",
            w.rule
        );
        let first = world.occurred(family_view, w.evidence[0]);
        let last = world.occurred(family_view, w.evidence[w.evidence.len() - 1]);
        assert_eq!(
            s["first_seen"],
            first.as_str(),
            "{what}: {}'s first_seen",
            w.rule
        );
        assert_eq!(
            s["last_seen"],
            last.as_str(),
            "{what}: {}'s last_seen",
            w.rule
        );
        for field in ["title", "explanation", "learning_point"] {
            assert!(
                s[field].as_str().is_some_and(|t| !t.trim().is_empty()),
                "{what}: {}'s {field}: {s}",
                w.rule
            );
        }
        assert!(
            s["acknowledged"].is_null(),
            "{what}: {} acknowledged: {s}",
            w.rule
        );
    }
}

/// `hearth-server signals --child CHILD [--family] --format json`: the
/// signals alone (an array, or an object holding one).
fn cli_signals(server: &Server, child: &str, family: bool) -> Vec<Value> {
    let mut args = vec![
        "signals", "--child", child, "--reason", REASON, "--format", "json",
    ];
    if family {
        args.push("--family");
    }
    let out: Value = serde_json::from_str(&server.admin_ok(&args)).expect("signals JSON");
    let list = if out.is_array() {
        &out
    } else {
        &out["signals"]
    };
    list.as_array()
        .unwrap_or_else(|| panic!("`signals --format json` prints signals: {out}"))
        .clone()
}

/// `signals` keyed by rule (a family view merges one child's signals with
/// another's; compared whatever their order).
fn keyed(signals: &[Value]) -> BTreeMap<String, Value> {
    signals
        .iter()
        .map(|s| (s["rule"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

/// The labels of the records whose family-chronology entry carries any of
/// `flags` (or, with `concerns`, is of kind `concern`): the rules' inputs,
/// checked apart so that a data mistake is told from a rule's.
fn labelled(world: &World, view: &Value, flags: &[&str], concerns: bool) -> Vec<&'static str> {
    entries(view)
        .iter()
        .filter(|e| {
            (concerns && e["kind"] == "concern")
                || e["flags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| flags.contains(&f.as_str().unwrap()))
        })
        .map(|e| world.label(e["record_id"].as_str().unwrap()))
        .collect()
}

/// The rules' inputs as the entries' flags show them: each set is the one
/// the script means (the neglect family), or empty (the control family).
fn assert_inputs(world: &World, child: &str, control: bool) {
    let view = world.server.chronology_json(child, true);
    let concern_type = [
        "hungry",
        "injury",
        "grade_4_or_5",
        "nappy_concern",
        "hygiene_concern",
    ];
    let mut want: Vec<(Vec<&str>, &[&str])> = vec![
        (labelled(world, &view, &concern_type, true), ACCUMULATING),
        (
            labelled(world, &view, &["no_access", "child_not_seen"], false),
            NO_ACCESS,
        ),
        (
            labelled(world, &view, &["minutes_not_recorded"], false),
            UNMINUTED,
        ),
        (labelled(world, &view, &["unresolved"], false), ESCALATION),
        (
            labelled(world, &view, &["no_action"], false),
            &["mia_words"],
        ),
        (
            labelled(world, &view, &["below_threshold"], false),
            &["mia_review_1", "mia_review_2"],
        ),
        (
            labelled(world, &view, &["was_not_brought"], false),
            &["noah_not_brought_1", "noah_not_brought_2"],
        ),
    ];
    if control {
        for (_, w) in &mut want {
            *w = &[];
        }
    }
    for (got, w) in want {
        assert_eq!(got, w, "{child}: the entries the script flags");
    }
}

#[test]
fn the_neglect_family_raises_each_intended_signal_with_its_evidence_and_the_control_family_none() {
    let world = World::build(Plan::Forward);
    let server = &world.server;
    let family_view = server.chronology_json(KAI, true);
    let mut family_children = strings(&family_view["children"]);
    family_children.sort();
    assert_eq!(family_children, NEGLECT, "one household");
    assert_inputs(&world, KAI, false);
    assert_inputs(&world, AVA, true);

    for child in NEGLECT {
        let got = world.signals(child, false);
        assert_signals(&world, &family_view, child, &got, &wanted(child));
        // The signals command shows the same signals as the chronology.
        assert_eq!(
            cli_signals(server, child, false),
            got,
            "{child}: signals command"
        );
    }
    // The school, absent from both core groups, is named.
    let kai = keyed(&world.signals(KAI, false));
    let absent = kai["agency_absent_from_meetings"]["explanation"]
        .as_str()
        .unwrap();
    assert!(absent.contains("SCHOOL-3"), "{absent}");

    // The family view: a pattern seen from several children is one
    // signal naming them all; each child's own signal stays its own.
    let family = keyed(&world.signals(KAI, true));
    let mut expect: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for child in NEGLECT {
        for w in wanted(child) {
            let children = expect.entry(w.rule.to_string()).or_default();
            for c in w.children {
                if !children.iter().any(|x| x == c) {
                    children.push(c.to_string());
                }
            }
        }
    }
    for children in expect.values_mut() {
        children.sort();
    }
    let got: BTreeMap<String, Vec<String>> = family
        .iter()
        .map(|(rule, s)| (rule.clone(), strings(&s["children"])))
        .collect();
    assert_eq!(got, expect, "the family view's signals and their children");
    assert_eq!(
        keyed(&cli_signals(server, MIA, true)),
        keyed(&world.signals(MIA, true)),
        "signals --family"
    );

    // The control family: routine contacts raise nothing.
    for child in [AVA, LEO] {
        for family in [false, true] {
            assert_eq!(world.signals(child, family), Vec::<Value>::new(), "{child}");
        }
        assert_eq!(
            cli_signals(server, child, false),
            Vec::<Value>::new(),
            "{child}"
        );
    }

    // The caseload lists the neglect family's children, not the control's.
    let caseload = server.admin_ok(&["signals", "--all", "--reason", CASELOAD_REASON]);
    for child in NEGLECT {
        assert!(
            caseload.contains(child),
            "{child} on the caseload: {caseload}"
        );
    }
    for child in [AVA, LEO] {
        assert!(
            !caseload.contains(child),
            "{child} not on the caseload: {caseload}"
        );
    }
    // Audited as one read naming every child it disclosed, and no one else.
    let log: Value = serde_json::from_str(&server.admin_ok(&["access-log", "--json"])).unwrap();
    let rows: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == CASELOAD_REASON)
        .collect();
    assert_eq!(rows.len(), 1, "one access-log row for the caseload: {log}");
    assert!(rows[0]["child"].is_null(), "{}", rows[0]);
    let mut disclosed = strings(&rows[0]["children"]);
    disclosed.sort();
    assert_eq!(disclosed, NEGLECT, "the caseload's access-log row");
}

#[test]
fn the_same_records_in_another_order_from_other_tablets_give_the_same_signals() {
    let forward = World::build(Plan::Forward);
    let shuffled = World::build(Plan::Shuffled);
    // The shuffled world holds the same records under other ids (other
    // tablets): compared by label, every signal is the same.
    for child in [KAI, MIA, NOAH, AVA, LEO] {
        for family in [false, true] {
            let a = forward.by_label(&forward.signals(child, family));
            let b = shuffled.by_label(&shuffled.signals(child, family));
            assert_eq!(
                a, b,
                "{child} (family view {family}): signals differ by order or origin"
            );
        }
    }
    // And they are the intended ones, not merely equal.
    let family_view = shuffled.server.chronology_json(KAI, true);
    for child in NEGLECT {
        let got = shuffled.signals(child, false);
        assert_signals(&shuffled, &family_view, child, &got, &wanted(child));
    }
}
