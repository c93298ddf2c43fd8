//! Practice signals (issue 16): patterns across a family's records that
//! nobody put together, shown with their evidence as prompts for
//! professional judgement, never as a score.
//!
//! - [`facts`]: what a record's own fields say that a rule reads (pure).
//! - [`rules`]: the rules themselves: entries in, signals out, with no
//!   disk, network or clock ([`rules::evaluate`]).
//! - [`known`]: what the people register and the visiting plans say that
//!   a rule reads (issue 17), worked out once per refresh pass.
//! - [`config`]: each rule's thresholds, with defaults and the deployment's
//!   `signals.toml` in the data directory.
//! - [`ack`]: a manager's acknowledgement applied to a signal, and new
//!   evidence re-opening it (pure).
//! - [`refresh`]: keeping each child's signals current as records arrive
//!   and time passes, and reading them for a chronology, a child or the
//!   caseload (the only part that touches the store).
//! - [`settle`]: when the background recompute runs after a run of
//!   commits, so that a backlog is recomputed once, not once per batch
//!   (pure).
//!
//! A signal never hides, removes or reorders an entry: it sits above the
//! chronology and points into it.

pub mod ack;
pub mod config;
pub mod facts;
pub mod known;
pub mod refresh;
pub mod rules;
pub mod settle;

use hearth_shared::{ChildRef, RecordId, Timestamp};
use serde::{Deserialize, Serialize};

pub use config::Config;

hearth_shared::words! {
    /// A rule that looks across records. Its word is its name in every
    /// format, in `signals.toml` and on `signals ack --rule`.
    pub enum Rule {
        /// Concerns from several agencies, or neglect concerns, building up.
        ConcernsAccumulating => "concerns_accumulating",
        /// Below-threshold developmental outcomes, again.
        DevelopmentalDelayRepeated => "developmental_delay_repeated",
        /// Home visits without seeing the child, or nobody seeing the child
        /// while a concern is open.
        ChildNotSeen => "child_not_seen",
        /// The child's words recorded, and nothing done.
        VoiceNotActedOn => "voice_not_acted_on",
        /// Meetings without minutes.
        MeetingsWithoutMinutes => "meetings_without_minutes",
        /// One agency absent from meeting after meeting.
        AgencyAbsentFromMeetings => "agency_absent_from_meetings",
        /// Harmful sexual behaviour with no strategy discussion or
        /// conference.
        HarmfulSexualBehaviourWithoutMeeting => "harmful_sexual_behaviour_without_meeting",
        /// An escalation left unresolved.
        EscalationUnresolved => "escalation_unresolved",
        /// The child not brought to appointments, again.
        WasNotBroughtRepeated => "was_not_brought_repeated",
        /// Neglect seen again and again, and no neglect assessment.
        NeglectWithoutAssessment => "neglect_without_assessment",
        /// A father or male carer in the home whom nobody has seen since.
        MaleCarerUnseen => "male_carer_unseen",
    }
}

/// A pattern a rule found: a prompt for a person to read the evidence and
/// decide, never a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// The rule that raised it.
    pub rule: Rule,
    /// What it is, in plain words.
    pub title: String,
    /// The rule as applied, with its numbers ("3 concerns from 2 agencies
    /// within 90 days: …").
    pub explanation: String,
    /// Why it matters: the review's learning point.
    pub learning_point: String,
    /// The children it concerns.
    pub children: Vec<ChildRef>,
    /// The records that raised it, in chronology order.
    pub evidence: Vec<RecordId>,
    /// When the first piece of evidence happened.
    pub first_seen: Timestamp,
    /// When the newest piece of evidence happened.
    pub last_seen: Timestamp,
    /// A manager's acknowledgement that still covers all of the evidence;
    /// `None` if never acknowledged, or if new evidence has arrived since
    /// (re-opened).
    pub acknowledged: Option<Acknowledgement>,
}

/// A manager's acknowledgement of a signal for one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The child.
    pub child: ChildRef,
    /// The rule.
    pub rule: Rule,
    /// Who acknowledged it.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// What they noted (what was decided, or why no action is needed).
    pub note: String,
    /// The evidence the signal held when it was acknowledged: evidence
    /// outside it re-opens the signal.
    pub evidence: Vec<RecordId>,
}
