//! Time: [`Timestamp`] for instants and [`TimeOfDay`] for clock times.
//!
//! A [`Timestamp`] is whole seconds since 1970-01-01T00:00:00Z, always UTC.
//! JSON carries RFC 3339 (`2026-11-20T10:30:00Z`, or with an offset such as
//! `+01:00`, converted to UTC; fractions of a second are dropped). The wire
//! carries a zigzag varint. The calendar arithmetic is Howard Hinnant's
//! `days_from_civil`, so it needs neither `std` nor a time crate.
//!
//! Valid instants run from 1900-01-01 to 2199-12-31: wide enough for any
//! event about a child or their carers, narrow enough that a corrupted value
//! is caught.

use core::fmt;
use core::str::FromStr;

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Problem;

/// An instant, in whole seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, MaxSize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// 1900-01-01T00:00:00Z.
    pub const MIN: Self = Self(-2_208_988_800);
    /// 2199-12-31T23:59:59Z.
    pub const MAX: Self = Self(7_258_118_399);

    /// Seconds since the epoch.
    pub const fn seconds(self) -> i64 {
        self.0
    }

    /// Whether it lies in the valid range.
    pub const fn in_range(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    /// The range check as a [`Problem`].
    pub fn check(self) -> Result<(), Problem> {
        if self.in_range() {
            Ok(())
        } else {
            Err(Problem::Inconsistent(
                "is outside the years 1900 to 2199; check the date",
            ))
        }
    }

    /// The instant from a UTC calendar date and time.
    pub fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || s > 59
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(Self(
            days * 86_400 + i64::from(h) * 3_600 + i64::from(mi) * 60 + i64::from(s),
        ))
    }

    /// The UTC calendar date and time: (year, month, day, hour, minute, second).
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (secs / 3_600) as u32,
            (secs % 3_600 / 60) as u32,
            (secs % 60) as u32,
        )
    }

    /// The date alone, `2026-11-20`, as a case-review chronology shows it.
    pub fn date(self) -> DateDisplay {
        DateDisplay(self)
    }
}

/// Displays a [`Timestamp`]'s UTC date as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub struct DateDisplay(Timestamp);

impl fmt::Display for DateDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d, ..) = self.0.to_civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

const fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

/// Why a time did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseTimeError(&'static str);

impl fmt::Display for ParseTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl core::error::Error for ParseTimeError {}

const RFC3339: &str =
    "is not an RFC 3339 time; write it like 2026-11-20T10:30:00Z or 2026-11-20T10:30:00+01:00";

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

impl FromStr for Timestamp {
    type Err = ParseTimeError;

    fn from_str(s: &str) -> Result<Self, ParseTimeError> {
        let err = ParseTimeError(RFC3339);
        let b = s.as_bytes();
        let fixed = |at: usize, c: u8| b.get(at) == Some(&c);
        if b.len() < 20
            || !fixed(4, b'-')
            || !fixed(7, b'-')
            || !fixed(13, b':')
            || !fixed(16, b':')
        {
            return Err(err);
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(err);
        }
        let y = digits(b, 0, 4).ok_or(err)?;
        let mo = digits(b, 5, 2).ok_or(err)?;
        let d = digits(b, 8, 2).ok_or(err)?;
        let h = digits(b, 11, 2).ok_or(err)?;
        let mi = digits(b, 14, 2).ok_or(err)?;
        let sec = digits(b, 17, 2).ok_or(err)?;
        let mut at = 19;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return Err(err);
            }
        }
        let offset = match b.get(at) {
            Some(b'Z' | b'z') if b.len() == at + 1 => 0i64,
            Some(&sign @ (b'+' | b'-')) if b.len() == at + 6 && fixed(at + 3, b':') => {
                let oh = digits(b, at + 1, 2).ok_or(err)?;
                let om = digits(b, at + 4, 2).ok_or(err)?;
                if oh > 23 || om > 59 {
                    return Err(err);
                }
                let o = i64::from(oh * 3_600 + om * 60);
                if sign == b'+' { o } else { -o }
            }
            _ => return Err(err),
        };
        let local = Self::from_civil(i64::from(y), mo, d, h, mi, sec).ok_or(ParseTimeError(
            "is not a real date and time; check the day, month and hour",
        ))?;
        let t = Self(local.0 - offset);
        if !t.in_range() {
            return Err(ParseTimeError(
                "is outside the years 1900 to 2199; check the date",
            ));
        }
        Ok(t)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            crate::serde_str::deserialize_from_str(d)
        } else {
            i64::deserialize(d).map(Self)
        }
    }
}

/// A clock time, in minutes after midnight (0 to 1,439). JSON: `"08:05"`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, MaxSize)]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    /// `hh:mm`, or `None` if out of range.
    pub fn new(hours: u16, minutes: u16) -> Option<Self> {
        (hours < 24 && minutes < 60).then_some(Self(hours * 60 + minutes))
    }

    /// The range check as a [`Problem`].
    pub fn check(self) -> Result<(), Problem> {
        if self.0 < 1_440 {
            Ok(())
        } else {
            Err(Problem::OutOfRange {
                value: i64::from(self.0),
                min: 0,
                max: 1_439,
            })
        }
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeOfDay({self})")
    }
}

impl FromStr for TimeOfDay {
    type Err = ParseTimeError;
    fn from_str(s: &str) -> Result<Self, ParseTimeError> {
        let err = ParseTimeError("is not a time of day; write it like 08:05");
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return Err(err);
        }
        let h = digits(b, 0, 2).ok_or(err)? as u16;
        let m = digits(b, 3, 2).ok_or(err)? as u16;
        Self::new(h, m).ok_or(err)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u16(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            crate::serde_str::deserialize_from_str(d)
        } else {
            u16::deserialize(d).map(Self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!("1970-01-01T00:00:00Z".parse(), Ok(Timestamp(0)));
        assert_eq!(
            "2026-11-20T10:30:00Z".parse::<Timestamp>().unwrap().0,
            1_795_170_600
        );
        assert_eq!(
            "2026-11-20T11:30:00+01:00".parse::<Timestamp>(),
            "2026-11-20T10:30:00Z".parse::<Timestamp>()
        );
        assert_eq!(
            "2026-11-20T10:30:00.123Z".parse::<Timestamp>(),
            "2026-11-20T10:30:00Z".parse::<Timestamp>()
        );
    }

    #[test]
    fn bounds_print_as_their_dates() {
        assert_eq!(Timestamp::MIN.to_string(), "1900-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_string(), "2199-12-31T23:59:59Z");
    }

    #[test]
    fn bad_times_are_refused() {
        for s in [
            "2026-02-30T10:00:00Z",
            "2026-11-20",
            "2026-11-20T25:00:00Z",
            "2026-11-20T10:00:00",
            "1899-12-31T23:59:59Z",
            "2026-11-20T10:00:00+1:00",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
        assert!("2024-02-29T00:00:00Z".parse::<Timestamp>().is_ok());
    }

    #[test]
    fn civil_round_trip_over_a_wide_span() {
        let mut t = Timestamp::MIN.0;
        while t <= Timestamp::MAX.0 {
            let (y, mo, d, h, mi, s) = Timestamp(t).to_civil();
            assert_eq!(
                Timestamp::from_civil(y, mo, d, h, mi, s),
                Some(Timestamp(t))
            );
            let text = Timestamp(t).to_string();
            assert_eq!(text.parse(), Ok(Timestamp(t)));
            t += 86_400 * 37 + 3_671;
        }
    }

    #[test]
    fn time_of_day_parses() {
        assert_eq!("08:05".parse::<TimeOfDay>(), Ok(TimeOfDay(485)));
        assert!("24:00".parse::<TimeOfDay>().is_err());
        assert!("8:05".parse::<TimeOfDay>().is_err());
        assert_eq!(TimeOfDay(485).to_string(), "08:05");
    }
}
