//! Counters an operator can alert on: refused authentication and refused
//! load, since the process started, served as plain text on
//! `GET /v1/metrics` (the Prometheus text format, one counter a line);
//! and, not refusals, the [`Wire`] totals of compressed bodies (protocol 2,
//! [`super::wire`]): how many, and their bytes on the wire and inflated.
//!
//! Each refusal is also logged at `warn` with the peer's address and never
//! with a token, key or body; at most [`LOGGED_PER_SECOND`] lines a second
//! for each kind, so that a flood cannot fill the disk with log lines or
//! stall the server on a slow log pipe ([`Counters::count`] says when to
//! log, and how many were left out since).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Log lines a second, per kind of event.
pub const LOGGED_PER_SECOND: u32 = 10;

hearth_shared::words! {
    /// What is counted; each word is the counter's name on `/v1/metrics`.
    pub enum Event {
        /// `POST /v1/enrol` refused: token unknown, expired or used.
        EnrolFailure => "hearth_enrol_failures_total",
        /// A chronology request with a missing, unknown or revoked API token.
        TokenFailure => "hearth_token_failures_total",
        /// A batch from an unknown device or with a header signature that
        /// does not verify.
        BatchAuthFailure => "hearth_batch_auth_failures_total",
        /// A connection closed at accept: all slots, or its address's share,
        /// taken.
        ConnectionRefused => "hearth_connections_refused_total",
        /// A request body refused because the in-flight budget was spent.
        BodyRefused => "hearth_bodies_refused_total",
    }
}

/// How many kinds of event are counted.
const EVENTS: usize = Event::ALL.len();

hearth_shared::words! {
    /// Compressed bodies on the device routes (protocol 2), counted but
    /// never logged; each word is the counter's name on `/v1/metrics`.
    pub enum Wire {
        /// Request bodies received with `Content-Encoding: deflate`.
        DeflatedRequests => "hearth_deflated_requests_total",
        /// Their bytes as received.
        DeflatedRequestWireBytes => "hearth_deflated_request_wire_bytes_total",
        /// Their bytes inflated (what the handlers read).
        DeflatedRequestPlainBytes => "hearth_deflated_request_plain_bytes_total",
        /// Answers sent with `Content-Encoding: deflate`.
        DeflatedAnswers => "hearth_deflated_answers_total",
        /// Their bytes as sent.
        DeflatedAnswerWireBytes => "hearth_deflated_answer_wire_bytes_total",
        /// Their bytes before compression.
        DeflatedAnswerPlainBytes => "hearth_deflated_answer_plain_bytes_total",
    }
}

impl Wire {
    /// What it counts, for the `# HELP` line.
    const fn help(self) -> &'static str {
        match self {
            Wire::DeflatedRequests => "request bodies received with Content-Encoding: deflate",
            Wire::DeflatedRequestWireBytes => "bytes of those bodies as received",
            Wire::DeflatedRequestPlainBytes => "bytes of those bodies inflated",
            Wire::DeflatedAnswers => "answers sent with Content-Encoding: deflate",
            Wire::DeflatedAnswerWireBytes => "bytes of those answers as sent",
            Wire::DeflatedAnswerPlainBytes => "bytes of those answers before compression",
        }
    }
}

impl Event {
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

/// Which log lines of one kind are written in the current second.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LogWindow {
    second: u64,
    logged: u32,
    left_out: u64,
}

impl LogWindow {
    /// Whether an event at `second` (since start) is logged; if so, how
    /// many were left out before it.
    pub fn admit(&mut self, second: u64) -> Option<u64> {
        if second != self.second {
            self.second = second;
            self.logged = 0;
        }
        if self.logged >= LOGGED_PER_SECOND {
            self.left_out += 1;
            return None;
        }
        self.logged += 1;
        Some(std::mem::take(&mut self.left_out))
    }
}

/// The counters.
#[derive(Debug)]
pub struct Counters {
    counts: [AtomicU64; EVENTS],
    wire: [AtomicU64; Wire::ALL.len()],
    windows: [Mutex<LogWindow>; EVENTS],
    started: Instant,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            counts: Default::default(),
            wire: Default::default(),
            windows: Default::default(),
            started: Instant::now(),
        }
    }
}

impl Counters {
    /// Counts one `event`. `Some(left_out)` if it should be logged (after
    /// `left_out` that were not), `None` if this second's lines are spent.
    #[must_use = "log the event when this says so"]
    pub fn count(&self, event: Event) -> Option<u64> {
        self.counts[event as usize].fetch_add(1, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs();
        self.windows[event as usize]
            .lock()
            .ok()
            .and_then(|mut w| w.admit(second))
    }

    /// The count of `event` so far.
    pub fn get(&self, event: Event) -> u64 {
        self.counts[event as usize].load(Ordering::Relaxed)
    }

    /// Adds `n` to the wire total `what`.
    pub fn add(&self, what: Wire, n: u64) {
        self.wire[what as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// The wire total `what` so far.
    pub fn wire(&self, what: Wire) -> u64 {
        self.wire[what as usize].load(Ordering::Relaxed)
    }

    /// The text of `GET /v1/metrics`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for &e in Event::ALL {
            let _ = writeln!(out, "# HELP {e} {}", e.help());
            let _ = writeln!(out, "# TYPE {e} counter");
            let _ = writeln!(out, "{e} {}", self.get(e));
        }
        for &w in Wire::ALL {
            let _ = writeln!(out, "# HELP {w} {}", w.help());
            let _ = writeln!(out, "# TYPE {w} counter");
            let _ = writeln!(out, "{w} {}", self.wire(w));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_limited_per_second_and_say_how_many_were_left_out() {
        let mut w = LogWindow::default();
        for _ in 0..LOGGED_PER_SECOND {
            assert_eq!(w.admit(0), Some(0));
        }
        assert_eq!(w.admit(0), None);
        assert_eq!(w.admit(0), None);
        assert_eq!(
            w.admit(1),
            Some(2),
            "the next second's first line says 2 were left out"
        );
        assert_eq!(w.admit(1), Some(0));
    }

    #[test]
    fn counts_render_one_line_per_counter() {
        let c = Counters::default();
        let _ = c.count(Event::TokenFailure);
        let _ = c.count(Event::TokenFailure);
        let _ = c.count(Event::EnrolFailure);
        c.add(Wire::DeflatedRequestWireBytes, 300);
        c.add(Wire::DeflatedRequestWireBytes, 40);
        let text = c.render();
        assert!(
            text.contains("\nhearth_deflated_request_wire_bytes_total 340\n"),
            "{text}"
        );
        assert!(text.contains("\nhearth_token_failures_total 2\n"), "{text}");
        assert!(text.contains("\nhearth_enrol_failures_total 1\n"), "{text}");
        assert!(text.contains("\nhearth_bodies_refused_total 0\n"), "{text}");
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 11);
    }
}
