//! The agent's clock: [`from_env`], the [`SystemClock`] a command runs
//! with. The clock itself ([`Clock`], [`SystemClock`], [`FixedClock`]) is
//! `hearth_shared::clock`, shared with the server, so both read seconds
//! before 1970 the same way; it is re-exported here for the modules and
//! tools that name it `hearth_agent::clock::…`.
//!
//! Everything that needs "now" (capture's device time, the default
//! `occurred_at`, sync's clock reading) takes a `&dyn Clock`, so tests can
//! fix the time with [`FixedClock`].
//!
//! **Test hook** (cargo feature `test-hooks`, off by default):
//! [`from_env`] adds `HEARTH_CLOCK_SKEW_SECS` (signed whole seconds,
//! default 0) to the real time, so end-to-end tests can run a device whose
//! clock is wrong. Without the feature the variable is never read and its
//! name is not in the binary: a tablet's clock cannot be moved through the
//! environment.

pub use hearth_shared::clock::{Clock, FixedClock, SystemClock};

/// The environment variable that skews [`SystemClock`] (a test hook).
#[cfg(feature = "test-hooks")]
pub const SKEW_ENV: &str = "HEARTH_CLOCK_SKEW_SECS";

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

/// The system clock skewed by `HEARTH_CLOCK_SKEW_SECS` (default 0) with
/// the `test-hooks` feature; without it, the system clock.
#[cfg(not(feature = "test-hooks"))]
pub fn from_env() -> Result<SystemClock, BadSkew> {
    Ok(SystemClock::default())
}

/// The system clock skewed by `HEARTH_CLOCK_SKEW_SECS` (default 0).
#[cfg(feature = "test-hooks")]
pub fn from_env() -> Result<SystemClock, BadSkew> {
    match std::env::var(SKEW_ENV) {
        Err(_) => Ok(SystemClock::default()),
        Ok(v) if v.trim().is_empty() => Ok(SystemClock::default()),
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .map(SystemClock::with_skew)
            .map_err(|_| BadSkew { value: v }),
    }
}
