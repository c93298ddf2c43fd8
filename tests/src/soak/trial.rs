//! One trial with the real binaries: [`run`] takes a [`TrialPlan`], starts
//! a server and the devices behind a fault proxy, runs the steps with the
//! plan's one `kill -9`, restarts what died, syncs every device with the
//! faults off until all converge, then gathers what the invariants look at
//! ([`Observed`]) and checks them.
//!
//! "Reported captured" is a `record` run that exited 0 having printed its
//! record id (its success line). What a device holds and which records it
//! has marked synced come from its own `list --json`, and each record's
//! hash from `show --json`. The server's side is read where it lives: the
//! `records` table of its SQLite store (each stored row's bytes, hashed
//! again here), and its `quarantine`, `devices` and `chronology`
//! commands.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use hearth_shared::Timestamp;
use serde_json::{Value, json};

use super::FaultInjector;
use super::invariants::{DeviceRecord, DeviceState, Observed, ServerRecord, Violation, check};
use super::plan::{CHILDREN, Kind, ProxyKind, Step, Target, TrialPlan, When};
use crate::agent::Agent;
use crate::mitm::HttpFaultProxy;
use crate::proxy::FaultProxy;
use crate::rng::Rng;
use crate::server::Server;

/// The kill-point variable the binaries read (test builds only).
const KILL_AT: &str = "HEARTH_KILL_AT";
/// Longest a single agent run may take before the trial is called hung.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);
/// Fault-free rounds of syncing every device before giving up.
const CONVERGE_ROUNDS: usize = 6;
/// The stated reason of the harness's reads.
const REASON: &str = "soak trial invariant check";

/// What one trial did and found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The trial's seed.
    pub seed: u64,
    /// Devices.
    pub devices: usize,
    /// Records reported captured.
    pub captured: usize,
    /// Faults by proxy and kind (`tcp drop-on-accept`, `http stale`, …;
    /// `pass` included).
    pub faults: BTreeMap<String, u64>,
    /// The planned kill, as [`super::plan::Kill::label`] names it.
    pub kill: String,
    /// Whether the kill happened (a point not reached, or a wall-clock
    /// moment after the run had ended, does not kill).
    pub killed: bool,
    /// The broken invariants; empty when all hold.
    pub violations: Vec<Violation>,
    /// Wall time.
    pub elapsed: Duration,
}

/// A running agent step's end.
struct Ran {
    status: ExitStatus,
    stdout: String,
    /// Killed from outside by the harness (a wall-clock kill).
    killed_by_us: bool,
}

impl Ran {
    fn killed_by_point(&self) -> bool {
        self.status.signal() == Some(9) && !self.killed_by_us
    }
}

/// Spawns `cmd`, feeds it `input`, and `kill -9`s it after `kill_after`
/// if it is still running then.
fn run_agent(mut cmd: Command, input: Option<&str>, kill_after: Option<Duration>) -> Ran {
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hearth-agent");
    if let Some(input) = input {
        // A kill point may end the process before it reads: ignore EPIPE.
        let _ = child
            .stdin
            .take()
            .expect("piped")
            .write_all(input.as_bytes());
    }
    let start = Instant::now();
    let mut killed_by_us = false;
    loop {
        if child.try_wait().expect("wait for hearth-agent").is_some() {
            break;
        }
        let elapsed = start.elapsed();
        if kill_after.is_some_and(|k| elapsed >= k) && !killed_by_us {
            let _ = child.kill();
            killed_by_us = true;
        }
        if elapsed >= STEP_TIMEOUT {
            let _ = child.kill();
            panic!("hearth-agent hung for {elapsed:?}");
        }
        sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().expect("collect hearth-agent");
    Ran {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        killed_by_us,
    }
}

/// Real seconds since the epoch: the time the devices' skews are off.
#[allow(clippy::disallowed_methods)] // the harness decides what real time is
fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The JSON form of a capture step.
fn record_json(child: usize, occurred: i64, kind: Kind, n: usize) -> Value {
    let child = CHILDREN[child];
    let occurred_at = Timestamp(occurred).to_string();
    match kind {
        Kind::Daily => json!({
            "kind": "daily_presentation", "children": [child], "occurred_at": occurred_at,
            "headline": format!("Arrival {n}"), "attendance": "present", "hungry": true,
        }),
        Kind::Concern => json!({
            "kind": "concern", "children": [child], "occurred_at": occurred_at,
            "headline": format!("Concern {n}"), "category": "neglect",
            "seen_or_said": "Hungry again", "action": "referred",
            "action_detail": "Children's social care",
        }),
    }
}

/// The trial's processes.
struct Rig<'a> {
    server: Server,
    proxy: &'a dyn FaultInjector,
    agents: Vec<Agent>,
    reported: Vec<Vec<String>>,
    killed: bool,
}

impl Rig<'_> {
    /// Restarts the server if it has died (a kill point), without the
    /// kill point armed again.
    fn revive_server(&mut self) {
        if !self.server.is_running() {
            self.server.kill();
            self.server.set_env(KILL_AT, None);
            self.server.restart();
            self.killed = true;
        }
    }

    /// Runs step `index` of `plan`, applying the kill if it is this step's.
    fn step(&mut self, plan: &TrialPlan, index: usize, now: i64) {
        let step = plan.steps[index];
        let agent = &self.agents[step.device()];
        let kill = plan.kill;
        let ours = kill.step == index;
        let mut cmd = match step {
            Step::Capture { .. } => agent.command(&["record", "--json", "-"]),
            Step::Sync { .. } => agent.command(&["sync"]),
        };
        let mut kill_after = None;
        match (ours, kill.target, kill.when) {
            (true, Target::Agent, When::Point { point, nth }) => {
                cmd.env(KILL_AT, format!("{point}:{nth}"));
            }
            (true, Target::Agent, When::WallClock { after_ms }) => {
                kill_after = Some(Duration::from_millis(after_ms));
            }
            _ => {}
        }
        let input = match step {
            Step::Capture {
                child,
                minutes_ago,
                kind,
                ..
            } => Some(record_json(child, now - 60 * minutes_ago, kind, index).to_string()),
            Step::Sync { .. } => None,
        };
        let ran = if let (true, Target::Server, When::WallClock { after_ms }) =
            (ours, kill.target, kill.when)
        {
            // The server dies from outside while this sync runs.
            let handle = std::thread::scope(|s| {
                let sync = s.spawn(|| run_agent(cmd, input.as_deref(), None));
                sleep(Duration::from_millis(after_ms));
                self.server.kill();
                self.killed = true;
                sync.join().expect("the sync thread")
            });
            self.server.restart();
            handle
        } else {
            run_agent(cmd, input.as_deref(), kill_after)
        };
        if ours && kill.target == Target::Agent {
            self.killed = ran.killed_by_us || ran.killed_by_point();
        }
        if matches!(step, Step::Capture { .. }) && ran.status.success() {
            let id = ran.stdout.trim();
            if !id.is_empty() {
                self.reported[step.device()].push(id.to_string());
            }
        }
        self.revive_server();
    }

    /// Syncs every device, faults off, until one round in which every
    /// sync succeeds; false if that never happens.
    fn converge(&mut self) -> bool {
        self.proxy.calm();
        for _ in 0..CONVERGE_ROUNDS {
            let mut all = true;
            for i in 0..self.agents.len() {
                let ran = run_agent(self.agents[i].command(&["sync"]), None, None);
                all &= ran.status.success();
                self.revive_server();
            }
            if all {
                return true;
            }
        }
        false
    }
}

/// Runs `plan`.
pub fn run(plan: &TrialPlan) -> Outcome {
    let start = Instant::now();
    let armed = match (plan.kill.target, plan.kill.when) {
        (Target::Server, When::Point { point, nth }) => Some(format!("{point}:{nth}")),
        _ => None,
    };
    let env: Vec<(&str, &str)> = armed.iter().map(|a| (KILL_AT, a.as_str())).collect();
    let server = Server::start_with_env(&[], &env);
    let proxy: Box<dyn FaultInjector> = match plan.proxy {
        ProxyKind::Tcp => Box::new(FaultProxy::start(server.addr())),
        ProxyKind::Http => Box::new(HttpFaultProxy::start(server.addr(), server.data())),
    };
    let via = format!("https://{}", proxy.addr());
    let agents = plan
        .devices
        .iter()
        .map(|d| {
            let mut agent = Agent::new(d.skew_secs);
            agent.set_env("HEARTH_INSECURE_TEST_KDF", "1");
            agent.init(&d.agency, &d.worker);
            let token = server.enrol_token(&d.agency, &d.worker);
            agent.enrol(&via, &token, &server.fingerprint());
            agent
        })
        .collect::<Vec<_>>();
    let mut rig = Rig {
        server,
        proxy: proxy.as_ref(),
        reported: vec![Vec::new(); agents.len()],
        agents,
        killed: false,
    };
    proxy.randomly(Rng::new(plan.fault_seed), plan.pass_percent);
    let now = real_now();
    for index in 0..plan.steps.len() {
        rig.step(plan, index, now);
    }
    let converged = rig.converge();
    let observed = observe(&rig);
    let mut violations = check(&observed);
    if !converged && violations.is_empty() {
        violations.push(Violation {
            invariant: super::invariants::Invariant::Converges,
            detail: format!("a sync still failed after {CONVERGE_ROUNDS} fault-free rounds"),
        });
    }
    Outcome {
        seed: plan.seed,
        devices: plan.devices.len(),
        captured: rig.reported.iter().map(Vec::len).sum(),
        faults: proxy
            .counts()
            .into_iter()
            .map(|(kind, n)| (format!("{} {kind}", plan.proxy.name()), n))
            .collect(),
        kill: plan.kill.label(),
        killed: rig.killed,
        violations,
        elapsed: start.elapsed(),
    }
}

/// Gathers what the invariants look at.
fn observe(rig: &Rig<'_>) -> Observed {
    let devices: Vec<DeviceState> = rig
        .agents
        .iter()
        .zip(&rig.reported)
        .map(|(agent, reported)| DeviceState {
            reported: reported.clone(),
            records: device_records(agent),
        })
        .collect();
    let children: BTreeSet<String> = devices
        .iter()
        .flat_map(|d| &d.records)
        .flat_map(|r| r.children.iter().cloned())
        .collect();
    let chronologies = children
        .into_iter()
        .map(|child| {
            let json = rig.server.chronology_json(&child, false);
            let ids = json["entries"]
                .as_array()
                .expect("chronology JSON has entries")
                .iter()
                .map(|e| e["record_id"].as_str().unwrap_or_default().to_string())
                .collect();
            (child, ids)
        })
        .collect();
    Observed {
        devices,
        server: server_records(&rig.server),
        forks: forks(&rig.server),
        gaps: gaps(&rig.server),
        chronologies,
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// A device's records, from its own `list --json` and `show --json`.
fn device_records(agent: &Agent) -> Vec<DeviceRecord> {
    agent
        .list()
        .iter()
        .map(|row| {
            let id = str_of(row, "record_id");
            let shown: Value =
                serde_json::from_str(&agent.run_ok(&["show", &id, "--json"])).expect("show --json");
            DeviceRecord {
                status: str_of(row, "status"),
                hash: str_of(&shown, "hash"),
                occurred_at: str_of(row, "occurred_at")
                    .parse()
                    .expect("list --json gives RFC 3339 times"),
                agency: str_of(row, "agency"),
                children: row["children"]
                    .as_array()
                    .map(|cs| {
                        cs.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                id,
            }
        })
        .collect()
}

/// Every row of the server's `records` table, its bytes hashed again.
fn server_records(server: &Server) -> Vec<ServerRecord> {
    let db = rusqlite::Connection::open(server.data().join("hearth.db"))
        .expect("open the server's SQLite store (the soak runs on SQLite)");
    let mut stmt = db
        // The device id is 8 bytes (migration 0004); its id is their hex.
        .prepare("SELECT lower(hex(device)), seq, bytes FROM records ORDER BY device, seq")
        .expect("the records table");
    stmt.query_map([], |row| {
        let device: String = row.get(0)?;
        let seq: i64 = row.get(1)?;
        let bytes: Vec<u8> = row.get(2)?;
        Ok((device, seq, bytes))
    })
    .expect("read the records")
    .map(|row| {
        let (device, seq, bytes) = row.expect("a record row");
        let hash = hearth_shared::signed::split_signed(&bytes)
            .map(|(envelope, _)| hearth_shared::signed::chain_hash(envelope).to_string())
            .unwrap_or_else(|e| format!("undecodable: {e}"));
        ServerRecord {
            id: format!("{device}-{seq}"),
            hash,
        }
    })
    .collect()
}

/// Fork alarms (every alarm) and quarantined records.
fn forks(server: &Server) -> Vec<String> {
    let q: Value =
        serde_json::from_str(&server.admin_ok(&["quarantine", "--reason", REASON, "--json"]))
            .expect("quarantine --json");
    // Rejected records are not forks: a device holding one shows it as
    // not synced, which the convergence check reports.
    let held = q["held"].as_array().into_iter().flatten();
    let held = held.filter(|h| h["status"] == "quarantined").map(|h| {
        format!(
            "held {}-{} {}: {}",
            str_of(h, "device"),
            h["seq"],
            str_of(h, "status"),
            str_of(h, "reason")
        )
    });
    let alarms = q["alarms"].as_array().into_iter().flatten().map(|a| {
        format!(
            "alarm {}-{}: {}",
            str_of(a, "device"),
            a["seq"],
            str_of(a, "message")
        )
    });
    held.chain(alarms).collect()
}

/// Open gaps, per device.
fn gaps(server: &Server) -> Vec<String> {
    let devices: Value =
        serde_json::from_str(&server.admin_ok(&["devices", "--json"])).expect("devices --json");
    devices
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| {
            let device = str_of(d, "device");
            d["gaps"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |g| format!("{device} {}..{}", g["from"], g["to"]))
        })
        .collect()
}
