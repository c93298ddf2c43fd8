//! The register's operations, shared by the CLI and HTTP: each checks its
//! input (naming the field and the fix), then applies a change through
//! [`Store::change_register`] (which writes it to the register log in the
//! same transaction) or, for a read, writes the read to the register log
//! before it reads or answers.
//!
//! [`RegisterError`] displays as `field: message`, the field being the
//! CLI option or HTTP field at fault; the CLI prints it after `error: `,
//! HTTP puts the two in its error body.

use hearth_shared::{ChildRef, Timestamp};

use super::check::{bad, check_dates};
use super::identity::Classes;
use super::import::ImportRow;
use super::{
    Membership, NewPerson, Person, PersonEdit, PersonId, Register, RegisterChange, RegisterEntry,
    RegisterOutcome, RegisterRefusal, Relation, Relationship, person_of,
};
use crate::audit::check_reason;
use crate::clock::Clock;
use crate::store::{Store, StoreError};

pub use super::check::{MAX_NAME_CHARS, RegisterError, check_name, check_new_person, parse_date};
pub use super::import::{ImportReport, RowRefusal};

/// The person `key` names: `P12`, or any reference in the class of a
/// registered child.
pub fn resolve(reg: &Register, key: &str) -> Result<PersonId, RegisterError> {
    let key = key.trim();
    if key.starts_with(['P', 'p']) {
        let id: PersonId = key.parse().map_err(|e: &str| bad("person", e))?;
        return match reg.people.iter().any(|p| p.id == id) {
            true => Ok(id),
            false => Err(RegisterError::Refused(RegisterRefusal::NoSuchPerson(id))),
        };
    }
    let r: ChildRef = key.parse().map_err(|problem| {
        bad(
            "person",
            format!("{key:?} is neither a person id (P12) nor a child reference: {problem}"),
        )
    })?;
    person_of(reg, &r).map(|p| p.id).ok_or_else(|| {
        bad(
            "person",
            format!("no child in the register has the reference {r} or one linked to it; `person list --find NAME` finds people"),
        )
    })
}

fn outcome(o: RegisterOutcome) -> Result<Option<PersonId>, RegisterError> {
    match o {
        RegisterOutcome::Done(id) => Ok(id),
        RegisterOutcome::Refused(r) => Err(RegisterError::Refused(r)),
    }
}

fn apply<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    change: RegisterChange,
    reason: &str,
) -> Result<Option<PersonId>, RegisterError> {
    outcome(s.change_register(&change, who, reason, clock.now())?)
}

fn reason(reason: &str) -> Result<&str, RegisterError> {
    check_reason(reason).map_err(|e| bad("reason", e.to_string()))
}

/// Adds a person; returns the id the register gave.
pub fn add_person<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    p: NewPerson,
) -> Result<PersonId, RegisterError> {
    let p = check_new_person(p, clock.now())?;
    apply(s, clock, who, RegisterChange::Add(p), "")?.ok_or(RegisterError::Store(
        StoreError::Corrupt("a new person's id"),
    ))
}

/// Edits a person, with a reason. A date of birth given to an unborn
/// child clears its expected date (it is born).
pub fn edit_person<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    id: PersonId,
    mut e: PersonEdit,
    why: &str,
) -> Result<(), RegisterError> {
    let why = reason(why)?;
    if e == PersonEdit::default() {
        return Err(bad(
            "name",
            "nothing to change; give --name, --dob, --edd or --sex",
        ));
    }
    if let Some(name) = &e.name {
        e.name = Some(check_name("name", name)?);
    }
    if matches!(e.born, Some(Some(_))) && e.expected.is_none() {
        e.expected = Some(None);
    }
    let reg = s.register()?;
    let person = reg
        .people
        .iter()
        .find(|p| p.id == id)
        .ok_or(RegisterError::Refused(RegisterRefusal::NoSuchPerson(id)))?;
    // The dates as they would stand after the edit.
    check_dates(
        e.born.unwrap_or(person.born),
        e.expected.unwrap_or(person.expected),
        clock.now(),
    )?;
    let child_only = [
        ("dob", e.born.flatten().is_some()),
        ("edd", e.expected.flatten().is_some()),
        ("sex", e.sex.flatten().is_some()),
    ];
    if let (false, Some((field, _))) = (person.child, child_only.iter().find(|(_, set)| *set)) {
        return Err(bad(
            field,
            format!("{id} is an adult; the register keeps an adult's name only"),
        ));
    }
    apply(s, clock, who, RegisterChange::Edit(id, e), why).map(drop)
}

/// Relates an adult to a child (replacing an earlier relationship).
pub fn relate<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    r: Relation,
) -> Result<(), RegisterError> {
    if r.adult == r.child {
        return Err(bad("child", "a person cannot be related to themself"));
    }
    apply(s, clock, who, RegisterChange::Relate(r), "").map(drop)
}

/// Adds a person to a household from a date.
pub fn add_member<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    household: &str,
    person: PersonId,
    from: Timestamp,
) -> Result<(), RegisterError> {
    let household = check_name("household", household)?;
    let change = RegisterChange::AddMember {
        household,
        person,
        from,
    };
    apply(s, clock, who, change, "").map(drop)
}

/// Ends a person's current membership of a household on a date.
pub fn end_member<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    household: &str,
    person: PersonId,
    until: Timestamp,
) -> Result<(), RegisterError> {
    let household = check_name("household", household)?;
    let change = RegisterChange::EndMember {
        household,
        person,
        until,
    };
    apply(s, clock, who, change, "").map(drop)
}

/// A link or an unlink of two different references, with a reason.
fn change_identity<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    change: RegisterChange,
    why: &str,
) -> Result<(), RegisterError> {
    if let RegisterChange::Link(a, b) | RegisterChange::Unlink(a, b) = &change
        && a == b
    {
        return Err(bad(
            "ref",
            format!("{a} is given twice; give two different references"),
        ));
    }
    let why = reason(why)?;
    apply(s, clock, who, change, why).map(drop)
}

/// Says two references name the same child, with a reason.
pub fn link_identity<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    a: &ChildRef,
    b: &ChildRef,
    why: &str,
) -> Result<(), RegisterError> {
    let change = RegisterChange::Link(a.clone(), b.clone());
    change_identity(s, clock, who, change, why)
}

/// Undoes [`link_identity`], with a reason.
pub fn unlink_identity<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    a: &ChildRef,
    b: &ChildRef,
    why: &str,
) -> Result<(), RegisterError> {
    let change = RegisterChange::Unlink(a.clone(), b.clone());
    change_identity(s, clock, who, change, why)
}

/// A person as `person show` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonView {
    /// The person.
    pub person: Person,
    /// Every reference in the child's identity class, in order (empty for
    /// an adult).
    pub refs: Vec<ChildRef>,
    /// A child's adults, or an adult's children, with the relationship.
    pub relations: Vec<(Relationship, Person)>,
    /// Their household memberships, ended ones too.
    pub memberships: Vec<Membership>,
}

/// `person`'s view from the whole register.
pub fn view(reg: &Register, person: &Person) -> PersonView {
    view_in(reg, &Classes::new(reg), person)
}

/// [`view`] with the register's classes worked out already.
pub fn view_in(reg: &Register, classes: &Classes, person: &Person) -> PersonView {
    let mut refs = std::collections::BTreeSet::new();
    for r in &person.refs {
        refs.extend(classes.of(r));
    }
    let find = |id: PersonId| reg.people.iter().find(|p| p.id == id).cloned();
    let relations = reg
        .relations
        .iter()
        .filter_map(|r| match (r.adult == person.id, r.child == person.id) {
            (true, _) => find(r.child).map(|c| (r.relationship, c)),
            (_, true) => find(r.adult).map(|a| (r.relationship, a)),
            _ => None,
        })
        .collect();
    PersonView {
        person: person.clone(),
        refs: refs.into_iter().collect(),
        relations,
        memberships: reg
            .memberships
            .iter()
            .filter(|m| m.person == person.id)
            .cloned()
            .collect(),
    }
}

fn log_read<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    detail: String,
) -> Result<(), RegisterError> {
    s.log_register(&RegisterEntry {
        at: clock.now(),
        who: who.to_string(),
        action: "read".into(),
        detail,
        reason: String::new(),
    })?;
    Ok(())
}

/// Everyone whose name or any reference holds `text` (case-insensitive),
/// by name; everyone for `""`. The read is logged first.
pub fn find<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    text: &str,
) -> Result<Vec<PersonView>, RegisterError> {
    let text = text.trim();
    let detail = match text {
        "" => "list".to_string(),
        t => format!("find {t:?}"),
    };
    log_read(s, clock, who, detail)?;
    let reg = s.register()?;
    let needle = text.to_lowercase();
    let classes = Classes::new(&reg);
    let mut out: Vec<PersonView> = reg
        .people
        .iter()
        .map(|p| view_in(&reg, &classes, p))
        .filter(|v| {
            v.person.name.to_lowercase().contains(&needle)
                || v.refs
                    .iter()
                    .any(|r| r.to_string().to_lowercase().contains(&needle))
        })
        .collect();
    out.sort_by(|a, b| {
        (a.person.name.to_lowercase(), a.person.id)
            .cmp(&(b.person.name.to_lowercase(), b.person.id))
    });
    Ok(out)
}

/// One person, by id or reference. The read is logged first.
pub fn show<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    key: &str,
) -> Result<PersonView, RegisterError> {
    log_read(s, clock, who, format!("show {:?}", key.trim()))?;
    let reg = s.register()?;
    let id = resolve(&reg, key)?;
    let person = reg
        .people
        .iter()
        .find(|p| p.id == id)
        .ok_or(RegisterError::Refused(RegisterRefusal::NoSuchPerson(id)))?;
    Ok(view(&reg, person))
}

/// A household's members, past and present, by date. The read is logged
/// first.
pub fn household<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    name: &str,
) -> Result<Vec<(Membership, Person)>, RegisterError> {
    let name = check_name("household", name)?;
    log_read(s, clock, who, format!("household {name:?}"))?;
    let reg = s.register()?;
    let members: Vec<_> = reg
        .memberships
        .iter()
        .filter(|m| m.household == name)
        .filter_map(|m| {
            let p = reg.people.iter().find(|p| p.id == m.person)?;
            Some((m.clone(), p.clone()))
        })
        .collect();
    if members.is_empty() {
        return Err(bad(
            "household",
            format!("no household is named {name:?}; `household add-member` makes one"),
        ));
    }
    Ok(members)
}

/// Imports a CSV file ([`super::import`]): every row is checked; the
/// valid rows are applied (children first, then adults, so an adult may
/// name a child of the same file); each refused row is reported. A header
/// that is wrong refuses the whole file.
pub fn import_csv<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    csv: &str,
) -> Result<ImportReport, RegisterError> {
    let parsed = super::import::parse(csv, clock.now())?;
    let mut refused = parsed.refused;
    let mut imported = 0;
    let (children, adults): (Vec<_>, Vec<_>) =
        parsed.rows.into_iter().partition(|r| r.person.child);
    for row in children {
        match import_row(s, clock, who, row.clone(), None) {
            Ok(()) => imported += 1,
            Err((e, added)) => refused.push(row_refusal(row.row, e, added)?),
        }
    }
    let reg = s.register()?;
    for row in adults {
        let related = match &row.related {
            Some((key, rel)) => match resolve(&reg, key) {
                Ok(id) => Some((id, *rel)),
                Err(e) => {
                    refused.push(RowRefusal::of(row.row, "related_to", e.message()));
                    continue;
                }
            },
            None => None,
        };
        match import_row(s, clock, who, row.clone(), related) {
            Ok(()) => imported += 1,
            Err((e, added)) => refused.push(row_refusal(row.row, e, added)?),
        }
    }
    refused.sort_by_key(|r| r.row);
    s.log_register(&RegisterEntry {
        at: clock.now(),
        who: who.to_string(),
        action: "import".into(),
        detail: format!("imported {imported} rows; refused {} rows", refused.len()),
        reason: String::new(),
    })?;
    Ok(ImportReport { imported, refused })
}

/// A row's failure as reported, with the person it added if a later step
/// was refused; a store failure stops the import.
fn row_refusal(
    row: usize,
    e: RegisterError,
    added: Option<PersonId>,
) -> Result<RowRefusal, RegisterError> {
    match e {
        RegisterError::Store(e) => Err(RegisterError::Store(e)),
        e => Ok(RowRefusal {
            added,
            ..RowRefusal::of(row, e.field(), e.message())
        }),
    }
}

/// Applies one checked row: the person, then its membership and
/// relation. A step refused after the person was added says so, in words
/// and with the person's id beside the error.
fn import_row<S: Store>(
    s: &S,
    clock: &dyn Clock,
    who: &str,
    row: ImportRow,
    related: Option<(PersonId, Relationship)>,
) -> Result<(), (RegisterError, Option<PersonId>)> {
    let id = apply(s, clock, who, RegisterChange::Add(row.person), "")
        .map_err(|e| (e, None))?
        .ok_or((
            RegisterError::Store(StoreError::Corrupt("a new person's id")),
            None,
        ))?;
    let added = |e: RegisterError| match e {
        RegisterError::Store(e) => (RegisterError::Store(e), Some(id)),
        e => (
            bad(
                e.field(),
                format!("{} (the person was added as {id})", e.message()),
            ),
            Some(id),
        ),
    };
    if let Some((household, from)) = row.household {
        add_member(s, clock, who, &household, id, from).map_err(added)?;
    }
    if let Some((child, relationship)) = related {
        let r = Relation {
            adult: id,
            child,
            relationship,
        };
        relate(s, clock, who, r).map_err(added)?;
    }
    Ok(())
}
