//! Which references name the same child, and what a chronology shows
//! beside a reference: pure rules over a [`Register`].
//!
//! The *identity class* of a reference is the connected component over
//! the identity links in force and the references registered to one
//! person ([`identity_class`]). A single-child chronology shows the
//! records made under every reference in the class; its *preferred*
//! reference is the class's NHS number if it has one, else its smallest
//! reference ([`preferred_ref`]). The person a reference names is the one
//! it is registered to, else the first registered person of its class
//! ([`person_of`]); [`labels`] gives each reference that person's name
//! and dates.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::ChildRef;

use super::{Label, Person, Register};

/// Every reference that names the same child as `r`: `r` itself, the
/// references registered to the same person, the references linked to
/// any of those, and so on.
pub fn identity_class(reg: &Register, r: &ChildRef) -> BTreeSet<ChildRef> {
    let mut class = BTreeSet::from([r.clone()]);
    let mut todo = vec![r.clone()];
    while let Some(c) = todo.pop() {
        let linked = reg.identities.iter().filter_map(|l| {
            if l.a == c {
                Some(&l.b)
            } else if l.b == c {
                Some(&l.a)
            } else {
                None
            }
        });
        let same_person = reg
            .people
            .iter()
            .filter(|p| p.refs.contains(&c))
            .flat_map(|p| p.refs.iter());
        for n in linked.chain(same_person) {
            if class.insert(n.clone()) {
                todo.push(n.clone());
            }
        }
    }
    class
}

/// The reference a class is best known by: its NHS number if it has one
/// (the smallest, if several), else its smallest reference.
pub fn preferred_ref(class: &BTreeSet<ChildRef>) -> Option<&ChildRef> {
    class
        .iter()
        .find(|r| matches!(r, ChildRef::Nhs(_)))
        .or_else(|| class.iter().next())
}

/// The person `r` names: the person it is registered to, else the
/// registered person (lowest id) of any reference in its class; `None`
/// if the register does not know the child.
pub fn person_of<'a>(reg: &'a Register, r: &ChildRef) -> Option<&'a Person> {
    if let Some(p) = reg.people.iter().find(|p| p.refs.contains(r)) {
        return Some(p);
    }
    let class = identity_class(reg, r);
    reg.people
        .iter()
        .filter(|p| p.refs.iter().any(|x| class.contains(x)))
        .min_by_key(|p| p.id)
}

/// The label of every one of `refs` the register knows (through its
/// class): the person's id, name and dates.
pub fn labels(reg: &Register, refs: &[ChildRef]) -> BTreeMap<ChildRef, Label> {
    refs.iter()
        .filter_map(|r| {
            person_of(reg, r).map(|p| {
                (
                    r.clone(),
                    Label {
                        person: p.id,
                        name: p.name.clone(),
                        born: p.born,
                        expected: p.expected,
                    },
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use hearth_shared::Timestamp;

    use super::*;
    use crate::people::{IdentityLink, PersonId};

    const AMY_NHS: &str = "nhs:9434765919";
    const AMY_NURSERY: &str = "local:NURSERY-12:amy-b";
    const AMY_LA: &str = "local:LA-NORTH:C 0042";
    const BABY: &str = "local:HV:baby-brown";
    const CARL: &str = "nhs:9434765870";

    fn r(s: &str) -> ChildRef {
        s.parse().unwrap()
    }

    fn person(id: i64, refs: &[&str], name: &str) -> Person {
        Person {
            id: PersonId(id),
            refs: refs.iter().map(|x| r(x)).collect(),
            child: true,
            name: name.into(),
            born: Some(Timestamp(1_700_000_000)),
            expected: None,
            sex: None,
        }
    }

    fn link(a: &str, b: &str) -> IdentityLink {
        IdentityLink {
            a: r(a),
            b: r(b),
            at: Timestamp(1),
            who: "admin".into(),
            reason: "same child, nursery form".into(),
        }
    }

    fn register() -> Register {
        Register {
            people: vec![
                person(1, &[AMY_NHS, AMY_LA], "Amy Brown"),
                person(2, &[CARL], "Carl Brown"),
            ],
            identities: vec![link(AMY_NURSERY, AMY_LA)],
            ..Register::default()
        }
    }

    #[test]
    fn a_class_joins_a_persons_references_and_links_transitively() {
        let reg = register();
        let amy = BTreeSet::from([r(AMY_NHS), r(AMY_LA), r(AMY_NURSERY)]);
        for x in [AMY_NHS, AMY_LA, AMY_NURSERY] {
            assert_eq!(identity_class(&reg, &r(x)), amy, "{x}");
        }
        assert_eq!(identity_class(&reg, &r(CARL)), BTreeSet::from([r(CARL)]));
        // Unknown to the register: a class of one.
        assert_eq!(identity_class(&reg, &r(BABY)), BTreeSet::from([r(BABY)]));
        // Without the link, the nursery's reference stands alone.
        let unlinked = Register {
            identities: vec![],
            ..reg
        };
        assert_eq!(identity_class(&unlinked, &r(AMY_NURSERY)).len(), 1);
    }

    #[test]
    fn the_preferred_reference_is_the_nhs_number_else_the_smallest() {
        let reg = register();
        let amy = identity_class(&reg, &r(AMY_NURSERY));
        assert_eq!(preferred_ref(&amy), Some(&r(AMY_NHS)));
        let locals = BTreeSet::from([r(BABY), r(AMY_NURSERY)]);
        assert_eq!(preferred_ref(&locals), locals.iter().min());
        assert_eq!(preferred_ref(&BTreeSet::new()), None);
    }

    #[test]
    fn labels_name_every_known_reference_through_its_class() {
        let mut reg = register();
        reg.people.push(Person {
            born: None,
            expected: Some(Timestamp(1_800_000_000)),
            ..person(3, &[BABY], "Baby Brown")
        });
        let asked = [r(AMY_NURSERY), r(CARL), r(BABY), r("nhs:4010232137")];
        let got = labels(&reg, &asked);
        assert_eq!(got.len(), 3, "the unknown child has no label");
        assert_eq!(got[&r(AMY_NURSERY)].name, "Amy Brown");
        assert_eq!(got[&r(AMY_NURSERY)].person, PersonId(1));
        assert_eq!(got[&r(CARL)].name, "Carl Brown");
        assert_eq!(got[&r(BABY)].expected, Some(Timestamp(1_800_000_000)));
        // Born and linked to the NHS number: each reference keeps the
        // person it is registered to.
        reg.identities.push(link(BABY, CARL));
        let got = labels(&reg, &asked);
        assert_eq!(got[&r(BABY)].name, "Baby Brown");
        assert_eq!(got[&r(CARL)].name, "Carl Brown");
    }
}
