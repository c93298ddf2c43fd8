//! The people register and its log over SQLite (migration 0010).
//!
//! [`register`] reads the whole register (it is small: one row per person,
//! reference, relation, membership and identity link). [`change_register`]
//! applies one [`RegisterChange`] in one immediate transaction: it checks
//! what only the database knows (the person exists, the reference is not
//! taken, the membership is current, the pair is linked), writes the
//! register log row, and marks stale the signals of every reference whose
//! family or identity the change may alter, all or nothing. A refused
//! change rolls back and is not logged.

use std::collections::BTreeSet;

use hearth_shared::{ChildRef, Timestamp};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::rows::{CHILD_SEPARATOR, parse_child};
use crate::people::{
    IdentityLink, Membership, NewPerson, Person, PersonEdit, PersonId, Register, RegisterChange,
    RegisterEntry, RegisterOutcome, RegisterRefusal, Relation, Sex,
};
use crate::store::StoreError;

pub(super) fn register(conn: &Connection) -> Result<Register, StoreError> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
    let out = Register {
        people: people(&tx)?,
        relations: relations(&tx)?,
        memberships: memberships(&tx)?,
        identities: identities(&tx)?,
    };
    tx.commit()?;
    Ok(out)
}

fn people(conn: &Connection) -> Result<Vec<Person>, StoreError> {
    let mut refs = conn.prepare("SELECT person, ref FROM person_refs ORDER BY person, ref")?;
    let mut by_person: std::collections::BTreeMap<i64, Vec<ChildRef>> = Default::default();
    let mut rows = refs.query([])?;
    while let Some(r) = rows.next()? {
        by_person
            .entry(r.get(0)?)
            .or_default()
            .push(parse_child(&r.get::<_, String>(1)?)?);
    }
    let mut stmt =
        conn.prepare("SELECT id, child, name, born, expected, sex FROM people ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let sex: Option<String> = r.get(5)?;
        out.push(Person {
            id: PersonId(id),
            refs: {
                let mut refs = by_person.remove(&id).unwrap_or_default();
                refs.sort();
                refs
            },
            child: r.get(1)?,
            name: r.get(2)?,
            born: r.get::<_, Option<i64>>(3)?.map(Timestamp),
            expected: r.get::<_, Option<i64>>(4)?.map(Timestamp),
            sex: sex
                .map(|s| s.parse::<Sex>())
                .transpose()
                .map_err(|_| StoreError::Corrupt("a person's sex"))?,
        });
    }
    Ok(out)
}

fn relations(conn: &Connection) -> Result<Vec<Relation>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT adult, child, relationship FROM relations ORDER BY child, adult")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Relation {
            adult: PersonId(r.get(0)?),
            child: PersonId(r.get(1)?),
            relationship: r
                .get::<_, String>(2)?
                .parse()
                .map_err(|_| StoreError::Corrupt("a relationship"))?,
        });
    }
    Ok(out)
}

fn memberships(conn: &Connection) -> Result<Vec<Membership>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT household, person, from_at, until_at FROM memberships ORDER BY household, from_at, id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Membership {
            household: r.get(0)?,
            person: PersonId(r.get(1)?),
            from: Timestamp(r.get(2)?),
            until: r.get::<_, Option<i64>>(3)?.map(Timestamp),
        });
    }
    Ok(out)
}

fn identities(conn: &Connection) -> Result<Vec<IdentityLink>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT ref_a, ref_b, at, who, reason FROM identity_links ORDER BY at, ref_a")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(IdentityLink {
            a: parse_child(&r.get::<_, String>(0)?)?,
            b: parse_child(&r.get::<_, String>(1)?)?,
            at: Timestamp(r.get(2)?),
            who: r.get(3)?,
            reason: r.get(4)?,
        });
    }
    Ok(out)
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
    conn: &Connection,
    change: &RegisterChange,
    who: &str,
    reason: &str,
    at: Timestamp,
) -> Result<RegisterOutcome, StoreError> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let applied = match apply(&tx, change, who, reason, at)? {
        Ok(applied) => applied,
        // Dropping the transaction rolls back whatever was written.
        Err(refusal) => return Ok(RegisterOutcome::Refused(refusal)),
    };
    log(
        &tx,
        &RegisterEntry {
            at,
            who: who.to_string(),
            action: applied.action.to_string(),
            detail: applied.detail,
            reason: reason.to_string(),
        },
    )?;
    mark_stale_around(&tx, applied.stale)?;
    tx.commit()?;
    Ok(RegisterOutcome::Done(applied.id))
}

type Step = Result<Result<Applied, RegisterRefusal>, StoreError>;

fn apply(tx: &Connection, change: &RegisterChange, who: &str, reason: &str, at: Timestamp) -> Step {
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

fn add(tx: &Connection, p: &NewPerson, at: Timestamp) -> Step {
    for r in &p.refs {
        if let Some(owner) = owner_of(tx, &r.to_string())? {
            return Ok(Err(RegisterRefusal::RefTaken(r.clone(), owner)));
        }
    }
    tx.execute(
        "INSERT INTO people (child, name, born, expected, sex, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            p.child,
            p.name,
            p.born.map(|t| t.0),
            p.expected.map(|t| t.0),
            p.sex.map(|s| s.as_str()),
            at.0
        ],
    )?;
    let id = PersonId(tx.last_insert_rowid());
    let mut insert = tx.prepare("INSERT INTO person_refs (ref, person) VALUES (?1, ?2)")?;
    for r in &p.refs {
        insert.execute(params![r.to_string(), id.0])?;
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

fn edit(tx: &Connection, id: PersonId, e: &PersonEdit) -> Step {
    if kind_of(tx, id)?.is_none() {
        return Ok(Err(RegisterRefusal::NoSuchPerson(id)));
    }
    let date =
        |t: &Option<Timestamp>| t.map_or_else(|| "none".to_string(), |t| t.date().to_string());
    let mut said = Vec::new();
    if let Some(name) = &e.name {
        tx.execute(
            "UPDATE people SET name = ?2 WHERE id = ?1",
            params![id.0, name],
        )?;
        said.push(format!("name {name:?}"));
    }
    if let Some(born) = &e.born {
        tx.execute(
            "UPDATE people SET born = ?2 WHERE id = ?1",
            params![id.0, born.map(|t| t.0)],
        )?;
        said.push(format!("dob {}", date(born)));
    }
    if let Some(expected) = &e.expected {
        tx.execute(
            "UPDATE people SET expected = ?2 WHERE id = ?1",
            params![id.0, expected.map(|t| t.0)],
        )?;
        said.push(format!("edd {}", date(expected)));
    }
    if let Some(sex) = &e.sex {
        tx.execute(
            "UPDATE people SET sex = ?2 WHERE id = ?1",
            params![id.0, sex.map(|s| s.as_str())],
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
    tx: &Connection,
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

fn relate(tx: &Connection, r: &Relation) -> Step {
    if let Some(refusal) = adult_and_child(tx, r.adult, r.child)? {
        return Ok(Err(refusal));
    }
    tx.execute(
        "INSERT INTO relations (adult, child, relationship) VALUES (?1, ?2, ?3)
         ON CONFLICT (adult, child) DO UPDATE SET relationship = excluded.relationship",
        params![r.adult.0, r.child.0, r.relationship.as_str()],
    )?;
    done(
        "relate",
        format!("{} {} of {}", r.adult, r.relationship.as_str(), r.child),
        refs_of(tx, r.child)?,
    )
}

fn unrelate(tx: &Connection, adult: PersonId, child: PersonId) -> Step {
    let n = tx.execute(
        "DELETE FROM relations WHERE adult = ?1 AND child = ?2",
        params![adult.0, child.0],
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

fn add_member(tx: &Connection, household: &str, person: PersonId, from: Timestamp) -> Step {
    if kind_of(tx, person)?.is_none() {
        return Ok(Err(RegisterRefusal::NoSuchPerson(person)));
    }
    if current_from(tx, household, person)?.is_some() {
        return Ok(Err(RegisterRefusal::AlreadyMember(
            person,
            household.to_string(),
        )));
    }
    tx.execute(
        "INSERT INTO memberships (household, person, from_at) VALUES (?1, ?2, ?3)",
        params![household, person.0, from.0],
    )?;
    done(
        "add_member",
        format!("{person} in household {household:?} from {}", from.date()),
        household_refs(tx, household)?,
    )
}

fn end_member(tx: &Connection, household: &str, person: PersonId, until: Timestamp) -> Step {
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
        "UPDATE memberships SET until_at = ?3 WHERE household = ?1 AND person = ?2 AND until_at IS NULL",
        params![household, person.0, until.0],
    )?;
    done(
        "end_member",
        format!("{person} in household {household:?} until {}", until.date()),
        household_refs(tx, household)?,
    )
}

fn link(
    tx: &Connection,
    a: &ChildRef,
    b: &ChildRef,
    who: &str,
    reason: &str,
    at: Timestamp,
) -> Step {
    let (a, b) = text_pair(a, b);
    if a == b {
        return Ok(Err(RegisterRefusal::Links(
            "a reference cannot be linked to itself; give two different references",
        )));
    }
    let n = tx.execute(
        "INSERT OR IGNORE INTO identity_links (ref_a, ref_b, at, who, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![a, b, at.0, who, reason],
    )?;
    if n == 0 {
        return Ok(Err(RegisterRefusal::Links(
            "these references are linked already; `person show` lists a child's references",
        )));
    }
    done("link", format!("{a} = {b}"), BTreeSet::from([a, b]))
}

fn unlink(tx: &Connection, a: &ChildRef, b: &ChildRef) -> Step {
    let (a, b) = text_pair(a, b);
    let n = tx.execute(
        "DELETE FROM identity_links WHERE ref_a = ?1 AND ref_b = ?2",
        params![a, b],
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

/// A pair of references as the table keeps it: their text, in order
/// (`identity_links` checks `ref_a < ref_b`).
fn text_pair(a: &ChildRef, b: &ChildRef) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a <= b { (a, b) } else { (b, a) }
}

/// Whether `id` is a child (`Some(true)`), an adult, or no one.
fn kind_of(tx: &Connection, id: PersonId) -> Result<Option<bool>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT child FROM people WHERE id = ?1")?
        .query_row([id.0], |r| r.get(0))
        .optional()?)
}

fn owner_of(tx: &Connection, r: &str) -> Result<Option<PersonId>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT person FROM person_refs WHERE ref = ?1")?
        .query_row([r], |r| r.get(0).map(PersonId))
        .optional()?)
}

/// When `person`'s current membership of `household` began, if any.
fn current_from(
    tx: &Connection,
    household: &str,
    person: PersonId,
) -> Result<Option<Timestamp>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT from_at FROM memberships WHERE household = ?1 AND person = ?2 AND until_at IS NULL",
        )?
        .query_row(params![household, person.0], |r| r.get(0).map(Timestamp))
        .optional()?)
}

fn refs_of(tx: &Connection, id: PersonId) -> Result<BTreeSet<String>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT ref FROM person_refs WHERE person = ?1")?;
    let rows = stmt.query_map([id.0], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The references of every person ever a member of `household`: their
/// families may change with its membership.
fn household_refs(tx: &Connection, household: &str) -> Result<BTreeSet<String>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT r.ref FROM memberships m JOIN person_refs r ON r.person = m.person
         WHERE m.household = ?1",
    )?;
    let rows = stmt.query_map([household], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks stale `seeds`, every reference registered to the same person as
/// one of them, and every reference identity-linked to one of those: a
/// change to a child's register entry changes what every reference of
/// the child shows.
fn mark_stale_around(tx: &Connection, seeds: BTreeSet<String>) -> Result<(), StoreError> {
    let mut all = seeds.clone();
    {
        let mut same_person = tx.prepare_cached(
            "SELECT r2.ref FROM person_refs r1 JOIN person_refs r2 ON r2.person = r1.person WHERE r1.ref = ?1",
        )?;
        for s in &seeds {
            let rows = same_person.query_map([s], |r| r.get::<_, String>(0))?;
            for r in rows {
                all.insert(r?);
            }
        }
        let mut linked = tx.prepare_cached(
            "SELECT ref_b FROM identity_links WHERE ref_a = ?1
             UNION SELECT ref_a FROM identity_links WHERE ref_b = ?1",
        )?;
        for s in all.clone() {
            let rows = linked.query_map([&s], |r| r.get::<_, String>(0))?;
            for r in rows {
                all.insert(r?);
            }
        }
    }
    let joined: Vec<String> = all.into_iter().collect();
    super::signals::mark_stale(tx, &joined.join(&CHILD_SEPARATOR.to_string()))
}

fn log(conn: &Connection, e: &RegisterEntry) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO register_log (at, who, action, detail, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![e.at.0, e.who, e.action, e.detail, e.reason])?;
    Ok(())
}

pub(super) fn log_register(conn: &Connection, entry: &RegisterEntry) -> Result<(), StoreError> {
    log(conn, entry)
}

pub(super) fn register_log(conn: &Connection) -> Result<Vec<RegisterEntry>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT at, who, action, detail, reason FROM register_log ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(RegisterEntry {
            at: Timestamp(r.get(0)?),
            who: r.get(1)?,
            action: r.get(2)?,
            detail: r.get(3)?,
            reason: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
