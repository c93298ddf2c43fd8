//! PostgreSQL-only tests of the administration modules: what only several
//! connections (several instances) can show. An enrolment token spent
//! from two connections at once grants once; a register change refused
//! is not logged, and two connections adding the same membership at once
//! add and log it once; the append-only tables refuse UPDATE and DELETE
//! whoever asks. The behaviour shared with SQLite is the store suite's.
//!
//! They run on the test cluster (`hearth-testpg`); without PostgreSQL they
//! say loudly that they are skipped (and fail in CI).

use std::sync::{Arc, Barrier};
use std::thread;

use hearth_shared::{DeviceId, Timestamp};

use super::{PgStore, admin, caseload, people, signals};
use crate::caseload::{Assignee, CaseloadChange};
use crate::people::{NewPerson, PersonId, RegisterChange, RegisterOutcome, RegisterRefusal};
use crate::signals::{Acknowledgement, Rule};
use crate::store::{EnrolRefusal, Grant};
use crate::tenancy::Partnership;

mod same;

const ANNA: &str = "nhs:9434765919";

/// A fresh database of the test cluster, migrated for the default
/// partnership; `None` (said loudly) without PostgreSQL.
struct TestDb {
    url: String,
    store: PgStore,
}

impl TestDb {
    fn new() -> Option<Self> {
        if !hearth_testpg::available() {
            return None;
        }
        let url = hearth_testpg::cluster().fresh_database();
        let store = PgStore::open(&url, None, &Partnership::default_one()).unwrap();
        Some(Self { url, store })
    }

    /// A connection of this test's instance.
    fn client(&self) -> super::pool::Conn {
        self.store.conn().unwrap()
    }

    /// Another instance on the same database: a pool of its own.
    fn instance(&self) -> PgStore {
        PgStore::connect(&self.url, None, &Partnership::default_one()).unwrap()
    }
}

fn grant() -> Grant {
    Grant {
        agency: "HV-NORTH".into(),
        worker: "hv.jones".into(),
        staff: vec!["hv.smith".into()],
    }
}

/// Runs `f(i, client)` on two connections at once, started together.
fn both<T: Send + 'static>(
    db: &TestDb,
    f: impl Fn(usize, &mut ::postgres::Client) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let (f, start) = (Arc::new(f), Arc::new(Barrier::new(2)));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let (f, start, instance) = (f.clone(), start.clone(), db.instance());
            thread::spawn(move || {
                let mut c = instance.conn().unwrap();
                start.wait();
                f(i, &mut c)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn a_token_spent_from_two_instances_at_once_enrols_one_device() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let now = Timestamp(1_700_000_000);
    for round in 0..10u8 {
        let token = format!("token-{round}");
        admin::add_enrol_token(
            &mut db.client(),
            &token,
            &grant(),
            now,
            Timestamp(now.0 + 60),
        )
        .unwrap();
        let outcomes = both(&db, move |i, c| {
            let device = DeviceId([round, i as u8, 0, 0, 0, 0, 0, 1]);
            admin::enrol(c, &token, device, [i as u8; 32], now).unwrap()
        });
        let granted = outcomes.iter().filter(|o| **o == Ok(grant())).count();
        let used = outcomes
            .iter()
            .filter(|o| **o == Err(EnrolRefusal::Used(now)))
            .count();
        assert_eq!((granted, used), (1, 1), "round {round}: {outcomes:?}");
    }
    let devices = admin::devices(&mut db.client()).unwrap();
    assert_eq!(devices.len(), 10, "one device a token");
    assert!(devices.iter().all(|d| d.staff == ["hv.smith"]));
}

#[test]
fn one_device_enrolled_with_two_tokens_at_once_spends_one() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let now = Timestamp(1_700_000_000);
    let mut c = db.client();
    for t in ["first", "second"] {
        admin::add_enrol_token(&mut c, t, &grant(), now, Timestamp(now.0 + 60)).unwrap();
    }
    let device = DeviceId([9; 8]);
    let outcomes = both(&db, move |i, c| {
        let token = ["first", "second"][i];
        (token, admin::enrol(c, token, device, [7; 32], now).unwrap())
    });
    let lost: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| *o == Err(EnrolRefusal::DeviceExists))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(lost.len(), 1, "{outcomes:?}");
    // The losing token was not spent: it still enrols another device.
    assert_eq!(
        admin::enrol(&mut c, lost[0], DeviceId([8; 8]), [8; 32], now).unwrap(),
        Ok(grant())
    );
}

fn child(name: &str, r: &str) -> RegisterChange {
    RegisterChange::Add(NewPerson {
        refs: vec![r.parse().unwrap()],
        child: true,
        name: name.into(),
        born: None,
        expected: None,
        sex: None,
    })
}

#[test]
fn a_refused_register_change_changes_nothing_and_is_not_logged() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let mut c = db.client();
    let at = Timestamp(1_700_000_000);
    let change = |c: &mut ::postgres::Client, ch: &RegisterChange| {
        people::change_register(c, ch, "admin.lee", "referral", at).unwrap()
    };
    let RegisterOutcome::Done(Some(anna)) = change(&mut c, &child("Anna", ANNA)) else {
        panic!("Anna added");
    };
    // Her reference again: refused, no second person, no log row.
    assert_eq!(
        change(&mut c, &child("Anna again", ANNA)),
        RegisterOutcome::Refused(RegisterRefusal::RefTaken(ANNA.parse().unwrap(), anna))
    );
    let member = RegisterChange::AddMember {
        household: "H1".into(),
        person: anna,
        from: at,
    };
    assert_eq!(change(&mut c, &member), RegisterOutcome::Done(None));
    assert_eq!(
        change(&mut c, &member),
        RegisterOutcome::Refused(RegisterRefusal::AlreadyMember(anna, "H1".into()))
    );
    let nobody = RegisterChange::EndMember {
        household: "H1".into(),
        person: PersonId(anna.0 + 100),
        until: at,
    };
    assert_eq!(
        change(&mut c, &nobody),
        RegisterOutcome::Refused(RegisterRefusal::NoSuchPerson(PersonId(anna.0 + 100)))
    );
    let register = people::register(&mut c).unwrap();
    assert_eq!(register.people.len(), 1);
    assert_eq!(register.memberships.len(), 1);
    let log: Vec<String> = people::register_log(&mut c)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(log, ["add", "add_member"]);
    // Both changes marked Anna's signals stale, the refused ones did not.
    let states = signals::signal_states(&mut c, &[ANNA.parse().unwrap()]).unwrap();
    assert_eq!(states[0].dirty, 2);
}

#[test]
fn one_membership_added_from_two_instances_at_once_is_added_and_logged_once() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let at = Timestamp(1_700_000_000);
    let RegisterOutcome::Done(Some(anna)) =
        people::change_register(&mut db.client(), &child("Anna", ANNA), "admin", "r", at).unwrap()
    else {
        panic!("Anna added");
    };
    for round in 0..10 {
        let household = format!("H{round}");
        let member = RegisterChange::AddMember {
            household: household.clone(),
            person: anna,
            from: at,
        };
        let outcomes = both(&db, move |_, c| {
            people::change_register(c, &member, "admin", "r", at).unwrap()
        });
        assert!(
            outcomes.contains(&RegisterOutcome::Done(None))
                && outcomes.contains(&RegisterOutcome::Refused(RegisterRefusal::AlreadyMember(
                    anna, household
                ))),
            "{outcomes:?}"
        );
    }
    let log = people::register_log(&mut db.client()).unwrap();
    assert_eq!(log.len(), 1 + 10, "one add, one add_member a household");
}

#[test]
fn a_caseload_change_made_twice_at_once_is_logged_once() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let assign = CaseloadChange::Assign(ANNA.parse().unwrap(), Assignee::Worker("sw.ali".into()));
    let outcomes = both(&db, move |_, c| {
        caseload::change_caseload(c, &assign, "tm.khan", Timestamp(1)).unwrap()
    });
    assert_eq!(outcomes.iter().filter(|done| **done).count(), 1);
    assert_eq!(people::register_log(&mut db.client()).unwrap().len(), 1);
}

#[test]
fn the_register_log_and_acknowledgements_refuse_update_and_delete() {
    let Some(db) = TestDb::new() else {
        return;
    };
    let mut c = db.client();
    people::change_register(&mut c, &child("Anna", ANNA), "admin", "r", Timestamp(1)).unwrap();
    signals::add_signal_ack(
        &mut c,
        &Acknowledgement {
            child: ANNA.parse().unwrap(),
            rule: Rule::VoiceNotActedOn,
            by: "tm.khan".into(),
            at: Timestamp(2),
            note: "seen".into(),
            evidence: vec![],
        },
    )
    .unwrap();
    for sql in [
        "UPDATE register_log SET who = 'someone else'",
        "DELETE FROM register_log",
        "UPDATE signal_acks SET note = 'rewritten'",
        "DELETE FROM signal_acks",
    ] {
        let e = c.batch_execute(sql).expect_err(sql);
        assert!(
            e.as_db_error()
                .is_some_and(|d| d.message().contains("are never changed or deleted")),
            "{sql}: {e}"
        );
    }
    assert_eq!(people::register_log(&mut c).unwrap()[0].who, "admin");
    assert_eq!(signals::signal_acks(&mut c, None).unwrap()[0].note, "seen");
}
