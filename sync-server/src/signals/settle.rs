//! When the signals thread recomputes after a run of commits (pure: no
//! clock, no thread; [`crate::signals::refresh::Refresher`] drives it).
//!
//! A tablet back from a week out of signal sends its backlog as a run of
//! batches, one commit each, a few milliseconds apart. Recomputing the
//! children a batch names after every commit reads each family's whole
//! history once per batch, and competes with the verification and the
//! writer for the same cores: in the backlog benchmark it was most of the
//! server's CPU (issue 20). So a wake-up waits for the commits to settle,
//! [`QUIET`] with none, and a steady stream of them holds the recompute
//! back at most [`AT_MOST`].
//!
//! Nobody reads a stale signal meanwhile: every read of signals recomputes
//! the stale families it shows first ([`crate::signals::refresh::current`],
//! [`crate::signals::refresh::caseload`]). The thread only saves a reader
//! that work.

use std::time::{Duration, Instant};

/// How long after the last commit the recompute starts: longer than the
/// gap between one tablet's batches, short enough that a manager opening
/// the caseload after a sync rarely waits for it.
pub const QUIET: Duration = Duration::from_millis(250);

/// The longest a stream of commits with no quiet gap (several tablets
/// syncing at once) holds a recompute back after the first of them.
pub const AT_MOST: Duration = Duration::from_secs(2);

/// A run of wake-ups not yet acted on: when its first and last came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settle {
    first: Instant,
    last: Instant,
}

impl Settle {
    /// A run begun by a wake-up at `at`.
    pub fn new(at: Instant) -> Self {
        Self {
            first: at,
            last: at,
        }
    }

    /// Another wake-up, at `at`, joins the run.
    pub fn woken(&mut self, at: Instant) {
        self.last = self.last.max(at);
    }

    /// When the recompute is due: [`QUIET`] after the last wake-up, and
    /// never later than [`AT_MOST`] after the first.
    pub fn due(&self) -> Instant {
        (self.last + QUIET).min(self.first + AT_MOST)
    }

    /// How long to wait at `now` for another wake-up before recomputing;
    /// `None` when the recompute is due.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        let due = self.due();
        (now < due).then(|| due - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_lone_commit_is_recomputed_after_the_quiet_time() {
        let t0 = Instant::now();
        let s = Settle::new(t0);
        assert_eq!(s.due(), t0 + QUIET);
        assert_eq!(s.wait(t0), Some(QUIET));
        assert_eq!(s.wait(t0 + ms(100)), Some(QUIET - ms(100)));
        assert_eq!(s.wait(t0 + QUIET), None);
    }

    #[test]
    fn a_burst_of_batches_is_recomputed_once_after_its_last() {
        let t0 = Instant::now();
        let mut s = Settle::new(t0);
        // A backlog: a commit every 20 ms for one second.
        for i in 1..=50 {
            let at = t0 + ms(20 * i);
            assert!(
                s.wait(at).is_some(),
                "due in the middle of the burst at {i}"
            );
            s.woken(at);
        }
        assert_eq!(s.due(), t0 + ms(1_000) + QUIET);
        assert_eq!(s.wait(t0 + ms(1_000) + QUIET), None);
    }

    #[test]
    fn a_stream_with_no_gap_is_held_back_at_most_the_cap() {
        let t0 = Instant::now();
        let mut s = Settle::new(t0);
        let mut at = t0;
        while s.wait(at).is_some() {
            s.woken(at);
            at += ms(10);
            assert!(at <= t0 + AT_MOST, "held back past the cap");
        }
        assert_eq!(s.due(), t0 + AT_MOST);
    }

    #[test]
    fn a_wake_up_out_of_order_does_not_pull_the_recompute_forward() {
        let t0 = Instant::now();
        let mut s = Settle::new(t0 + ms(100));
        s.woken(t0);
        assert_eq!(s.due(), t0 + ms(100) + QUIET);
    }
}
