//! Times as the worker reads them: in the tablet's own zone (`TZ`, else
//! `/etc/localtime`, else UTC), with the zone's abbreviation where a date
//! is shown. Stored times stay UTC seconds; this is only how they look.

use std::sync::LazyLock;

use hearth_shared::Timestamp;
use jiff::tz::TimeZone;

static ZONE: LazyLock<TimeZone> = LazyLock::new(TimeZone::system);

/// The tablet's zone (read once per process).
pub fn zone() -> &'static TimeZone {
    &ZONE
}

fn zoned(t: Timestamp, tz: &TimeZone) -> Option<jiff::ZonedDateTime> {
    jiff::Timestamp::from_second(t.0)
        .ok()
        .map(|ts| ts.to_zoned_datetime(tz.clone()))
}

/// `10:42` in `tz`; the UTC form when the time is out of range.
pub fn clock_time_in(t: Timestamp, tz: &TimeZone) -> String {
    zoned(t, tz).map_or_else(|| t.to_string(), |z| z.strftime("%H:%M").to_string())
}

/// `27 Nov 2026, 10:42 GMT` in `tz`; the UTC form when out of range.
pub fn date_time_in(t: Timestamp, tz: &TimeZone) -> String {
    zoned(t, tz).map_or_else(
        || t.to_string(),
        |z| z.strftime("%-d %b %Y, %H:%M %Z").to_string(),
    )
}

/// [`clock_time_in`] the tablet's zone.
pub fn clock_time(t: Timestamp) -> String {
    clock_time_in(t, zone())
}

/// [`date_time_in`] the tablet's zone.
pub fn date_time(t: Timestamp) -> String {
    date_time_in(t, zone())
}

/// A date in words, `3 March 2026` (UTC: the caseload's dates are
/// midnight-UTC days, not instants); the `YYYY-MM-DD` form when out of
/// range.
pub fn date_words(t: Timestamp) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (y, m, d, ..) = t.to_civil();
    match MONTHS.get((m as usize).wrapping_sub(1)) {
        Some(month) => format!("{d} {month} {y}"),
        None => t.date().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_zone_with_its_name() {
        // No zone database in the tablet binary (nor needed by this test):
        // a fixed offset stands in for BST.
        let plus_one = TimeZone::fixed(jiff::tz::offset(1));
        // 2026-07-01T09:30:00Z.
        let summer = Timestamp(1_782_898_200);
        assert_eq!(clock_time_in(summer, &plus_one), "10:30");
        assert!(date_time_in(summer, &plus_one).starts_with("1 Jul 2026, 10:30 "));
        assert_eq!(
            date_time_in(summer, &TimeZone::UTC),
            "1 Jul 2026, 09:30 UTC"
        );
        assert_eq!(date_words(summer), "1 July 2026");
    }
}
