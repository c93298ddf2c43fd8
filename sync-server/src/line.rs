//! The chronology line: what a chronology shows of one record, worked out
//! once at ingest and stored beside its signed bytes, so a pull decodes
//! nothing.
//!
//! - [`Line`]: a record's own line (id, kind, date, agency, author,
//!   headline, children, [`FlagSet`], what it amends); [`Line::of`] builds
//!   it from a verified envelope.
//! - [`FiledRecord`]: a line with what the server learnt on arrival and
//!   since (received, corrected capture time, late, disputed, worker).
//! - [`Flag`], [`FlagSet`] and [`detail_flags`]: what a reader should
//!   notice, and which of it a record's own fields say.
//!
//! Both [`crate::store`] (which stores and reads lines) and
//! [`crate::chronology`] (which reconciles them into entries) import this
//! module; it imports neither, so storage and reconciliation do not
//! depend on each other.

use hearth_shared::kinds::Detail;
use hearth_shared::kinds::daily_presentation::Attendance;
use hearth_shared::kinds::developmental_review::DevOutcome;
use hearth_shared::kinds::home_visit::{ChildSeen, VisitAccess};
use hearth_shared::kinds::meeting::Minutes;
use hearth_shared::{ChildRef, Envelope, RecordId, RecordKind, Timestamp};

hearth_shared::words! {
    /// Something a reader should notice about an entry. Its word is its
    /// name in every format; its position is its bit in a stored
    /// [`FlagSet`], so the order of the variants is fixed.
    pub enum Flag {
        /// Captured more than the threshold after the event.
        LateEntry => "late_entry",
        /// A voice-of-the-child record with no action.
        NoAction => "no_action",
        /// A meeting whose minutes were not recorded.
        MinutesNotRecorded => "minutes_not_recorded",
        /// A developmental review the child was not brought to.
        WasNotBrought => "was_not_brought",
        /// Another record from the same device conflicts with it (a fork).
        Disputed => "disputed",
        /// An escalation not resolved.
        Unresolved => "unresolved",
        /// Corrected by an amendment.
        Amended => "amended",
        /// Dated after it was captured (device clock corrected), by more
        /// than [`crate::chronology::FUTURE_TOLERANCE_SECS`]: a mistyped
        /// date, or local time entered as UTC. Kept and shown, but a person
        /// should check the date.
        FutureDated => "future_dated",
        /// Retracted by its device: entered in error. Shown, struck
        /// through, never deleted.
        EnteredInError => "entered_in_error",
        /// An amendment whose original the server has not received: held
        /// pending, applied once the original arrives.
        CorrectsUnknownRecord => "corrects_unknown_record",
        /// A daily presentation: the child arrived hungry.
        Hungry => "hungry",
        /// A daily presentation: a hygiene concern.
        HygieneConcern => "hygiene_concern",
        /// A daily presentation: a clothing concern.
        ClothingConcern => "clothing_concern",
        /// A daily presentation: a nappy concern.
        NappyConcern => "nappy_concern",
        /// A daily presentation: absent with no explanation.
        AbsentUnexplained => "absent_unexplained",
        /// A daily presentation recorded an injury (its body regions are in
        /// the record's detail).
        Injury => "injury",
        /// A home-visit observation or a neglect-summary area graded 4 or 5.
        Grade4Or5 => "grade_4_or_5",
        /// A developmental review with a domain below the threshold.
        BelowThreshold => "below_threshold",
        /// A home visit at which the child was not seen.
        ChildNotSeen => "child_not_seen",
        /// A home visit at which the worker could not get in.
        NoAccess => "no_access",
    }
}

impl Flag {
    /// The set holding this flag alone.
    pub const fn set(self) -> FlagSet {
        match self {
            Self::LateEntry => FlagSet::LATE_ENTRY,
            Self::NoAction => FlagSet::NO_ACTION,
            Self::MinutesNotRecorded => FlagSet::MINUTES_NOT_RECORDED,
            Self::WasNotBrought => FlagSet::WAS_NOT_BROUGHT,
            Self::Disputed => FlagSet::DISPUTED,
            Self::Unresolved => FlagSet::UNRESOLVED,
            Self::Amended => FlagSet::AMENDED,
            Self::FutureDated => FlagSet::FUTURE_DATED,
            Self::EnteredInError => FlagSet::ENTERED_IN_ERROR,
            Self::CorrectsUnknownRecord => FlagSet::CORRECTS_UNKNOWN_RECORD,
            Self::Hungry => FlagSet::HUNGRY,
            Self::HygieneConcern => FlagSet::HYGIENE_CONCERN,
            Self::ClothingConcern => FlagSet::CLOTHING_CONCERN,
            Self::NappyConcern => FlagSet::NAPPY_CONCERN,
            Self::AbsentUnexplained => FlagSet::ABSENT_UNEXPLAINED,
            Self::Injury => FlagSet::INJURY,
            Self::Grade4Or5 => FlagSet::GRADE_4_OR_5,
            Self::BelowThreshold => FlagSet::BELOW_THRESHOLD,
            Self::ChildNotSeen => FlagSet::CHILD_NOT_SEEN,
            Self::NoAccess => FlagSet::NO_ACCESS,
        }
    }
}

bitflags::bitflags! {
    /// A set of [`Flag`]s, stored as an integer (`records.detail_flags`):
    /// bit `n` is the `n`th variant of [`Flag`]. The bit values are an
    /// on-disk format: never renumber them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
    pub struct FlagSet: u32 {
        /// [`Flag::LateEntry`].
        const LATE_ENTRY = 1 << 0;
        /// [`Flag::NoAction`].
        const NO_ACTION = 1 << 1;
        /// [`Flag::MinutesNotRecorded`].
        const MINUTES_NOT_RECORDED = 1 << 2;
        /// [`Flag::WasNotBrought`].
        const WAS_NOT_BROUGHT = 1 << 3;
        /// [`Flag::Disputed`].
        const DISPUTED = 1 << 4;
        /// [`Flag::Unresolved`].
        const UNRESOLVED = 1 << 5;
        /// [`Flag::Amended`].
        const AMENDED = 1 << 6;
        /// [`Flag::FutureDated`].
        const FUTURE_DATED = 1 << 7;
        /// [`Flag::EnteredInError`].
        const ENTERED_IN_ERROR = 1 << 8;
        /// [`Flag::CorrectsUnknownRecord`].
        const CORRECTS_UNKNOWN_RECORD = 1 << 9;
        /// [`Flag::Hungry`].
        const HUNGRY = 1 << 10;
        /// [`Flag::HygieneConcern`].
        const HYGIENE_CONCERN = 1 << 11;
        /// [`Flag::ClothingConcern`].
        const CLOTHING_CONCERN = 1 << 12;
        /// [`Flag::NappyConcern`].
        const NAPPY_CONCERN = 1 << 13;
        /// [`Flag::AbsentUnexplained`].
        const ABSENT_UNEXPLAINED = 1 << 14;
        /// [`Flag::Injury`].
        const INJURY = 1 << 15;
        /// [`Flag::Grade4Or5`].
        const GRADE_4_OR_5 = 1 << 16;
        /// [`Flag::BelowThreshold`].
        const BELOW_THRESHOLD = 1 << 17;
        /// [`Flag::ChildNotSeen`].
        const CHILD_NOT_SEEN = 1 << 18;
        /// [`Flag::NoAccess`].
        const NO_ACCESS = 1 << 19;
    }
}

impl FlagSet {
    /// With `flag` added.
    #[must_use]
    pub const fn with(self, flag: Flag) -> Self {
        self.union(flag.set())
    }

    /// Whether it holds `flag`.
    pub const fn has(self, flag: Flag) -> bool {
        self.contains(flag.set())
    }

    /// The flags, in [`Flag`] order.
    pub fn flags(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.iter().copied().filter(move |f| self.has(*f))
    }
}

/// What a record's own fields say a reader should notice. Worked out at
/// ingest and stored (see [`Line::detail_flags`]); the flags that depend
/// on arrival, on other records or on the clock are added by
/// [`crate::chronology::reconcile`].
pub fn detail_flags(detail: &Detail) -> FlagSet {
    let mut f = FlagSet::default();
    let mut raise = |flag: Flag, when: bool| {
        if when {
            f = f.with(flag);
        }
    };
    match detail {
        Detail::Voice(v) => raise(Flag::NoAction, v.action.trim().is_empty()),
        Detail::Meeting(m) => raise(Flag::MinutesNotRecorded, m.minutes == Minutes::NotRecorded),
        Detail::DevelopmentalReview(d) => {
            raise(Flag::WasNotBrought, d.was_not_brought);
            raise(
                Flag::BelowThreshold,
                d.outcomes
                    .iter()
                    .any(|o| o.outcome == DevOutcome::BelowThreshold),
            );
        }
        Detail::Escalation(e) => raise(Flag::Unresolved, !e.resolved),
        Detail::DailyPresentation(p) => {
            raise(Flag::Hungry, p.hungry);
            raise(Flag::HygieneConcern, p.hygiene_concern);
            raise(Flag::ClothingConcern, p.clothing_concern);
            raise(Flag::NappyConcern, p.nappy_concern);
            raise(
                Flag::AbsentUnexplained,
                p.attendance == Attendance::AbsentUnexplained,
            );
            raise(Flag::Injury, !p.injuries.is_empty());
        }
        Detail::HomeVisit(v) => {
            raise(
                Flag::Grade4Or5,
                v.observations.iter().any(|o| o.grade.0 >= 4),
            );
            raise(Flag::ChildNotSeen, v.child_seen == ChildSeen::NotSeen);
            raise(Flag::NoAccess, v.access == VisitAccess::NoAccess);
        }
        Detail::NeglectSummary(n) => {
            raise(Flag::Grade4Or5, n.grades.iter().any(|g| g.grade.0 >= 4))
        }
        Detail::Revision(r) => match r.revised.detail() {
            Some(d) => return detail_flags(&d),
            None => return FlagSet::default().with(Flag::EnteredInError),
        },
        Detail::Concern(_) | Detail::Amendment(_) => {}
    }
    f
}

/// What a chronology line shows of a record: worked out from the verified
/// envelope once, at ingest ([`Line::of`]), and stored beside the signed
/// bytes, so that a pull decodes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The record.
    pub id: RecordId,
    /// Its kind.
    pub kind: RecordKind,
    /// When it happened, as recorded.
    pub occurred_at: Timestamp,
    /// The recording agency.
    pub agency: String,
    /// The author.
    pub author: String,
    /// The headline.
    pub headline: String,
    /// The children it names.
    pub children: Vec<ChildRef>,
    /// What its own fields say a reader should notice (no action, minutes
    /// not recorded, was not brought, unresolved); for a revision, what the
    /// corrected fields say, or `entered_in_error`.
    pub detail_flags: FlagSet,
    /// For an amendment: the record it corrects, and why.
    pub amends: Option<Amends>,
}

impl Line {
    /// The line of a verified envelope.
    pub fn of(e: &Envelope) -> Self {
        Self {
            id: e.id(),
            kind: e.body.detail.kind(),
            occurred_at: e.body.occurred_at,
            agency: e.body.agency.as_str().to_string(),
            author: e.body.author.as_str().to_string(),
            headline: e.body.headline.as_str().to_string(),
            children: e.body.children.iter().cloned().collect(),
            detail_flags: detail_flags(&e.body.detail),
            amends: e.body.detail.corrects().map(|(corrects, reason)| Amends {
                corrects,
                reason: reason.to_string(),
            }),
        }
    }
}

/// A record as the chronology reads it: its line, and what the server
/// learnt of it on arrival and since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledRecord {
    /// What its line shows.
    pub line: Line,
    /// When the server received it.
    pub received_at: Timestamp,
    /// Its corrected capture time.
    pub corrected_time: Timestamp,
    /// Captured long after the event.
    pub late_entry: bool,
    /// Another record conflicts with it (a fork).
    pub disputed: bool,
    /// The enrolled worker of the device that sent it (the line's agency
    /// is the device's enrolled agency, whatever the record says).
    pub worker: String,
}

/// What an amendment corrects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amends {
    /// The corrected record.
    pub corrects: RecordId,
    /// Why.
    pub reason: String,
}

impl FiledRecord {
    /// The chronology's view of a verified envelope (tests and tools).
    pub fn from_envelope(
        e: &Envelope,
        received_at: Timestamp,
        corrected_time: Timestamp,
        late_entry: bool,
        disputed: bool,
    ) -> Self {
        Self {
            line: Line::of(e),
            received_at,
            corrected_time,
            late_entry,
            disputed,
            worker: e.body.author.as_str().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_flag_bits_never_move() {
        // `records.detail_flags` holds these integers: bit n is the nth flag.
        for (n, f) in Flag::ALL.iter().copied().enumerate() {
            assert_eq!(f.set().bits(), 1 << n, "{f:?}");
        }
        assert_eq!(FlagSet::all().bits(), (1 << 20) - 1);
        assert_eq!(FlagSet::from_bits(1 << 20), None);
        let s = FlagSet::default()
            .with(Flag::NoAction)
            .with(Flag::EnteredInError);
        assert_eq!(s.bits(), 0b1_0000_0010);
        assert_eq!(FlagSet::from_bits(0b1_0000_0010), Some(s));
        assert!(s.has(Flag::NoAction) && !s.has(Flag::LateEntry));
        assert_eq!(
            s.flags().collect::<Vec<_>>(),
            [Flag::NoAction, Flag::EnteredInError]
        );
    }

    #[test]
    fn flag_words_are_their_names_in_every_format() {
        let words: Vec<_> = Flag::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            words,
            [
                "late_entry",
                "no_action",
                "minutes_not_recorded",
                "was_not_brought",
                "disputed",
                "unresolved",
                "amended",
                "future_dated",
                "entered_in_error",
                "corrects_unknown_record",
                "hungry",
                "hygiene_concern",
                "clothing_concern",
                "nappy_concern",
                "absent_unexplained",
                "injury",
                "grade_4_or_5",
                "below_threshold",
                "child_not_seen",
                "no_access",
            ]
        );
        assert_eq!("disputed".parse::<Flag>(), Ok(Flag::Disputed));
    }
}
