//! [`Revision`]: a correction that carries the whole corrected record, or
//! says the record was entered in error (issue 12).
//!
//! An [`crate::kinds::Amendment`] corrects only the common fields (children,
//! `occurred_at`, headline) and says the rest in words; a revision carries
//! the corrected kind's every field too, so that a structured field (a
//! voice record's `action`, a review's `was_not_brought`) can be corrected
//! and the chronology's flags follow the corrected values. Its common
//! fields are the corrected values, as for an amendment.
//!
//! [`Revised::EnteredInError`] retracts the record: it stays in the
//! chronology, struck through, with who retracted it, when and why.
//!
//! Wire form: a new [`crate::Detail`] variant after every existing one, so
//! no existing record's bytes change (see `docs/wire-format.md`).

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::error::ValidationError;
use crate::ids::RecordId;
use crate::kinds::{
    Concern, DailyPresentation, Detail, DevelopmentalReview, Escalation, HomeVisit, Meeting,
    NeglectSummary, VoiceOfChild,
};
use crate::validate::Validate;

const KIND: &str = "revision";

/// The corrected record's own fields, or its retraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub enum Revised {
    /// A home visit, corrected.
    HomeVisit(HomeVisit),
    /// A daily presentation, corrected.
    DailyPresentation(DailyPresentation),
    /// A voice-of-the-child record, corrected.
    Voice(VoiceOfChild),
    /// A concern, corrected.
    Concern(Concern),
    /// A developmental review, corrected.
    DevelopmentalReview(DevelopmentalReview),
    /// A meeting, corrected.
    Meeting(Meeting),
    /// An escalation, corrected.
    Escalation(Escalation),
    /// A neglect assessment summary, corrected.
    NeglectSummary(NeglectSummary),
    /// The record was entered in error: it is retracted, not deleted.
    EnteredInError,
}

impl Revised {
    /// The corrected detail; `None` for a retraction.
    pub fn detail(&self) -> Option<Detail> {
        Some(match self.clone() {
            Self::HomeVisit(d) => Detail::HomeVisit(d),
            Self::DailyPresentation(d) => Detail::DailyPresentation(d),
            Self::Voice(d) => Detail::Voice(d),
            Self::Concern(d) => Detail::Concern(d),
            Self::DevelopmentalReview(d) => Detail::DevelopmentalReview(d),
            Self::Meeting(d) => Detail::Meeting(d),
            Self::Escalation(d) => Detail::Escalation(d),
            Self::NeglectSummary(d) => Detail::NeglectSummary(d),
            Self::EnteredInError => return None,
        })
    }

    /// `detail` as revised content; `None` for a correction (an amendment
    /// or revision), which is not itself revised content.
    pub fn of(detail: Detail) -> Option<Self> {
        Some(match detail {
            Detail::HomeVisit(d) => Self::HomeVisit(d),
            Detail::DailyPresentation(d) => Self::DailyPresentation(d),
            Detail::Voice(d) => Self::Voice(d),
            Detail::Concern(d) => Self::Concern(d),
            Detail::DevelopmentalReview(d) => Self::DevelopmentalReview(d),
            Detail::Meeting(d) => Self::Meeting(d),
            Detail::Escalation(d) => Self::Escalation(d),
            Detail::NeglectSummary(d) => Self::NeglectSummary(d),
            Detail::Amendment(_) | Detail::Revision(_) => return None,
        })
    }
}

/// A correction carrying the whole corrected record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
pub struct Revision {
    /// The record corrected, `3f9a2c1d7e4b8a01-42`.
    pub corrects: RecordId,
    /// Why. At most 512 bytes.
    pub reason: Text<512>,
    /// The corrected fields, or [`Revised::EnteredInError`].
    pub revised: Revised,
}

impl Revision {
    /// Whether it retracts the record.
    pub fn entered_in_error(&self) -> bool {
        self.revised == Revised::EnteredInError
    }
}

impl Validate for Revision {
    fn validate(&self) -> Result<(), ValidationError> {
        super::amendment::check_reason(KIND, &self.reason)?;
        self.revised.detail().map_or(Ok(()), |d| d.validate())
    }
}
