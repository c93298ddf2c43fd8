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
use crate::store::{Access, Store, StoreError, Via};

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
#[error("the reader's name (--as) {0}; give your own name, or leave --as out to use $USER")]
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
}

fn parse_day(which: &'static str, s: &str, end_of_day: bool) -> Result<Timestamp, PullError> {
    let bad = || PullError::BadDate {
        which,
        value: s.to_string(),
    };
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let y: i64 = s[..4].parse().map_err(|_| bad())?;
    let m: u32 = s[5..7].parse().map_err(|_| bad())?;
    let d: u32 = s[8..].parse().map_err(|_| bad())?;
    let (h, mi, sec) = if end_of_day { (23, 59, 59) } else { (0, 0, 0) };
    Timestamp::from_civil(y, m, d, h, mi, sec).ok_or_else(bad)
}

/// The inclusive range from `YYYY-MM-DD` dates.
pub fn date_range(from: Option<&str>, to: Option<&str>) -> Result<DateRange, PullError> {
    Ok(DateRange {
        from: from.map(|f| parse_day("from", f, false)).transpose()?,
        to: to.map(|t| parse_day("to", t, true)).transpose()?,
    })
}

/// Reads a chronology, audited.
pub fn pull<S: Store>(
    store: &S,
    clock: &dyn Clock,
    req: &PullRequest,
) -> Result<Chronology, PullError> {
    let reason = check_reason(&req.reason)?;
    check_reader(&req.who)?;
    let view: BTreeSet<ChildRef> = if req.family {
        family_of(&req.child, &store.family_links()?)
    } else {
        BTreeSet::from([req.child.clone()])
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
        children: logged,
    })?;
    tracing::info!(who = %req.who, via = req.via.as_str(), family = req.family, entries = entries.len(), "chronology read");
    Ok(Chronology {
        child: req.child.clone(),
        family: req.family,
        children,
        entries,
    })
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
        let r = date_range(Some("2026-03-01"), Some("2026-03-01")).unwrap();
        assert_eq!(r.to.unwrap().0 - r.from.unwrap().0, 86_399);
        assert!(date_range(Some("2026-3-1"), None).is_err());
        assert!(date_range(None, Some("2026-02-30")).is_err());
    }
}
