//! Limits and durations: [`Limits`] (with the web session's idle limit)
//! and [`parse_duration`] (the clap value parser of every duration flag).

use std::time::Duration;

use hearth_shared::MAX_SIGNED_SIZE;

use crate::ingest::DEFAULT_QUARANTINE_BUDGET;

/// What the server accepts, configurable with flags on `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The most records in one batch.
    pub max_batch_records: usize,
    /// The largest signed record, in bytes (at most [`MAX_SIGNED_SIZE`]).
    pub max_record_bytes: usize,
    /// How long a connection may take to finish TLS and send its headers.
    pub header_timeout: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// How long after the event a record may be captured before it is
    /// flagged a late entry, in seconds.
    pub late_entry_secs: i64,
    /// The most connections served at once; more are closed at accept.
    pub max_connections: usize,
    /// How many bytes of rejected records one device may have kept in
    /// quarantine before only their metadata is kept (and an alarm raised).
    pub quarantine_budget_bytes: u64,
    /// The most connections from one source address; more are closed at
    /// accept.
    pub max_connections_per_ip: usize,
    /// The request-body bytes held in memory at once, over all requests
    /// (at least `max_body_bytes`); past it a request gets 503 `busy`.
    pub max_body_bytes_in_flight: usize,
    /// How long a web session may go unused before it ends (the user signs
    /// in again); `serve --session-idle-minutes`.
    pub session_idle: Duration,
}

/// A web session's idle limit unless `serve --session-idle-minutes` says
/// otherwise: 30 minutes, as for a shared office computer.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
            max_batch_records: 256,
            max_record_bytes: MAX_SIGNED_SIZE,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            late_entry_secs: 24 * 3_600,
            max_connections: 256,
            quarantine_budget_bytes: DEFAULT_QUARANTINE_BUDGET,
            max_connections_per_ip: 32,
            max_body_bytes_in_flight: 32 * 1024 * 1024,
            session_idle: DEFAULT_SESSION_IDLE,
        }
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duration \"{0}\" is not understood; write a number and a unit, like 30s, 30m, 24h or 7d")]
pub struct BadDuration(pub String);

/// Parses a duration such as `30s`, `30m`, `24h` or `7d` (what
/// `humantime` reads, so `1h30m` too); zero is refused, since every
/// duration on the command line is a timeout or a validity that must
/// last.
pub fn parse_duration(s: &str) -> Result<Duration, BadDuration> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(BadDuration(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration(" 60s "), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
