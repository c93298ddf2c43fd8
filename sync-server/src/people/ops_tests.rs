//! [`super::ops`] over a real SQLite store: input checks naming the
//! field, reads logged before they answer, the class in a person's view,
//! a CSV import with refused rows reported and valid ones stored.

use hearth_shared::{ChildRef, Timestamp};

use super::ops::{self, RegisterError};
use super::{NewPerson, PersonEdit, PersonId, RegisterRefusal, Relation, Relationship};
use crate::clock::FixedClock;
use crate::store::Store;
use crate::store::any::AnyStore;
use crate::store::testing;

const AMY: &str = "nhs:9434765919";
const NURSERY: &str = "local:NURSERY-12:amy-b";
const CARL: &str = "nhs:9434765870";
/// 2026-11-27T00:00:00Z.
const NOW: FixedClock = FixedClock(Timestamp(1_795_737_600));

fn r(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn open() -> (tempfile::TempDir, AnyStore) {
    testing::fresh()
}

fn child(refs: &[&str], name: &str, dob: &str) -> NewPerson {
    NewPerson {
        refs: refs.iter().map(|x| r(x)).collect(),
        child: true,
        name: name.into(),
        born: Some(ops::parse_date("dob", dob).unwrap()),
        expected: None,
        sex: None,
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

fn field(e: RegisterError) -> (&'static str, String) {
    (e.field(), e.to_string())
}

#[test]
fn dates_are_yyyy_mm_dd_at_midnight_utc() {
    let t = ops::parse_date("dob", "2026-03-02").unwrap();
    assert_eq!(t.to_civil(), (2026, 3, 2, 0, 0, 0));
    for bad in [
        "2026-3-2",
        "02/03/2026",
        "2026-02-30",
        "2026-03-02T10:00",
        "",
        "1850-01-01",
    ] {
        let e = ops::parse_date("dob", bad).unwrap_err();
        assert_eq!(e.field(), "dob", "{bad}");
    }
    assert!(
        ops::parse_date("from", "x")
            .unwrap_err()
            .to_string()
            .starts_with("from: ")
    );
}

#[test]
fn names_are_trimmed_visible_and_at_most_100_characters() {
    assert_eq!(
        ops::check_name("name", "  Amy Brown ").unwrap(),
        "Amy Brown"
    );
    assert_eq!(
        ops::check_name("name", &"é".repeat(100))
            .unwrap()
            .chars()
            .count(),
        100
    );
    for bad in ["", "   ", "Amy\nBrown", "Amy\u{202e}nworB"] {
        assert_eq!(
            ops::check_name("name", bad).unwrap_err().field(),
            "name",
            "{bad:?}"
        );
    }
    let long = ops::check_name("name", &"a".repeat(101)).unwrap_err();
    assert!(long.to_string().contains("the limit is 100"));
}

#[test]
fn adding_checks_each_field_and_names_it() {
    let (_dir, s) = open();
    let future = child(&[AMY], "Amy", "2027-01-01");
    assert_eq!(
        field(ops::add_person(&s, &NOW, "admin", future).unwrap_err()),
        (
            "dob",
            "dob: 2027-01-01 is in the future; for an unborn child give --edd".into()
        )
    );
    let no_refs = child(&[], "Amy", "2024-01-01");
    assert_eq!(
        ops::add_person(&s, &NOW, "admin", no_refs)
            .unwrap_err()
            .field(),
        "ref"
    );
    let twice = child(&[AMY, AMY], "Amy", "2024-01-01");
    assert_eq!(
        ops::add_person(&s, &NOW, "admin", twice)
            .unwrap_err()
            .field(),
        "ref"
    );
    let adult_dob = NewPerson {
        born: Some(Timestamp(0)),
        ..adult("Dean")
    };
    assert_eq!(
        ops::add_person(&s, &NOW, "admin", adult_dob)
            .unwrap_err()
            .field(),
        "dob"
    );
    let both = NewPerson {
        expected: Some(Timestamp(1_796_000_000)),
        ..child(&[AMY], "Amy", "2024-01-01")
    };
    assert_eq!(
        ops::add_person(&s, &NOW, "admin", both)
            .unwrap_err()
            .field(),
        "edd"
    );
    // Nothing refused reached the store.
    assert!(s.register().unwrap().people.is_empty());
    let amy = ops::add_person(
        &s,
        &NOW,
        "admin",
        child(&[AMY], " Amy Brown ", "2024-01-01"),
    );
    assert_eq!(amy.unwrap(), PersonId(1));
    let taken = ops::add_person(&s, &NOW, "admin", child(&[AMY], "Other", "2024-01-01"));
    assert!(matches!(
        taken.unwrap_err(),
        RegisterError::Refused(RegisterRefusal::RefTaken(_, PersonId(1)))
    ));
    assert_eq!(s.register().unwrap().people[0].name, "Amy Brown");
}

#[test]
fn resolve_takes_an_id_or_any_reference_in_the_class() {
    let (_dir, s) = open();
    let amy = ops::add_person(&s, &NOW, "admin", child(&[AMY], "Amy", "2024-01-01")).unwrap();
    ops::link_identity(
        &s,
        &NOW,
        "admin",
        &r(NURSERY),
        &r(AMY),
        "nursery form 3 March",
    )
    .unwrap();
    let reg = s.register().unwrap();
    for key in ["P1", "p1", AMY, NURSERY, " nhs:9434765919 "] {
        assert_eq!(ops::resolve(&reg, key).unwrap(), amy, "{key}");
    }
    assert!(matches!(
        ops::resolve(&reg, "P2").unwrap_err(),
        RegisterError::Refused(RegisterRefusal::NoSuchPerson(PersonId(2)))
    ));
    assert_eq!(ops::resolve(&reg, CARL).unwrap_err().field(), "person");
    assert_eq!(ops::resolve(&reg, "Amy").unwrap_err().field(), "person");
}

#[test]
fn reads_are_logged_before_they_answer_even_when_they_fail() {
    let (_dir, s) = open();
    let amy = ops::add_person(&s, &NOW, "admin", child(&[AMY], "Amy Brown", "2024-01-01")).unwrap();
    let carl = ops::add_person(
        &s,
        &NOW,
        "admin",
        child(&[CARL], "Carl Green", "2022-01-01"),
    )
    .unwrap();
    let dean = ops::add_person(&s, &NOW, "admin", adult("Dean Brown")).unwrap();
    let father = Relation {
        adult: dean,
        child: amy,
        relationship: Relationship::Father,
    };
    ops::relate(&s, &NOW, "admin", father).unwrap();
    let from = ops::parse_date("from", "2024-01-01").unwrap();
    ops::add_member(&s, &NOW, "admin", "Brown", amy, from).unwrap();
    ops::add_member(&s, &NOW, "admin", "Brown", dean, from).unwrap();
    ops::link_identity(
        &s,
        &NOW,
        "admin",
        &r(AMY),
        &r(NURSERY),
        "nursery form 3 March",
    )
    .unwrap();

    let found = ops::find(&s, &NOW, "manager", "brown").unwrap();
    let names: Vec<_> = found.iter().map(|v| v.person.name.as_str()).collect();
    assert_eq!(names, ["Amy Brown", "Dean Brown"]);
    assert_eq!(ops::find(&s, &NOW, "manager", "").unwrap().len(), 3);
    assert_eq!(
        ops::find(&s, &NOW, "manager", "amy-b").unwrap()[0]
            .person
            .id,
        amy
    );
    let shown = ops::show(&s, &NOW, "manager", NURSERY).unwrap();
    assert_eq!(shown.person.id, amy);
    let mut class = vec![r(AMY), r(NURSERY)];
    class.sort();
    assert_eq!(shown.refs, class);
    assert_eq!(shown.relations[0].0, Relationship::Father);
    assert_eq!(shown.relations[0].1.id, dean);
    assert_eq!(shown.memberships.len(), 1);
    assert_eq!(
        ops::show(&s, &NOW, "manager", "P2").unwrap().person.id,
        carl
    );
    assert!(ops::show(&s, &NOW, "manager", "P9").is_err());
    let home = ops::household(&s, &NOW, "manager", "Brown").unwrap();
    assert_eq!(home.len(), 2);
    assert_eq!(
        ops::household(&s, &NOW, "manager", "Nobody")
            .unwrap_err()
            .field(),
        "household"
    );

    let log = s.register_log().unwrap();
    let reads: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.action == "read")
        .map(|e| (e.who.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        reads,
        [
            ("manager", "find \"brown\""),
            ("manager", "list"),
            ("manager", "find \"amy-b\""),
            ("manager", "show \"local:NURSERY-12:amy-b\""),
            ("manager", "show \"P2\""),
            ("manager", "show \"P9\""),
            ("manager", "household \"Brown\""),
            ("manager", "household \"Nobody\""),
        ]
    );
    let link = log.iter().find(|e| e.action == "link").unwrap();
    assert_eq!(link.reason, "nursery form 3 March");
}

#[test]
fn edits_and_identity_changes_need_a_reason() {
    let (_dir, s) = open();
    let baby = NewPerson {
        born: None,
        expected: Some(ops::parse_date("edd", "2026-12-01").unwrap()),
        ..child(&["local:HV:baby-brown"], "Baby Brown", "2024-01-01")
    };
    let id = ops::add_person(&s, &NOW, "admin", baby).unwrap();
    let born = PersonEdit {
        born: Some(Some(ops::parse_date("dob", "2026-11-20").unwrap())),
        ..PersonEdit::default()
    };
    assert_eq!(
        ops::edit_person(&s, &NOW, "admin", id, born.clone(), "born")
            .unwrap_err()
            .field(),
        "reason"
    );
    assert_eq!(
        ops::edit_person(
            &s,
            &NOW,
            "admin",
            id,
            PersonEdit::default(),
            "birth notification"
        )
        .unwrap_err()
        .field(),
        "name"
    );
    let future = PersonEdit {
        born: Some(Some(ops::parse_date("dob", "2027-01-01").unwrap())),
        ..PersonEdit::default()
    };
    let e = ops::edit_person(&s, &NOW, "admin", id, future, "birth notification").unwrap_err();
    assert_eq!(e.field(), "dob");
    ops::edit_person(&s, &NOW, "admin", id, born, "birth notification 20 Nov").unwrap();
    // Born: an expected date as well is refused.
    let edd = PersonEdit {
        expected: Some(Some(ops::parse_date("edd", "2026-12-01").unwrap())),
        ..PersonEdit::default()
    };
    let e = ops::edit_person(&s, &NOW, "admin", id, edd, "midwife's new estimate").unwrap_err();
    assert_eq!(e.field(), "edd");
    let p = &s.register().unwrap().people[0];
    // Born: the expected date no longer applies.
    assert_eq!((p.born.is_some(), p.expected), (true, None));
    let (a, b) = (r("local:HV:baby-brown"), r(AMY));
    assert_eq!(
        ops::link_identity(&s, &NOW, "admin", &a, &b, "")
            .unwrap_err()
            .field(),
        "reason"
    );
    assert_eq!(
        ops::link_identity(&s, &NOW, "admin", &a, &a, "a good long reason")
            .unwrap_err()
            .field(),
        "ref"
    );
    ops::link_identity(&s, &NOW, "admin", &a, &b, "born, NHS number issued").unwrap();
    assert_eq!(
        ops::unlink_identity(&s, &NOW, "admin", &a, &b, "short")
            .unwrap_err()
            .field(),
        "reason"
    );
    ops::unlink_identity(&s, &NOW, "admin", &b, &a, "linked to the wrong baby").unwrap();
    let e =
        ops::unlink_identity(&s, &NOW, "admin", &b, &a, "linked to the wrong baby").unwrap_err();
    assert_eq!(e.field(), "identity");
}

#[test]
fn an_import_stores_the_valid_rows_and_reports_the_refused_ones() {
    let (_dir, s) = open();
    ops::add_person(
        &s,
        &NOW,
        "admin",
        child(&[CARL], "Carl Green", "2022-01-01"),
    )
    .unwrap();
    let csv = "\
kind,refs,name,dob,edd,sex,household,from,related_to,relationship
adult,,Dean Brown,,,,Brown,2024-01-01,nhs:9434765919,father
adult,,Gran Green,,,,,,P1,grandparent
child,nhs:9434765919,Amy Brown,2024-01-01,,female,Brown,2024-01-01,,
child,nhs:9434765870,Carl Again,2022-01-01,,,,,,
adult,,Nobody's,,,,,,local:X:nobody,father
child,local:HV:baby,Baby,,2026-12-01,,,,,
";
    let report = ops::import_csv(&s, &NOW, "admin", csv).unwrap();
    assert_eq!(report.imported, 4);
    let refused: Vec<(usize, &str)> = report
        .refused
        .iter()
        .map(|r| (r.row, r.field.as_str()))
        .collect();
    assert_eq!(refused, [(4, "ref"), (5, "related_to")]);
    let reg = s.register().unwrap();
    assert_eq!(reg.people.len(), 5);
    let dean = reg.people.iter().find(|p| p.name == "Dean Brown").unwrap();
    let amy = reg.people.iter().find(|p| p.name == "Amy Brown").unwrap();
    assert!(
        reg.relations
            .iter()
            .any(|r| r.adult == dean.id && r.child == amy.id)
    );
    assert_eq!(reg.memberships.len(), 2);
    assert_eq!(s.register_log().unwrap().last().unwrap().action, "import");
    // A wrong header refuses the file, naming the column.
    let e = ops::import_csv(&s, &NOW, "admin", "kind,refs,name\n").unwrap_err();
    assert!(e.to_string().contains("the column dob is missing"), "{e}");
}

#[test]
fn the_documented_example_file_imports_whole() {
    let (_dir, s) = open();
    let csv = include_str!("../../../docs/people.example.csv");
    let report = ops::import_csv(&s, &NOW, "admin", csv).unwrap();
    assert_eq!(report.refused, []);
    assert_eq!(report.imported, 5);
    let reg = s.register().unwrap();
    assert_eq!(reg.relations.len(), 3);
    assert_eq!(reg.memberships.len(), 3);
    let amy = ops::show(&s, &NOW, "admin", "local:NURSERY-12:amy-b").unwrap();
    assert_eq!(amy.relations.len(), 2);
}

#[test]
fn a_row_refused_after_its_person_was_added_names_the_person_in_a_field() {
    let (_d, s) = open();
    // Gran's relation names Dean, an adult: refused after Gran was added.
    // Dean's name imitates the words of that refusal; only the field counts.
    let header = "kind,refs,name,dob,edd,sex,household,from,related_to,relationship\n";
    let dean = format!("{header}adult,,Dean (the person was added as P9),,,,,,,\n");
    let report = ops::import_csv(&s, &NOW, "admin", &dean).unwrap();
    assert_eq!((report.imported, report.refused.len()), (1, 0));
    let gran = format!("{header}adult,,Gran Green,,,,,,P1,grandparent\n");
    let report = ops::import_csv(&s, &NOW, "admin", &gran).unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    let gran = &report.refused[0];
    assert_eq!(gran.row, 1);
    assert!(
        gran.message.contains("(the person was added as P2)"),
        "{}",
        gran.message
    );
    assert_eq!(gran.added, Some(PersonId(2)));
    assert_eq!(s.register().unwrap().people.len(), 2);
}
