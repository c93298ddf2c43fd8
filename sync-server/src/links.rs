//! What the store reads for families, and the chronology's family rule
//! ([`crate::chronology::family`]) decides from: the records that named
//! several children, the corrections that may have retracted them, the
//! administrators' links and unlinks, and from the people register the
//! children's household memberships and which references name one child.
//! Plain data, so that the store imports no chronology logic and the
//! chronology no storage.

use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};

use crate::line::FiledRecord;

/// A stored record naming several children: what the family rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTogether {
    /// The record.
    pub id: RecordId,
    /// Its kind.
    pub kind: RecordKind,
    /// The children it names.
    pub children: Vec<ChildRef>,
}

/// Everything that decides families, as the store reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyLinks {
    /// Records naming several children.
    pub named_together: Vec<NamedTogether>,
    /// Every correction, with the records it corrects: which of the
    /// records above were entered in error is the chronology's to decide
    /// ([`crate::chronology::retracted`]), not the store's.
    pub corrections: Vec<FiledRecord>,
    /// Administrators' links.
    pub linked: Vec<(ChildRef, ChildRef)>,
    /// Administrators' unlinks: pairs no record links.
    pub unlinked: Vec<(ChildRef, ChildRef)>,
    /// Children's household memberships in the register (adults'
    /// are left out: they link no children).
    pub households: Vec<HouseholdStay>,
    /// Pairs of references that name one child: the register's identity
    /// links, and the references registered to one person.
    pub identities: Vec<(ChildRef, ChildRef)>,
}

/// A child's membership of a household, from the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdStay {
    /// The household.
    pub household: String,
    /// The child's registered references (at least one).
    pub refs: Vec<ChildRef>,
    /// From (inclusive).
    pub from: Timestamp,
    /// Until (inclusive); `None` while the child lives there.
    pub until: Option<Timestamp>,
}

impl HouseholdStay {
    /// Whether two stays in one household share at least a day.
    pub fn overlaps(&self, other: &Self) -> bool {
        let before = |a: &Self, b: &Self| a.until.is_some_and(|u| u < b.from);
        self.household == other.household && !before(self, other) && !before(other, self)
    }
}

/// A pair in a fixed order, so `(a, b)` and `(b, a)` are one pair.
pub fn pair(a: &ChildRef, b: &ChildRef) -> (ChildRef, ChildRef) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}
