//! What the store reads for families, and the chronology's family rule
//! ([`crate::chronology::family`]) decides from: the records that named
//! several children, the corrections that may have retracted them, and
//! the administrators' links and unlinks. Plain data, so that the store
//! imports no chronology logic and the chronology no storage.

use hearth_shared::{ChildRef, RecordId, RecordKind};

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
}

/// A pair in a fixed order, so `(a, b)` and `(b, a)` are one pair.
pub fn pair(a: &ChildRef, b: &ChildRef) -> (ChildRef, ChildRef) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}
