//! Caseloads in the store (issue 17, on either backend): migration 0011, assignments, groups
//! and plans round-trip, a change that changes nothing is not logged, every
//! change is in the register log, a plan marks the child's signals stale.

use hearth_shared::{ChildRef, DeviceId, Timestamp};

use super::{ANNA, BEN};
use crate::caseload::{Assignee, CaseloadChange, VisitPlan};
use crate::store::Store;
use crate::store::any::AnyStore;
use crate::store::testing;

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn open() -> (tempfile::TempDir, AnyStore) {
    testing::fresh()
}

fn plan(c: &str, every: u16, label: &str) -> VisitPlan {
    VisitPlan {
        child: child(c),
        every_working_days: every,
        label: label.into(),
        since: Timestamp(1_000),
    }
}

#[test]
fn assignments_groups_and_plans_round_trip_and_a_repeat_changes_nothing() {
    let (_dir, store) = open();
    let worker = Assignee::Worker("hv.jones".into());
    let room = Assignee::Group("Rainbow room".into());
    let tablet = DeviceId([3; 8]);
    let changes = [
        CaseloadChange::Assign(child(ANNA), worker.clone()),
        CaseloadChange::Assign(child(BEN), room.clone()),
        CaseloadChange::Join(tablet, "Rainbow room".into()),
        CaseloadChange::Plan(plan(ANNA, 10, "child protection plan")),
    ];
    for (n, c) in changes.iter().enumerate() {
        assert!(
            store
                .change_caseload(c, "admin", Timestamp(100 + n as i64))
                .unwrap()
        );
        assert!(
            !store.change_caseload(c, "admin", Timestamp(200)).unwrap(),
            "{c:?}"
        );
    }
    let setup = store.caseload_setup().unwrap();
    let to: Vec<(String, Assignee, Timestamp, &str)> = setup
        .assignments
        .iter()
        .map(|a| (a.child.to_string(), a.to.clone(), a.at, a.by.as_str()))
        .collect();
    assert_eq!(
        to,
        [
            (BEN.to_string(), room.clone(), Timestamp(101), "admin"),
            (ANNA.to_string(), worker.clone(), Timestamp(100), "admin"),
        ]
    );
    assert_eq!(setup.groups.len(), 1);
    assert_eq!(
        (setup.groups[0].device, setup.groups[0].group.as_str()),
        (tablet, "Rainbow room")
    );
    assert_eq!(setup.plans, [plan(ANNA, 10, "child protection plan")]);

    // A new plan replaces the old; undoing each change empties the setup.
    assert!(
        store
            .change_caseload(
                &CaseloadChange::Plan(plan(ANNA, 5, "child protection plan")),
                "admin",
                Timestamp(300)
            )
            .unwrap()
    );
    assert_eq!(
        store.caseload_setup().unwrap().plans[0].every_working_days,
        5
    );
    for c in [
        CaseloadChange::Unassign(child(ANNA), worker.clone()),
        CaseloadChange::Unassign(child(BEN), room.clone()),
        CaseloadChange::Leave(tablet, "Rainbow room".into()),
        CaseloadChange::EndPlan(child(ANNA)),
    ] {
        assert!(
            store.change_caseload(&c, "admin", Timestamp(400)).unwrap(),
            "{c:?}"
        );
        assert!(
            !store.change_caseload(&c, "admin", Timestamp(401)).unwrap(),
            "{c:?}"
        );
    }
    assert_eq!(store.caseload_setup().unwrap(), Default::default());
}

#[test]
fn every_change_is_in_the_register_log_and_a_plan_marks_the_child_stale() {
    let (_dir, store) = open();
    let before = store.register_log().unwrap().len();
    store
        .change_caseload(
            &CaseloadChange::Assign(child(ANNA), Assignee::Group("Rainbow room".into())),
            "admin",
            Timestamp(10),
        )
        .unwrap();
    store
        .change_caseload(
            &CaseloadChange::Plan(plan(ANNA, 10, "child in need plan")),
            "lead",
            Timestamp(11),
        )
        .unwrap();
    // Repeated: nothing changes, nothing is logged.
    store
        .change_caseload(
            &CaseloadChange::Plan(plan(ANNA, 10, "child in need plan")),
            "lead",
            Timestamp(12),
        )
        .unwrap();
    let log = store.register_log().unwrap();
    let mine: Vec<(i64, &str, &str, &str)> = log[before..]
        .iter()
        .map(|e| (e.at.0, e.who.as_str(), e.action.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        mine,
        [
            (
                10,
                "admin",
                "assign",
                "nhs:9434765919 to group Rainbow room"
            ),
            (
                11,
                "lead",
                "plan",
                "nhs:9434765919: a home visit every 10 working days (child in need plan)"
            ),
        ]
    );
    let states = store.signal_states(&[child(ANNA)]).unwrap();
    assert_eq!(states.len(), 1);
    assert!(states[0].dirty > 0, "a plan changes child_not_seen: stale");
}

#[test]
fn a_caseload_read_names_children_from_the_register_reads_their_records_and_is_logged() {
    use ed25519_dalek::SigningKey;

    use super::{bodies, chain, enrol, insert};
    use crate::caseload::build::For;
    use crate::caseload::load;
    use crate::people::{NewPerson, RegisterChange, RegisterOutcome};

    let (_dir, mut store) = open();
    let key = SigningKey::from_bytes(&[41; 32]);
    let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
    // A visit seeing Anna and Ben on 2 March 2026, a voice record, an
    // amendment moving the visit to 09:30.
    insert(&mut store, &key, &chain(&key, &bodies(device)));
    let added = store
        .change_register(
            &RegisterChange::Add(NewPerson {
                refs: vec![child(ANNA)],
                child: true,
                name: "Anna Brown".into(),
                born: None,
                expected: None,
                sex: None,
            }),
            "admin",
            "",
            Timestamp(5),
        )
        .unwrap();
    assert!(matches!(added, RegisterOutcome::Done(Some(_))), "{added:?}");
    for c in [
        CaseloadChange::Assign(child(ANNA), Assignee::Worker("hv.jones".into())),
        CaseloadChange::Assign(child(BEN), Assignee::Worker("hv.jones".into())),
        CaseloadChange::Plan(plan(ANNA, 10, "child protection plan")),
    ] {
        store.change_caseload(&c, "admin", Timestamp(6)).unwrap();
    }
    let of = |setup: &_| For::device(device, "hv.jones", &[], setup);
    // 2026-03-16T10:00:00Z: 14 days after the visit.
    let now = Timestamp(1_773_655_200);
    let c = load::read(&store, of, device, &format!("device:{device}"), now).unwrap();
    let names: Vec<(&str, &str)> = c
        .children
        .iter()
        .map(|c| (c.name.as_str(), c.child.as_str()))
        .collect();
    assert_eq!(names, [("Anna Brown", ANNA), (BEN, BEN)]);
    assert_eq!(
        c.children[0].alerts,
        "on a child protection plan; last seen at home 14 days ago"
    );
    assert_eq!(c.children[1].alerts, "last seen at home 14 days ago");
    // Seen on Monday 2 March: the next visit due Monday 16 March.
    assert_eq!(c.children[0].tasks[0].due.date().to_string(), "2026-03-16");
    let last = store.register_log().unwrap().pop().unwrap();
    assert_eq!(
        (last.at, last.who, last.action.as_str(), last.detail),
        (
            now,
            format!("device:{device}"),
            "caseload",
            format!("{ANNA} {BEN}")
        )
    );
}
