//! [`Concern`]: a safeguarding concern and what was done about it.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, narrative, one_line, require};

const KIND: &str = "concern";

crate::vocabulary! {
    /// The category of concern.
    pub enum ConcernCategory {
        /// Neglect.
        Neglect => "neglect",
        /// Physical abuse.
        Physical => "physical",
        /// Emotional abuse.
        Emotional => "emotional",
        /// Sexual abuse.
        Sexual => "sexual",
        /// Harmful sexual behaviour.
        HarmfulSexualBehaviour => "harmful_sexual_behaviour",
        /// Domestic abuse.
        DomesticAbuse => "domestic_abuse",
        /// Parental substance misuse.
        ParentalSubstanceMisuse => "parental_substance_misuse",
        /// Parental mental health.
        ParentalMentalHealth => "parental_mental_health",
        /// Developmental concern.
        Developmental => "developmental",
    }
}

crate::vocabulary! {
    /// What was done.
    pub enum ConcernAction {
        /// Referred; `action_detail` says to whom.
        Referred => "referred",
        /// Shared; `action_detail` says with whom.
        Shared => "shared",
        /// Nothing; `action_detail` says why.
        None => "none",
    }
}

/// A safeguarding concern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Concern {
    /// The category.
    pub category: ConcernCategory,
    /// What was seen or said. At most 1,024 bytes.
    pub seen_or_said: Text<1024>,
    /// What was done.
    pub action: ConcernAction,
    /// To whom it was referred, with whom it was shared, or why nothing was
    /// done. At most 256 bytes.
    pub action_detail: Text<256>,
}

impl Validate for Concern {
    fn validate(&self) -> Result<(), ValidationError> {
        require(
            Field::of(KIND, "seen_or_said"),
            &self.seen_or_said,
            "write what was seen or said",
        )?;
        require(
            Field::of(KIND, "action_detail"),
            &self.action_detail,
            match self.action {
                ConcernAction::Referred => "say to whom it was referred",
                ConcernAction::Shared => "say with whom it was shared",
                ConcernAction::None => "say why no action was taken",
            },
        )?;
        narrative(Field::of(KIND, "seen_or_said"), &self.seen_or_said)?;
        one_line(Field::of(KIND, "action_detail"), &self.action_detail)
    }
}
