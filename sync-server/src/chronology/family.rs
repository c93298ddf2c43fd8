//! Families: which children a family view shows, with no disk or network.
//!
//! A family is every child connected to the one asked about by a *link*.
//! Links come from two places:
//!
//! - **Inferred** from a record naming several children, but only a record
//!   of a kind that says the children share a household
//!   ([`implies_household`]): a home visit, a neglect assessment summary, a
//!   meeting about several children. A nursery's daily presentation, a
//!   voice record, a concern, a developmental review or an escalation may
//!   name children of different families (classmates, a clinic session, a
//!   dispute about several cases), so they link nobody.
//! - **Explicit**: an administrator's `family link`.
//!
//! An administrator's `family unlink` overrides both for that pair: the
//! pair's inferred link is ignored, now and for every record that arrives
//! later, until an administrator links them again (which clears the
//! override). Why: one record naming two unrelated children must not join
//! their chronologies for ever, and a later record must not silently undo
//! a decision a person made and gave a reason for.
//!
//! Links are pairs, so a family is the connected component: unlinking A
//! and B leaves them in one family if both are still linked to C
//! ([`joined_through`] says through whom, so the command can say so).

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::{ChildRef, RecordKind};

/// Whether a record of `kind` naming several children says they share a
/// household, so that it links them into one family. The reasoning for
/// each kind is in `docs/api.md` ("Families").
pub const fn implies_household(kind: RecordKind) -> bool {
    match kind {
        // Seen together in one home.
        RecordKind::HomeVisit
        // An assessment of the care a household gives its children.
        | RecordKind::NeglectSummary
        // A conference, core group or strategy discussion about a
        // sibling group.
        | RecordKind::Meeting => true,
        // A nursery or school logs a room of children; a voice record or a
        // concern may be about classmates together; a review clinic sees
        // several children; an escalation may dispute several cases; an
        // amendment or a revision corrects another record and implies
        // nothing itself.
        RecordKind::DailyPresentation
        | RecordKind::Voice
        | RecordKind::Concern
        | RecordKind::DevelopmentalReview
        | RecordKind::Escalation
        | RecordKind::Amendment
        | RecordKind::Revision => false,
    }
}

pub use crate::links::{FamilyLinks, NamedTogether, pair};

/// The records that may link children: those of a household kind that
/// stand (a record entered in error, through its latest correction, links
/// nobody).
fn household_records(links: &FamilyLinks) -> impl Iterator<Item = &NamedTogether> {
    let retracted = super::retracted(&links.corrections);
    links
        .named_together
        .iter()
        .filter(move |r| implies_household(r.kind) && !retracted.contains(&r.id))
}

/// Every link in force: each pair named together by a household record
/// and not unlinked, and each administrator link.
pub fn edges(links: &FamilyLinks) -> BTreeSet<(ChildRef, ChildRef)> {
    let unlinked: BTreeSet<_> = links.unlinked.iter().map(|(a, b)| pair(a, b)).collect();
    let mut out = BTreeSet::new();
    for r in household_records(links) {
        for (i, a) in r.children.iter().enumerate() {
            for b in &r.children[i + 1..] {
                let p = pair(a, b);
                if p.0 != p.1 && !unlinked.contains(&p) {
                    out.insert(p);
                }
            }
        }
    }
    out.extend(links.linked.iter().map(|(a, b)| pair(a, b)));
    out
}

/// The family of `child`: every child connected to it by a link in force
/// ([`edges`]), including itself.
pub fn family_of(child: &ChildRef, links: &FamilyLinks) -> BTreeSet<ChildRef> {
    Families::new(links).of(child)
}

/// Every child's family at once: the links' edges worked out once, so
/// that finding the families of many children (a refresh of every stale
/// child's signals) costs one pass over the links, not one per child.
#[derive(Debug, Clone, Default)]
pub struct Families {
    next: BTreeMap<ChildRef, Vec<ChildRef>>,
}

impl Families {
    /// The families `links` make.
    pub fn new(links: &FamilyLinks) -> Self {
        let mut next: BTreeMap<ChildRef, Vec<ChildRef>> = BTreeMap::new();
        for (a, b) in edges(links) {
            next.entry(a.clone()).or_default().push(b.clone());
            next.entry(b).or_default().push(a);
        }
        Self { next }
    }

    /// `child`'s family: the child, and every child linked to it, however
    /// indirectly.
    pub fn of(&self, child: &ChildRef) -> BTreeSet<ChildRef> {
        let mut family = BTreeSet::from([child.clone()]);
        let mut todo = vec![child];
        while let Some(c) = todo.pop() {
            for n in self.next.get(c).into_iter().flatten() {
                if family.insert(n.clone()) {
                    todo.push(n);
                }
            }
        }
        family
    }
}

/// After `a` and `b` are unlinked: the other children through whom they
/// are still in one family (empty if they are now apart).
pub fn joined_through(a: &ChildRef, b: &ChildRef, links: &FamilyLinks) -> Vec<ChildRef> {
    let family = family_of(a, links);
    if !family.contains(b) {
        return Vec::new();
    }
    family.into_iter().filter(|c| c != a && c != b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chronology::tests::{ANNA, BEN, CARA};

    fn child(s: &str) -> ChildRef {
        s.parse().unwrap()
    }

    fn named(kind: RecordKind, children: &[&str]) -> NamedTogether {
        NamedTogether {
            id: hearth_shared::RecordId {
                device: hearth_shared::DeviceId([1; 8]),
                seq: hearth_shared::Seq(1),
            },
            kind,
            children: children.iter().map(|c| child(c)).collect(),
        }
    }

    #[test]
    fn household_kinds_link_and_the_others_do_not() {
        let household = [
            RecordKind::HomeVisit,
            RecordKind::NeglectSummary,
            RecordKind::Meeting,
        ];
        for kind in household {
            let links = FamilyLinks {
                named_together: vec![named(kind, &[ANNA, BEN])],
                ..FamilyLinks::default()
            };
            assert_eq!(family_of(&child(ANNA), &links).len(), 2, "{kind:?}");
        }
        for kind in [
            RecordKind::DailyPresentation,
            RecordKind::Voice,
            RecordKind::Concern,
            RecordKind::DevelopmentalReview,
            RecordKind::Escalation,
            RecordKind::Amendment,
        ] {
            assert!(!implies_household(kind), "{kind:?}");
            let links = FamilyLinks {
                named_together: vec![named(kind, &[ANNA, BEN])],
                ..FamilyLinks::default()
            };
            assert_eq!(
                family_of(&child(ANNA), &links),
                BTreeSet::from([child(ANNA)]),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_nursery_daily_presentation_naming_two_children_joins_nobody() {
        let links = FamilyLinks {
            named_together: vec![named(RecordKind::DailyPresentation, &[ANNA, CARA])],
            ..FamilyLinks::default()
        };
        assert!(!family_of(&child(CARA), &links).contains(&child(ANNA)));
    }

    #[test]
    fn families_join_through_household_records_and_links() {
        let links = FamilyLinks {
            named_together: vec![named(RecordKind::HomeVisit, &[ANNA, BEN])],
            linked: vec![(child(CARA), child(BEN))],
            ..FamilyLinks::default()
        };
        assert_eq!(family_of(&child(ANNA), &links).len(), 3);
        assert_eq!(family_of(&child(CARA), &FamilyLinks::default()).len(), 1);
    }

    #[test]
    fn an_unlink_overrides_every_household_record_naming_the_pair() {
        let mut links = FamilyLinks {
            named_together: vec![named(RecordKind::HomeVisit, &[ANNA, BEN])],
            unlinked: vec![(child(BEN), child(ANNA))],
            ..FamilyLinks::default()
        };
        assert_eq!(family_of(&child(ANNA), &links).len(), 1);
        // A new record naming both does not re-link them.
        links
            .named_together
            .push(named(RecordKind::HomeVisit, &[BEN, ANNA]));
        links
            .named_together
            .push(named(RecordKind::NeglectSummary, &[ANNA, BEN]));
        assert_eq!(family_of(&child(ANNA), &links).len(), 1);
        assert_eq!(family_of(&child(BEN), &links).len(), 1);
        // An administrator's link does (the store clears the unlink then).
        links.unlinked.clear();
        links.linked.push((child(ANNA), child(BEN)));
        assert_eq!(family_of(&child(BEN), &links).len(), 2);
    }

    #[test]
    fn an_unlinked_pair_still_joined_through_a_third_child_is_reported() {
        let links = FamilyLinks {
            named_together: vec![named(RecordKind::HomeVisit, &[ANNA, BEN, CARA])],
            unlinked: vec![(child(ANNA), child(BEN))],
            ..FamilyLinks::default()
        };
        assert_eq!(
            joined_through(&child(ANNA), &child(BEN), &links),
            vec![child(CARA)]
        );
        let apart = FamilyLinks {
            unlinked: vec![
                (child(ANNA), child(BEN)),
                (child(ANNA), child(CARA)),
                (child(BEN), child(CARA)),
            ],
            ..links
        };
        assert!(joined_through(&child(ANNA), &child(BEN), &apart).is_empty());
        assert_eq!(family_of(&child(CARA), &apart).len(), 1);
    }
}
