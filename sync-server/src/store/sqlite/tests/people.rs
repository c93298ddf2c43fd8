//! The people register in the store (either backend; SQLite migration 0010): people and their
//! references, relations, dated household membership, identity links,
//! each change logged in its transaction (a refused one not at all),
//! the log kept for ever, and the signals of the references a change
//! touches marked stale.

use hearth_shared::{ChildRef, Timestamp};

use super::{ANNA, BEN};
use crate::people::{
    NewPerson, PersonEdit, PersonId, RegisterChange, RegisterEntry, RegisterOutcome,
    RegisterRefusal, Relation, Relationship, Sex,
};
use crate::store::Store;
use crate::store::any::AnyStore;
use crate::store::testing;

const CARL: &str = "nhs:9434765870";
const BABY: &str = "local:HV:baby-brown";
const DAY: i64 = 86_400;

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn open() -> (tempfile::TempDir, AnyStore) {
    testing::fresh()
}

fn kid(refs: &[&str], name: &str) -> NewPerson {
    NewPerson {
        refs: refs.iter().map(|r| child(r)).collect(),
        child: true,
        name: name.into(),
        born: Some(Timestamp(1_700_000_000 / DAY * DAY)),
        expected: None,
        sex: Some(Sex::Female),
    }
}

fn adult(name: &str) -> NewPerson {
    NewPerson {
        refs: vec![],
        child: false,
        name: name.into(),
        born: None,
        expected: None,
        sex: None,
    }
}

fn change(store: &AnyStore, c: RegisterChange) -> RegisterOutcome {
    store
        .change_register(&c, "admin", "", Timestamp(1_790_000_000))
        .unwrap()
}

fn add(store: &AnyStore, p: NewPerson) -> PersonId {
    match change(store, RegisterChange::Add(p)) {
        RegisterOutcome::Done(Some(id)) => id,
        other => panic!("{other:?}"),
    }
}

fn refused(store: &AnyStore, c: RegisterChange) -> RegisterRefusal {
    match change(store, c) {
        RegisterOutcome::Refused(r) => r,
        other => panic!("{other:?}"),
    }
}

fn dirty(store: &AnyStore, c: &str) -> i64 {
    store
        .signal_states(&[child(c)])
        .unwrap()
        .first()
        .map_or(0, |s| s.dirty)
}

#[test]
fn people_relations_and_memberships_read_back_whole() {
    let (_dir, store) = open();
    let amy = add(&store, kid(&[ANNA, BEN], "Amy Brown"));
    let dean = add(&store, adult("Dean Brown"));
    assert_eq!((amy, dean), (PersonId(1), PersonId(2)));
    for relationship in [Relationship::Father, Relationship::MaleCarer] {
        let r = Relation {
            adult: dean,
            child: amy,
            relationship,
        };
        assert_eq!(
            change(&store, RegisterChange::Relate(r)),
            RegisterOutcome::Done(None)
        );
    }
    let from = Timestamp(1_780_000_000 / DAY * DAY);
    change(
        &store,
        RegisterChange::AddMember {
            household: "Brown".into(),
            person: amy,
            from,
        },
    );
    let reg = store.register().unwrap();
    assert_eq!(reg.people.len(), 2);
    let p = &reg.people[0];
    assert_eq!(
        (p.name.as_str(), p.child, p.sex),
        ("Amy Brown", true, Some(Sex::Female))
    );
    let mut refs = vec![child(ANNA), child(BEN)];
    refs.sort();
    assert_eq!(p.refs, refs);
    assert!(reg.people[1].refs.is_empty() && !reg.people[1].child);
    // A second relationship of the pair replaces the first.
    assert_eq!(reg.relations.len(), 1);
    assert_eq!(reg.relations[0].relationship, Relationship::MaleCarer);
    assert_eq!(reg.memberships.len(), 1);
    assert_eq!(
        (reg.memberships[0].from, reg.memberships[0].until),
        (from, None)
    );
}

#[test]
fn a_reference_belongs_to_one_person_and_a_refused_change_is_not_logged() {
    let (_dir, store) = open();
    let amy = add(&store, kid(&[ANNA], "Amy Brown"));
    let before = store.register_log().unwrap().len();
    assert_eq!(
        refused(
            &store,
            RegisterChange::Add(kid(&[CARL, ANNA], "Someone Else"))
        ),
        RegisterRefusal::RefTaken(child(ANNA), amy)
    );
    // Nothing of the refused add stays: not the person, not CARL.
    let reg = store.register().unwrap();
    assert_eq!(reg.people.len(), 1);
    assert_eq!(store.register_log().unwrap().len(), before);
    add(&store, kid(&[CARL], "Carl Brown"));
}

#[test]
fn edits_relations_and_memberships_check_what_the_database_knows() {
    let (_dir, store) = open();
    let amy = add(&store, kid(&[ANNA], "Amy Brown"));
    let dean = add(&store, adult("Dean Brown"));
    let nobody = PersonId(99);
    assert_eq!(
        refused(&store, RegisterChange::Edit(nobody, PersonEdit::default())),
        RegisterRefusal::NoSuchPerson(nobody)
    );
    let backwards = Relation {
        adult: amy,
        child: dean,
        relationship: Relationship::Mother,
    };
    assert!(matches!(
        refused(&store, RegisterChange::Relate(backwards)),
        RegisterRefusal::WrongKind(_)
    ));
    assert_eq!(
        refused(
            &store,
            RegisterChange::Unrelate {
                adult: dean,
                child: amy
            }
        ),
        RegisterRefusal::NotRelated(dean, amy)
    );
    let home = "Brown".to_string();
    let from = Timestamp(1_780_000_000 / DAY * DAY);
    let member = |p| RegisterChange::AddMember {
        household: home.clone(),
        person: p,
        from,
    };
    let end = |p, until| RegisterChange::EndMember {
        household: home.clone(),
        person: p,
        until,
    };
    assert_eq!(
        refused(&store, end(amy, from)),
        RegisterRefusal::NotAMember(amy, home.clone())
    );
    change(&store, member(amy));
    assert_eq!(
        refused(&store, member(amy)),
        RegisterRefusal::AlreadyMember(amy, home.clone())
    );
    assert!(matches!(
        refused(&store, end(amy, Timestamp(from.0 - DAY))),
        RegisterRefusal::EndsBeforeStart { .. }
    ));
    assert_eq!(
        change(&store, end(amy, Timestamp(from.0 + DAY))),
        RegisterOutcome::Done(None)
    );
    // Ended: a new membership may begin.
    assert_eq!(change(&store, member(amy)), RegisterOutcome::Done(None));
    let reg = store.register().unwrap();
    assert_eq!(reg.memberships.len(), 2);
    assert_eq!(
        reg.memberships.iter().filter(|m| m.until.is_none()).count(),
        1
    );
    change(
        &store,
        RegisterChange::Edit(
            amy,
            PersonEdit {
                name: Some("Amy Green".into()),
                born: Some(None),
                expected: Some(Some(from)),
                sex: Some(None),
            },
        ),
    );
    let p = &store.register().unwrap().people[0];
    assert_eq!(
        (p.name.as_str(), p.born, p.expected, p.sex),
        ("Amy Green", None, Some(from), None)
    );
}

#[test]
fn identity_links_are_one_row_per_pair_and_unlink_deletes_it() {
    let (_dir, store) = open();
    add(&store, kid(&[BABY], "Baby Brown"));
    let at = Timestamp(1_790_000_000);
    let link = |a: &str, b: &str| RegisterChange::Link(child(a), child(b));
    let unlink = |a: &str, b: &str| RegisterChange::Unlink(child(a), child(b));
    store
        .change_register(&link(BABY, ANNA), "admin", "born, NHS number issued", at)
        .unwrap();
    // The same pair either way round is linked already.
    assert!(matches!(
        refused(&store, link(ANNA, BABY)),
        RegisterRefusal::Links(_)
    ));
    let reg = store.register().unwrap();
    assert_eq!(reg.identities.len(), 1);
    let l = &reg.identities[0];
    assert_eq!(
        (&l.a, &l.b, l.who.as_str(), l.reason.as_str(), l.at),
        (
            &child(BABY),
            &child(ANNA),
            "admin",
            "born, NHS number issued",
            at
        )
    );
    assert_eq!(
        change(&store, unlink(ANNA, BABY)),
        RegisterOutcome::Done(None)
    );
    assert!(store.register().unwrap().identities.is_empty());
    assert!(matches!(
        refused(&store, unlink(ANNA, BABY)),
        RegisterRefusal::Links(_)
    ));
    let actions: Vec<String> = store
        .register_log()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["add", "link", "unlink"]);
}

#[test]
fn changes_mark_stale_every_reference_of_the_children_they_touch() {
    let (_dir, store) = open();
    let amy = add(&store, kid(&[ANNA, BABY], "Amy Brown"));
    let carl = add(&store, kid(&[CARL], "Carl Brown"));
    assert_eq!((dirty(&store, ANNA), dirty(&store, BABY)), (1, 1));
    // A link of BEN to ANNA marks BEN, ANNA and ANNA's other reference.
    change(&store, RegisterChange::Link(child(BEN), child(ANNA)));
    assert_eq!(
        (
            dirty(&store, BEN),
            dirty(&store, ANNA),
            dirty(&store, BABY),
            dirty(&store, CARL)
        ),
        (1, 2, 2, 1)
    );
    let from = Timestamp(1_780_000_000 / DAY * DAY);
    change(
        &store,
        RegisterChange::AddMember {
            household: "Brown".into(),
            person: carl,
            from,
        },
    );
    assert_eq!(dirty(&store, CARL), 2);
    // Amy joining marks Carl too: their family changes.
    change(
        &store,
        RegisterChange::AddMember {
            household: "Brown".into(),
            person: amy,
            from,
        },
    );
    assert_eq!((dirty(&store, CARL), dirty(&store, BEN)), (3, 2));
}

#[test]
fn the_register_log_keeps_reads_and_changes_in_order_and_refuses_rewrites() {
    let (dir, store) = open();
    let read = RegisterEntry {
        at: Timestamp(1_790_000_100),
        who: "manager".into(),
        action: "read".into(),
        detail: "person list".into(),
        reason: String::new(),
    };
    add(&store, adult("Dean Brown"));
    store.log_register(&read).unwrap();
    let log = store.register_log().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[0].action.as_str(),
            log[0].detail.as_str(),
            log[0].who.as_str()
        ),
        ("add", "P1 Dean Brown (adult)", "admin")
    );
    assert_eq!(log[1], read);
    // The database itself refuses, whoever asks (SQLite: "... is never
    // changed" / "never deleted from"; PostgreSQL: "... never changed or
    // deleted").
    let update = testing::execute(dir.path(), "UPDATE register_log SET who = 'someone'");
    assert!(update.unwrap_err().contains("never changed"));
    let delete = testing::execute(dir.path(), "DELETE FROM register_log").unwrap_err();
    assert!(
        delete.contains("never deleted") || delete.contains("never changed or deleted"),
        "{delete}"
    );
    assert_eq!(store.register_log().unwrap().len(), 2);
}

#[test]
fn family_links_carry_childrens_household_stays_and_the_pairs_naming_one_child() {
    let (_dir, store) = open();
    let amy = add(&store, kid(&[ANNA, BABY], "Amy Brown"));
    let dean = add(&store, adult("Dean Brown"));
    let carl = add(&store, kid(&[CARL], "Carl Brown"));
    let from = Timestamp(1_780_000_000 / DAY * DAY);
    for p in [amy, dean, carl] {
        change(
            &store,
            RegisterChange::AddMember {
                household: "Brown".into(),
                person: p,
                from,
            },
        );
    }
    change(&store, RegisterChange::Link(child(BEN), child(CARL)));
    let links = store.family_links().unwrap();
    // Dean is an adult: no stay.
    assert_eq!(links.households.len(), 2);
    let mut amy_refs = vec![child(ANNA), child(BABY)];
    amy_refs.sort();
    let mut got = links.households[0].refs.clone();
    got.sort();
    assert_eq!(got, amy_refs);
    assert_eq!(links.households[1].refs, [child(CARL)]);
    assert_eq!(
        (links.households[0].from, links.households[0].until),
        (from, None)
    );
    assert_eq!(links.identities.len(), 2);
    let family = crate::chronology::family::family_of(&child(BEN), &links);
    assert_eq!(family.len(), 4, "{family:?}");
}

/// Issue 17: an identity link joins the records made under either
/// reference in a single child's chronology (an unborn child's local
/// reference and the NHS number given at birth), names the child beside
/// them, and an unlink undoes it; both are in the register log.
#[test]
fn issue_17_an_identity_link_changes_which_records_a_pull_shows_and_an_unlink_undoes_it() {
    use crate::audit::{PullRequest, pull};
    use crate::chronology::DateRange;
    use crate::clock::FixedClock;
    use crate::people::ops;
    use crate::store::Via;
    use ed25519_dalek::SigningKey;

    let (_dir, mut store) = open();
    let key = SigningKey::from_bytes(&[41; 32]);
    super::enrol(&store, &key, "HV-NORTH", "hv.jones");
    let bodies: Vec<String> = [(BABY, "2026-03-02"), (ANNA, "2026-03-05")]
        .iter()
        .map(|(c, day)| {
            format!(
                r#"{{"kind":"voice","children":["{c}"],"occurred_at":"{day}T11:00:00Z","headline":"Seen","mode":"behaviour","behaviour":"hid"}}"#
            )
        })
        .collect();
    super::insert(&mut store, &key, &super::chain(&key, &bodies));
    let clock = FixedClock(Timestamp(1_795_737_600));
    let baby = NewPerson {
        born: None,
        expected: Some(ops::parse_date("edd", "2026-12-01").unwrap()),
        ..kid(&[BABY], "Baby Brown")
    };
    ops::add_person(&store, &clock, "admin", baby).unwrap();
    let read = |store: &AnyStore, c: &str| {
        let req = PullRequest {
            child: child(c),
            family: false,
            range: DateRange::default(),
            reason: "section 47 enquiry strategy".into(),
            who: "manager".into(),
            via: Via::Cli,
            purpose: None,
        };
        pull(store, &clock, &crate::signals::Config::default(), &req).unwrap()
    };
    let before = read(&store, ANNA);
    assert_eq!(before.entries.len(), 1);
    assert!(
        before.names.is_empty(),
        "the register does not know Anna's NHS number yet"
    );

    let (a, b) = (child(BABY), child(ANNA));
    ops::link_identity(
        &store,
        &clock,
        "admin",
        &a,
        &b,
        "born 2026-11-28, NHS number issued",
    )
    .unwrap();
    for c in [ANNA, BABY] {
        let linked = read(&store, c);
        assert_eq!(linked.entries.len(), 2, "{c}: both references' records");
        assert_eq!(linked.names[&child(ANNA)].name, "Baby Brown");
        assert_eq!(linked.names[&child(BABY)].name, "Baby Brown");
    }
    ops::unlink_identity(&store, &clock, "admin", &a, &b, "linked to the wrong baby").unwrap();
    let after = read(&store, ANNA);
    assert_eq!(after.entries.len(), 1);
    assert_eq!(after.entries[0].children, [child(ANNA)]);
    let log: Vec<(String, String)> = store
        .register_log()
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.reason))
        .collect();
    assert_eq!(
        log[1..],
        [
            (
                "link".to_string(),
                "born 2026-11-28, NHS number issued".to_string()
            ),
            ("unlink".to_string(), "linked to the wrong baby".to_string()),
        ]
    );
}
