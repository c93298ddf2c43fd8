//! [`Amendment`]: a correction of an earlier record.
//!
//! Records are evidence and are never changed. A correction is a new record
//! that names the one it corrects and why. Its common fields (children,
//! `occurred_at`, headline) are the corrected values; the chronology shows
//! the original's line with them, marked amended, and the original stays
//! retrievable.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::error::{Field, ValidationError};
use crate::ids::RecordId;
use crate::validate::{Validate, narrative, one_line, require};

const KIND: &str = "amendment";

/// An amendment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// The record corrected, `3f9a2c1d7e4b8a01-42`.
    pub corrects: RecordId,
    /// Why. At most 512 bytes.
    pub reason: Text<512>,
    /// The corrected detail, in words. At most 1,024 bytes.
    #[serde(default)]
    pub correction: Text<1024>,
}

/// A correction's `reason` (of kind `kind`): given, and one line.
pub(crate) fn check_reason(kind: &'static str, reason: &Text<512>) -> Result<(), ValidationError> {
    require(
        Field::of(kind, "reason"),
        reason,
        "say why the record is being corrected",
    )?;
    one_line(Field::of(kind, "reason"), reason)
}

impl Validate for Amendment {
    fn validate(&self) -> Result<(), ValidationError> {
        check_reason(KIND, &self.reason)?;
        narrative(Field::of(KIND, "correction"), &self.correction)
    }
}
