//! Tests of the register's pages over a real SQLite store: adding a
//! person, the person page and its forms, finding by name, the proposals;
//! every refusal beside its field, every read logged, hostile text inert.

use axum::http::StatusCode;
use hearth_shared::Timestamp;

use super::add::{AddForm, add_person};
use super::page::PersonForm;
use super::*;
use crate::clock::FixedClock;
use crate::people::NewPerson;
use crate::store::Role;
use crate::store::any::AnyStore;
use crate::web::admin::families::PairForm;
use crate::web::admin::testing::{INJECTIONS, NOW, inert, store, viewer};

const ANNA: &str = "nhs:9434765919";
const LOCAL: &str = "local:NURSERY-12:amy-b";
const CARL: &str = "nhs:9876543210";

fn day(y: i64, m: u32, d: u32) -> Option<Timestamp> {
    Timestamp::from_civil(y, m, d, 0, 0, 0)
}

/// Anna Brown (born 3 March 2024) and Dean, her father.
fn anna(store: &AnyStore) -> PersonId {
    let clock = FixedClock(NOW);
    let id = ops::add_person(
        store,
        &clock,
        "root",
        NewPerson {
            refs: vec![ANNA.parse().unwrap()],
            child: true,
            name: "Anna Brown".into(),
            born: day(2024, 3, 3),
            expected: None,
            sex: None,
        },
    )
    .unwrap();
    let dean = ops::add_person(
        store,
        &clock,
        "root",
        NewPerson {
            refs: vec![],
            child: false,
            name: "Dean Brown".into(),
            born: None,
            expected: None,
            sex: None,
        },
    )
    .unwrap();
    ops::relate(
        store,
        &clock,
        "root",
        crate::people::Relation {
            adult: dean,
            child: id,
            relationship: crate::people::Relationship::Father,
        },
    )
    .unwrap();
    id
}

fn body((status, page): (StatusCode, maud::Markup)) -> (StatusCode, String) {
    (status, page.into_string())
}

#[test]
fn the_person_page_shows_the_child_and_logs_the_read() {
    let (_dir, store) = store();
    let id = anna(&store);
    let clock = FixedClock(NOW);
    let before = store.register_log().unwrap().len();
    let (status, page) = body(
        show(
            &store,
            &clock,
            &viewer("tm.khan", Role::Manager),
            &id.to_string(),
            Default::default(),
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Anna Brown, born 3 March 2024"), "{page}");
    assert!(
        page.contains(&format!(r#"href="/find?child={ANNA}""#)),
        "{page}"
    );
    assert!(
        page.contains("Dean Brown") && page.contains("father"),
        "{page}"
    );
    // A manager sees no forms that change the register.
    assert!(!page.contains("/admin/people/"), "{page}");
    let log = store.register_log().unwrap();
    assert_eq!(log.len(), before + 1);
    assert_eq!(log.last().unwrap().who, "tm.khan");
    // By reference too; an unknown person is a 404.
    let (status, _) = body(
        show(
            &store,
            &clock,
            &viewer("tm.khan", Role::Manager),
            ANNA,
            Default::default(),
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    let (status, page) = body(
        show(
            &store,
            &clock,
            &viewer("tm.khan", Role::Manager),
            "P99",
            Default::default(),
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
}

#[test]
fn an_administrator_links_a_reference_with_a_reason_and_unlinks_it() {
    let (_dir, store) = store();
    let id = anna(&store).to_string();
    let clock = FixedClock(NOW);
    let admin = viewer("root", Role::Admin);
    let form = |other: &str, reason: &str| PersonForm {
        other: other.into(),
        reason: reason.into(),
        ..Default::default()
    };
    // Refused: a short reason (beside the reason), a bad reference.
    let (status, page) =
        body(identity(&store, &clock, &admin, &id, form(LOCAL, "short"), true).unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains(r##"href="#reason""##), "{page}");
    let (status, page) = body(
        identity(
            &store,
            &clock,
            &admin,
            &id,
            form("nhs:123", "same child, nursery ref"),
            true,
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains(r##"href="#other""##), "{page}");
    // Linked: the page lists the local reference with the NHS number.
    let (status, page) = body(
        identity(
            &store,
            &clock,
            &admin,
            &id,
            form(LOCAL, "same child, nursery's reference"),
            true,
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Linked"), "{page}");
    let refs = &page[page.find(r#"id="person-refs""#).unwrap()..];
    assert!(refs.contains(LOCAL) && refs.contains(ANNA), "{page}");
    let reg = store.register().unwrap();
    assert_eq!(reg.identities.len(), 1);
    assert_eq!(reg.identities[0].reason, "same child, nursery's reference");
    // Unlinked.
    let (status, page) = body(
        identity(
            &store,
            &clock,
            &admin,
            &id,
            form(LOCAL, "wrong child: not the same"),
            false,
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(store.register().unwrap().identities.is_empty());
}

#[test]
fn household_membership_is_added_then_ended() {
    let (_dir, store) = store();
    let id = anna(&store).to_string();
    let clock = FixedClock(NOW);
    let admin = viewer("root", Role::Admin);
    let form = |date: &str| PersonForm {
        household: "12 Elm Road".into(),
        date: date.into(),
        ..Default::default()
    };
    let (status, page) =
        body(membership(&store, &clock, &admin, &id, form("2026-13-01"), false).unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains(r##"href="#date""##), "{page}");
    let (status, page) =
        body(membership(&store, &clock, &admin, &id, form("2025-01-01"), false).unwrap());
    assert_eq!(status, StatusCode::OK, "{page}");
    let now = &page[page.find(r#"id="households-now""#).unwrap()..];
    let now = &now[..now.find("</table>").unwrap()];
    assert!(
        now.contains("12 Elm Road") && now.contains("1 January 2025"),
        "{page}"
    );
    let (status, page) =
        body(membership(&store, &clock, &admin, &id, form("2026-06-30"), true).unwrap());
    assert_eq!(status, StatusCode::OK, "{page}");
    let before = &page[page.find(r#"id="households-before""#).unwrap()..];
    assert!(
        before.contains("12 Elm Road") && before.contains("30 June 2026"),
        "{page}"
    );
    assert!(
        page.contains(r#"<p id="households-now">None.</p>"#),
        "{page}"
    );
}

#[test]
fn adding_a_person_names_the_field_at_fault() {
    let (_dir, store) = store();
    let clock = FixedClock(NOW);
    let admin = viewer("root", Role::Admin);
    let form = |refs: &str, name: &str, dob: &str| AddForm {
        kind: "child".into(),
        refs: refs.into(),
        name: name.into(),
        dob: dob.into(),
        ..Default::default()
    };
    for (f, field) in [
        (form("nhs:1", "Amy", "2024-03-03"), "refs"),
        (form(ANNA, "Amy", "3 March"), "dob"),
        (form(ANNA, "Amy", "2099-01-01"), "dob"),
        (form(ANNA, "", "2024-03-03"), "name"),
    ] {
        let (status, page) = body(add_person(&store, &clock, &admin, f.clone()).unwrap());
        assert_eq!(status, StatusCode::BAD_REQUEST, "{f:?}: {page}");
        assert!(
            page.contains(&format!(r##"href="#{field}""##)),
            "{f:?}: {page}"
        );
    }
    assert!(store.register().unwrap().people.is_empty());
    let (status, page) = body(
        add_person(
            &store,
            &clock,
            &admin,
            form(&format!("{ANNA} {LOCAL}"), "Amy Brown", "2024-03-03"),
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"href="/people/P1""#), "{page}");
    let reg = store.register().unwrap();
    assert_eq!(reg.people[0].refs.len(), 2);
}

#[test]
fn a_hostile_name_is_inert_on_every_page() {
    let (_dir, store) = store();
    let clock = FixedClock(NOW);
    let admin = viewer("root", Role::Admin);
    let name = format!("Amy {}", INJECTIONS[1]);
    let f = AddForm {
        kind: "child".into(),
        refs: ANNA.into(),
        name: name.clone(),
        dob: "2024-03-03".into(),
        ..Default::default()
    };
    let (status, page) = body(add_person(&store, &clock, &admin, f).unwrap());
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(inert(&page), "{page}");
    let (_, page) = body(show(&store, &clock, &admin, ANNA, Default::default()).unwrap());
    assert!(
        inert(&page) && page.contains("Amy &quot;&gt;&lt;img"),
        "{page}"
    );
    let found = ops::find(&store, &clock, "root", "Amy").unwrap();
    let page = name_search("Amy", Some(&found)).into_string();
    assert!(
        inert(&page) && page.contains("Amy &quot;&gt;&lt;img"),
        "{page}"
    );
}

#[test]
fn the_name_search_lists_children_with_links_behind_the_glass() {
    let (_dir, store) = store();
    anna(&store);
    let clock = FixedClock(NOW);
    let found = ops::find(&store, &clock, "tm.khan", "brown").unwrap();
    let page = name_search("brown", Some(&found)).into_string();
    // Anna, not Dean (an adult).
    assert!(
        page.contains(">Anna Brown</a>") && !page.contains("Dean"),
        "{page}"
    );
    assert!(page.contains("<td>3 March 2024</td>"), "{page}");
    assert!(
        page.contains(&format!(r#"href="/find?child={ANNA}""#)),
        "{page}"
    );
    let none = ops::find(&store, &clock, "tm.khan", "Zebedee").unwrap();
    let page = name_search("Zebedee", Some(&none)).into_string();
    assert!(page.contains("No child in the register"), "{page}");
}

#[test]
fn a_proposal_is_confirmed_or_rejected_with_a_reason() {
    let (_dir, mut store) = store();
    // A concern naming Anna and Carl: proposes them (a concern implies no
    // household).
    crate::web::find::tests::device(
        &mut store,
        5,
        "HV-NORTH",
        "hv.jones",
        &[format!(
            r#"{{"kind":"concern","children":["{ANNA}","{CARL}"],"occurred_at":"2026-03-06T10:00:00Z","headline":"Seen together","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"HV"}}"#
        )],
    );
    anna(&store);
    let clock = FixedClock(NOW);
    let manager = viewer("tm.khan", Role::Manager);
    let (status, page) = body(proposals::list(&store, &clock, &manager, None, Vec::new()).unwrap());
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("Anna Brown ({ANNA})")), "{page}");
    assert!(page.contains(CARL) && page.contains("1 record"), "{page}");
    let form = |reason: &str| PairForm {
        child_a: ANNA.into(),
        child_b: CARL.into(),
        reason: reason.into(),
    };
    let (status, page) =
        body(proposals::decide(&store, &clock, &manager, &form(""), false).unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    let (status, page) = body(
        proposals::decide(
            &store,
            &clock,
            &manager,
            &form("classmates, not family"),
            false,
        )
        .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Nothing is proposed"), "{page}");
    let history = store.family_history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].who, "tm.khan");
    assert!(!history[0].linked);
}
