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
//! - **The people register** (issue 17), the strongest source: children
//!   who were members of one household on overlapping dates, and the
//!   references that name one child (identity links, and the references
//!   registered to one person, so that a family view includes every
//!   reference of each child) ([`register_edges`]). No unlink overrides
//!   these: to separate two children of one household, end a membership.
//!
//! An administrator's `family unlink` overrides the first two for that pair: the
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

use hearth_shared::{ChildRef, RecordId, RecordKind};

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

pub use crate::links::{FamilyLinks, HouseholdStay, NamedTogether, pair};

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

/// The register's links: each pair of references naming one child, and
/// each pair of children (by their first reference: the identity pairs
/// join the rest) who were members of one household on overlapping
/// dates. No unlink overrides them.
pub fn register_edges(links: &FamilyLinks) -> BTreeSet<(ChildRef, ChildRef)> {
    let mut out = BTreeSet::new();
    let mut insert = |a: &ChildRef, b: &ChildRef| {
        let p = pair(a, b);
        if p.0 != p.1 {
            out.insert(p);
        }
    };
    for (a, b) in &links.identities {
        insert(a, b);
    }
    let mut by_household: BTreeMap<&str, Vec<&HouseholdStay>> = BTreeMap::new();
    for stay in &links.households {
        by_household.entry(&stay.household).or_default().push(stay);
    }
    for stays in by_household.values() {
        for (i, x) in stays.iter().enumerate() {
            for y in &stays[i + 1..] {
                if let (true, Some(a), Some(b)) = (x.overlaps(y), x.refs.first(), y.refs.first()) {
                    insert(a, b);
                }
            }
        }
    }
    out
}

/// Whether `a` and `b` are joined directly by the register (one household
/// at the same time, or one child): an unlink cannot separate them.
pub fn joined_by_register(a: &ChildRef, b: &ChildRef, links: &FamilyLinks) -> bool {
    let register = FamilyLinks {
        households: links.households.clone(),
        identities: links.identities.clone(),
        ..FamilyLinks::default()
    };
    family_of(a, &register).contains(b)
}

/// A pair that records of other kinds named together and nothing links:
/// for an administrator or manager to confirm (`family link`) or reject
/// (`family unlink`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// One child.
    pub a: ChildRef,
    /// The other.
    pub b: ChildRef,
    /// The standing records naming both, in the order read.
    pub records: Vec<RecordId>,
    /// Their kinds, each once, in the order first seen.
    pub kinds: Vec<RecordKind>,
}

/// The pairs proposed for a family link: each pair of children named
/// together by a standing record of a kind that does not imply a
/// household ([`implies_household`] false; corrections, which imply
/// nothing, aside), unless an administrator linked or unlinked the pair
/// or the two are already in one family. In pair order.
pub fn proposals(links: &FamilyLinks) -> Vec<Proposal> {
    let retracted = super::retracted(&links.corrections);
    let decided: BTreeSet<_> = links
        .unlinked
        .iter()
        .chain(&links.linked)
        .map(|(a, b)| pair(a, b))
        .collect();
    let families = Families::new(links);
    let mut out: BTreeMap<(ChildRef, ChildRef), Proposal> = BTreeMap::new();
    let proposing = links.named_together.iter().filter(|r| {
        !implies_household(r.kind)
            && !matches!(r.kind, RecordKind::Amendment | RecordKind::Revision)
            && !retracted.contains(&r.id)
    });
    for r in proposing {
        for (i, a) in r.children.iter().enumerate() {
            for b in &r.children[i + 1..] {
                let p = pair(a, b);
                if p.0 == p.1 || decided.contains(&p) || families.of(&p.0).contains(&p.1) {
                    continue;
                }
                let entry = out.entry(p.clone()).or_insert_with(|| Proposal {
                    a: p.0,
                    b: p.1,
                    records: Vec::new(),
                    kinds: Vec::new(),
                });
                if !entry.records.contains(&r.id) {
                    entry.records.push(r.id);
                }
                if !entry.kinds.contains(&r.kind) {
                    entry.kinds.push(r.kind);
                }
            }
        }
    }
    out.into_values().collect()
}

/// The family of `child`: every child connected to it by a link in force
/// ([`edges`]) or by the register ([`register_edges`]), including itself.
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
    /// The families `links` make: the links in force ([`edges`]) and the
    /// register's ([`register_edges`]).
    pub fn new(links: &FamilyLinks) -> Self {
        let mut next: BTreeMap<ChildRef, Vec<ChildRef>> = BTreeMap::new();
        for (a, b) in edges(links).into_iter().chain(register_edges(links)) {
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

    fn stay(household: &str, c: &str, from: i64, until: Option<i64>) -> HouseholdStay {
        HouseholdStay {
            household: household.into(),
            refs: vec![child(c)],
            from: hearth_shared::Timestamp(from * 86_400),
            until: until.map(|u| hearth_shared::Timestamp(u * 86_400)),
        }
    }

    fn record(seq: u64, kind: RecordKind, children: &[&str]) -> NamedTogether {
        NamedTogether {
            id: RecordId {
                device: hearth_shared::DeviceId([2; 8]),
                seq: hearth_shared::Seq(seq),
            },
            ..named(kind, children)
        }
    }

    #[test]
    fn children_of_one_household_on_overlapping_dates_are_one_family() {
        let joined = |a: HouseholdStay, b: HouseholdStay| {
            let links = FamilyLinks {
                households: vec![a, b],
                ..FamilyLinks::default()
            };
            family_of(&child(ANNA), &links).contains(&child(BEN))
        };
        // Days 10..=20 and 20..: one day shared.
        assert!(joined(
            stay("Brown", ANNA, 10, Some(20)),
            stay("Brown", BEN, 20, None)
        ));
        assert!(joined(
            stay("Brown", ANNA, 10, None),
            stay("Brown", BEN, 30, Some(40))
        ));
        // Anna left the day before Ben came.
        assert!(!joined(
            stay("Brown", ANNA, 10, Some(19)),
            stay("Brown", BEN, 20, None)
        ));
        assert!(!joined(
            stay("Brown", BEN, 30, None),
            stay("Brown", ANNA, 10, Some(29))
        ));
        // Same dates, different households.
        assert!(!joined(
            stay("Brown", ANNA, 10, None),
            stay("Green", BEN, 10, None)
        ));
    }

    #[test]
    fn an_unlink_does_not_override_a_household_in_the_register() {
        let links = FamilyLinks {
            households: vec![stay("Brown", ANNA, 1, None), stay("Brown", BEN, 1, None)],
            unlinked: vec![(child(ANNA), child(BEN))],
            ..FamilyLinks::default()
        };
        assert!(family_of(&child(ANNA), &links).contains(&child(BEN)));
        assert!(joined_by_register(&child(ANNA), &child(BEN), &links));
        let ended = FamilyLinks {
            households: vec![stay("Brown", ANNA, 1, Some(5)), stay("Brown", BEN, 6, None)],
            ..links
        };
        assert!(!family_of(&child(ANNA), &ended).contains(&child(BEN)));
        assert!(!joined_by_register(&child(ANNA), &child(BEN), &ended));
    }

    #[test]
    fn an_identity_joins_the_references_and_their_families() {
        const NURSERY: &str = "local:NURSERY-12:anna-b";
        let links = FamilyLinks {
            named_together: vec![named(RecordKind::HomeVisit, &[NURSERY, CARA])],
            identities: vec![(child(ANNA), child(NURSERY))],
            // An unlink of the two references changes nothing either.
            unlinked: vec![(child(ANNA), child(NURSERY))],
            ..FamilyLinks::default()
        };
        assert_eq!(
            family_of(&child(ANNA), &links),
            BTreeSet::from([child(ANNA), child(NURSERY), child(CARA)])
        );
        let apart = FamilyLinks {
            identities: vec![],
            ..links
        };
        assert_eq!(family_of(&child(ANNA), &apart).len(), 1);
    }

    #[test]
    fn proposals_come_from_other_kinds_and_leave_out_decided_or_joined_pairs() {
        const DAN: &str = "nhs:9434765870";
        let links = FamilyLinks {
            named_together: vec![
                record(1, RecordKind::DailyPresentation, &[ANNA, BEN, CARA]),
                record(2, RecordKind::Concern, &[ANNA, BEN]),
                // A household kind links; it proposes nothing.
                record(3, RecordKind::HomeVisit, &[CARA, DAN]),
                record(4, RecordKind::Voice, &[CARA, DAN]),
                record(5, RecordKind::Amendment, &[ANNA, DAN]),
            ],
            // Anna and Cara were unlinked: decided.
            unlinked: vec![(child(CARA), child(ANNA))],
            ..FamilyLinks::default()
        };
        let got = proposals(&links);
        let pairs: Vec<(String, String)> = got
            .iter()
            .map(|p| (p.a.to_string(), p.b.to_string()))
            .collect();
        let mut expected = [
            pair(&child(ANNA), &child(BEN)),
            pair(&child(BEN), &child(CARA)),
        ];
        expected.sort();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs, expected);
        let anna_ben = got
            .iter()
            .find(|p| pair(&p.a, &p.b) == pair(&child(ANNA), &child(BEN)))
            .unwrap();
        assert_eq!(anna_ben.records.len(), 2);
        assert_eq!(
            anna_ben.kinds,
            [RecordKind::DailyPresentation, RecordKind::Concern]
        );
        // Confirmed (an explicit link): no longer proposed.
        let confirmed = FamilyLinks {
            linked: vec![(child(BEN), child(ANNA))],
            ..links.clone()
        };
        assert!(
            proposals(&confirmed)
                .iter()
                .all(|p| pair(&p.a, &p.b) != pair(&child(ANNA), &child(BEN)))
        );
        // One household in the register: one family, nothing to propose.
        let housed = FamilyLinks {
            households: vec![stay("Brown", BEN, 1, None), stay("Brown", CARA, 1, None)],
            ..links
        };
        assert!(
            proposals(&housed)
                .iter()
                .all(|p| pair(&p.a, &p.b) != pair(&child(BEN), &child(CARA)))
        );
    }
}
