//! The record kinds of `../shared/DOMAIN.md` (the domain guide beside the
//! repository), one module each, gathered in [`Detail`].
//!
//! | kind (JSON `kind`) | type | what it captures |
//! | --- | --- | --- |
//! | `home_visit` | [`HomeVisit`] | access, who was present, child seen, observations by care domain |
//! | `daily_presentation` | [`DailyPresentation`] | attendance, arrival, hunger, hygiene, injuries |
//! | `voice` | [`VoiceOfChild`] | the child's words or behaviour, what it may mean, the action |
//! | `concern` | [`Concern`] | category, what was seen or said, the action |
//! | `developmental_review` | [`DevelopmentalReview`] | contact, outcome by domain, "was not brought" |
//! | `meeting` | [`Meeting`] | type, attendees, absent agencies, decisions, minutes |
//! | `escalation` | [`Escalation`] | stage, parties, what is disputed, outcome |
//! | `neglect_summary` | [`NeglectSummary`] | area grades 1–5, visits drawn on, assessor trained |
//! | `amendment` | [`Amendment`] | the record it corrects and why |
//! | `revision` | [`Revision`] | the record it corrects, why, and the corrected fields (or "entered in error") |
//!
//! Wire form: [`Detail`] is a postcard enum, a one-byte tag (the row's
//! position above, from 0) then the kind's fields in declaration order.

pub mod amendment;
pub mod concern;
pub mod daily_presentation;
pub mod developmental_review;
pub mod escalation;
pub mod home_visit;
pub mod meeting;
pub mod neglect_summary;
pub mod revision;
pub mod vocabulary;
pub mod voice;

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

pub use amendment::Amendment;
pub use concern::Concern;
pub use daily_presentation::DailyPresentation;
pub use developmental_review::DevelopmentalReview;
pub use escalation::Escalation;
pub use home_visit::HomeVisit;
pub use meeting::Meeting;
pub use neglect_summary::NeglectSummary;
pub use revision::{Revised, Revision};
pub use vocabulary::{CareDomain, Grade, PersonPresent, PersonRole};
pub use voice::VoiceOfChild;

use crate::error::ValidationError;
use crate::validate::Validate;

pub use crate::words::UnknownWord;

/// What kind of record, and its kind-specific fields.
// A revision holds a whole kind's fields, so it is the largest variant; a
// device without an allocator cannot box it, and every variant is already
// a fixed-capacity value of this size class.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub enum Detail {
    /// A home visit.
    HomeVisit(HomeVisit),
    /// A nursery or school's daily presentation log.
    DailyPresentation(DailyPresentation),
    /// The voice of the child.
    Voice(VoiceOfChild),
    /// A safeguarding concern.
    Concern(Concern),
    /// A developmental review.
    DevelopmentalReview(DevelopmentalReview),
    /// A multi-agency meeting.
    Meeting(Meeting),
    /// An escalation of a professional disagreement.
    Escalation(Escalation),
    /// A neglect assessment summary.
    NeglectSummary(NeglectSummary),
    /// A correction of an earlier record.
    Amendment(Amendment),
    /// A correction carrying the whole corrected record, or a retraction
    /// (issue 12; added after every other variant, so their bytes stay).
    Revision(Revision),
}

crate::vocabulary! {
    /// The kind of a record, without its fields.
    pub enum RecordKind {
        /// [`HomeVisit`].
        HomeVisit => "home_visit",
        /// [`DailyPresentation`].
        DailyPresentation => "daily_presentation",
        /// [`VoiceOfChild`].
        Voice => "voice",
        /// [`Concern`].
        Concern => "concern",
        /// [`DevelopmentalReview`].
        DevelopmentalReview => "developmental_review",
        /// [`Meeting`].
        Meeting => "meeting",
        /// [`Escalation`].
        Escalation => "escalation",
        /// [`NeglectSummary`].
        NeglectSummary => "neglect_summary",
        /// [`Amendment`].
        Amendment => "amendment",
        /// [`Revision`].
        Revision => "revision",
    }
}

impl RecordKind {
    /// How a chronology names the kind, in plain English.
    pub const fn label(self) -> &'static str {
        match self {
            Self::HomeVisit => "Home visit",
            Self::DailyPresentation => "Daily presentation",
            Self::Voice => "Voice of the child",
            Self::Concern => "Concern",
            Self::DevelopmentalReview => "Developmental review",
            Self::Meeting => "Meeting",
            Self::Escalation => "Escalation",
            Self::NeglectSummary => "Neglect assessment summary",
            Self::Amendment | Self::Revision => "Amendment",
        }
    }
}

impl Detail {
    /// Which kind this is.
    pub const fn kind(&self) -> RecordKind {
        match self {
            Self::HomeVisit(_) => RecordKind::HomeVisit,
            Self::DailyPresentation(_) => RecordKind::DailyPresentation,
            Self::Voice(_) => RecordKind::Voice,
            Self::Concern(_) => RecordKind::Concern,
            Self::DevelopmentalReview(_) => RecordKind::DevelopmentalReview,
            Self::Meeting(_) => RecordKind::Meeting,
            Self::Escalation(_) => RecordKind::Escalation,
            Self::NeglectSummary(_) => RecordKind::NeglectSummary,
            Self::Amendment(_) => RecordKind::Amendment,
            Self::Revision(_) => RecordKind::Revision,
        }
    }

    /// For a correction (an amendment or a revision): the record it
    /// corrects and why.
    pub fn corrects(&self) -> Option<(crate::ids::RecordId, &str)> {
        match self {
            Self::Amendment(a) => Some((a.corrects, a.reason.as_str())),
            Self::Revision(r) => Some((r.corrects, r.reason.as_str())),
            _ => None,
        }
    }
}

impl Validate for Detail {
    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::HomeVisit(d) => d.validate(),
            Self::DailyPresentation(d) => d.validate(),
            Self::Voice(d) => d.validate(),
            Self::Concern(d) => d.validate(),
            Self::DevelopmentalReview(d) => d.validate(),
            Self::Meeting(d) => d.validate(),
            Self::Escalation(d) => d.validate(),
            Self::NeglectSummary(d) => d.validate(),
            Self::Amendment(d) => d.validate(),
            Self::Revision(d) => d.validate(),
        }
    }
}
