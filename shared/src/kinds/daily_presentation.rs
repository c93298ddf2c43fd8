//! [`DailyPresentation`]: a nursery's or school's log of how a child arrived.
//!
//! Hunger, hygiene, clothing and nappy concerns were noted again and again
//! for Child V and never added up. Logged daily as structured fields, they
//! become a pattern the chronology can show.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::time::TimeOfDay;
use crate::validate::{Validate, ensure, narrative, one_line, require};

const KIND: &str = "daily_presentation";

crate::vocabulary! {
    /// Attendance.
    pub enum Attendance {
        /// Arrived on time.
        Present => "present",
        /// Arrived late.
        Late => "late",
        /// Absent, and a reason was given (`absence_reason`).
        AbsentWithReason => "absent_with_reason",
        /// Absent with no explanation.
        AbsentUnexplained => "absent_unexplained",
    }
}

crate::vocabulary! {
    /// Where on the body an injury is.
    pub enum BodyRegion {
        /// Head or scalp.
        Head => "head",
        /// Face.
        Face => "face",
        /// Ears.
        Ears => "ears",
        /// Neck.
        Neck => "neck",
        /// Chest.
        Chest => "chest",
        /// Abdomen.
        Abdomen => "abdomen",
        /// Back.
        Back => "back",
        /// Buttocks.
        Buttocks => "buttocks",
        /// Genital area.
        Genital => "genital",
        /// Arm.
        Arm => "arm",
        /// Hand or wrist.
        Hand => "hand",
        /// Leg.
        Leg => "leg",
        /// Foot or ankle.
        Foot => "foot",
        /// Anywhere else; the description says where.
        Other => "other",
    }
}

/// An injury noticed at arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Injury {
    /// Where.
    pub body_region: BodyRegion,
    /// What it looks like: size, colour, shape. At most 256 bytes.
    pub description: Text<256>,
    /// What the carer said happened. At most 256 bytes.
    #[serde(default)]
    pub carer_explanation: Text<256>,
    /// What the child said, in their words. At most 256 bytes.
    #[serde(default)]
    pub child_account: Text<256>,
}

/// A daily presentation log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct DailyPresentation {
    /// Attendance.
    pub attendance: Attendance,
    /// The reason given for an absence. At most 256 bytes.
    #[serde(default)]
    pub absence_reason: Text<256>,
    /// When the child arrived, `"08:05"`.
    #[serde(default)]
    pub arrival_time: Option<TimeOfDay>,
    /// Who brought the child. At most 48 bytes.
    #[serde(default)]
    pub brought_by: Text<48>,
    /// Who collected the child. At most 48 bytes.
    #[serde(default)]
    pub collected_by: Text<48>,
    /// The child arrived hungry.
    #[serde(default)]
    pub hungry: bool,
    /// A hygiene concern.
    #[serde(default)]
    pub hygiene_concern: bool,
    /// A clothing concern (dirty, unsuitable for the weather, too small).
    #[serde(default)]
    pub clothing_concern: bool,
    /// A nappy concern (not changed, soiled, sore).
    #[serde(default)]
    pub nappy_concern: bool,
    /// More about any concern. At most 256 bytes.
    #[serde(default)]
    pub concern_note: Text<256>,
    /// Injuries noticed, at most 4.
    #[serde(default)]
    pub injuries: List<Injury, 4>,
}

impl Validate for DailyPresentation {
    fn validate(&self) -> Result<(), ValidationError> {
        let absent = matches!(
            self.attendance,
            Attendance::AbsentWithReason | Attendance::AbsentUnexplained
        );
        if self.attendance == Attendance::AbsentWithReason {
            require(
                Field::of(KIND, "absence_reason"),
                &self.absence_reason,
                "give the reason, or use absent_unexplained",
            )?;
        }
        ensure(
            !(absent && self.arrival_time.is_some()),
            Field::of(KIND, "arrival_time"),
            "is set, but the child was absent; remove it or correct the attendance",
        )?;
        if let Some(t) = self.arrival_time {
            t.check()
                .map_err(|p| ValidationError::new(Field::of(KIND, "arrival_time"), p))?;
        }
        for (i, injury) in self.injuries.iter().enumerate() {
            require(
                Field::of(KIND, "injuries[].description").at(i),
                &injury.description,
                "describe the injury: size, colour, shape",
            )?;
        }
        one_line(Field::of(KIND, "absence_reason"), &self.absence_reason)?;
        one_line(Field::of(KIND, "brought_by"), &self.brought_by)?;
        one_line(Field::of(KIND, "collected_by"), &self.collected_by)?;
        narrative(Field::of(KIND, "concern_note"), &self.concern_note)?;
        for (i, injury) in self.injuries.iter().enumerate() {
            let field = |path| Field::of(KIND, path).at(i);
            narrative(field("injuries[].description"), &injury.description)?;
            narrative(
                field("injuries[].carer_explanation"),
                &injury.carer_explanation,
            )?;
            narrative(field("injuries[].child_account"), &injury.child_account)?;
        }
        Ok(())
    }
}
