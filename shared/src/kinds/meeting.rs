//! [`Meeting`]: a multi-agency meeting, who came, who did not, what was
//! decided, and whether minutes were kept.
//!
//! Core group minutes were not recorded for Child V, and new social workers
//! had nothing to read. The record makes that gap visible.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::ids::AgencyCode;
use crate::validate::{Validate, ensure, narrative, one_line, require};

const KIND: &str = "meeting";

crate::vocabulary! {
    /// The type of meeting.
    pub enum MeetingType {
        /// Strategy discussion.
        StrategyDiscussion => "strategy_discussion",
        /// Initial child protection conference.
        InitialConference => "initial_conference",
        /// Review child protection conference.
        ReviewConference => "review_conference",
        /// Core group.
        CoreGroup => "core_group",
        /// Child in need review.
        ChildInNeedReview => "child_in_need_review",
        /// Team around the child.
        TeamAroundTheChild => "team_around_the_child",
    }
}

crate::vocabulary! {
    /// Whether minutes were recorded.
    pub enum Minutes {
        /// Recorded; `minutes_by` says by whom.
        Recorded => "recorded",
        /// Not recorded.
        NotRecorded => "not_recorded",
    }
}

/// Someone who attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Attendee {
    /// Their name or role, such as "Social worker". At most 48 bytes.
    pub name: Text<48>,
    /// Their agency; empty for family members.
    #[serde(default)]
    pub agency: AgencyCode,
}

/// A meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    /// The type of meeting.
    pub meeting_type: MeetingType,
    /// Who attended, at most 16.
    pub attendees: List<Attendee, 16>,
    /// Agencies that were invited and absent, at most 8.
    #[serde(default)]
    pub absent_agencies: List<AgencyCode, 8>,
    /// Decisions. At most 1,024 bytes.
    #[serde(default)]
    pub decisions: Text<1024>,
    /// Whether minutes were recorded.
    pub minutes: Minutes,
    /// Who recorded them. At most 48 bytes.
    #[serde(default)]
    pub minutes_by: Text<48>,
}

impl Validate for Meeting {
    fn validate(&self) -> Result<(), ValidationError> {
        ensure(
            !self.attendees.is_empty(),
            Field::of(KIND, "attendees"),
            "is empty; list who attended",
        )?;
        for (i, a) in self.attendees.iter().enumerate() {
            require(
                Field::of(KIND, "attendees[].name").at(i),
                &a.name,
                "give the attendee's name or role",
            )?;
        }
        for (i, a) in self.absent_agencies.iter().enumerate() {
            require(
                Field::of(KIND, "absent_agencies[]").at(i),
                a,
                "give the absent agency's code",
            )?;
        }
        if self.minutes == Minutes::Recorded {
            require(
                Field::of(KIND, "minutes_by"),
                &self.minutes_by,
                "say who recorded the minutes",
            )?;
        }
        for (i, a) in self.attendees.iter().enumerate() {
            one_line(Field::of(KIND, "attendees[].name").at(i), &a.name)?;
            one_line(Field::of(KIND, "attendees[].agency").at(i), &a.agency)?;
        }
        for (i, a) in self.absent_agencies.iter().enumerate() {
            one_line(Field::of(KIND, "absent_agencies[]").at(i), a)?;
        }
        narrative(Field::of(KIND, "decisions"), &self.decisions)?;
        one_line(Field::of(KIND, "minutes_by"), &self.minutes_by)
    }
}
