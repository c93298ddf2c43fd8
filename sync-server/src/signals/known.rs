//! What the people register and the caseloads say that a rule reads
//! (issue 17), worked out once per refresh pass (pure): each child's date
//! of birth and visiting plan (for the tasks that feed `child_not_seen`)
//! and the fathers and male carers the register knows (for
//! `male_carer_unseen`), by every reference of the child's identity class.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::{ChildRef, Timestamp};

use crate::caseload::tasks::{DAY, day_of};
use crate::caseload::{CaseloadSetup, VisitPlan};
use crate::people::{Register, Relationship, Sex};

/// What is known of one child.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildKnown {
    /// Every reference of its identity class.
    pub refs: BTreeSet<ChildRef>,
    /// Its date of birth.
    pub born: Option<Timestamp>,
    /// Its visiting plan.
    pub plan: Option<VisitPlan>,
    /// Its fathers and male carers, as "Dean Brown (father)": adults
    /// related to it as father or male carer, and male adults of its
    /// current households.
    pub male_carers: Vec<String>,
}

/// What is known, by reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    children: BTreeMap<ChildRef, ChildKnown>,
}

impl Known {
    /// From the register and the plans, at `now` (current households);
    /// `class` gives a reference's identity class.
    pub fn new(
        register: &Register,
        setup: &CaseloadSetup,
        class: impl Fn(&ChildRef) -> BTreeSet<ChildRef>,
        now: Timestamp,
    ) -> Self {
        let class_of = |refs: &mut dyn Iterator<Item = &ChildRef>| -> BTreeSet<ChildRef> {
            refs.flat_map(|r| {
                let mut c = class(r);
                c.insert(r.clone());
                c
            })
            .collect()
        };
        let mut out = Self::default();
        for p in register
            .people
            .iter()
            .filter(|p| p.child && !p.refs.is_empty())
        {
            let refs = class_of(&mut p.refs.iter());
            let known = ChildKnown {
                born: p.born,
                male_carers: male_carers(register, p.id, now),
                plan: setup
                    .plans
                    .iter()
                    .find(|pl| refs.contains(&pl.child))
                    .cloned(),
                refs,
            };
            out.insert(known);
        }
        for plan in &setup.plans {
            if !out.children.contains_key(&plan.child) {
                out.insert(ChildKnown {
                    refs: class_of(&mut std::iter::once(&plan.child)),
                    plan: Some(plan.clone()),
                    ..ChildKnown::default()
                });
            }
        }
        out
    }

    fn insert(&mut self, known: ChildKnown) {
        for r in &known.refs {
            self.children.insert(r.clone(), known.clone());
        }
    }

    /// What is known of `child`, if anything.
    pub fn of(&self, child: &ChildRef) -> Option<&ChildKnown> {
        self.children.get(child)
    }
}

/// The fathers and male carers of the child `id`: related as such, or a
/// male adult in one of its households on `now`'s day; by name.
fn male_carers(register: &Register, id: crate::people::PersonId, now: Timestamp) -> Vec<String> {
    let today = day_of(now);
    let current = |m: &crate::people::Membership| {
        m.from.0 < today.0 + DAY && m.until.is_none_or(|u| u >= today)
    };
    let homes: BTreeSet<&str> = register
        .memberships
        .iter()
        .filter(|m| m.person == id && current(m))
        .map(|m| m.household.as_str())
        .collect();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for p in register.people.iter().filter(|p| !p.child) {
        let related = register.relations.iter().find(|r| {
            r.adult == p.id
                && r.child == id
                && matches!(
                    r.relationship,
                    Relationship::Father | Relationship::MaleCarer
                )
        });
        let lives_here = p.sex == Some(Sex::Male)
            && register
                .memberships
                .iter()
                .any(|m| m.person == p.id && current(m) && homes.contains(m.household.as_str()));
        let what = match (related, lives_here) {
            (Some(r), _) => r.relationship.as_str().replace('_', " "),
            (None, true) => "lives in the household".into(),
            (None, false) => continue,
        };
        out.insert(p.name.clone(), format!("{} ({what})", p.name));
    }
    out.into_values().collect()
}
