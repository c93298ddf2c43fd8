//! [`NeglectSummary`]: the summary of a graded neglect assessment.
//!
//! The assessment tool is licensed to trained practitioners. Only area
//! codes, grades (1 best, 5 worst), the number of visits drawn on, whether
//! the assessor is trained, and free-text evidence are stored; never the
//! tool's descriptors or item text.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::vocabulary::{CareDomain, Grade};
use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, ensure, in_range, narrative, unique};

const KIND: &str = "neglect_summary";

/// One area's grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct AreaGrade {
    /// The area.
    pub area: CareDomain,
    /// 1 (best) to 5 (worst).
    pub grade: Grade,
}

/// A neglect assessment summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct NeglectSummary {
    /// Grades by area, one per area.
    pub grades: List<AreaGrade, 8>,
    /// How many visits the assessment drew on, 1 to 100.
    pub visits: u8,
    /// Whether the assessor is trained in the tool.
    pub assessor_trained: bool,
    /// The evidence. At most 1,024 bytes.
    #[serde(default)]
    pub evidence: Text<1024>,
}

impl Validate for NeglectSummary {
    fn validate(&self) -> Result<(), ValidationError> {
        ensure(
            !self.grades.is_empty(),
            Field::of(KIND, "grades"),
            "is empty; grade at least one area",
        )?;
        unique(
            &self.grades,
            |g| g.area,
            Field::of(KIND, "grades[].area"),
            "repeats an area; grade each area once",
        )?;
        for (i, g) in self.grades.iter().enumerate() {
            g.grade.check(Field::of(KIND, "grades[].grade").at(i))?;
        }
        in_range(Field::of(KIND, "visits"), i64::from(self.visits), 1, 100)?;
        narrative(Field::of(KIND, "evidence"), &self.evidence)
    }
}
