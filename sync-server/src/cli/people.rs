//! `person`, `household` and `identity`: the people register from the
//! command line, through [`crate::people::ops`] (which checks the input
//! and writes every read and change to the register log). A refusal is
//! one line `error: FIELD: problem; fix` and exit status 2.
//!
//! Every stored string shown in a table goes through [`Escaped`], and
//! JSON through [`json_escaped`]: no name in the register can forge a line
//! or move the cursor.

use hearth_shared::printable::{Escaped, json_escaped};
use hearth_shared::{ChildRef, Timestamp};

use super::args::{
    AsUser, HouseholdCommand, IdentityArgs, IdentityCommand, PersonCommand, PersonFields,
};
use super::{CliError, Context, out, reader};
use crate::backend::Backend;
use crate::people::check::bad;
use crate::people::json::{entry_json, membership_json, person_json};
use crate::people::ops::{self, PersonView, RegisterError};
use crate::people::{NewPerson, Person, PersonEdit, Relation, Relationship, Sex};
use crate::store::Store;

fn who(w: &AsUser) -> Result<String, CliError> {
    reader(w.as_user.as_deref())
}

fn json(v: &serde_json::Value) -> String {
    let mut s = json_escaped(serde_json::to_string_pretty(v).expect("JSON"));
    s.push('\n');
    s
}

fn date(field: &'static str, s: Option<&str>) -> Result<Option<Timestamp>, RegisterError> {
    s.map(|s| ops::parse_date(field, s)).transpose()
}

fn sex(s: Option<&str>) -> Result<Option<Sex>, RegisterError> {
    s.map(|s| s.parse::<Sex>().map_err(|e| bad("sex", e.to_string())))
        .transpose()
}

fn reference(field: &'static str, s: &str) -> Result<ChildRef, RegisterError> {
    s.trim()
        .parse()
        .map_err(|problem| bad(field, format!("{s:?}: {problem}")))
}

/// A person's id and name, escaped, as every line shows them.
fn who_is(p: &Person) -> String {
    format!("{} {}", p.id, Escaped(&p.name))
}

fn resolve<S: Store>(store: &S, key: &str) -> Result<Person, CliError> {
    let reg = store.register()?;
    let id = ops::resolve(&reg, key)?;
    let p = reg.people.into_iter().find(|p| p.id == id);
    Ok(p.ok_or(RegisterError::Refused(
        crate::people::RegisterRefusal::NoSuchPerson(id),
    ))?)
}

/// The born/expected cell: `2024-05-01`, `expected 2026-12-01`, or `-`.
fn dates(p: &Person) -> String {
    match (p.born, p.expected) {
        (Some(b), _) => b.date().to_string(),
        (None, Some(e)) => format!("expected {}", e.date()),
        (None, None) if p.child => "-".into(),
        (None, None) => "adult".into(),
    }
}

fn refs_text(refs: &[ChildRef]) -> String {
    refs.iter()
        .map(|r| Escaped(&r.to_string()).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a `person` subcommand.
pub fn person<S: Backend>(ctx: &Context, action: PersonCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    let clock = ctx.clock.as_ref();
    match action {
        PersonCommand::Add {
            refs,
            adult,
            name,
            fields,
            who: w,
        } => {
            let who = who(&w)?;
            let p = NewPerson {
                refs: refs
                    .iter()
                    .map(|r| reference("ref", r))
                    .collect::<Result<_, _>>()?,
                child: !adult,
                name,
                born: date("dob", fields.dob.as_deref())?,
                expected: date("edd", fields.edd.as_deref())?,
                sex: sex(fields.sex.as_deref())?,
            };
            let id = ops::add_person(&store, clock, &who, p)?;
            let added = resolve(&store, &id.to_string())?;
            let what = match added.child {
                true => refs_text(&added.refs),
                false => "adult".into(),
            };
            out(format_args!("added {} ({what})\n", who_is(&added)))?;
        }
        PersonCommand::Relate {
            adult,
            child,
            relationship,
            who: w,
        } => {
            let who = who(&w)?;
            let relationship: Relationship =
                relationship
                    .parse()
                    .map_err(|e: hearth_shared::words::UnknownWord| {
                        bad("relationship", e.to_string())
                    })?;
            let (a, c) = (resolve(&store, &adult)?, resolve(&store, &child)?);
            let r = Relation {
                adult: a.id,
                child: c.id,
                relationship,
            };
            ops::relate(&store, clock, &who, r)?;
            out(format_args!(
                "{} is {} of {}\n",
                who_is(&a),
                relationship.as_str(),
                who_is(&c)
            ))?;
        }
        PersonCommand::Edit {
            person,
            name,
            fields,
            reason,
            who: w,
        } => {
            let who = who(&w)?;
            let p = resolve(&store, &person)?;
            let e = edit(name, &fields)?;
            ops::edit_person(&store, clock, &who, p.id, e, &reason)?;
            let now = resolve(&store, &p.id.to_string())?;
            out(format_args!("edited {}\n", who_is(&now)))?;
        }
        PersonCommand::Show {
            person,
            json: as_json,
            who: w,
        } => {
            let v = ops::show(&store, clock, &who(&w)?, &person)?;
            match as_json {
                true => out(format_args!("{}", json(&person_json(&v))))?,
                false => out(format_args!("{}", show_text(&v)))?,
            }
        }
        PersonCommand::List {
            find,
            json: as_json,
            who: w,
        } => {
            let found = ops::find(&store, clock, &who(&w)?, find.as_deref().unwrap_or(""))?;
            if as_json {
                let people: Vec<_> = found.iter().map(person_json).collect();
                out(format_args!(
                    "{}",
                    json(&serde_json::json!({ "people": people }))
                ))?;
            } else {
                for v in &found {
                    out(format_args!(
                        "{}\t{}\t{}\t{}\n",
                        v.person.id,
                        Escaped(&v.person.name),
                        dates(&v.person),
                        refs_text(&v.refs)
                    ))?;
                }
            }
        }
        PersonCommand::Import { file, who: w } => import::<S>(&store, ctx, &file, &who(&w)?)?,
        PersonCommand::Log { json: as_json } => {
            let log = store.register_log()?;
            if as_json {
                let entries: Vec<_> = log.iter().map(entry_json).collect();
                out(format_args!("{}", json(&serde_json::json!(entries))))?;
            } else {
                out(format_args!("AT\tWHO\tACTION\tDETAIL\tREASON\n"))?;
                for e in &log {
                    out(format_args!(
                        "{}\t{}\t{}\t{}\t{}\n",
                        ctx.zone.show(e.at),
                        Escaped(&e.who),
                        Escaped(&e.action),
                        Escaped(&e.detail),
                        Escaped(&e.reason)
                    ))?;
                }
            }
        }
    }
    Ok(())
}

fn edit(name: Option<String>, f: &PersonFields) -> Result<PersonEdit, RegisterError> {
    Ok(PersonEdit {
        name,
        born: date("dob", f.dob.as_deref())?.map(Some),
        expected: date("edd", f.edd.as_deref())?.map(Some),
        sex: sex(f.sex.as_deref())?.map(Some),
    })
}

fn import<S: Backend>(
    store: &S,
    ctx: &Context,
    file: &std::path::Path,
    who: &str,
) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        bad(
            "file",
            format!("cannot read {}: {e}", Escaped(&file.display().to_string())),
        )
    })?;
    let report = ops::import_csv(store, ctx.clock.as_ref(), who, &text)?;
    out(format_args!(
        "imported {} rows; refused {} rows\n",
        report.imported,
        report.refused.len()
    ))?;
    for r in &report.refused {
        out(format_args!(
            "row {}: {}: {}\n",
            r.row,
            Escaped(&r.field),
            Escaped(&r.message)
        ))?;
    }
    match report.refused.len() {
        0 => Ok(()),
        n => Err(CliError::ImportRefused(n)),
    }
}

/// `person show` as text.
fn show_text(v: &PersonView) -> String {
    let p = &v.person;
    let mut s = format!("{}\n", who_is(p));
    match (p.child, p.born, p.expected) {
        (false, ..) => s.push_str("adult\n"),
        (true, Some(b), _) => s.push_str(&format!("born {}\n", b.date())),
        (true, None, Some(e)) => s.push_str(&format!("expected {}\n", e.date())),
        (true, None, None) => s.push_str("date of birth not recorded\n"),
    }
    if let Some(sex) = p.sex {
        s.push_str(&format!("sex {}\n", sex.as_str()));
    }
    if p.child {
        s.push_str(&format!("refs {}\n", refs_text(&v.refs)));
    }
    for (rel, other) in &v.relations {
        s.push_str(&format!("{} {}\n", rel.as_str(), who_is(other)));
    }
    for m in &v.memberships {
        s.push_str(&format!("household {}\n", membership_text(m)));
    }
    s
}

fn membership_text(m: &crate::people::Membership) -> String {
    let until = m
        .until
        .map_or_else(|| "now".to_string(), |u| u.date().to_string());
    format!(
        "{} from {} until {until}",
        Escaped(&m.household),
        m.from.date()
    )
}

/// Runs a `household` subcommand.
pub fn household<S: Backend>(ctx: &Context, action: HouseholdCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    let clock = ctx.clock.as_ref();
    match action {
        HouseholdCommand::AddMember {
            household,
            person,
            from,
            who: w,
        } => {
            let who = who(&w)?;
            let from = ops::parse_date("from", &from)?;
            let p = resolve(&store, &person)?;
            ops::add_member(&store, clock, &who, &household, p.id, from)?;
            out(format_args!(
                "{} is in household {} from {}\n",
                who_is(&p),
                Escaped(household.trim()),
                from.date()
            ))?;
        }
        HouseholdCommand::EndMember {
            household,
            person,
            until,
            who: w,
        } => {
            let who = who(&w)?;
            let until = ops::parse_date("until", &until)?;
            let p = resolve(&store, &person)?;
            ops::end_member(&store, clock, &who, &household, p.id, until)?;
            out(format_args!(
                "{} left household {} on {}\n",
                who_is(&p),
                Escaped(household.trim()),
                until.date()
            ))?;
        }
        HouseholdCommand::Show {
            name,
            json: as_json,
            who: w,
        } => {
            let members = ops::household(&store, clock, &who(&w)?, &name)?;
            if as_json {
                let v: Vec<_> = members
                    .iter()
                    .map(|(m, p)| {
                        let mut j = membership_json(m);
                        j["name"] = p.name.clone().into();
                        j["adult"] = (!p.child).into();
                        j
                    })
                    .collect();
                out(format_args!(
                    "{}",
                    json(&serde_json::json!({ "household": name.trim(), "members": v }))
                ))?;
            } else {
                for (m, p) in &members {
                    let until = m
                        .until
                        .map_or_else(|| "now".to_string(), |u| u.date().to_string());
                    out(format_args!(
                        "{}\t{}\tfrom {}\tuntil {until}\n",
                        who_is(p),
                        dates(p),
                        m.from.date()
                    ))?;
                }
            }
        }
    }
    Ok(())
}

/// Runs an `identity` subcommand.
pub fn identity<S: Backend>(ctx: &Context, action: IdentityCommand) -> Result<(), CliError> {
    let store = S::open(&ctx.store)?;
    let clock = ctx.clock.as_ref();
    let (linking, args) = match action {
        IdentityCommand::Link(args) => (true, args),
        IdentityCommand::Unlink(args) => (false, args),
    };
    let IdentityArgs {
        a,
        b,
        reason,
        who: w,
    } = args;
    let who = who(&w)?;
    let (a, b) = (reference("a", &a)?, reference("b", &b)?);
    if linking {
        ops::link_identity(&store, clock, &who, &a, &b, &reason)?;
        out(format_args!(
            "linked {a} and {b}: one child; each one's chronology shows the records of both\n"
        ))?;
    } else {
        ops::unlink_identity(&store, clock, &who, &a, &b, &reason)?;
        out(format_args!("unlinked {a} and {b}\n"))?;
    }
    Ok(())
}
