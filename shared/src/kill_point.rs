//! Kill points: named places where a test build of the agent or the server
//! `kill -9`s itself, so the crash tests and the soak harness
//! (`tests/src/soak/`) can stop a process at an exact moment instead of
//! guessing one with a timer.
//!
//! [`reach`] is called at each point with the point's name. With the
//! `test-hooks` feature it reads `HEARTH_KILL_AT` once per process:
//! `<point>` or `<point>:<n>` sends SIGKILL to the process itself (via
//! rustix, not `abort`: no unwinding, no destructors, no flush, exactly
//! what `kill -9` from outside does) the `n`-th time (1-based, default 1)
//! the named point is reached. Without the feature [`reach`] is empty and
//! neither the variable's name nor any parsing is in the binary
//! (`scripts/no-test-hooks.sh` checks release builds for the name).
//!
//! The points (see `docs/reliability.md`): the agent's
//! `capture.before-commit`, `capture.after-commit`, `sync.before-send`,
//! `sync.after-response`, `sync.after-mark`; the server's
//! `ingest.after-verify`, `ingest.before-commit`, `ingest.after-commit`,
//! `receipt.before-send`, `checkpoint`.

/// The environment variable that arms a kill point (test builds only).
#[cfg(feature = "test-hooks")]
pub const KILL_AT_ENV: &str = "HEARTH_KILL_AT";

/// Marks the kill point `point`: a test build armed for it by
/// `HEARTH_KILL_AT` kills itself here; anything else goes on.
#[inline]
pub fn reach(point: &'static str) {
    #[cfg(feature = "test-hooks")]
    armed::reach(point);
    #[cfg(not(feature = "test-hooks"))]
    let _ = point;
}

/// A parsed `HEARTH_KILL_AT`: the point and on which arrival to kill.
#[cfg(any(test, feature = "test-hooks"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillAt {
    /// The point's name.
    pub point: alloc::string::String,
    /// Which arrival at the point kills (1-based).
    pub nth: u64,
}

/// Parses `<point>` or `<point>:<n>` (`n` ≥ 1). `None` for an empty point
/// or an `n` that is not a positive whole number.
#[cfg(any(test, feature = "test-hooks"))]
pub fn parse(value: &str) -> Option<KillAt> {
    let (point, nth) = match value.rsplit_once(':') {
        Some((point, n)) => (point, n.parse::<u64>().ok().filter(|&n| n >= 1)?),
        None => (value, 1),
    };
    if point.is_empty() {
        return None;
    }
    Some(KillAt {
        point: point.into(),
        nth,
    })
}

#[cfg(feature = "test-hooks")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{KILL_AT_ENV, KillAt, parse};

    static ARMED: OnceLock<Option<KillAt>> = OnceLock::new();
    static ARRIVALS: AtomicU64 = AtomicU64::new(0);

    fn armed() -> Option<&'static KillAt> {
        ARMED
            .get_or_init(|| {
                let value = std::env::var(KILL_AT_ENV).ok()?;
                let parsed = parse(&value);
                if parsed.is_none() {
                    // A test set it wrong: say so rather than silently
                    // running a trial with no kill.
                    panic!("{KILL_AT_ENV}={value:?}: expected <point> or <point>:<n> with n ≥ 1");
                }
                parsed
            })
            .as_ref()
    }

    pub(super) fn reach(point: &'static str) {
        let Some(at) = armed() else { return };
        if at.point != point || ARRIVALS.fetch_add(1, Ordering::SeqCst) + 1 != at.nth {
            return;
        }
        eprintln!("kill point {point} (arrival {}): SIGKILL", at.nth);
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL cannot be caught; should the call itself fail, die anyway.
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_alone_kills_on_its_first_arrival() {
        let at = parse("sync.before-send").unwrap();
        assert_eq!((at.point.as_str(), at.nth), ("sync.before-send", 1));
    }

    #[test]
    fn a_count_names_the_arrival() {
        let at = parse("ingest.after-commit:3").unwrap();
        assert_eq!((at.point.as_str(), at.nth), ("ingest.after-commit", 3));
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in ["", ":2", "checkpoint:0", "checkpoint:x", "checkpoint:-1"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
