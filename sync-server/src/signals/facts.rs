//! What a record's own fields say that a rule reads: [`Facts::of`] (pure).
//!
//! An entry's flags already say most of what the rules need (hungry,
//! injury, grade 4 or 5, was not brought, …). The rest is in the record's
//! fields: a concern's category and action, a meeting's type and absent
//! agencies, the developmental domains below threshold, who was present,
//! and whether the child was seen. [`Facts`] holds those, read once per
//! entry from the fields as its latest correction leaves them.

use hearth_shared::kinds::Detail;
use hearth_shared::kinds::concern::{ConcernAction, ConcernCategory};
use hearth_shared::kinds::daily_presentation::Attendance;
use hearth_shared::kinds::developmental_review::{DevDomain, DevOutcome};
use hearth_shared::kinds::home_visit::ChildSeen;
use hearth_shared::kinds::meeting::MeetingType;
use hearth_shared::kinds::vocabulary::PersonRole;

/// The facts of one record that the rules read beyond its flags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// A concern's category and action.
    pub concern: Option<(ConcernCategory, ConcernAction)>,
    /// A meeting's type.
    pub meeting: Option<MeetingType>,
    /// A meeting's absent agencies (agency codes, as recorded).
    pub absent_agencies: Vec<String>,
    /// A developmental review's domains below threshold.
    pub below_threshold: Vec<DevDomain>,
    /// Whether a home visit or voice record lists a father or male carer
    /// as present.
    pub male_carer_present: bool,
    /// Whether the record sees the children it names: a home visit with
    /// the child seen (awake or asleep), a daily presentation with the
    /// child present or late, a developmental review the child was
    /// brought to, a voice record.
    pub seen: bool,
    /// Whether it is an escalation, and if so whether it is resolved.
    pub escalation_resolved: Option<bool>,
    /// A neglect summary (a neglect assessment was done).
    pub neglect_summary: bool,
    /// A home visit.
    pub home_visit: bool,
    /// A voice record.
    pub voice: bool,
    /// A developmental review.
    pub developmental_review: bool,
}

/// Whether `role` is a father or a male carer.
fn male(role: PersonRole) -> bool {
    matches!(role, PersonRole::Father | PersonRole::MaleCarerOrPartner)
}

impl Facts {
    /// The facts of `detail` (a record's fields as its latest correction
    /// leaves them). A bare amendment or retraction says nothing here.
    pub fn of(detail: &Detail) -> Self {
        let mut f = Self::default();
        match detail {
            Detail::Concern(c) => f.concern = Some((c.category, c.action)),
            Detail::Meeting(m) => {
                f.meeting = Some(m.meeting_type);
                f.absent_agencies = m
                    .absent_agencies
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect();
            }
            Detail::DevelopmentalReview(d) => {
                f.developmental_review = true;
                f.seen = !d.was_not_brought;
                f.below_threshold = d
                    .outcomes
                    .iter()
                    .filter(|o| o.outcome == DevOutcome::BelowThreshold)
                    .map(|o| o.domain)
                    .collect();
            }
            Detail::HomeVisit(v) => {
                f.home_visit = true;
                f.seen = matches!(v.child_seen, ChildSeen::Awake | ChildSeen::Asleep);
                f.male_carer_present = v.present.iter().any(|p| male(p.role));
            }
            Detail::Voice(v) => {
                f.voice = true;
                f.seen = true;
                f.male_carer_present = v.present.iter().any(|p| male(p.role));
            }
            Detail::DailyPresentation(p) => {
                f.seen = matches!(p.attendance, Attendance::Present | Attendance::Late);
            }
            Detail::Escalation(e) => f.escalation_resolved = Some(e.resolved),
            Detail::NeglectSummary(_) => f.neglect_summary = true,
            Detail::Revision(r) => {
                if let Some(d) = r.revised.detail() {
                    return Self::of(&d);
                }
            }
            Detail::Amendment(_) => {}
        }
        f
    }

    /// A concern of `category`.
    pub fn concern_of(&self, category: ConcernCategory) -> bool {
        self.concern.is_some_and(|(c, _)| c == category)
    }

    /// A meeting that decides on protection: a strategy discussion or a
    /// child protection conference.
    pub fn protection_meeting(&self) -> bool {
        matches!(
            self.meeting,
            Some(
                MeetingType::StrategyDiscussion
                    | MeetingType::InitialConference
                    | MeetingType::ReviewConference
            )
        )
    }

    /// A meeting whose minutes matter to the review: a core group, a
    /// conference or a strategy discussion.
    pub fn minuted_meeting(&self) -> bool {
        self.protection_meeting() || self.meeting == Some(MeetingType::CoreGroup)
    }

    /// A record that acts for a child: a concern referred or shared, a
    /// strategy discussion or conference, or an escalation.
    pub fn acts(&self) -> bool {
        matches!(
            self.concern,
            Some((_, ConcernAction::Referred | ConcernAction::Shared))
        ) || self.protection_meeting()
            || self.escalation_resolved.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(json: &str) -> Detail {
        hearth_shared::json::parse_body(
            json,
            &hearth_shared::json::Defaults {
                author: "hv.jones".try_into().unwrap(),
                agency: "HV-NORTH".try_into().unwrap(),
            },
        )
        .unwrap()
        .detail
    }

    const HEAD: &str =
        r#""children":["nhs:9434765919"],"occurred_at":"2026-03-02T10:30:00Z","headline":"h""#;

    #[test]
    fn a_visit_with_the_child_seen_and_a_male_carer_present() {
        let f = Facts::of(&detail(&format!(
            r#"{{"kind":"home_visit",{HEAD},"access":"announced","child_seen":"asleep","present":[{{"role":"male_carer_or_partner"}}]}}"#
        )));
        assert!(f.seen && f.home_visit && f.male_carer_present);
        let f = Facts::of(&detail(&format!(
            r#"{{"kind":"home_visit",{HEAD},"access":"no_access","child_seen":"not_seen","not_seen_reason":"no answer","present":[{{"role":"mother"}}]}}"#
        )));
        assert!(!f.seen && !f.male_carer_present);
    }

    #[test]
    fn a_concern_a_meeting_and_a_review() {
        let f = Facts::of(&detail(&format!(
            r#"{{"kind":"concern",{HEAD},"category":"neglect","seen_or_said":"x","action":"shared","action_detail":"CSC"}}"#
        )));
        assert!(f.concern_of(ConcernCategory::Neglect) && f.acts() && !f.seen);
        let f = Facts::of(&detail(&format!(
            r#"{{"kind":"meeting",{HEAD},"meeting_type":"core_group","attendees":[{{"name":"SW","agency":"CSC"}}],"absent_agencies":["SCHOOL-3"],"minutes":"recorded","minutes_by":"SW"}}"#
        )));
        assert!(f.minuted_meeting() && !f.protection_meeting() && !f.acts());
        assert_eq!(f.absent_agencies, ["SCHOOL-3"]);
        let f = Facts::of(&detail(&format!(
            r#"{{"kind":"developmental_review",{HEAD},"contact":"1_year","outcomes":[{{"domain":"communication","outcome":"below_threshold"}},{{"domain":"gross_motor","outcome":"on_track"}}]}}"#
        )));
        assert!(f.seen && f.developmental_review);
        assert_eq!(f.below_threshold, [DevDomain::Communication]);
    }
}
