//! Time: [`Clock`] (the one place the wall clock is read, [`SystemClock`];
//! both from [`hearth_shared::clock`]) and the pure device-clock arithmetic: [`estimate_offset`],
//! [`corrected_time`] and [`is_late_entry`].
//!
//! Why correct device clocks: a tablet's clock can be hours or days wrong.
//! Every batch carries the device's clock reading, signed with the device
//! key, so the server can estimate the error (device minus server) and
//! correct each record's capture time before asking whether it was written
//! long after the event (a late entry).

use hearth_shared::Timestamp;

/// The clock is shared with the agent (one definition; both read time
/// before 1970 the same way).
pub use hearth_shared::clock::{Clock, FixedClock, SystemClock};

/// What the server knows of a device's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockState {
    /// The current estimate of device minus server, in seconds.
    pub offset: Option<i64>,
    /// The device time of the last report accepted.
    pub last_report: Option<Timestamp>,
}

/// The clock state after a batch's report: the latest report wins, so no
/// earlier state is needed.
///
/// Every report counts, including one whose device time is earlier than the
/// last: a tablet whose clock was days fast and is then corrected (by NTP,
/// or by hand) reports an earlier time, and its offset must follow at once
/// or every record it captures meanwhile is misplaced in the chronology.
/// Replaying an old report is not a concern here: the header is signed by
/// the device and covers the records it carries, and it travels inside TLS,
/// so only someone who already holds the plaintext request could replay it.
pub fn estimate_offset(device_time: Timestamp, received_at: Timestamp) -> ClockState {
    ClockState {
        offset: Some(device_time.0.saturating_sub(received_at.0)),
        last_report: Some(device_time),
    }
}

/// A device time corrected by the device's offset.
pub fn corrected_time(device_time: Timestamp, offset: i64) -> Timestamp {
    Timestamp(device_time.0.saturating_sub(offset))
}

/// Whether a record captured at `captured` (corrected) is a late entry for
/// an event at `occurred_at`.
pub fn is_late_entry(captured: Timestamp, occurred_at: Timestamp, threshold_secs: i64) -> bool {
    captured.0.saturating_sub(occurred_at.0) > threshold_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_device_minus_server_and_follows_the_latest_report() {
        let s = estimate_offset(Timestamp(1_100), Timestamp(1_000));
        assert_eq!(s.offset, Some(100));
        let later = estimate_offset(Timestamp(2_000), Timestamp(2_010));
        assert_eq!(later.offset, Some(-10));
    }

    #[test]
    fn a_clock_corrected_backwards_is_followed_at_once() {
        // Two days fast, then put right by NTP: the next report is earlier
        // than the last, and the offset must drop to zero straight away.
        let fast = estimate_offset(Timestamp(1_000_000 + 172_800), Timestamp(1_000_000));
        assert_eq!(fast.offset, Some(172_800));
        let fixed = estimate_offset(Timestamp(1_000_600), Timestamp(1_000_600));
        assert_eq!(fixed.offset, Some(0));
    }

    #[test]
    fn extreme_readings_do_not_overflow() {
        let s = estimate_offset(Timestamp(i64::MIN), Timestamp(1));
        assert_eq!(s.offset, Some(i64::MIN));
        assert!(!is_late_entry(Timestamp(i64::MIN), Timestamp(i64::MAX), 0));
    }

    #[test]
    fn late_entry_uses_the_corrected_time() {
        let day = 86_400;
        // Device clock two days fast: captured 2 days "late" is on time.
        let captured = corrected_time(Timestamp(3 * day), 2 * day);
        assert!(!is_late_entry(captured, Timestamp(day / 2), day));
        assert!(is_late_entry(Timestamp(3 * day), Timestamp(day), day));
    }
}
