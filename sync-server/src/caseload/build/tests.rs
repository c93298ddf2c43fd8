//! Who is on a caseload (worker, group, both), what each entry says, by
//! name, and that no record text reaches it.

use hearth_shared::caseload::TaskKind;
use hearth_shared::kinds::Detail;

use super::*;
use crate::caseload::{Assignment, DeviceGroup};
use crate::people::{IdentityLink, Membership, Person, Relation, Relationship};

const AMY_NHS: &str = "nhs:9434765919";
const AMY_LOCAL: &str = "local:NURSERY-12:amy-b";
const BEN: &str = "local:LA-NORTH:C 0042";
const CARL: &str = "nhs:9434765870";
const TABLET: DeviceId = DeviceId([9; 8]);

fn r(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn d(s: &str) -> Timestamp {
    let n: Vec<u32> = s.split('-').map(|p| p.parse().unwrap()).collect();
    Timestamp::from_civil(i64::from(n[0]), n[1], n[2], 0, 0, 0).unwrap()
}

fn assign(child: &str, to: Assignee) -> Assignment {
    Assignment {
        child: r(child),
        to,
        at: Timestamp(1),
        by: "admin".into(),
    }
}

fn worker(w: &str) -> Assignee {
    Assignee::Worker(w.into())
}

fn group(g: &str) -> Assignee {
    Assignee::Group(g.into())
}

/// Identity classes by the register (Amy's two references are linked).
fn class(c: &ChildRef) -> BTreeSet<ChildRef> {
    crate::people::identity_class(&register(), c)
}

fn person(id: i64, refs: &[&str], name: &str, born: Option<&str>) -> Person {
    Person {
        id: PersonId(id),
        refs: refs.iter().map(|s| r(s)).collect(),
        child: !refs.is_empty(),
        name: name.into(),
        born: born.map(d),
        expected: None,
        sex: None,
    }
}

fn member(household: &str, id: i64, from: &str, until: Option<&str>) -> Membership {
    Membership {
        household: household.into(),
        person: PersonId(id),
        from: d(from),
        until: until.map(d),
    }
}

/// Amy (P1, both references) lives with Dean (P2, her father), Zoe (P3,
/// no relation given) and Carl (P4, a child); Tom (P5) moved out.
fn register() -> Register {
    Register {
        people: vec![
            person(1, &[AMY_LOCAL], "Amy Brown", Some("2025-06-01")),
            person(2, &[], "Dean Brown", None),
            person(3, &[], "Zoe Green", None),
            person(4, &[CARL], "Carl Brown", Some("2022-02-02")),
            person(5, &[], "Tom Lodger", None),
        ],
        relations: vec![Relation {
            adult: PersonId(2),
            child: PersonId(1),
            relationship: Relationship::Father,
        }],
        memberships: vec![
            member("12 Elm Road", 1, "2025-06-01", None),
            member("12 Elm Road", 2, "2025-06-01", None),
            member("12 Elm Road", 3, "2026-01-01", None),
            member("12 Elm Road", 4, "2025-06-01", None),
            member("12 Elm Road", 5, "2025-06-01", Some("2026-02-01")),
        ],
        identities: vec![IdentityLink {
            a: r(AMY_LOCAL),
            b: r(AMY_NHS),
            at: Timestamp(1),
            who: "admin".into(),
            reason: "NHS number issued".into(),
        }],
    }
}

fn setup() -> CaseloadSetup {
    CaseloadSetup {
        assignments: vec![
            assign(AMY_LOCAL, group("Rainbow room")),
            assign(BEN, worker("hv.jones")),
            assign(CARL, group("Rainbow room")),
            assign(CARL, worker("nn.patel")),
            assign("nhs:9434765927", worker("sw.other")),
            assign("nhs:9434765927", group("Sun room")),
        ],
        groups: vec![
            DeviceGroup {
                device: TABLET,
                group: "Rainbow room".into(),
            },
            DeviceGroup {
                device: DeviceId([1; 8]),
                group: "Sun room".into(),
            },
        ],
        plans: vec![VisitPlan {
            child: r(AMY_NHS),
            every_working_days: 10,
            label: "child protection plan".into(),
            since: d("2026-03-02"),
        }],
    }
}

fn on(of: &For) -> Vec<(String, Option<String>)> {
    members(of, &setup(), class)
        .into_iter()
        .map(|m| (m.refs[0].to_string(), m.group))
        .collect()
}

#[test]
fn a_worker_gets_their_children_a_group_its_children_and_both_ways_is_the_workers() {
    let worker_only = For::device(DeviceId([2; 8]), "hv.jones", &[], &setup());
    assert!(worker_only.groups.is_empty());
    assert_eq!(on(&worker_only), [(BEN.to_string(), None)]);

    let room = For::device(TABLET, "nursery.tablet", &[], &setup());
    assert_eq!(
        on(&room),
        [
            (CARL.to_string(), Some("Rainbow room".to_string())),
            (AMY_NHS.to_string(), Some("Rainbow room".to_string())),
        ],
        "by preferred reference: Amy is assigned by her local one and shown by her NHS number"
    );

    // The room's tablet with Carl's key worker on its staff: Carl both
    // ways, so not through the group.
    let both = For::device(
        TABLET,
        "nursery.tablet",
        &["nn.patel".to_string()],
        &setup(),
    );
    assert_eq!(
        on(&both),
        [
            (CARL.to_string(), None),
            (AMY_NHS.to_string(), Some("Rainbow room".to_string())),
        ]
    );
    let m = members(&both, &setup(), class);
    assert_eq!(m[1].refs, [r(AMY_NHS), r(AMY_LOCAL)]);
    assert!(on(&For::default()).is_empty());
}

fn visit_seen() -> Detail {
    hearth_shared::json::parse_body(
        &format!(
            r#"{{"kind":"home_visit","children":["{AMY_NHS}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"SENTINEL-HEADLINE","access":"announced","child_seen":"awake","narrative":"SENTINEL-TEXT"}}"#
        ),
        &hearth_shared::json::Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        },
    )
    .unwrap()
    .detail
}

#[test]
fn entries_say_name_household_alerts_and_tasks_sorted_by_name_and_no_record_text() {
    let of = For::device(
        TABLET,
        "nursery.tablet",
        &["hv.jones".to_string()],
        &setup(),
    );
    let m = members(&of, &setup(), class);
    let visit = visit_seen();
    let mut facts = BTreeMap::new();
    facts.insert(
        r(AMY_NHS),
        ChildFacts {
            records: vec![Seen {
                at: Timestamp(d("2026-03-04").0 + 3_600),
                detail: &visit,
            }],
            open: vec![Rule::ChildNotSeen, Rule::MaleCarerUnseen],
        },
    );
    let now = Timestamp(d("2026-03-16").0 + 9 * 3_600);
    let c = build(TABLET, &m, &register(), &setup(), &facts, now);
    assert_eq!((c.device, c.issued_at), (TABLET, now));
    let names: Vec<&str> = c.children.iter().map(|c| c.name.as_str()).collect();
    // Ben is not in the register: named by his reference, sorted with it.
    assert_eq!(names, ["Amy Brown", "Carl Brown", BEN]);

    let amy = &c.children[0];
    assert_eq!(amy.child, AMY_NHS);
    assert_eq!(amy.refs, [AMY_NHS, AMY_LOCAL]);
    assert_eq!((amy.born, amy.expected), (Some(d("2025-06-01")), None));
    assert_eq!(amy.group.as_deref(), Some("Rainbow room"));
    let household: Vec<(&str, &str)> = amy
        .household
        .iter()
        .map(|h| (h.name.as_str(), h.relationship.as_str()))
        .collect();
    assert_eq!(
        household,
        [
            ("Carl Brown", "other"),
            ("Dean Brown", "father"),
            ("Zoe Green", "other")
        ],
        "Tom moved out"
    );
    assert_eq!(
        amy.alerts,
        "on a child protection plan; last seen at home 12 days ago; open signals: child_not_seen, male_carer_unseen"
    );
    let kinds: Vec<TaskKind> = amy.tasks.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [TaskKind::Visit, TaskKind::Review1Year],
        "9½ months old"
    );
    assert_eq!(amy.tasks[0].due, d("2026-03-18"));

    let ben = &c.children[2];
    assert_eq!(
        (ben.born, ben.group.as_ref(), ben.alerts.as_str()),
        (None, None, "")
    );
    assert!(ben.household.is_empty() && ben.tasks.is_empty());

    // Minimum data: no record text in what is sent.
    let bytes = c.sign(&ed25519_dalek::SigningKey::from_bytes(&[5; 32]));
    for sentinel in [&b"SENTINEL"[..], b"Elm Road", b"Tom Lodger"] {
        assert!(
            !bytes.windows(sentinel.len()).any(|w| w == sentinel),
            "{}",
            String::from_utf8_lossy(sentinel)
        );
    }
}
