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

/// A jiff time zone: the tablet's own ([`system`]), with its daylight
/// saving rules, so a local time in summer gets the summer offset.
#[derive(Debug, Clone)]
pub struct TzZone(pub jiff::tz::TimeZone);

impl Zone for TzZone {
    fn name(&self, at: Timestamp) -> String {
        let abbr = jiff::Timestamp::from_second(at.0).ok().map(|ts| {
            ts.to_zoned_datetime(self.0.clone())
                .strftime("%Z")
                .to_string()
        });
        match (self.0.iana_name(), abbr) {
            (Some(name), Some(abbr)) if name != abbr => format!("{name}, {abbr}"),
            (Some(name), _) => name.to_string(),
            (None, Some(abbr)) => abbr,
            (None, None) => "UTC".into(),
        }
    }

    fn local(&self, at: Timestamp) -> (String, String) {
        match jiff::Timestamp::from_second(at.0) {
            Ok(ts) => {
                let z = ts.to_zoned_datetime(self.0.clone());
                (
                    z.strftime("%Y-%m-%d").to_string(),
                    z.strftime("%H:%M").to_string(),
                )
            }
            Err(_) => FixedZone(0).local(at),
        }
    }

    fn to_utc(&self, date: &str, time: &str) -> Option<Timestamp> {
        let (y, mo, d, h, mi) = parse_local(date, time)?;
        let dt = jiff::civil::DateTime::new(
            i16::try_from(y).ok()?,
            i8::try_from(mo).ok()?,
            i8::try_from(d).ok()?,
            i8::try_from(h).ok()?,
            i8::try_from(mi).ok()?,
            0,
            0,
        )
        .ok()?;
        let ts = self.0.to_timestamp(dt).ok()?;
        Some(Timestamp(ts.as_second()))
    }
}

/// The tablet's zone (`TZ`, else `/etc/localtime`, else UTC), as the
/// rest of the app shows times ([`crate::app::localtime::zone`]).
pub fn system() -> Box<dyn Zone> {
    Box::new(TzZone(crate::app::localtime::zone().clone()))
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

    #[test]
    fn a_named_zone_uses_the_offset_of_the_day() {
        let london = TzZone(jiff::tz::TimeZone::get("Europe/London").unwrap());
        let winter = london.to_utc("2026-01-10", "09:00").unwrap();
        let summer = london.to_utc("2026-07-10", "09:00").unwrap();
        assert_eq!(winter.to_string(), "2026-01-10T09:00:00Z");
        assert_eq!(summer.to_string(), "2026-07-10T08:00:00Z");
        assert_eq!(london.local(summer), ("2026-07-10".into(), "09:00".into()));
        assert_eq!(london.name(summer), "Europe/London, BST");
    }
}
