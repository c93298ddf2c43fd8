//! What is due for a child (issue 17): pure rules over the child's
//! register entry, its visiting plan and its records, at a given `now`.
//!
//! - **Visit** (if the child has a plan): due the plan's number of working
//!   days (Monday to Friday) after the last home visit at which the child
//!   was seen, whenever that was (a plan set today for a child last seen
//!   a month ago is already overdue: the plan does not restart the
//!   count), or after the plan began if the child was never seen. The
//!   next visit starts the day after the last one, so the task is always
//!   the next visit to make.
//! - **Reviews by age** from the date of birth: the new birth review (due
//!   at 14 days, from 10 days), 6–8 weeks (due 8 weeks, from 6), 1 year
//!   (due 12 months, from 9), 2–2½ years (due 30 months, from 24). Listed
//!   from 14 days before `from` until a review of that contact clears it;
//!   not listed once the child is more than 6 months past `due` (aged
//!   out). An unborn child has none.
//! - **Rebook**: after each developmental review the child was not brought
//!   to, with no later review it was brought to: due 5 working days after.
//!
//! A task is cleared by [`Task::cleared_by`] (the device applies the same
//! rule to records it has not yet synced), and [`overdue`] after the end
//! of its due day.

use hearth_shared::Timestamp;
use hearth_shared::caseload::{Task, TaskKind};
use hearth_shared::kinds::Detail;
use hearth_shared::kinds::developmental_review::ReviewContact;
use hearth_shared::kinds::home_visit::ChildSeen;

use super::VisitPlan;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// How long before its `from` a review is listed.
const LISTED_BEFORE_DAYS: i64 = 14;

/// How many months past its due date a review is no longer listed.
const AGED_OUT_MONTHS: i64 = 6;

/// Working days to rebook a missed review in.
const REBOOK_WORKING_DAYS: u16 = 5;

/// One of a child's records as the rules read it: when it happened, and
/// its fields as its latest correction leaves them (a record entered in
/// error is left out by the caller).
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// When it happened.
    pub at: Timestamp,
    /// Its fields.
    pub detail: &'a Detail,
}

/// Midnight UTC of `t`'s day.
pub fn day_of(t: Timestamp) -> Timestamp {
    Timestamp(t.0 - t.0.rem_euclid(DAY))
}

/// Whether `t`'s UTC day is a Saturday or a Sunday (1 January 1970 was a
/// Thursday).
fn weekend(t: Timestamp) -> bool {
    (t.0.div_euclid(DAY) + 3).rem_euclid(7) >= 5
}

/// Midnight of the day `n` working days (Monday to Friday) after `t`'s.
pub fn add_working_days(t: Timestamp, n: u16) -> Timestamp {
    let mut day = day_of(t);
    let mut left = n;
    while left > 0 {
        day = Timestamp(day.0 + DAY);
        if !weekend(day) {
            left -= 1;
        }
    }
    day
}

/// Midnight of the day `months` calendar months after `t`'s (the 31st
/// plus one month is the last day of the next month).
pub fn add_months(t: Timestamp, months: i64) -> Timestamp {
    let (y, m, d, ..) = t.to_civil();
    let total = y * 12 + i64::from(m) - 1 + months;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    (0..4)
        .find_map(|back| Timestamp::from_civil(y, m, d.saturating_sub(back).max(1), 0, 0, 0))
        .unwrap_or(day_of(t))
}

/// "1 working day", "10 working days".
pub fn working_days(n: u16) -> String {
    format!("{n} working day{}", if n == 1 { "" } else { "s" })
}

/// Whether `task` is overdue at `now`: after the end of its due day.
pub fn overdue(task: &Task, now: Timestamp) -> bool {
    now.0 >= day_of(task.due).0 + DAY
}

/// Whether any of `records` clears `task`.
fn cleared(task: &Task, records: &[Seen<'_>]) -> bool {
    records.iter().any(|r| task.cleared_by(r.detail, r.at))
}

/// What is due for a child born `born` (if born), with `plan` (if any)
/// and `records` (every record naming it, any order), at `now`; visit
/// first, then reviews by age, then rebookings, each by due date.
pub fn tasks(
    born: Option<Timestamp>,
    plan: Option<&VisitPlan>,
    records: &[Seen<'_>],
    now: Timestamp,
) -> Vec<Task> {
    let mut out = Vec::new();
    out.extend(plan.map(|p| visit(p, records)));
    if let Some(born) = born {
        out.extend(
            reviews(day_of(born))
                .into_iter()
                .filter(|t| listed(t, now) && !cleared(t, records)),
        );
    }
    out.extend(rebookings(records));
    out
}

/// The next home visit by `plan`.
fn visit(plan: &VisitPlan, records: &[Seen<'_>]) -> Task {
    let since = day_of(plan.since);
    let last = records
        .iter()
        .filter(|r| matches!(r.detail, Detail::HomeVisit(v) if v.child_seen != ChildSeen::NotSeen))
        .map(|r| day_of(r.at))
        .max();
    let (from, base) = match last {
        Some(day) => (Timestamp(day.0 + DAY), day),
        None => (since, since),
    };
    Task {
        kind: TaskKind::Visit,
        from,
        due: add_working_days(base, plan.every_working_days),
        label: format!(
            "Home visit (every {}; {})",
            working_days(plan.every_working_days),
            plan.label
        ),
    }
}

/// The four reviews by age of a child born on `born` (midnight).
fn reviews(born: Timestamp) -> [Task; 4] {
    let days = |n: i64| Timestamp(born.0 + n * DAY);
    let review = |kind, from, due, label: &str| Task {
        kind,
        from,
        due,
        label: label.to_string(),
    };
    [
        review(
            TaskKind::ReviewNewBirth,
            days(10),
            days(14),
            "New birth review",
        ),
        review(
            TaskKind::Review6To8Weeks,
            days(42),
            days(56),
            "6–8 week review",
        ),
        review(
            TaskKind::Review1Year,
            add_months(born, 9),
            add_months(born, 12),
            "1 year review",
        ),
        review(
            TaskKind::Review2Years,
            add_months(born, 24),
            add_months(born, 30),
            "2–2½ year review",
        ),
    ]
}

/// Whether a review is listed at `now`: from 14 days before its `from`
/// until 6 months past its due date.
fn listed(task: &Task, now: Timestamp) -> bool {
    now.0 >= task.from.0 - LISTED_BEFORE_DAYS * DAY
        && now.0 < add_months(task.due, AGED_OUT_MONTHS).0 + DAY
}

/// A review contact in words ("6–8 week").
fn contact_words(contact: ReviewContact) -> &'static str {
    match contact {
        ReviewContact::NewBirth => "new birth",
        ReviewContact::SixToEightWeeks => "6–8 week",
        ReviewContact::OneYear => "1 year",
        ReviewContact::TwoToTwoAndAHalfYears => "2–2½ year",
    }
}

/// A rebooking after each review the child was not brought to, with no
/// later review it was brought to.
fn rebookings(records: &[Seen<'_>]) -> Vec<Task> {
    let review = |r: &Seen<'_>| match r.detail {
        Detail::DevelopmentalReview(d) => Some((r.at, d.was_not_brought, d.contact)),
        _ => None,
    };
    let last_brought = records
        .iter()
        .filter_map(review)
        .filter(|(_, missed, _)| !missed)
        .map(|(at, ..)| at)
        .max();
    let mut missed: Vec<(Timestamp, ReviewContact)> = records
        .iter()
        .filter_map(review)
        .filter(|(at, missed, _)| *missed && last_brought.is_none_or(|b| *at > b))
        .map(|(at, _, contact)| (at, contact))
        .collect();
    missed.sort_by_key(|(at, _)| *at);
    missed
        .into_iter()
        .map(|(at, contact)| Task {
            kind: TaskKind::Rebook,
            from: day_of(at),
            due: add_working_days(at, REBOOK_WORKING_DAYS),
            label: format!(
                "Rebook the {} review the child was not brought to on {}",
                contact_words(contact),
                at.date()
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests;
