//! A trial's plan, pure: a seed in, everything the trial will do out.
//!
//! [`trial_seed`] derives each trial's own seed from the run's seed and
//! the trial's number, so one failing trial replays alone
//! (`--replay 0x…`). [`plan`] turns a trial seed into a [`TrialPlan`]:
//! the devices and their clock skews, the interleaved [`Step`]s (captures
//! and syncs), how often the proxy passes traffic untouched, and the one
//! [`Kill`] of the trial (a kill point, or sometimes a wall-clock moment).
//! Nothing here touches a process, a file or a clock.

use crate::rng::Rng;

/// The agent's kill points (`HEARTH_KILL_AT`), by the step that reaches them.
pub const AGENT_CAPTURE_POINTS: [&str; 2] = ["capture.before-commit", "capture.after-commit"];
/// The agent's kill points reached during a sync.
pub const AGENT_SYNC_POINTS: [&str; 3] =
    ["sync.before-send", "sync.after-response", "sync.after-mark"];
/// The server's kill points.
pub const SERVER_POINTS: [&str; 5] = [
    "ingest.after-verify",
    "ingest.before-commit",
    "ingest.after-commit",
    "receipt.before-send",
    "checkpoint",
];

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// The children records are about (valid NHS numbers; two, so a trial has
/// two chronologies to compare).
pub const CHILDREN: [&str; 2] = ["nhs:9434765919", "nhs:4010232137"];

/// One device of a trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlan {
    /// The agency code it enrols with.
    pub agency: String,
    /// Its worker.
    pub worker: String,
    /// How far its clock runs off real time (`HEARTH_CLOCK_SKEW_SECS`).
    pub skew_secs: i64,
}

/// The record kinds a trial captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A daily presentation.
    Daily,
    /// A concern.
    Concern,
}

/// One thing a device does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `record --json -`.
    Capture {
        /// Which device.
        device: usize,
        /// Index into [`CHILDREN`].
        child: usize,
        /// When it happened: this many minutes before real time.
        minutes_ago: i64,
        /// Its kind.
        kind: Kind,
    },
    /// `sync`, through the fault proxy.
    Sync {
        /// Which device.
        device: usize,
    },
}

impl Step {
    /// The device that runs the step.
    pub fn device(self) -> usize {
        match self {
            Self::Capture { device, .. } | Self::Sync { device } => device,
        }
    }
}

/// Which process dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The agent run of step [`Kill::step`].
    Agent,
    /// The server.
    Server,
}

/// How the kill is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At a kill point: the `nth` arrival at `point` (`HEARTH_KILL_AT`).
    Point {
        /// The point's name.
        point: &'static str,
        /// Which arrival (1-based).
        nth: u64,
    },
    /// `kill -9` from outside, this many milliseconds after step
    /// [`Kill::step`]'s agent run starts.
    WallClock {
        /// The delay.
        after_ms: u64,
    },
}

/// The trial's one `kill -9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kill {
    /// Agent or server.
    pub target: Target,
    /// Point or wall-clock moment.
    pub when: When,
    /// The step it belongs to: the agent run armed or killed, or for the
    /// server the step from which it is armed (a point) or during whose
    /// sync it is killed (wall clock).
    pub step: usize,
}

impl Kill {
    /// How the report names it: the point, or `wall-clock:<target>`.
    pub fn label(&self) -> String {
        match (self.when, self.target) {
            (When::Point { point, .. }, Target::Agent) => format!("agent {point}"),
            (When::Point { point, .. }, Target::Server) => format!("server {point}"),
            (When::WallClock { .. }, Target::Agent) => "agent wall-clock".into(),
            (When::WallClock { .. }, Target::Server) => "server wall-clock".into(),
        }
    }
}

/// Which proxy carries a trial's faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// [`crate::proxy::FaultProxy`]: TLS passes through; cuts and delays at
    /// TLS-record boundaries.
    Tcp,
    /// [`crate::mitm::HttpFaultProxy`]: HTTP-aware, adds duplicate, reorder
    /// and stale responses.
    Http,
}

impl ProxyKind {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Http => "http",
        }
    }
}

/// The proxy of the trial seeded `seed`, half each, drawn from a stream of
/// its own so that adding it left every other choice of a seed's plan as
/// it was.
pub fn proxy_kind(seed: u64) -> ProxyKind {
    if Rng::new(seed ^ 0x6874_7470_2f74_6370).below(2) == 0 {
        ProxyKind::Tcp
    } else {
        ProxyKind::Http
    }
}

/// Everything one trial does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialPlan {
    /// The trial's own seed (what `--replay` takes).
    pub seed: u64,
    /// The devices, 2 to 4.
    pub devices: Vec<DevicePlan>,
    /// The captures and syncs, interleaved.
    pub steps: Vec<Step>,
    /// The kill.
    pub kill: Kill,
    /// How often the proxy passes a connection untouched, percent.
    pub pass_percent: u64,
    /// The seed of the proxy's fault schedule.
    pub fault_seed: u64,
    /// The proxy.
    pub proxy: ProxyKind,
}

/// Trial `index`'s seed in a run seeded `run_seed` (SplitMix64 of both,
/// so neighbouring trials share nothing).
pub fn trial_seed(run_seed: u64, index: u64) -> u64 {
    let mut rng = Rng::new(run_seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    rng.next_u64()
}

/// The skews a device may have: on time, minutes, hours or days off.
fn skew(rng: &mut Rng) -> i64 {
    let sign = if rng.below(2) == 0 { 1 } else { -1 };
    sign * match rng.below(4) {
        0 => 0,
        1 => 60 * (1 + rng.below(30) as i64),
        2 => HOUR * (1 + rng.below(12) as i64),
        _ => DAY * (1 + rng.below(3) as i64),
    }
}

/// The plan of the trial seeded `seed`.
pub fn plan(seed: u64) -> TrialPlan {
    let mut rng = Rng::new(seed);
    let agencies = ["HV-NORTH", "NURSERY-12", "CSC-EAST", "GP-WEST"];
    let count = 2 + rng.below(3) as usize;
    let devices = (0..count)
        .map(|i| DevicePlan {
            agency: agencies[i].to_string(),
            worker: format!("worker.{i}"),
            skew_secs: skew(&mut rng),
        })
        .collect::<Vec<_>>();
    let steps = steps(&mut rng, count);
    let kill = kill(&mut rng, &steps);
    TrialPlan {
        seed,
        devices,
        steps,
        kill,
        pass_percent: 30 + rng.below(50),
        fault_seed: rng.next_u64(),
        proxy: proxy_kind(seed),
    }
}

/// Two to four captures per device, each device syncing after some of
/// them, shuffled together; every device syncs at least once.
fn steps(rng: &mut Rng, devices: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    for device in 0..devices {
        for _ in 0..2 + rng.below(3) {
            steps.push(Step::Capture {
                device,
                child: rng.below(CHILDREN.len() as u64) as usize,
                minutes_ago: 1 + rng.below(7 * 24 * 60) as i64,
                kind: if rng.below(2) == 0 {
                    Kind::Daily
                } else {
                    Kind::Concern
                },
            });
            if rng.below(2) == 0 {
                steps.push(Step::Sync { device });
            }
        }
        steps.push(Step::Sync { device });
    }
    rng.shuffle(&mut steps);
    steps
}

/// The kill: a kill point three times in four, else a wall-clock moment;
/// the agent or the server, half each.
fn kill(rng: &mut Rng, steps: &[Step]) -> Kill {
    let target = if rng.below(2) == 0 {
        Target::Agent
    } else {
        Target::Server
    };
    let wall_clock = rng.below(4) == 0;
    let syncs: Vec<usize> = indices(steps, |s| matches!(s, Step::Sync { .. }));
    let captures: Vec<usize> = indices(steps, |s| matches!(s, Step::Capture { .. }));
    let pick = |rng: &mut Rng, from: &[usize]| from[rng.below(from.len() as u64) as usize];
    if wall_clock {
        // The agent dies in any step; the server during a sync.
        let step = match target {
            Target::Agent => rng.below(steps.len() as u64) as usize,
            Target::Server => pick(rng, &syncs),
        };
        return Kill {
            target,
            when: When::WallClock {
                after_ms: rng.below(400),
            },
            step,
        };
    }
    match target {
        Target::Agent => {
            let at = rng.below((AGENT_CAPTURE_POINTS.len() + AGENT_SYNC_POINTS.len()) as u64);
            let (point, step) = match AGENT_CAPTURE_POINTS.get(at as usize) {
                Some(&p) => (p, pick(rng, &captures)),
                None => {
                    let p = AGENT_SYNC_POINTS[at as usize - AGENT_CAPTURE_POINTS.len()];
                    (p, pick(rng, &syncs))
                }
            };
            Kill {
                target,
                when: When::Point { point, nth: 1 },
                step,
            }
        }
        Target::Server => Kill {
            target,
            when: When::Point {
                point: SERVER_POINTS[rng.below(SERVER_POINTS.len() as u64) as usize],
                nth: 1 + rng.below(2),
            },
            // Armed from the start: the trial's first sync that commits
            // reaches the points.
            step: 0,
        },
    }
}

fn indices(steps: &[Step], keep: impl Fn(&Step) -> bool) -> Vec<usize> {
    (0..steps.len()).filter(|&i| keep(&steps[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_plan_every_time() {
        for s in 0..50 {
            assert_eq!(plan(trial_seed(7, s)), plan(trial_seed(7, s)));
        }
        assert_ne!(plan(trial_seed(7, 0)), plan(trial_seed(7, 1)));
    }

    #[test]
    fn every_plan_has_two_to_four_devices_that_each_capture_and_sync() {
        for s in 0..500 {
            let p = plan(trial_seed(1, s));
            assert!((2..=4).contains(&p.devices.len()), "{p:?}");
            for d in 0..p.devices.len() {
                let of = |sync: bool| {
                    p.steps
                        .iter()
                        .filter(|st| st.device() == d && matches!(st, Step::Sync { .. }) == sync)
                        .count()
                };
                assert!(of(false) >= 2 && of(true) >= 1, "{p:?}");
            }
        }
    }

    #[test]
    fn an_agent_kill_point_is_armed_on_a_step_that_reaches_it() {
        let mut points = std::collections::BTreeSet::new();
        for s in 0..2000 {
            let p = plan(trial_seed(3, s));
            points.insert(p.kill.label());
            if let (Target::Agent, When::Point { point, .. }) = (p.kill.target, p.kill.when) {
                let step = p.steps[p.kill.step];
                let capture = AGENT_CAPTURE_POINTS.contains(&point);
                assert_eq!(matches!(step, Step::Capture { .. }), capture, "{p:?}");
            }
        }
        // Every point and both wall-clock kinds occur.
        assert_eq!(
            points.len(),
            AGENT_CAPTURE_POINTS.len() + AGENT_SYNC_POINTS.len() + SERVER_POINTS.len() + 2,
            "{points:?}"
        );
    }

    #[test]
    fn both_proxies_are_chosen() {
        let http = (0..200)
            .filter(|&s| plan(trial_seed(9, s)).proxy == ProxyKind::Http)
            .count();
        assert!((60..140).contains(&http), "{http} of 200");
    }

    #[test]
    fn skews_reach_days_apart() {
        let mut rng = Rng::new(5);
        let skews: Vec<i64> = (0..200).map(|_| skew(&mut rng)).collect();
        assert!(skews.iter().any(|s| s.abs() >= DAY));
        assert!(skews.iter().any(|s| (HOUR..DAY).contains(&s.abs())));
        assert!(skews.contains(&0));
    }
}
