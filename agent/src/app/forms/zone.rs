//! Local time for the forms: a record's `occurred_at` is entered as a
//! local date and time, with the zone shown, and defaults to now.
//!
//! [`Zone`] is what the forms need of a time zone; [`FixedZone`] is a
//! fixed offset from UTC (the tests', and the fallback when the tablet's
//! zone cannot be read).

use hearth_shared::Timestamp;

/// A time zone, as the forms use it.
pub trait Zone: Send + Sync {
    /// Its name as shown beside the time, such as `Europe/London` or
    /// `UTC+01:00`.
    fn name(&self, at: Timestamp) -> String;
    /// `at` as a local date `2026-11-27` and time `09:30`.
    fn local(&self, at: Timestamp) -> (String, String);
    /// The instant of a local `date` (`2026-11-27`) and `time` (`09:30`);
    /// `None` if they are not a valid date and time.
    fn to_utc(&self, date: &str, time: &str) -> Option<Timestamp>;
}

/// A fixed offset from UTC, in seconds east.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FixedZone(pub i32);

/// A local date and time, `2026-11-27` and `09:30`, as civil numbers.
pub fn parse_local(date: &str, time: &str) -> Option<(i64, u32, u32, u32, u32)> {
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let (h, mi) = time.split_once(':')?;
    let (h, mi): (u32, u32) = (h.parse().ok()?, mi.parse().ok()?);
    (date.len() == 10 && time.len() == 5).then_some((y, mo, day, h, mi))
}

impl Zone for FixedZone {
    fn name(&self, _at: Timestamp) -> String {
        if self.0 == 0 {
            return "UTC".into();
        }
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
    }

    fn local(&self, at: Timestamp) -> (String, String) {
        let (y, mo, d, h, mi, _) = Timestamp(at.0 + i64::from(self.0)).to_civil();
        (format!("{y:04}-{mo:02}-{d:02}"), format!("{h:02}:{mi:02}"))
    }

    fn to_utc(&self, date: &str, time: &str) -> Option<Timestamp> {
        let (y, mo, d, h, mi) = parse_local(date, time)?;
        let t = Timestamp::from_civil(y, mo, d, h, mi, 0)?;
        Some(Timestamp(t.0 - i64::from(self.0)))
    }
}

/// The tablet's zone. For now UTC, shown as "UTC" beside every time, so
/// nothing is ever silently shifted; reading the tablet's own zone is
/// left as work (see the notes).
pub fn system() -> Box<dyn Zone> {
    Box::new(FixedZone(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_zone_round_trips_local_time() {
        let z = FixedZone(3600);
        let t = Timestamp::from_civil(2026, 11, 27, 23, 30, 0).unwrap();
        assert_eq!(z.local(t), ("2026-11-28".into(), "00:30".into()));
        assert_eq!(z.to_utc("2026-11-28", "00:30"), Some(t));
        assert_eq!(z.name(t), "UTC+01:00");
        assert_eq!(FixedZone(-5400).name(t), "UTC-01:30");
        assert_eq!(z.to_utc("2026-13-01", "00:30"), None);
        assert_eq!(z.to_utc("2026-11-28", "0030"), None);
    }
}
