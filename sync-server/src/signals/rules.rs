//! The rules: a family's entries in, each child's signals out. Pure: no
//! disk, network or clock (the time "now" is an argument).
//!
//! TODO(issue 16, rules branch): every rule, unit-tested at and around
//! each threshold.

use std::collections::BTreeMap;

use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, Timestamp};

use super::{Config, Signal};
use crate::chronology::Entry;

/// What the rules found for one child, and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// The signals, none acknowledged, in [`super::Rule`] order.
    pub signals: Vec<Signal>,
    /// The earliest time after `now` at which the passage of time alone
    /// could change `signals` (a deadline falling due: 14 days without
    /// action, 28 days unresolved); `None` if only new records or links
    /// can change them.
    pub recheck_at: Option<Timestamp>,
}

/// The signals for `child`, from `entries` (the family's whole chronology,
/// every date, as [`crate::chronology::reconcile`] orders it) and
/// `details` (each entry's record's own fields as its latest correction
/// leaves them, by record id), as of `now`.
pub fn evaluate(
    child: &ChildRef,
    entries: &[Entry],
    details: &BTreeMap<RecordId, Detail>,
    config: &Config,
    now: Timestamp,
) -> Evaluation {
    // Skeleton (replaced by the rules branch): no rule yet.
    let _ = (child, entries, details, config, now);
    Evaluation::default()
}
