//! A device's caseload, worked out (pure): which children are on it
//! ([`members`]) and what it says of each ([`build`]).
//!
//! **Who is on it.** The children assigned to the enrolment's worker or
//! any of its staff, and those assigned to any group the device is in.
//! A child assigned under several references of one identity class is
//! one child; a child on it both through the worker and a group is shown
//! as the worker's (no group).
//!
//! **What each entry says** (minimum data, `docs/security.md`): the
//! preferred reference (its `nhs:` one if any, else the smallest) and the
//! others, the register's name and date of birth (a child the register
//! does not know is named by its reference), who lives with it now (name
//! and relationship), one alerts line (the plan, when last seen, the
//! rules with an open signal) and the tasks due ([`super::tasks`]). No
//! record text, no addresses. Sorted by name, then reference.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::caseload::{Caseload, CaseloadChild, HouseholdMember};
use hearth_shared::{ChildRef, DeviceId, Timestamp};

use super::tasks::{DAY, Seen, day_of, tasks};
use super::{Assignee, CaseloadSetup, VisitPlan};
use crate::people::{PersonId, Register};
use crate::signals::Rule;

/// Who a caseload is for: a device's enrolment and groups, or (for
/// `caseload show --worker/--group`) a worker or group alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct For {
    /// The workers whose children it holds (the enrolment's worker and
    /// staff).
    pub workers: BTreeSet<String>,
    /// The groups whose children it holds.
    pub groups: BTreeSet<String>,
}

impl For {
    /// A device's: its worker, its staff, and the groups `setup` puts it
    /// in.
    pub fn device(id: DeviceId, worker: &str, staff: &[String], setup: &CaseloadSetup) -> Self {
        Self {
            workers: std::iter::once(worker.to_string())
                .chain(staff.iter().cloned())
                .collect(),
            groups: setup
                .groups
                .iter()
                .filter(|g| g.device == id)
                .map(|g| g.group.clone())
                .collect(),
        }
    }
}

/// A child on a caseload, before its entry is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Every reference of its identity class, the preferred first.
    pub refs: Vec<ChildRef>,
    /// The group it is on the caseload through, if not a worker's own.
    pub group: Option<String>,
}

/// The class in order: its preferred reference first
/// ([`crate::people::preferred_ref`]: its `nhs:` one if any, else the
/// smallest), then the others.
pub fn ordered(class: BTreeSet<ChildRef>) -> Vec<ChildRef> {
    let first = crate::people::preferred_ref(&class).cloned();
    let mut refs: Vec<ChildRef> = class.into_iter().collect();
    if let Some(i) = first.and_then(|f| refs.iter().position(|r| *r == f)) {
        let preferred = refs.remove(i);
        refs.insert(0, preferred);
    }
    refs
}

/// The children on the caseload `of`, each once, by `setup`'s
/// assignments; `class` gives a reference's identity class (the register's
/// `people::identity_class`), which always holds the reference itself.
pub fn members(
    of: &For,
    setup: &CaseloadSetup,
    class: impl Fn(&ChildRef) -> BTreeSet<ChildRef>,
) -> Vec<Member> {
    // Keyed by the preferred reference; `None` = the worker's own.
    let mut found: BTreeMap<ChildRef, (Vec<ChildRef>, Option<Option<String>>)> = BTreeMap::new();
    for a in &setup.assignments {
        let via = match &a.to {
            Assignee::Worker(w) if of.workers.contains(w) => None,
            Assignee::Group(g) if of.groups.contains(g) => Some(g.clone()),
            _ => continue,
        };
        let mut refs = class(&a.child);
        refs.insert(a.child.clone());
        let refs = ordered(refs);
        let slot = found.entry(refs[0].clone()).or_insert((refs, None));
        slot.1 = match (slot.1.take(), via) {
            (None, via) => Some(via),
            (Some(None), _) | (_, None) => Some(None),
            // Two groups: the first by name.
            (Some(Some(a)), Some(b)) => Some(Some(a.min(b))),
        };
    }
    found
        .into_values()
        .map(|(refs, via)| Member {
            refs,
            group: via.flatten(),
        })
        .collect()
}

/// What the store gave for one child on the caseload: its records (fields
/// as corrected, none entered in error) and the rules with an open signal.
#[derive(Debug, Clone, Default)]
pub struct ChildFacts<'a> {
    /// Every record naming any of its references.
    pub records: Vec<Seen<'a>>,
    /// Rules with an open (not acknowledged) signal for it.
    pub open: Vec<Rule>,
}

/// Whether a membership holds on `now`'s day.
fn current(m: &crate::people::Membership, now: Timestamp) -> bool {
    let today = day_of(now);
    m.from <= Timestamp(today.0 + DAY - 1) && m.until.is_none_or(|u| u >= today)
}

/// Who lives with `child` now: the other current members of its current
/// households, each with its relationship to the child (`other` if none
/// is registered), by name.
fn household(register: &Register, child: PersonId, now: Timestamp) -> Vec<HouseholdMember> {
    let homes: BTreeSet<&str> = register
        .memberships
        .iter()
        .filter(|m| m.person == child && current(m, now))
        .map(|m| m.household.as_str())
        .collect();
    let ids: BTreeSet<PersonId> = register
        .memberships
        .iter()
        .filter(|m| homes.contains(m.household.as_str()) && m.person != child && current(m, now))
        .map(|m| m.person)
        .collect();
    let mut out: Vec<HouseholdMember> = register
        .people
        .iter()
        .filter(|p| ids.contains(&p.id))
        .map(|p| HouseholdMember {
            name: p.name.clone(),
            relationship: register
                .relations
                .iter()
                .find(|r| r.adult == p.id && r.child == child)
                .map_or("other", |r| r.relationship.as_str())
                .to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The alerts line: the plan, when the child was last seen at home, the
/// open signals.
fn alerts(plan: Option<&VisitPlan>, facts: &ChildFacts<'_>, now: Timestamp) -> String {
    let mut parts = Vec::new();
    if let Some(p) = plan {
        parts.push(format!("on a {}", p.label));
    }
    let seen = facts
        .records
        .iter()
        .filter(|r| {
            matches!(r.detail, hearth_shared::Detail::HomeVisit(v)
                if v.child_seen != hearth_shared::kinds::home_visit::ChildSeen::NotSeen)
        })
        .map(|r| r.at)
        .max();
    if let Some(at) = seen {
        let days = (day_of(now).0 - day_of(at).0).max(0) / DAY;
        parts.push(match days {
            0 => "last seen at home today".to_string(),
            1 => "last seen at home 1 day ago".to_string(),
            n => format!("last seen at home {n} days ago"),
        });
    }
    if !facts.open.is_empty() {
        let rules: Vec<&str> = facts.open.iter().map(|r| r.as_str()).collect();
        parts.push(format!("open signals: {}", rules.join(", ")));
    }
    parts.join("; ")
}

/// The caseload of `device` at `now`: one entry per member, from the
/// register, the setup's plans and each member's facts (by its preferred
/// reference; a member without is taken to have no records), by name.
pub fn build(
    device: DeviceId,
    members: &[Member],
    register: &Register,
    setup: &CaseloadSetup,
    facts: &BTreeMap<ChildRef, ChildFacts<'_>>,
    now: Timestamp,
) -> Caseload {
    let none = ChildFacts::default();
    let mut children: Vec<CaseloadChild> = members
        .iter()
        .map(|m| {
            let person = crate::people::person_of(register, &m.refs[0]);
            let plan = setup.plans.iter().find(|p| m.refs.contains(&p.child));
            let f = facts.get(&m.refs[0]).unwrap_or(&none);
            let born = person.and_then(|p| p.born);
            CaseloadChild {
                child: m.refs[0].to_string(),
                refs: m.refs.iter().map(ToString::to_string).collect(),
                name: person.map_or_else(|| m.refs[0].to_string(), |p| p.name.clone()),
                born,
                expected: person.and_then(|p| p.expected),
                group: m.group.clone(),
                household: person.map_or_else(Vec::new, |p| household(register, p.id, now)),
                alerts: alerts(plan, f, now),
                tasks: tasks(born, plan, &f.records, now),
            }
        })
        .collect();
    children.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.child.cmp(&b.child)));
    Caseload {
        device,
        issued_at: now,
        children,
    }
}

#[cfg(test)]
mod tests;
