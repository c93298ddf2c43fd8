//! [`DevelopmentalReview`]: a health visiting developmental review.
//!
//! Outcomes are recorded by domain only (communication, gross motor, fine
//! motor, problem solving, personal-social); no questionnaire item text is
//! embedded. A missed appointment is "was not brought": the child cannot
//! bring themselves, so never "did not attend".

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, ensure, narrative, unique};

const KIND: &str = "developmental_review";

crate::vocabulary! {
    /// The mandated contact.
    pub enum ReviewContact {
        /// New birth visit.
        NewBirth => "new_birth",
        /// 6–8 week review.
        SixToEightWeeks => "6_8_weeks",
        /// 1 year review.
        OneYear => "1_year",
        /// 2–2½ year review.
        TwoToTwoAndAHalfYears => "2_2half_years",
    }
}

crate::vocabulary! {
    /// A developmental domain.
    pub enum DevDomain {
        /// Communication.
        Communication => "communication",
        /// Gross motor.
        GrossMotor => "gross_motor",
        /// Fine motor.
        FineMotor => "fine_motor",
        /// Problem solving.
        ProblemSolving => "problem_solving",
        /// Personal-social.
        PersonalSocial => "personal_social",
    }
}

crate::vocabulary! {
    /// A domain's outcome.
    pub enum DevOutcome {
        /// Developing as expected.
        OnTrack => "on_track",
        /// Close to the threshold; review again.
        Monitor => "monitor",
        /// Below the threshold; needs further assessment.
        BelowThreshold => "below_threshold",
    }
}

/// One domain's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct DomainOutcome {
    /// The domain.
    pub domain: DevDomain,
    /// The outcome.
    pub outcome: DevOutcome,
}

/// A developmental review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentalReview {
    /// Which contact.
    pub contact: ReviewContact,
    /// The child was not brought to the appointment.
    #[serde(default)]
    pub was_not_brought: bool,
    /// Outcomes by domain, one per domain; empty when not brought.
    #[serde(default)]
    pub outcomes: List<DomainOutcome, 5>,
    /// Notes. At most 512 bytes.
    #[serde(default)]
    pub note: Text<512>,
}

impl Validate for DevelopmentalReview {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.was_not_brought {
            ensure(
                self.outcomes.is_empty(),
                Field::of(KIND, "outcomes"),
                "has outcomes, but the child was not brought; remove them or set was_not_brought to false",
            )?;
        } else {
            ensure(
                !self.outcomes.is_empty(),
                Field::of(KIND, "outcomes"),
                "is empty; record an outcome for each domain reviewed, or set was_not_brought",
            )?;
        }
        unique(
            &self.outcomes,
            |o| o.domain,
            Field::of(KIND, "outcomes[].domain"),
            "repeats a domain; record one outcome per domain",
        )?;
        narrative(Field::of(KIND, "note"), &self.note)
    }
}
