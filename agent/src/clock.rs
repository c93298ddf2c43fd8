//! The current time: [`Clock`], with [`SystemClock`] the only code in the
//! agent that reads the system clock.
//!
//! Everything that needs "now" (capture's device time, the default
//! `occurred_at`, sync's clock reading) takes a `&dyn Clock`, so tests can
//! fix the time with [`FixedClock`].
//!
//! **Test hook** (cargo feature `test-hooks`, off by default):
//! [`SystemClock::from_env`] adds `HEARTH_CLOCK_SKEW_SECS` (signed whole
//! seconds, default 0) to the real time, so end-to-end tests can run a
//! device whose clock is wrong. Without the feature the variable is never
//! read and its name is not in the binary: a tablet's clock cannot be
//! moved through the environment.

use std::time::{SystemTime, UNIX_EPOCH};

use hearth_shared::Timestamp;

/// The environment variable that skews [`SystemClock`] (a test hook).
#[cfg(feature = "test-hooks")]
pub const SKEW_ENV: &str = "HEARTH_CLOCK_SKEW_SECS";

/// A source of the current time.
pub trait Clock {
    /// Now, in whole seconds, UTC.
    fn now(&self) -> Timestamp;
}

/// The real clock, plus an optional skew in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    skew_seconds: i64,
}

/// `HEARTH_CLOCK_SKEW_SECS` is not a signed integer.
#[cfg(feature = "test-hooks")]
#[derive(Debug, thiserror::Error)]
#[error("{SKEW_ENV} is {value:?}; it must be a whole number of seconds, like -90 or 3600")]
pub struct BadSkew {
    /// What the variable held.
    pub value: String,
}

/// Never happens without the `test-hooks` feature: nothing is read.
#[cfg(not(feature = "test-hooks"))]
#[derive(Debug, thiserror::Error)]
pub enum BadSkew {}

impl SystemClock {
    /// The system clock skewed by `skew_seconds`.
    pub const fn with_skew(skew_seconds: i64) -> Self {
        Self { skew_seconds }
    }

    /// The system clock skewed by `HEARTH_CLOCK_SKEW_SECS` (default 0)
    /// with the `test-hooks` feature; without it, the system clock.
    #[cfg(not(feature = "test-hooks"))]
    pub fn from_env() -> Result<Self, BadSkew> {
        Ok(Self::default())
    }

    /// The system clock skewed by `HEARTH_CLOCK_SKEW_SECS` (default 0).
    #[cfg(feature = "test-hooks")]
    pub fn from_env() -> Result<Self, BadSkew> {
        match std::env::var(SKEW_ENV) {
            Err(_) => Ok(Self::default()),
            Ok(v) if v.trim().is_empty() => Ok(Self::default()),
            Ok(v) => v
                .trim()
                .parse::<i64>()
                .map(Self::with_skew)
                .map_err(|_| BadSkew { value: v }),
        }
    }
}

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place the agent reads the system clock"
    )]
    fn now(&self) -> Timestamp {
        let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        };
        Timestamp(secs.saturating_add(self.skew_seconds))
    }
}

/// A clock that always says the same time: for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_moves_the_system_clock() {
        let real = SystemClock::default().now().0;
        let skewed = SystemClock::with_skew(3600).now().0;
        assert!((skewed - real - 3600).abs() <= 1, "{skewed} vs {real}");
    }
}
