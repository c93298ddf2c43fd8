//! The people register: who the children are, who they live with, and
//! which references name the same child (issue 17). `docs/people.md`
//! explains the model.
//!
//! - **People.** A child has one or more references (`nhs:…`,
//!   `local:ISSUER:ID`), a name, a date of birth or, unborn, an expected
//!   date of delivery, and optionally a sex. An adult has a name and a
//!   relationship to each child they are related to.
//! - **Households** with dated membership: who lives where, from when and
//!   until when. Children who were members of one household at the same
//!   time are one family (the strongest source; see
//!   [`crate::chronology::family`]).
//! - **Identity links.** An administrator says two references name the
//!   same child (a nursery's `local:…` and the NHS number; an unborn
//!   child's local reference and the NHS number given at birth), with a
//!   reason; the chronology of either then shows the records made under
//!   both. Undone by an unlink, also with a reason.
//!
//! This module holds the plain data ([`Register`], read whole from the
//! store, and [`RegisterChange`], one audited change) and the pure rules
//! over it; the store keeps it (`store::sqlite::people`), the CLI and
//! HTTP change it through [`ops`], and every read or change is written to
//! the register log first.

use hearth_shared::{ChildRef, Timestamp};

pub mod check;
pub mod identity;
pub mod import;
pub mod json;
pub mod ops;

pub use identity::{identity_class, labels, person_of, preferred_ref};

hearth_shared::words! {
    /// An adult's relationship to a child.
    pub enum Relationship {
        /// Mother.
        Mother => "mother",
        /// Father.
        Father => "father",
        /// A male carer or partner of a parent (the review's LP4: not known
        /// or assessed).
        MaleCarer => "male_carer",
        /// Grandparent.
        Grandparent => "grandparent",
        /// Anyone else.
        Other => "other",
    }
}

hearth_shared::words! {
    /// A child's recorded sex.
    pub enum Sex {
        /// Female.
        Female => "female",
        /// Male.
        Male => "male",
        /// Indeterminate or not stated.
        Indeterminate => "indeterminate",
    }
}

/// A person's id in the register, shown as `P` and a number (`P12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(pub i64);

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "P{}", self.0)
    }
}

impl std::str::FromStr for PersonId {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix('P')
            .or_else(|| s.strip_prefix('p'))
            .and_then(|n| n.parse().ok())
            .filter(|n: &i64| *n > 0)
            .map(Self)
            .ok_or("a person id is P and a number, as `person add` printed it (P12)")
    }
}

/// A child or an adult.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Its id.
    pub id: PersonId,
    /// The references registered with it (children only; empty for an
    /// adult). Further references join through identity links.
    pub refs: Vec<ChildRef>,
    /// Whether a child (else an adult).
    pub child: bool,
    /// The name, as a worker would say it.
    pub name: String,
    /// Date of birth (midnight UTC).
    pub born: Option<Timestamp>,
    /// Expected date of delivery (midnight UTC), for an unborn child.
    pub expected: Option<Timestamp>,
    /// Sex, if recorded.
    pub sex: Option<Sex>,
}

/// An adult's relationship to a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The adult.
    pub adult: PersonId,
    /// The child.
    pub child: PersonId,
    /// What they are to the child.
    pub relationship: Relationship,
}

/// A person's membership of a household, from one date until another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The household's name (unique in the register).
    pub household: String,
    /// The member.
    pub person: PersonId,
    /// From (midnight UTC, inclusive).
    pub from: Timestamp,
    /// Until (midnight UTC, inclusive); `None` while they live there.
    pub until: Option<Timestamp>,
}

/// Two references an administrator said name the same child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    /// One reference.
    pub a: ChildRef,
    /// The other.
    pub b: ChildRef,
    /// When linked.
    pub at: Timestamp,
    /// By whom.
    pub who: String,
    /// Why.
    pub reason: String,
}

/// The whole register, as the store reads it: small (one row per person,
/// membership and link), so read whole and reasoned over in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register {
    /// Everyone.
    pub people: Vec<Person>,
    /// Adults' relationships to children.
    pub relations: Vec<Relation>,
    /// Household memberships, ended ones too.
    pub memberships: Vec<Membership>,
    /// Identity links in force.
    pub identities: Vec<IdentityLink>,
}

/// What a chronology shows beside a reference: the child's name and date
/// of birth (or expected date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The register's id.
    pub person: PersonId,
    /// The name.
    pub name: String,
    /// Date of birth.
    pub born: Option<Timestamp>,
    /// Expected date of delivery (unborn).
    pub expected: Option<Timestamp>,
}

/// A person as added: everything but the id the store gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// References (children: at least one; adults: none).
    pub refs: Vec<ChildRef>,
    /// Whether a child.
    pub child: bool,
    /// The name.
    pub name: String,
    /// Date of birth.
    pub born: Option<Timestamp>,
    /// Expected date of delivery.
    pub expected: Option<Timestamp>,
    /// Sex.
    pub sex: Option<Sex>,
}

/// An edit of a person: each `Some` field replaces the stored one
/// (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new date of birth, or none.
    pub born: Option<Option<Timestamp>>,
    /// A new expected date, or none.
    pub expected: Option<Option<Timestamp>>,
    /// A new sex, or none.
    pub sex: Option<Option<Sex>>,
}

/// One change to the register. The store applies it and writes it to the
/// register log (who, when, what, why) in one transaction, and marks the
/// signals of every child whose family it may change stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterChange {
    /// Add a person.
    Add(NewPerson),
    /// Edit a person.
    Edit(PersonId, PersonEdit),
    /// Relate an adult to a child (replacing an earlier relationship of
    /// the pair).
    Relate(Relation),
    /// Remove an adult's relationship to a child.
    Unrelate {
        /// The adult.
        adult: PersonId,
        /// The child.
        child: PersonId,
    },
    /// Add a member to a household (creating it if new).
    AddMember {
        /// The household.
        household: String,
        /// The person.
        person: PersonId,
        /// From.
        from: Timestamp,
    },
    /// End a member's current membership.
    EndMember {
        /// The household.
        household: String,
        /// The person.
        person: PersonId,
        /// Until (inclusive).
        until: Timestamp,
    },
    /// Say two references name the same child.
    Link(ChildRef, ChildRef),
    /// Undo [`RegisterChange::Link`].
    Unlink(ChildRef, ChildRef),
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// Done; for [`RegisterChange::Add`], the new person's id.
    Done(Option<PersonId>),
    /// Refused, with nothing changed.
    Refused(RegisterRefusal),
}

/// Why the store refused a change (the CLI and HTTP say so, naming the
/// field and the fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterRefusal {
    /// No such person.
    #[error("there is no person {0} in the register; `person show` lists them")]
    NoSuchPerson(PersonId),
    /// A reference already belongs to someone.
    #[error("{0} is already {1}'s reference; link references with `identity link`")]
    RefTaken(ChildRef, PersonId),
    /// The person is not a member of that household now.
    #[error("{0} is not a current member of household {1:?}")]
    NotAMember(PersonId, String),
    /// A change that needs an adult (or a child) got the other.
    #[error("{0}")]
    WrongKind(&'static str),
    /// The two references are not linked (unlink), or already are (link).
    #[error("{0}")]
    Links(&'static str),
    /// The adult is not related to the child (unrelate).
    #[error("{0} is not related to {1}; `person show` lists the relations")]
    NotRelated(PersonId, PersonId),
    /// The person is a member of that household already.
    #[error("{0} is already a current member of household {1:?}; end that membership first")]
    AlreadyMember(PersonId, String),
    /// A membership would end before it began.
    #[error("{who}'s membership of household {household:?} began on {}; give --until on or after it", .from.date())]
    EndsBeforeStart {
        /// The member.
        who: PersonId,
        /// The household.
        household: String,
        /// When the membership began.
        from: Timestamp,
    },
}

impl RegisterRefusal {
    /// The field (the CLI option, the HTTP field) the refusal is about.
    pub const fn field(&self) -> &'static str {
        match self {
            Self::NoSuchPerson(_) | Self::WrongKind(_) | Self::NotRelated(..) => "person",
            Self::RefTaken(..) => "ref",
            Self::NotAMember(..) | Self::AlreadyMember(..) => "household",
            Self::EndsBeforeStart { .. } => "until",
            Self::Links(_) => "identity",
        }
    }
}

/// A read or a change of the register, as the register log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub who: String,
    /// `read`, `add`, `edit`, `relate`, `unrelate`, `add_member`,
    /// `end_member`, `link`, `unlink` or `import`.
    pub action: String,
    /// Which person or references it was about, and what changed.
    pub detail: String,
    /// Why (empty where none is asked).
    pub reason: String,
}

#[cfg(test)]
mod ops_tests;
