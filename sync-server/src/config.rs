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

/// What one batch's frame may add to its records: the device, its clock
/// reading, the records' count and the header signature, each postcard
/// encoded at its longest.
const BATCH_FRAME_BYTES: usize = 256;

/// What one record's length prefix may add to it (postcard's longest
/// varint).
const RECORD_FRAME_BYTES: usize = 10;

impl Limits {
    /// The most records one batch may hold whatever their sizes: the batch
    /// limit, or fewer if the body limit holds fewer records of the largest
    /// size accepted. Every batch of at most this many records, each
    /// within `max_record_bytes`, fits `max_body_bytes`. The server says it
    /// in `Hearth-Batch-Records` so that an agent sends batches as large as
    /// the server takes (fewer commits) and never one it refuses. At
    /// least 1.
    pub fn batch_records_taken(&self) -> usize {
        let room = self.max_body_bytes.saturating_sub(BATCH_FRAME_BYTES);
        let fit = room / (self.max_record_bytes + RECORD_FRAME_BYTES);
        self.max_batch_records.min(fit).max(1)
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

    /// The advertised count is the batch limit unless the body limit
    /// holds fewer of the largest records; a batch of that many records of
    /// the largest size, encoded as an agent sends it, fits the body limit.
    #[test]
    fn the_batch_records_taken_fit_the_body_limit() {
        use hearth_shared::protocol::UploadBatch;
        use hearth_shared::{DeviceId, Timestamp};

        assert_eq!(Limits::default().batch_records_taken(), 256);
        let limited = |max_body_bytes, max_batch_records, max_record_bytes| Limits {
            max_body_bytes,
            max_batch_records,
            max_record_bytes,
            ..Limits::default()
        };
        assert_eq!(
            limited(4 << 20, 4, MAX_SIGNED_SIZE).batch_records_taken(),
            4
        );
        assert_eq!(limited(0, 256, MAX_SIGNED_SIZE).batch_records_taken(), 1);
        for limits in [
            limited(64 * 1024, 256, MAX_SIGNED_SIZE),
            limited(1 << 20, 10_000, MAX_SIGNED_SIZE),
            limited(100_000, 10_000, 300),
        ] {
            let n = limits.batch_records_taken();
            assert!(
                n < limits.max_batch_records,
                "{limits:?}: the body bounds it"
            );
            let batch = UploadBatch {
                device: DeviceId([0xff; 8]),
                device_time: Timestamp(i64::MIN),
                records: vec![vec![0xff; limits.max_record_bytes]; n],
                auth: vec![0xff; 64],
            };
            let body = postcard::to_allocvec(&batch).unwrap().len();
            assert!(body <= limits.max_body_bytes, "{n} records: {body} bytes");
            // Not wastefully small: within 4 % of the most records of that
            // size a body holds with a 100-byte frame and 2-byte prefixes.
            let most = (limits.max_body_bytes - 100) / (limits.max_record_bytes + 2);
            assert!(n * 100 >= most * 96, "{n} of {most}: {limits:?}");
        }
    }

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
