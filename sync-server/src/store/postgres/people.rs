//! The people register and its log over PostgreSQL (the counterpart of
//! `store/sqlite/people.rs`, with the same behaviour).
//!
//! [`register`] reads the whole register from one snapshot (a read-only
//! REPEATABLE READ transaction, as SQLite's deferred one).
//! [`change_register`] applies one [`RegisterChange`] in one transaction:
//! it checks what only the database knows (the person exists, the
//! reference is not taken, the membership is current, the pair is
//! linked), writes the register log row, and marks stale the signals of
//! every reference whose family or identity the change may alter, all or
//! nothing. A refused change rolls back and is not logged.
//!
//! Where SQLite's `BEGIN IMMEDIATE` makes those checks and the write one
//! step, here every register and caseload change first takes
//! [`lock_register`]: one change at a time across instances, and the
//! log's ids in the order the changes were applied. The unique index
//! "one open membership of a household" is the backstop; its refusal is
//! the same as the check's.
//!
//! Text is ordered `COLLATE "C"` (by code point, as SQLite's binary
//! collation), whatever the database's locale.

use std::collections::{BTreeMap, BTreeSet};

use ::postgres::{Client, GenericClient, IsolationLevel, Transaction};
use hearth_shared::{ChildRef, Timestamp};

use super::rows::{CHILD_SEPARATOR, parse_child};
use crate::people::{
    IdentityLink, Membership, NewPerson, Person, PersonEdit, PersonId, Register, RegisterChange,
    RegisterEntry, RegisterOutcome, RegisterRefusal, Relation, Sex,
};
use crate::store::StoreError;

/// Takes the lock every register and caseload change holds until it
/// commits: SHARE ROW EXCLUSIVE on `register_log` conflicts with itself
/// and with writes to the log, not with readers.
pub(super) fn lock_register(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute("LOCK TABLE register_log IN SHARE ROW EXCLUSIVE MODE")?;
    Ok(())
}

pub(super) fn register(c: &mut Client) -> Result<Register, StoreError> {
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let out = Register {
        people: people(&mut tx)?,
        relations: relations(&mut tx)?,
        memberships: memberships(&mut tx)?,
        identities: identities(&mut tx)?,
    };
    tx.commit()?;
    Ok(out)
}

fn people(tx: &mut Transaction<'_>) -> Result<Vec<Person>, StoreError> {
    let mut by_person: BTreeMap<i64, Vec<ChildRef>> = BTreeMap::new();
    for r in tx.query("SELECT person, ref FROM person_refs", &[])? {
        by_person
            .entry(r.try_get(0)?)
            .or_default()
            .push(parse_child(r.try_get(1)?)?);
    }
    let rows = tx.query(
        "SELECT id, child, name, born, expected, sex FROM people ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0)?;
            let sex: Option<&str> = r.try_get(5)?;
            Ok(Person {
                id: PersonId(id),
                refs: {
                    let mut refs = by_person.remove(&id).unwrap_or_default();
                    refs.sort();
                    refs
                },
                child: r.try_get(1)?,
                name: r.try_get(2)?,
                born: r.try_get::<_, Option<i64>>(3)?.map(Timestamp),
                expected: r.try_get::<_, Option<i64>>(4)?.map(Timestamp),
                sex: sex
                    .map(|s| s.parse::<Sex>())
                    .transpose()
                    .map_err(|_| StoreError::Corrupt("a person's sex"))?,
            })
        })
        .collect()
}

fn relations(tx: &mut Transaction<'_>) -> Result<Vec<Relation>, StoreError> {
    let rows = tx.query(
        "SELECT adult, child, relationship FROM relations ORDER BY child, adult",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Relation {
                adult: PersonId(r.try_get(0)?),
                child: PersonId(r.try_get(1)?),
                relationship: r
                    .try_get::<_, &str>(2)?
                    .parse()
                    .map_err(|_| StoreError::Corrupt("a relationship"))?,
            })
        })
        .collect()
}

fn memberships(tx: &mut Transaction<'_>) -> Result<Vec<Membership>, StoreError> {
    let rows = tx.query(
        "SELECT household, person, from_at, until_at FROM memberships
         ORDER BY household COLLATE \"C\", from_at, id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Membership {
                household: r.try_get(0)?,
                person: PersonId(r.try_get(1)?),
                from: Timestamp(r.try_get(2)?),
                until: r.try_get::<_, Option<i64>>(3)?.map(Timestamp),
            })
        })
        .collect()
}

fn identities(tx: &mut Transaction<'_>) -> Result<Vec<IdentityLink>, StoreError> {
    let rows = tx.query(
        "SELECT ref_a, ref_b, at, who, reason FROM identity_links
         ORDER BY at, ref_a COLLATE \"C\"",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(IdentityLink {
                a: parse_child(r.try_get(0)?)?,
                b: parse_child(r.try_get(1)?)?,
                at: Timestamp(r.try_get(2)?),
                who: r.try_get(3)?,
                reason: r.try_get(4)?,
            })
        })
        .collect()
}

/// What a change did, before it is logged: the log row's action and
/// detail, the references whose signals go stale, and the new id.
struct Applied {
    action: &'static str,
    detail: String,
    stale: BTreeSet<String>,
    id: Option<PersonId>,
}

pub(super) fn change_register(
    c: &mut Client,
    change: &RegisterChange,
    who: &str,
    reason: &str,
    at: Timestamp,
) -> Result<RegisterOutcome, StoreError> {
    let mut tx = c.transaction()?;
    lock_register(&mut tx)?;
    let applied = match apply(&mut tx, change, who, reason, at)? {
        Ok(applied) => applied,
        // Dropping the transaction rolls back whatever was written.
        Err(refusal) => return Ok(RegisterOutcome::Refused(refusal)),
    };
    log(
        &mut tx,
        &RegisterEntry {
            at,
            who: who.to_string(),
            action: applied.action.to_string(),
            detail: applied.detail,
            reason: reason.to_string(),
        },
    )?;
    mark_stale_around(&mut tx, applied.stale)?;
    tx.commit()?;
    Ok(RegisterOutcome::Done(applied.id))
}

type Step = Result<Result<Applied, RegisterRefusal>, StoreError>;
type Tx<'a, 'b> = &'a mut Transaction<'b>;

fn apply(tx: Tx, change: &RegisterChange, who: &str, reason: &str, at: Timestamp) -> Step {
    match change {
        RegisterChange::Add(p) => add(tx, p, at),
        RegisterChange::Edit(id, e) => edit(tx, *id, e),
        RegisterChange::Relate(r) => relate(tx, r),
        RegisterChange::Unrelate { adult, child } => unrelate(tx, *adult, *child),
        RegisterChange::AddMember {
            household,
            person,
            from,
        } => add_member(tx, household, *person, *from),
        RegisterChange::EndMember {
            household,
            person,
            until,
        } => end_member(tx, household, *person, *until),
        RegisterChange::Link(a, b) => link(tx, a, b, who, reason, at),
        RegisterChange::Unlink(a, b) => unlink(tx, a, b),
    }
}

fn done(action: &'static str, detail: String, stale: BTreeSet<String>) -> Step {
    Ok(Ok(Applied {
        action,
        detail,
        stale,
        id: None,
    }))
}

fn add(tx: Tx, p: &NewPerson, at: Timestamp) -> Step {
    for r in &p.refs {
        if let Some(owner) = owner_of(tx, &r.to_string())? {
            return Ok(Err(RegisterRefusal::RefTaken(r.clone(), owner)));
        }
    }
    let row = tx.query_one(
        "INSERT INTO people (child, name, born, expected, sex, added_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[
            &p.child,
            &p.name,
            &p.born.map(|t| t.0),
            &p.expected.map(|t| t.0),
            &p.sex.map(|s| s.as_str()),
            &at.0,
        ],
    )?;
    let id = PersonId(row.try_get(0)?);
    let insert = tx.prepare("INSERT INTO person_refs (ref, person) VALUES ($1, $2)")?;
    for r in &p.refs {
        tx.execute(&insert, &[&r.to_string(), &id.0])?;
    }
    let refs: Vec<String> = p.refs.iter().map(ToString::to_string).collect();
    let detail = if p.child {
        format!("{id} {} ({})", p.name, refs.join("; "))
    } else {
        format!("{id} {} (adult)", p.name)
    };
    Ok(Ok(Applied {
        action: "add",
        detail,
        stale: refs.into_iter().collect(),
        id: Some(id),
    }))
}

fn edit(tx: Tx, id: PersonId, e: &PersonEdit) -> Step {
    if kind_of(tx, id)?.is_none() {
        return Ok(Err(RegisterRefusal::NoSuchPerson(id)));
    }
    let date =
        |t: &Option<Timestamp>| t.map_or_else(|| "none".to_string(), |t| t.date().to_string());
    let mut said = Vec::new();
    if let Some(name) = &e.name {
        tx.execute("UPDATE people SET name = $2 WHERE id = $1", &[&id.0, name])?;
        said.push(format!("name {name:?}"));
    }
    if let Some(born) = &e.born {
        tx.execute(
            "UPDATE people SET born = $2 WHERE id = $1",
            &[&id.0, &born.map(|t| t.0)],
        )?;
        said.push(format!("dob {}", date(born)));
    }
    if let Some(expected) = &e.expected {
        tx.execute(
            "UPDATE people SET expected = $2 WHERE id = $1",
            &[&id.0, &expected.map(|t| t.0)],
        )?;
        said.push(format!("edd {}", date(expected)));
    }
    if let Some(sex) = &e.sex {
        tx.execute(
            "UPDATE people SET sex = $2 WHERE id = $1",
            &[&id.0, &sex.map(|s| s.as_str())],
        )?;
        said.push(format!("sex {}", sex.map_or("none", |s| s.as_str())));
    }
    done(
        "edit",
        format!("{id}: {}", said.join(", ")),
        refs_of(tx, id)?,
    )
}

/// Checks that `adult` is an adult and `child` a child in the register.
fn adult_and_child(
    tx: Tx,
    adult: PersonId,
    child: PersonId,
) -> Result<Option<RegisterRefusal>, StoreError> {
    Ok(match (kind_of(tx, adult)?, kind_of(tx, child)?) {
        (None, _) => Some(RegisterRefusal::NoSuchPerson(adult)),
        (_, None) => Some(RegisterRefusal::NoSuchPerson(child)),
        (Some(true), _) => Some(RegisterRefusal::WrongKind(
            "--adult names a child; relate an adult (`person add --adult`) to a child",
        )),
        (_, Some(false)) => Some(RegisterRefusal::WrongKind(
            "--child names an adult; relate an adult to a child",
        )),
        _ => None,
    })
}

fn relate(tx: Tx, r: &Relation) -> Step {
    if let Some(refusal) = adult_and_child(tx, r.adult, r.child)? {
        return Ok(Err(refusal));
    }
    tx.execute(
        "INSERT INTO relations (adult, child, relationship) VALUES ($1, $2, $3)
         ON CONFLICT (adult, child) DO UPDATE SET relationship = excluded.relationship",
        &[&r.adult.0, &r.child.0, &r.relationship.as_str()],
    )?;
    done(
        "relate",
        format!("{} {} of {}", r.adult, r.relationship.as_str(), r.child),
        refs_of(tx, r.child)?,
    )
}

fn unrelate(tx: Tx, adult: PersonId, child: PersonId) -> Step {
    let n = tx.execute(
        "DELETE FROM relations WHERE adult = $1 AND child = $2",
        &[&adult.0, &child.0],
    )?;
    if n == 0 {
        return Ok(Err(match adult_and_child(tx, adult, child)? {
            Some(refusal) => refusal,
            None => RegisterRefusal::NotRelated(adult, child),
        }));
    }
    done(
        "unrelate",
        format!("{adult} no longer related to {child}"),
        refs_of(tx, child)?,
    )
}

/// Whether `e` is the refusal of the unique index `index`.
fn violates(e: &::postgres::Error, index: &str) -> bool {
    e.as_db_error().is_some_and(|d| {
        *d.code() == ::postgres::error::SqlState::UNIQUE_VIOLATION && d.constraint() == Some(index)
    })
}

fn add_member(tx: Tx, household: &str, person: PersonId, from: Timestamp) -> Step {
    if kind_of(tx, person)?.is_none() {
        return Ok(Err(RegisterRefusal::NoSuchPerson(person)));
    }
    let already = || RegisterRefusal::AlreadyMember(person, household.to_string());
    if current_from(tx, household, person)?.is_some() {
        return Ok(Err(already()));
    }
    match tx.execute(
        "INSERT INTO memberships (household, person, from_at) VALUES ($1, $2, $3)",
        &[&household, &person.0, &from.0],
    ) {
        Ok(_) => {}
        // The backstop: the transaction is spoilt, and rolls back.
        Err(e) if violates(&e, "memberships_current") => return Ok(Err(already())),
        Err(e) => return Err(e.into()),
    }
    done(
        "add_member",
        format!("{person} in household {household:?} from {}", from.date()),
        household_refs(tx, household)?,
    )
}

fn end_member(tx: Tx, household: &str, person: PersonId, until: Timestamp) -> Step {
    let Some(from) = current_from(tx, household, person)? else {
        return Ok(Err(match kind_of(tx, person)? {
            None => RegisterRefusal::NoSuchPerson(person),
            Some(_) => RegisterRefusal::NotAMember(person, household.to_string()),
        }));
    };
    if until < from {
        return Ok(Err(RegisterRefusal::EndsBeforeStart {
            who: person,
            household: household.to_string(),
            from,
        }));
    }
    tx.execute(
        "UPDATE memberships SET until_at = $3
         WHERE household = $1 AND person = $2 AND until_at IS NULL",
        &[&household, &person.0, &until.0],
    )?;
    done(
        "end_member",
        format!("{person} in household {household:?} until {}", until.date()),
        household_refs(tx, household)?,
    )
}

fn link(tx: Tx, a: &ChildRef, b: &ChildRef, who: &str, reason: &str, at: Timestamp) -> Step {
    let (a, b) = text_pair(a, b);
    if a == b {
        return Ok(Err(RegisterRefusal::Links(
            "a reference cannot be linked to itself; give two different references",
        )));
    }
    let n = tx.execute(
        "INSERT INTO identity_links (ref_a, ref_b, at, who, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
        &[&a, &b, &at.0, &who, &reason],
    )?;
    if n == 0 {
        return Ok(Err(RegisterRefusal::Links(
            "these references are linked already; `person show` lists a child's references",
        )));
    }
    done("link", format!("{a} = {b}"), BTreeSet::from([a, b]))
}

fn unlink(tx: Tx, a: &ChildRef, b: &ChildRef) -> Step {
    let (a, b) = text_pair(a, b);
    let n = tx.execute(
        "DELETE FROM identity_links WHERE ref_a = $1 AND ref_b = $2",
        &[&a, &b],
    )?;
    if n == 0 {
        return Ok(Err(RegisterRefusal::Links(
            "these references are not linked; `person show` lists a child's references",
        )));
    }
    done(
        "unlink",
        format!("{a} \u{2260} {b}"),
        BTreeSet::from([a, b]),
    )
}

/// A pair of references as the table keeps it: their text, in code point
/// order (`identity_links` checks `ref_a < ref_b COLLATE "C"`).
fn text_pair(a: &ChildRef, b: &ChildRef) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a <= b { (a, b) } else { (b, a) }
}

/// Whether `id` is a child (`Some(true)`), an adult, or no one.
fn kind_of(tx: Tx, id: PersonId) -> Result<Option<bool>, StoreError> {
    tx.query_opt("SELECT child FROM people WHERE id = $1", &[&id.0])?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
}

fn owner_of(tx: Tx, r: &str) -> Result<Option<PersonId>, StoreError> {
    tx.query_opt("SELECT person FROM person_refs WHERE ref = $1", &[&r])?
        .map(|r| Ok(PersonId(r.try_get(0)?)))
        .transpose()
}

/// When `person`'s current membership of `household` began, if any.
fn current_from(
    tx: Tx,
    household: &str,
    person: PersonId,
) -> Result<Option<Timestamp>, StoreError> {
    tx.query_opt(
        "SELECT from_at FROM memberships WHERE household = $1 AND person = $2 AND until_at IS NULL",
        &[&household, &person.0],
    )?
    .map(|r| Ok(Timestamp(r.try_get(0)?)))
    .transpose()
}

fn texts(rows: Vec<::postgres::Row>) -> Result<BTreeSet<String>, StoreError> {
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

fn refs_of(tx: Tx, id: PersonId) -> Result<BTreeSet<String>, StoreError> {
    texts(tx.query("SELECT ref FROM person_refs WHERE person = $1", &[&id.0])?)
}

/// The references of every person ever a member of `household`: their
/// families may change with its membership.
fn household_refs(tx: Tx, household: &str) -> Result<BTreeSet<String>, StoreError> {
    texts(tx.query(
        "SELECT DISTINCT r.ref FROM memberships m JOIN person_refs r ON r.person = m.person
         WHERE m.household = $1",
        &[&household],
    )?)
}

/// Marks stale `seeds`, every reference registered to the same person as
/// one of them, and every reference identity-linked to one of those: a
/// change to a child's register entry changes what every reference of
/// the child shows.
fn mark_stale_around(tx: Tx, seeds: BTreeSet<String>) -> Result<(), StoreError> {
    let seeds: Vec<String> = seeds.into_iter().collect();
    let mut all: BTreeSet<String> = seeds.iter().cloned().collect();
    all.extend(texts(tx.query(
        "SELECT r2.ref FROM person_refs r1 JOIN person_refs r2 ON r2.person = r1.person
         WHERE r1.ref = ANY($1)",
        &[&seeds],
    )?)?);
    let known: Vec<String> = all.iter().cloned().collect();
    all.extend(texts(tx.query(
        "SELECT ref_b FROM identity_links WHERE ref_a = ANY($1)
         UNION SELECT ref_a FROM identity_links WHERE ref_b = ANY($1)",
        &[&known],
    )?)?);
    let joined: Vec<String> = all.into_iter().collect();
    super::signals::mark_stale(tx, &joined.join(&CHILD_SEPARATOR.to_string()))
}

fn log(c: &mut impl GenericClient, e: &RegisterEntry) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO register_log (at, who, action, detail, reason) VALUES ($1, $2, $3, $4, $5)",
        &[&e.at.0, &e.who, &e.action, &e.detail, &e.reason],
    )?;
    Ok(())
}

pub(super) fn log_register(c: &mut Client, entry: &RegisterEntry) -> Result<(), StoreError> {
    log(c, entry)
}

pub(super) fn register_log(c: &mut Client) -> Result<Vec<RegisterEntry>, StoreError> {
    let rows = c.query(
        "SELECT at, who, action, detail, reason FROM register_log ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(RegisterEntry {
                at: Timestamp(r.try_get(0)?),
                who: r.try_get(1)?,
                action: r.try_get(2)?,
                detail: r.try_get(3)?,
                reason: r.try_get(4)?,
            })
        })
        .collect()
}
