//! Times that people read: a [`Zone`] turns a stored UTC [`Timestamp`] into
//! local time with its zone's abbreviation ("2026-07-01 10:30 BST",
//! "2026-12-01 10:30 GMT"), and a local calendar day into the UTC instants
//! that bound it.
//!
//! The zone is an IANA time zone (default [`DEFAULT_ZONE`], Europe/London),
//! looked up in the IANA database that `jiff` bundles into the binary: the
//! rules for daylight saving are the database's, never a fixed offset, and
//! nothing is read from the host or downloaded at run time. A server's
//! zone is set with `--tz ZONE` or `HEARTH_TZ`. JSON keeps RFC 3339 UTC;
//! only tables and CSV, which people read, use the zone.

use hearth_shared::Timestamp;
use hearth_shared::printable::Escaped;

/// The zone used when none is given.
pub const DEFAULT_ZONE: &str = "Europe/London";

/// A time zone name that the IANA database does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the time zone \"{}\" is not in the IANA time zone database; give a name such as Europe/London or America/New_York (--tz ZONE or HEARTH_TZ)",
    Escaped(.0)
)]
pub struct BadZone(pub String);

/// An IANA time zone, for showing times to people.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    name: String,
}

impl Default for Zone {
    /// Europe/London.
    fn default() -> Self {
        Self::parse(DEFAULT_ZONE).expect("the bundled database holds Europe/London")
    }
}

impl Zone {
    /// The zone named `name` (such as `Europe/London`), or why not.
    pub fn parse(name: &str) -> Result<Self, BadZone> {
        let trimmed = name.trim();
        // Only names: a bare offset ("+01:00") would ignore daylight saving.
        if trimmed.is_empty() || trimmed.starts_with(['+', '-']) {
            return Err(BadZone(name.to_string()));
        }
        let tz = jiff::tz::TimeZone::get(trimmed).map_err(|_| BadZone(name.to_string()))?;
        Ok(Self {
            tz,
            name: trimmed.to_string(),
        })
    }

    /// Its IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn zoned(&self, t: Timestamp) -> Option<jiff::ZonedDateTime> {
        jiff::Timestamp::from_second(t.0)
            .ok()
            .map(|ts| ts.to_zoned_datetime(self.tz.clone()))
    }

    /// `t` as local date, time (to the minute) and zone abbreviation:
    /// `("2026-07-01", "10:30", "BST")`. A time outside jiff's range
    /// (years -9999 to 9999; no record can carry one) is shown in UTC.
    pub fn parts(&self, t: Timestamp) -> (String, String, String) {
        match self.zoned(t) {
            Some(z) => (
                z.strftime("%Y-%m-%d").to_string(),
                z.strftime("%H:%M").to_string(),
                z.strftime("%Z").to_string(),
            ),
            None => {
                let (y, mo, d, h, mi, _) = t.to_civil();
                (
                    format!("{y:04}-{mo:02}-{d:02}"),
                    format!("{h:02}:{mi:02}"),
                    "UTC".to_string(),
                )
            }
        }
    }

    /// `t` as people read it: `2026-07-01 10:30 BST`.
    pub fn show(&self, t: Timestamp) -> String {
        let (date, time, zone) = self.parts(t);
        format!("{date} {time} {zone}")
    }

    /// `t`'s local date: `2026-07-01`.
    pub fn date(&self, t: Timestamp) -> String {
        self.parts(t).0
    }

    /// The first instant of the local day `y-m-d`, or `None` if there is
    /// no such date.
    pub fn day_start(&self, y: i64, m: u32, d: u32) -> Option<Timestamp> {
        let date = civil(y, m, d)?;
        let z = date.to_zoned_datetime(self.tz.clone()).ok()?;
        Some(Timestamp(z.timestamp().as_second()))
    }

    /// The last second of the local day `y-m-d`, or `None` if there is no
    /// such date. (A day is 23 or 25 hours long when the clocks change.)
    pub fn day_end(&self, y: i64, m: u32, d: u32) -> Option<Timestamp> {
        let next = civil(y, m, d)?.tomorrow().ok()?;
        let z = next.to_zoned_datetime(self.tz.clone()).ok()?;
        Some(Timestamp(z.timestamp().as_second() - 1))
    }
}

fn civil(y: i64, m: u32, d: u32) -> Option<jiff::civil::Date> {
    jiff::civil::Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
        Timestamp::from_civil(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn london_is_bst_in_summer_and_gmt_in_winter() {
        let london = Zone::default();
        assert_eq!(london.name(), "Europe/London");
        // 09:30 UTC is 10:30 in a British summer, 09:30 in winter.
        assert_eq!(london.show(at(2026, 7, 1, 9, 30)), "2026-07-01 10:30 BST");
        assert_eq!(london.show(at(2026, 12, 1, 10, 30)), "2026-12-01 10:30 GMT");
        // Either side of the change on 29 March 2026 (01:00 UTC).
        assert_eq!(london.show(at(2026, 3, 29, 0, 59)), "2026-03-29 00:59 GMT");
        assert_eq!(london.show(at(2026, 3, 29, 1, 0)), "2026-03-29 02:00 BST");
        // And back on 25 October 2026 (01:00 UTC).
        assert_eq!(london.show(at(2026, 10, 25, 0, 59)), "2026-10-25 01:59 BST");
        assert_eq!(london.show(at(2026, 10, 25, 1, 0)), "2026-10-25 01:00 GMT");
        // Late on a summer evening in UTC is the next local day.
        assert_eq!(london.date(at(2026, 6, 30, 23, 30)), "2026-07-01");
    }

    #[test]
    fn another_zone_by_its_iana_name() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(ny.show(at(2026, 7, 1, 14, 30)), "2026-07-01 10:30 EDT");
        assert_eq!(ny.show(at(2026, 12, 1, 15, 30)), "2026-12-01 10:30 EST");
    }

    #[test]
    fn a_bad_zone_is_named_with_examples() {
        for bad in ["Europe/Lndon", "", "+01:00", "BST\n"] {
            let e = Zone::parse(bad).unwrap_err().to_string();
            assert!(e.contains("is not in the IANA time zone database"), "{e}");
            assert!(e.contains("Europe/London"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(
            Zone::parse("Europe/Lndon")
                .unwrap_err()
                .to_string()
                .starts_with("the time zone \"Europe/Lndon\"")
        );
    }

    #[test]
    fn local_days_have_their_true_length() {
        let london = Zone::default();
        // A winter day is the UTC day.
        assert_eq!(london.day_start(2026, 12, 1), Some(at(2026, 12, 1, 0, 0)));
        // A summer day starts at 23:00 UTC the day before.
        assert_eq!(london.day_start(2026, 7, 1), Some(at(2026, 6, 30, 23, 0)));
        assert_eq!(
            london.day_end(2026, 7, 1),
            Some(Timestamp(at(2026, 7, 1, 23, 0).0 - 1))
        );
        // The day the clocks go forward has 23 hours.
        let short =
            london.day_end(2026, 3, 29).unwrap().0 + 1 - london.day_start(2026, 3, 29).unwrap().0;
        assert_eq!(short, 23 * 3600);
        assert_eq!(london.day_start(2026, 2, 30), None);
    }
}
