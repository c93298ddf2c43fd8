//! The audited pull: [`pull`] is the only way to read a chronology.
//!
//! A pull without a non-blank reason is refused before anything is read
//! (and the refusal is not logged as a read). Every pull that returns data
//! is written to the access log first (who, which child, family or not,
//! when, the reason, via CLI or HTTP), so there is no read without a trace.

use std::collections::BTreeSet;

use hearth_shared::{ChildRef, Timestamp};

use crate::chronology::{Chronology, DateRange, disclosed, family_of, reconcile};
use crate::clock::Clock;
use crate::store::{Access, Store, StoreError, Via};

/// Why a pull was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// No reason was given.
    #[error(
        "a reason is required to read a chronology; say why (for example \"strategy meeting 12 March\")"
    )]
    ReasonRequired,
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
    if req.reason.trim().is_empty() {
        return Err(PullError::ReasonRequired);
    }
    let view: BTreeSet<ChildRef> = if req.family {
        family_of(&req.child, &store.family_groups()?)
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
        child: req.child.clone(),
        family: req.family,
        reason: req.reason.trim().to_string(),
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
    fn dates_are_whole_days_inclusive() {
        let r = date_range(Some("2026-03-01"), Some("2026-03-01")).unwrap();
        assert_eq!(r.to.unwrap().0 - r.from.unwrap().0, 86_399);
        assert!(date_range(Some("2026-3-1"), None).is_err());
        assert!(date_range(None, Some("2026-02-30")).is_err());
    }
}
