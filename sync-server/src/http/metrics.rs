//! Counters an operator can alert on: refused authentication and refused
//! load, since the process started, served as plain text on
//! `GET /v1/metrics` (the Prometheus text format, one counter a line).
//!
//! Each refusal is also logged at `warn` with the peer's address and never
//! with a token, key or body.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `POST /v1/enrol` refused: token unknown, expired or used.
    EnrolFailure,
    /// A chronology request with a missing, unknown or revoked API token.
    TokenFailure,
    /// A batch from an unknown device or with a header signature that
    /// does not verify.
    BatchAuthFailure,
    /// A connection closed at accept: all slots, or its address's share,
    /// taken.
    ConnectionRefused,
    /// A request body refused because the in-flight budget was spent.
    BodyRefused,
}

impl Event {
    const ALL: [Event; 5] = [
        Event::EnrolFailure,
        Event::TokenFailure,
        Event::BatchAuthFailure,
        Event::ConnectionRefused,
        Event::BodyRefused,
    ];

    /// The counter's name on `/v1/metrics`.
    pub const fn name(self) -> &'static str {
        match self {
            Event::EnrolFailure => "hearth_enrol_failures_total",
            Event::TokenFailure => "hearth_token_failures_total",
            Event::BatchAuthFailure => "hearth_batch_auth_failures_total",
            Event::ConnectionRefused => "hearth_connections_refused_total",
            Event::BodyRefused => "hearth_bodies_refused_total",
        }
    }

    /// What it counts, for the `# HELP` line.
    const fn help(self) -> &'static str {
        match self {
            Event::EnrolFailure => "enrolments refused (token unknown, expired or used)",
            Event::TokenFailure => {
                "chronology requests with a missing, unknown or revoked API token"
            }
            Event::BatchAuthFailure => {
                "batches from an unknown device or with a header signature that does not verify"
            }
            Event::ConnectionRefused => {
                "connections closed at accept (all slots or the address's share taken)"
            }
            Event::BodyRefused => "request bodies refused with 503 busy (in-flight budget spent)",
        }
    }
}

/// The counters.
#[derive(Debug, Default)]
pub struct Counters {
    counts: [AtomicU64; 5],
}

impl Counters {
    /// Counts one `event`.
    pub fn count(&self, event: Event) {
        self.counts[event as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of `event` so far.
    pub fn get(&self, event: Event) -> u64 {
        self.counts[event as usize].load(Ordering::Relaxed)
    }

    /// The text of `GET /v1/metrics`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in Event::ALL {
            let _ = writeln!(out, "# HELP {} {}", e.name(), e.help());
            let _ = writeln!(out, "# TYPE {} counter", e.name());
            let _ = writeln!(out, "{} {}", e.name(), self.get(e));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_one_line_per_counter() {
        let c = Counters::default();
        c.count(Event::TokenFailure);
        c.count(Event::TokenFailure);
        c.count(Event::EnrolFailure);
        let text = c.render();
        assert!(text.contains("\nhearth_token_failures_total 2\n"), "{text}");
        assert!(text.contains("\nhearth_enrol_failures_total 1\n"), "{text}");
        assert!(text.contains("\nhearth_bodies_refused_total 0\n"), "{text}");
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 5);
    }
}
