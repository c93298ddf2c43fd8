//! The audited pull: [`pull`] is the only way to read a chronology.
//!
//! A pull without a good reason ([`check_reason`]) is refused before
//! anything is read (and the refusal is not logged as a read). Every pull
//! that returns data is written to the access log first (who, which child,
//! family or not, when, the reason, via CLI or HTTP), so there is no read
//! without a trace.
//!
//! A reason, and the name of who is reading, end up in the access log,
//! which a person reads as a table: so they are one line of visible text
//! ([`hearth_shared::printable`]), and a reason says something (at least
//! [`MIN_REASON_CHARS`] visible characters, at most [`MAX_REASON_BYTES`]
//! bytes). The same rule holds for every stated reason: revocations and
//! quarantine reads too.

use std::collections::BTreeSet;

use hearth_shared::printable::{Found, Lines, check, visible_len};
use hearth_shared::{ChildRef, Timestamp};

use crate::chronology::{Chronology, DateRange, disclosed, family_of, reconcile};
use crate::clock::Clock;
use crate::localtime::Zone;
use crate::people::identity::{identity_class, labels};
use crate::signals;
use crate::store::{Access, Purpose, Store, StoreError, Via};

/// The fewest visible characters a stated reason may have.
pub const MIN_REASON_CHARS: usize = 10;

/// The most bytes a stated reason may have.
pub const MAX_REASON_BYTES: usize = 1_000;

/// Why a stated reason was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadReason {
    /// None, or only white space.
    #[error(
        "a reason is required; say why, in at least 10 characters (for example \"strategy meeting 12 March\")"
    )]
    Missing,
    /// Too few visible characters to say anything.
    #[error(
        "the reason \"{shown}\" has {visible} visible characters; write at least 10 that say why (for example \"strategy meeting 12 March\")"
    )]
    TooShort {
        /// The reason, trimmed.
        shown: String,
        /// Its visible characters.
        visible: usize,
    },
    /// Too long.
    #[error("the reason is {len} bytes; the limit is 1,000: summarise it")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A line break, control or invisible character.
    #[error("the reason {0}")]
    Hidden(Found),
}

/// A stated reason, trimmed, or why it is refused: one line of visible
/// text, at least [`MIN_REASON_CHARS`] visible characters, at most
/// [`MAX_REASON_BYTES`] bytes.
pub fn check_reason(reason: &str) -> Result<&str, BadReason> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(BadReason::Missing);
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(BadReason::TooLong { len: reason.len() });
    }
    check(reason, Lines::One).map_err(BadReason::Hidden)?;
    let visible = visible_len(reason);
    if visible < MIN_REASON_CHARS {
        return Err(BadReason::TooShort {
            shown: reason.to_string(),
            visible,
        });
    }
    Ok(reason)
}

/// Why the name of who is reading was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the reader's name (--as) {0}; give your own name, or leave --as out (the operating-system user is logged either way)"
)]
pub struct BadReader(&'static str);

/// `Ok` if `who`, the name the access log will show, is visible text on
/// one line.
pub fn check_reader(who: &str) -> Result<(), BadReader> {
    if who.trim().is_empty() {
        return Err(BadReader("is blank"));
    }
    check(who, Lines::One)
        .map_err(|_| BadReader("holds a line break, control or invisible character"))
}

/// Why a pull was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The reason is missing or not acceptable.
    #[error("{0}; a chronology is read only with a reason")]
    Reason(#[from] BadReason),
    /// The reader's name is blank or holds hidden characters.
    #[error(transparent)]
    BadReader(#[from] BadReader),
    /// A date is not `YYYY-MM-DD`.
    #[error("{which} date \"{value}\" is not a date; write it like 2026-03-01")]
    BadDate {
        /// `from` or `to`.
        which: &'static str,
        /// What was given.
        value: String,
    },
    /// A range that ends before it starts.
    #[error(
        "the dates are the wrong way round: {} {from} is after {} {to}; give the earlier date as {} and the later as {}",
        names[0], names[1], names[0], names[1]
    )]
    Reversed {
        /// The names of the two bounds (`from`, `to`).
        names: [&'static str; 2],
        /// The start given.
        from: String,
        /// The end given.
        to: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request to read a chronology.
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// Which child.
    pub child: ChildRef,
    /// The family view.
    pub family: bool,
    /// Dates.
    pub range: DateRange,
    /// The stated reason.
    pub reason: String,
    /// Who is reading.
    pub who: String,
    /// Through what.
    pub via: Via,
    /// The purpose picked with the reason, where one was asked for.
    pub purpose: Option<Purpose>,
}

fn parse_day(
    zone: &Zone,
    which: &'static str,
    s: &str,
    end_of_day: bool,
) -> Result<Timestamp, PullError> {
    let bad = || PullError::BadDate {
        which,
        value: s.to_string(),
    };
    let b = s.as_bytes();
    let digits = b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    if b.len() != 10 || !digits {
        return Err(bad());
    }
    let y: i64 = s[..4].parse().map_err(|_| bad())?;
    let m: u32 = s[5..7].parse().map_err(|_| bad())?;
    let d: u32 = s[8..].parse().map_err(|_| bad())?;
    // Reject what the calendar lacks (30 February).
    Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or_else(bad)?;
    let t = if end_of_day {
        zone.day_end(y, m, d)
    } else {
        zone.day_start(y, m, d)
    };
    t.ok_or_else(bad)
}

/// The inclusive range of whole local days (in `zone`) from `YYYY-MM-DD`
/// dates, each named in errors as `names` (such as `["from", "to"]`).
/// A range that ends before it starts is refused, not read as empty.
pub fn day_range(
    zone: &Zone,
    from: Option<&str>,
    to: Option<&str>,
    names: [&'static str; 2],
) -> Result<DateRange, PullError> {
    let range = DateRange {
        from: from
            .map(|f| parse_day(zone, names[0], f, false))
            .transpose()?,
        to: to.map(|t| parse_day(zone, names[1], t, true)).transpose()?,
    };
    if let (Some(f), Some(t), Some(fs), Some(ts)) = (range.from, range.to, from, to)
        && f > t
    {
        return Err(PullError::Reversed {
            names,
            from: fs.to_string(),
            to: ts.to_string(),
        });
    }
    Ok(range)
}

/// The inclusive range of a chronology pull (`from`, `to`): whole local
/// days in `zone`.
pub fn date_range(
    zone: &Zone,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<DateRange, PullError> {
    day_range(zone, from, to, ["from", "to"])
}

/// Reads a chronology, audited, with the practice signals of the
/// children in view (over their whole history, whatever the range).
pub fn pull<S: Store>(
    store: &S,
    clock: &dyn Clock,
    rules: &signals::Config,
    req: &PullRequest,
) -> Result<Chronology, PullError> {
    let reason = check_reason(&req.reason)?;
    check_reader(&req.who)?;
    // One child is every reference that names it (its identity class in
    // the people register); a family includes every reference of each
    // child (the register's identity pairs are family links).
    let register = store.register()?;
    let view: BTreeSet<ChildRef> = if req.family {
        family_of(&req.child, &store.family_links()?)
    } else {
        identity_class(&register, &req.child)
    };
    let children: Vec<ChildRef> = view.iter().cloned().collect();
    let records = store.records_for(&children)?;
    let entries = reconcile(&records, &view, req.range);
    // An own-device amendment may move a record to other children: the
    // pull then discloses it to every child named by either (issue 11).
    let logged: Vec<ChildRef> = disclosed(&entries, &view).into_iter().collect();
    store.log_access(&Access {
        at: clock.now(),
        who: req.who.clone(),
        via: req.via,
        child: Some(req.child.clone()),
        family: req.family,
        reason: reason.to_string(),
        purpose: req.purpose,
        children: logged,
    })?;
    tracing::info!(who = %req.who, via = req.via.as_str(), family = req.family, entries = entries.len(), "chronology read");
    let signals = signals::refresh::current(store, rules, &children, clock.now())?;
    // Names beside the references in view and those the entries name.
    let mut named: BTreeSet<ChildRef> = view;
    named.extend(entries.iter().flat_map(|e| e.children.iter().cloned()));
    let names = labels(&register, &named.into_iter().collect::<Vec<_>>());
    Ok(Chronology {
        child: req.child.clone(),
        family: req.family,
        children,
        entries,
        details: Default::default(),
        signals,
        names,
    })
}

/// The caseload view: every child with an open signal, newest evidence
/// first. Audited as one read (child `None`) naming every child it
/// discloses, written before it is returned; refused before anything is
/// read without a good reason.
pub fn caseload<S: Store>(
    store: &S,
    clock: &dyn Clock,
    rules: &signals::Config,
    who: &str,
    reason: &str,
    purpose: Option<Purpose>,
    via: Via,
) -> Result<Vec<signals::refresh::CaseloadRow>, PullError> {
    let reason = check_reason(reason)?;
    check_reader(who)?;
    let now = clock.now();
    let rows = signals::refresh::caseload(store, rules, now)?;
    store.log_access(&Access {
        at: now,
        who: who.to_string(),
        via,
        child: None,
        family: false,
        reason: reason.to_string(),
        purpose,
        children: rows.iter().map(|r| r.child.clone()).collect(),
    })?;
    tracing::info!(
        who,
        via = via.as_str(),
        children = rows.len(),
        "caseload read"
    );
    Ok(rows)
}

/// What a manager asks to acknowledge.
#[derive(Debug, Clone)]
pub struct AckRequest {
    /// The child.
    pub child: ChildRef,
    /// The rule.
    pub rule: signals::Rule,
    /// What they note: a reason's rules (one visible line, at least
    /// [`MIN_REASON_CHARS`] characters).
    pub note: String,
    /// Who.
    pub who: String,
    /// Through what.
    pub via: Via,
}

/// Why an acknowledgement was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The note is missing or not acceptable.
    #[error("the note {0}")]
    Note(BadReason),
    /// The acknowledger's name is blank or holds hidden characters.
    #[error(transparent)]
    BadReader(#[from] BadReader),
    /// The child has no current signal of that rule to acknowledge.
    #[error(
        "{child} has no current {rule} signal to acknowledge; list the child's signals with `signals --child {child} --reason …`"
    )]
    NoSuchSignal {
        /// The child.
        child: ChildRef,
        /// The rule.
        rule: signals::Rule,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records a manager's acknowledgement of the child's current signal of
/// that rule (covering its evidence as it stands), kept for ever and
/// logged; returns it. Refused, with nothing kept, for a bad note or
/// name, or a rule with no current signal for the child.
pub fn acknowledge<S: Store>(
    store: &S,
    clock: &dyn Clock,
    rules: &signals::Config,
    req: &AckRequest,
) -> Result<signals::Acknowledgement, AckError> {
    let note = check_reason(&req.note).map_err(AckError::Note)?;
    check_reader(&req.who)?;
    let now = clock.now();
    let current = signals::refresh::current(store, rules, std::slice::from_ref(&req.child), now)?;
    let Some(signal) = current.into_iter().find(|s| s.rule == req.rule) else {
        return Err(AckError::NoSuchSignal {
            child: req.child.clone(),
            rule: req.rule,
        });
    };
    let ack = signals::Acknowledgement {
        child: req.child.clone(),
        rule: req.rule,
        by: req.who.clone(),
        at: now,
        note: note.to_string(),
        evidence: signal.evidence,
    };
    store.add_signal_ack(&ack)?;
    tracing::info!(
        who = %ack.by,
        via = req.via.as_str(),
        rule = ack.rule.as_str(),
        evidence = ack.evidence.len(),
        "signal acknowledged"
    );
    Ok(ack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_visible_line_of_ten_to_a_thousand() {
        assert_eq!(check_reason("  case review  "), Ok("case review"));
        assert_eq!(
            check_reason("strategy meeting 12 March"),
            Ok("strategy meeting 12 March")
        );
        assert_eq!(check_reason(""), Err(BadReason::Missing));
        assert_eq!(check_reason(" \t "), Err(BadReason::Missing));
        assert_eq!(
            check_reason("review"),
            Err(BadReason::TooShort {
                shown: "review".into(),
                visible: 6
            })
        );
        // Spaces and invisible characters do not count.
        assert!(matches!(
            check_reason("a b c d e f g h i"),
            Err(BadReason::TooShort { visible: 9, .. })
        ));
        assert_eq!(
            check_reason(&"x".repeat(1_001)),
            Err(BadReason::TooLong { len: 1_001 })
        );
        assert!(check_reason(&"x".repeat(1_000)).is_ok());
        for hostile in [
            "x\n2026-11-27T04:00:00Z\tdsl.lead\thttp\tnhs:9434765919",
            "case review\rforged",
            "case\u{1b}[2J review",
            "case review \u{202e}weiver",
            "case\u{200b}review please",
            "case review\u{2028}more",
        ] {
            assert!(
                matches!(check_reason(hostile), Err(BadReason::Hidden(_))),
                "{hostile:?}"
            );
        }
        let message = check_reason("review").unwrap_err().to_string();
        assert!(message.contains("at least 10"), "{message}");
        assert!(message.contains("strategy meeting 12 March"), "{message}");
        let message = check_reason("a\nb long enough").unwrap_err().to_string();
        assert!(
            message.starts_with("the reason holds a line break"),
            "{message}"
        );
    }

    #[test]
    fn dates_are_whole_days_inclusive() {
        let z = Zone::default();
        let r = date_range(&z, Some("2026-03-01"), Some("2026-03-01")).unwrap();
        assert_eq!(r.to.unwrap().0 - r.from.unwrap().0, 86_399);
        assert!(date_range(&z, Some("2026-3-1"), None).is_err());
        assert!(date_range(&z, None, Some("2026-02-30")).is_err());
        assert!(date_range(&z, Some("+026-03-01"), None).is_err());
    }

    #[test]
    fn days_are_local_days_in_the_zone() {
        // A British summer day starts at 23:00 UTC the day before.
        let r = date_range(&Zone::default(), Some("2026-07-01"), Some("2026-07-01")).unwrap();
        assert_eq!(r.from, Timestamp::from_civil(2026, 6, 30, 23, 0, 0));
        assert_eq!(r.to.unwrap().0 - r.from.unwrap().0, 86_399);
    }

    #[test]
    fn a_reversed_range_is_refused_not_read_as_empty() {
        let z = Zone::default();
        let e = date_range(&z, Some("2026-03-10"), Some("2026-03-01")).unwrap_err();
        assert!(matches!(e, PullError::Reversed { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "the dates are the wrong way round: from 2026-03-10 is after to 2026-03-01; give the earlier date as from and the later as to"
        );
        // One day, and open ranges, are fine.
        assert!(date_range(&z, Some("2026-03-01"), Some("2026-03-01")).is_ok());
        assert!(date_range(&z, Some("2026-03-10"), None).is_ok());
        let e = day_range(
            &z,
            Some("2026-03-10"),
            Some("2026-03-01"),
            ["--since", "--until"],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--since 2026-03-10 is after --until 2026-03-01"),
            "{e}"
        );
    }
}
