//! [`Escalation`]: a professional disagreement raised through the
//! escalation procedure.
//!
//! Escalation was not used for Child V. Recorded, it appears in the
//! chronology like any other event, with its stage and whether it was
//! resolved.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, in_range, narrative, one_line, require};

const KIND: &str = "escalation";

crate::vocabulary! {
    /// What is disputed.
    pub enum Disputed {
        /// Whether the threshold for intervention is met.
        Threshold => "threshold",
        /// A decision.
        Decision => "decision",
        /// Inaction.
        Inaction => "inaction",
        /// Information sharing.
        InformationSharing => "information_sharing",
        /// Drift and delay.
        Drift => "drift",
    }
}

/// An escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// The procedure's stage, 1 to 4.
    pub stage: u8,
    /// Who raised it. At most 48 bytes.
    pub raised_by: Text<48>,
    /// With whom. At most 48 bytes.
    pub raised_with: Text<48>,
    /// What is disputed.
    pub disputed: Disputed,
    /// The disagreement. At most 1,024 bytes.
    pub disagreement: Text<1024>,
    /// The outcome so far. At most 512 bytes.
    #[serde(default)]
    pub outcome: Text<512>,
    /// Whether it is resolved.
    #[serde(default)]
    pub resolved: bool,
}

impl Validate for Escalation {
    fn validate(&self) -> Result<(), ValidationError> {
        in_range(Field::of(KIND, "stage"), i64::from(self.stage), 1, 4)?;
        require(
            Field::of(KIND, "raised_by"),
            &self.raised_by,
            "say who raised it",
        )?;
        require(
            Field::of(KIND, "raised_with"),
            &self.raised_with,
            "say with whom it was raised",
        )?;
        require(
            Field::of(KIND, "disagreement"),
            &self.disagreement,
            "describe the disagreement",
        )?;
        one_line(Field::of(KIND, "raised_by"), &self.raised_by)?;
        one_line(Field::of(KIND, "raised_with"), &self.raised_with)?;
        narrative(Field::of(KIND, "disagreement"), &self.disagreement)?;
        narrative(Field::of(KIND, "outcome"), &self.outcome)
    }
}
