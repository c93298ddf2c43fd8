//! The clock, behind a trait so that tests fix time and nothing reads the
//! system clock but [`SystemClock`] (clippy's `disallowed_methods` enforces
//! it across the workspace). The agent and the server share it: the agent
//! stamps captures with it, the server stamps receipts and reads.
//!
//! Seconds since 1970 may be negative: a tablet whose clock was reset to
//! 1969 reports the negative second it believes, and the server's clock
//! estimate corrects it. Both sides read it the same way.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Timestamp;

/// Where the current time comes from.
pub trait Clock: Send + Sync {
    /// Now, in whole seconds since 1970 (negative before).
    fn now(&self) -> Timestamp;
}

/// The operating system's clock, optionally moved by a fixed skew (the
/// agent's tests use it to stand in for a wrong tablet clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock {
    skew_seconds: i64,
}

impl SystemClock {
    /// The system clock moved by `skew_seconds`.
    pub const fn with_skew(skew_seconds: i64) -> Self {
        Self { skew_seconds }
    }
}

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place Hearth reads the system clock"
    )]
    fn now(&self) -> Timestamp {
        Timestamp(since_epoch(SystemTime::now()).saturating_add(self.skew_seconds))
    }
}

/// Whole seconds from 1970 to `t`, negative before 1970.
fn since_epoch(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// A clock that always reads the same time (tests, replays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn before_1970_is_negative_seconds() {
        let before = UNIX_EPOCH - Duration::from_secs(90);
        assert_eq!(since_epoch(before), -90);
        assert_eq!(since_epoch(UNIX_EPOCH + Duration::from_secs(90)), 90);
    }

    #[test]
    fn skew_moves_the_system_clock() {
        let real = SystemClock::default().now().0;
        let skewed = SystemClock::with_skew(3600).now().0;
        assert!((skewed - real - 3600).abs() <= 1, "{skewed} vs {real}");
    }

    #[test]
    fn a_fixed_clock_reads_its_time() {
        assert_eq!(FixedClock(Timestamp(-5)).now(), Timestamp(-5));
    }
}
