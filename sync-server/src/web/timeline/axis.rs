//! The timeline's time axis, pure: the [`Axis`] maps a [`Timestamp`] to an
//! x coordinate, and [`ticks`] picks date ticks at local midnights in the
//! viewer's [`Zone`] (days, weeks, months, quarters or years, whichever
//! gives at most [`MAX_TICKS`]).
//!
//! Why local midnights: a panel reads "3 March", not an instant in UTC;
//! a tick at the start of the local day (which may be 23:00 UTC in
//! summer) sits where that day begins on the picture.

use hearth_shared::Timestamp;
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use crate::chronology::DateRange;
use crate::localtime::Zone;

/// A day, in seconds.
pub const DAY: i64 = 86_400;

/// At most this many date ticks across the picture.
pub const MAX_TICKS: i64 = 8;

/// The stretch of time drawn and where it lands: `[start, end]` across
/// `[x0, x0 + width]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// The first instant drawn.
    pub start: i64,
    /// The last instant drawn (always after `start`).
    pub end: i64,
    /// The x of `start`.
    pub x0: f64,
    /// The width from `start` to `end`.
    pub width: f64,
}

impl Axis {
    /// The axis for times `first..=last` (the view's own span) or, where
    /// given, the filter's `range` (so the picture shows the dates asked
    /// for, empty stretches included). A span shorter than a day is widened
    /// to a day around its middle; one taken from the records is padded by
    /// 2% either side so that no mark sits on the edge.
    pub fn new(first: i64, last: i64, range: DateRange, x0: f64, width: f64) -> Self {
        let (mut start, mut end) = (
            range.from.map_or(first, |t| t.0),
            range.to.map_or(last, |t| t.0),
        );
        if end < start {
            std::mem::swap(&mut start, &mut end);
        }
        if end - start < DAY {
            let mid = start / 2 + end / 2;
            start = mid - DAY / 2;
            end = mid + DAY / 2;
        } else {
            let pad = (end - start) / 50;
            if range.from.is_none() {
                start -= pad;
            }
            if range.to.is_none() {
                end += pad;
            }
        }
        Self {
            start,
            end,
            x0,
            width,
        }
    }

    /// The x of `t` (clamped to the axis: a filter's bounds hold every mark).
    pub fn x(&self, t: Timestamp) -> f64 {
        let t = t.0.clamp(self.start, self.end);
        self.x0 + (t - self.start) as f64 * self.width / (self.end - self.start) as f64
    }
}

/// How far apart the ticks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Every `n`th day (1, 2, 3), counted from 1 January 1970 so that two
    /// views share their ticks.
    Days(i8),
    /// Every Monday.
    Week,
    /// The first of every `n`th month (1, 3).
    Months(i8),
    /// The first of January every `n`th year (1, 5, 10, ...).
    Years(i16),
}

impl Step {
    /// Roughly how long one step is, in seconds (to choose a step).
    fn approx_secs(self) -> i64 {
        match self {
            Self::Days(n) => i64::from(n) * DAY,
            Self::Week => 7 * DAY,
            Self::Months(n) => i64::from(n) * 30 * DAY,
            Self::Years(n) => i64::from(n) * 365 * DAY,
        }
    }

    /// The first date on this step's grid at or after `d`.
    fn first_from(self, d: Date) -> Option<Date> {
        match self {
            Self::Days(n) => {
                let since = i64::from(d.since(Date::new(1970, 1, 1).ok()?).ok()?.get_days());
                let ahead = (i64::from(n) - since.rem_euclid(i64::from(n))) % i64::from(n);
                d.checked_add(ahead.days()).ok()
            }
            Self::Week => {
                let ahead = d.weekday().until(Weekday::Monday);
                d.checked_add(i64::from(ahead).days()).ok()
            }
            Self::Months(n) => {
                let mut m = d.first_of_month();
                if m < d {
                    m = m.checked_add(1.month()).ok()?;
                }
                while (m.month() - 1) % n != 0 {
                    m = m.checked_add(1.month()).ok()?;
                }
                Some(m)
            }
            Self::Years(n) => {
                let mut y = d.year();
                if d.month() != 1 || d.day() != 1 {
                    y = y.checked_add(1)?;
                }
                let y = y.checked_add((n - y.rem_euclid(n)) % n)?;
                Date::new(y, 1, 1).ok()
            }
        }
    }

    fn next(self, d: Date) -> Option<Date> {
        let span = match self {
            Self::Days(n) => i64::from(n).days(),
            Self::Week => 1.week(),
            Self::Months(n) => i64::from(n).months(),
            Self::Years(n) => i64::from(n).years(),
        };
        d.checked_add(span).ok()
    }

    /// How a tick on this step is labelled: "3 Mar 2026", "Mar 2026", "2026".
    fn label(self, d: Date) -> String {
        match self {
            Self::Days(_) | Self::Week => d.strftime("%-d %b %Y").to_string(),
            Self::Months(_) => d.strftime("%b %Y").to_string(),
            Self::Years(_) => d.strftime("%Y").to_string(),
        }
    }
}

/// The steps tried, finest first.
const STEPS: [Step; 10] = [
    Step::Days(1),
    Step::Days(2),
    Step::Days(3),
    Step::Week,
    Step::Months(1),
    Step::Months(3),
    Step::Years(1),
    Step::Years(5),
    Step::Years(10),
    Step::Years(100),
];

/// The finest step giving at most [`MAX_TICKS`] ticks across `axis`.
pub fn step_for(axis: &Axis) -> Step {
    let span = axis.end - axis.start;
    STEPS
        .into_iter()
        .find(|s| span / s.approx_secs() < MAX_TICKS)
        .unwrap_or(Step::Years(100))
}

/// One date tick: the instant (a local midnight) and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// The start of the local day.
    pub at: Timestamp,
    /// The date, as people read it.
    pub label: String,
}

/// The date ticks across `axis`, at local midnights in `zone`.
pub fn ticks(axis: &Axis, zone: &Zone) -> Vec<Tick> {
    let step = step_for(axis);
    let Ok(first) = zone.date(Timestamp(axis.start)).parse::<Date>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut d = step.first_from(first);
    // The bound is a guard: `step_for` keeps the count under MAX_TICKS,
    // give or take a short month.
    while let Some(date) = d
        && out.len() <= 2 * MAX_TICKS as usize
    {
        let Some(at) = zone.day_start(
            i64::from(date.year()),
            date.month() as u32,
            date.day() as u32,
        ) else {
            break;
        };
        if at.0 > axis.end {
            break;
        }
        if at.0 >= axis.start {
            out.push(Tick {
                at,
                label: step.label(date),
            });
        }
        d = step.next(date);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: u32) -> Timestamp {
        Timestamp::from_civil(y, mo, d, h, 0, 0).unwrap()
    }

    fn axis(from: Timestamp, to: Timestamp) -> Axis {
        Axis::new(from.0, to.0, DateRange::default(), 100.0, 800.0)
    }

    #[test]
    fn times_map_across_the_width_and_a_filter_sets_the_span() {
        let a = Axis::new(
            at(2026, 3, 1, 0).0,
            at(2026, 3, 31, 0).0,
            DateRange {
                from: Some(at(2026, 1, 1, 0)),
                to: Some(at(2026, 12, 31, 0)),
            },
            100.0,
            800.0,
        );
        assert_eq!(a.x(at(2026, 1, 1, 0)), 100.0);
        assert_eq!(a.x(at(2026, 12, 31, 0)), 900.0);
        // Outside the filter: clamped to the edge, never off the picture.
        assert_eq!(a.x(at(2027, 6, 1, 0)), 900.0);
        let mid = a.x(at(2026, 7, 2, 0));
        assert!((mid - 500.0).abs() < 3.0, "{mid}");
        // From the records alone: padded so that the first mark is inside.
        let b = axis(at(2026, 3, 1, 0), at(2026, 3, 31, 0));
        assert!(b.x(at(2026, 3, 1, 0)) > 100.0 && b.x(at(2026, 3, 31, 0)) < 900.0);
    }

    #[test]
    fn a_single_instant_gets_a_day() {
        let t = at(2026, 3, 5, 12);
        let a = axis(t, t);
        assert_eq!(a.end - a.start, DAY);
        assert_eq!(a.x(t), 500.0);
    }

    #[test]
    fn ticks_fall_on_local_midnights_with_a_step_for_the_span() {
        let london = Zone::default();
        // A summer week: daily ticks at 23:00 UTC (midnight BST).
        let week = axis(at(2026, 7, 1, 12), at(2026, 7, 6, 12));
        let t = ticks(&week, &london);
        assert_eq!(step_for(&week), Step::Days(1));
        assert_eq!(t[0].label, "2 Jul 2026");
        assert_eq!(t[0].at, at(2026, 7, 1, 23));
        assert_eq!(t.len(), 5);
        // Two weeks: every other day; three: every third.
        let two = axis(at(2026, 3, 1, 0), at(2026, 3, 14, 0));
        assert_eq!(step_for(&two), Step::Days(2));
        assert_eq!(ticks(&two, &london).len(), 7);
        let three = axis(at(2026, 3, 1, 0), at(2026, 3, 20, 0));
        assert_eq!(step_for(&three), Step::Days(3));
        // Five weeks: Mondays.
        let months = axis(at(2026, 3, 1, 0), at(2026, 4, 4, 0));
        assert_eq!(step_for(&months), Step::Week);
        let t = ticks(&months, &london);
        assert_eq!(t.len(), 5, "{t:?}");
        assert_eq!(t[0].label, "2 Mar 2026");
        // Twenty months: quarters ("Jan", "Apr", ...); seven years: years.
        let years = axis(at(2025, 2, 1, 0), at(2026, 9, 1, 0));
        assert_eq!(step_for(&years), Step::Months(3));
        let t = ticks(&years, &london);
        assert_eq!(t[0].label, "Apr 2025");
        assert!(
            t.iter()
                .all(|k| ["Jan", "Apr", "Jul", "Oct"].contains(&&k.label[..3]))
        );
        let decade = axis(at(2019, 6, 1, 0), at(2026, 6, 1, 0));
        assert_eq!(step_for(&decade), Step::Years(1));
        assert_eq!(ticks(&decade, &london)[0].label, "2020");
        let long = axis(at(1990, 6, 1, 0), at(2026, 6, 1, 0));
        let t = ticks(&long, &london);
        // Padded by 2%: from September 1989.
        assert_eq!(t[0].label, "1990", "{t:?}");
        assert!(t.len() <= MAX_TICKS as usize, "{t:?}");
    }

    #[test]
    fn every_tick_is_inside_the_axis() {
        let london = Zone::default();
        for (a, b) in [
            (at(2026, 1, 1, 0), at(2026, 1, 2, 0)),
            (at(2025, 12, 31, 23), at(2026, 1, 1, 1)),
            (at(2000, 1, 1, 0), at(2026, 12, 31, 0)),
        ] {
            let ax = axis(a, b);
            for t in ticks(&ax, &london) {
                assert!(t.at.0 >= ax.start && t.at.0 <= ax.end, "{t:?} {ax:?}");
            }
        }
    }
}
