//! [`HomeVisit`]: what a health visitor or family support worker saw in the
//! home.
//!
//! The review found that the family knew when visits would happen and tidied
//! up, that fathers were left out, and that the home's condition was never
//! tracked across visits. So a visit records whether it was announced, who
//! was present by role, whether the child was seen (alone, and their
//! bedroom), and observations graded by care domain.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::vocabulary::{CareDomain, Grade, PersonPresent};
use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, ensure, narrative, one_line, require, unique};

const KIND: &str = "home_visit";

crate::vocabulary! {
    /// Whether the family knew the visit was coming, or the worker got in.
    pub enum VisitAccess {
        /// Arranged with the family.
        Announced => "announced",
        /// Not arranged.
        Unannounced => "unannounced",
        /// The worker could not get in.
        NoAccess => "no_access",
    }
}

crate::vocabulary! {
    /// Whether the child was seen.
    pub enum ChildSeen {
        /// Seen awake.
        Awake => "awake",
        /// Seen asleep.
        Asleep => "asleep",
        /// Not seen; `not_seen_reason` says why.
        NotSeen => "not_seen",
    }
}

/// One care domain's observation at this visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct DomainObservation {
    /// The domain.
    pub domain: CareDomain,
    /// 1 (good) to 5 (severe concern).
    pub grade: Grade,
    /// What was seen. At most 256 bytes.
    #[serde(default)]
    pub note: Text<256>,
}

/// A home visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct HomeVisit {
    /// Announced, unannounced or no access.
    pub access: VisitAccess,
    /// Who was present, at most 8.
    #[serde(default)]
    pub present: List<PersonPresent, 8>,
    /// Whether the child was seen.
    pub child_seen: ChildSeen,
    /// Why not, when the child was not seen. At most 256 bytes.
    #[serde(default)]
    pub not_seen_reason: Text<256>,
    /// Whether the child was seen alone; absent if not recorded.
    #[serde(default)]
    pub seen_alone: Option<bool>,
    /// Whether the child's bedroom was seen; absent if not recorded.
    #[serde(default)]
    pub bedroom_seen: Option<bool>,
    /// Observations by care domain, at most one per domain.
    #[serde(default)]
    pub observations: List<DomainObservation, 8>,
    /// The narrative. At most 1,024 bytes.
    #[serde(default)]
    pub narrative: Text<1024>,
}

impl Validate for HomeVisit {
    fn validate(&self) -> Result<(), ValidationError> {
        let seen = self.child_seen != ChildSeen::NotSeen;
        ensure(
            !(self.access == VisitAccess::NoAccess && seen),
            Field::of(KIND, "child_seen"),
            "is awake or asleep, but access is no_access; a child cannot be seen without access",
        )?;
        if !seen {
            require(
                Field::of(KIND, "not_seen_reason"),
                &self.not_seen_reason,
                "say why the child was not seen",
            )?;
        }
        ensure(
            seen || self.seen_alone != Some(true),
            Field::of(KIND, "seen_alone"),
            "is true, but the child was not seen",
        )?;
        unique(
            &self.observations,
            |o| o.domain,
            Field::of(KIND, "observations[].domain"),
            "repeats a domain; record one observation per domain",
        )?;
        for (i, o) in self.observations.iter().enumerate() {
            o.grade
                .check(Field::of(KIND, "observations[].grade").at(i))?;
            narrative(Field::of(KIND, "observations[].note").at(i), &o.note)?;
        }
        one_line(Field::of(KIND, "not_seen_reason"), &self.not_seen_reason)?;
        super::vocabulary::check_present(KIND, &self.present)?;
        narrative(Field::of(KIND, "narrative"), &self.narrative)
    }
}
