//! Figure 5's issue 20 rows: the backlog sync beside its physical floor,
//! where its CPU went, and what an interrupted sync costs to resume.
//!
//! - [`Floor`]: `n × bare verify ÷ cores`, from the bare verify time
//!   measured in the same run (figure 2's probes) and this machine's cores.
//! - [`children_cpu`]: CPU seconds of this process's finished children (the
//!   agent), read around the timed sync; the server's comes from
//!   [`crate::rss::process_cpu`].
//! - [`resume`]: a second backlog synced through the counting proxy armed
//!   to cut the link halfway ([`crate::proxy::CountingProxy::cut_after`]),
//!   then synced again; the records put on the wire twice, counted from the
//!   agent's own `uploading batch` log lines and its `sent N` summary.
//! - [`rows`]: the table rows from those figures.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::proxy::CountingProxy;
use crate::table::Row;

/// The floor of a backlog sync: every record verified once by the server,
/// on every core.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// Records.
    pub records: usize,
    /// One bare ed25519 verification, seconds (single core).
    pub verify_secs: f64,
    /// Cores the server may use.
    pub cores: usize,
}

impl Floor {
    /// `records × verify_secs ÷ cores`, seconds.
    pub fn secs(&self) -> f64 {
        self.records as f64 * self.verify_secs / self.cores.max(1) as f64
    }
}

/// CPU seconds (user + system) of this process's children that have been
/// waited for: `cutime` and `cstime` of `/proc/self/stat` (fields 16 and
/// 17, 100 ticks a second).
pub fn children_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(16) + ticks(17)) as f64 / 100.0
}

/// CPU used during the timed sync.
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    /// The server process, seconds.
    pub server: f64,
    /// The agent process, seconds.
    pub agent: f64,
    /// The server's CPU by thread name, seconds (threads alive at the
    /// end; the rest, such as the per-batch verify chunks, as `ended`).
    pub server_threads: Vec<(String, f64)>,
    /// The signals thread's CPU after the sync ended, until it went
    /// quiet ([`signals_settled`]): the recompute the sync's commits
    /// asked for, which waits for them to settle.
    pub signals_after: f64,
}

impl Cpu {
    /// The server's CPU split by thread name, from per-thread CPU
    /// `before` and `after` (see [`crate::rss::cpu_by_thread`]), the
    /// busiest first; whatever the live threads do not account for is
    /// `ended` (threads started and finished during the sync).
    pub fn split_threads(
        &mut self,
        before: &std::collections::BTreeMap<String, f64>,
        after: &std::collections::BTreeMap<String, f64>,
    ) {
        let mut used: Vec<(String, f64)> = after
            .iter()
            .map(|(name, v)| (name.clone(), v - before.get(name).copied().unwrap_or(0.0)))
            .filter(|(_, v)| *v > 0.0)
            .collect();
        let live: f64 = used.iter().map(|(_, v)| v).sum();
        used.push(("ended".to_string(), (self.server - live).max(0.0)));
        used.sort_by(|a, b| b.1.total_cmp(&a.1));
        self.server_threads = used;
    }
}

/// The server's signals thread, by its name.
pub const SIGNALS_THREAD: &str = "hearth-signals";

/// CPU seconds the server's signals thread uses from now until it has
/// used none for a second (at most 60 s): the recompute that a sync's
/// commits leave behind once they settle, so that moving it after the
/// sync is not mistaken for removing it.
pub fn signals_settled(pid: &str) -> f64 {
    let read = || {
        crate::rss::cpu_by_thread(pid)
            .get(SIGNALS_THREAD)
            .copied()
            .unwrap_or(0.0)
    };
    let start = read();
    let (mut last, mut still) = (start, 0);
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(100));
        let now = read();
        if now > last {
            (last, still) = (now, 0);
        } else {
            still += 1;
            if still >= 10 {
                break;
            }
        }
    }
    last - start
}

/// What the interrupted sync and its resumption did.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// Records in the second backlog.
    pub records: usize,
    /// Upstream bytes after which the link was cut.
    pub cut_at: u64,
    /// Records the interrupted sync put on the wire (its announced batches).
    pub first_sent: usize,
    /// The largest batch it announced: the batch size the agent used (what
    /// the server said it takes, within the agent's cap).
    pub batch: usize,
    /// Records of this backlog the server held after the cut.
    pub held_after_cut: u64,
    /// Records the resumed sync sent.
    pub second_sent: usize,
    /// The resumed sync's `sync pipeline` profile line.
    pub profile: String,
}

impl Resume {
    /// Records put on the wire twice: both syncs' records beyond the backlog.
    pub fn resent(&self) -> usize {
        (self.first_sent + self.second_sent).saturating_sub(self.records)
    }

    /// Of those, records the server already held (answered "duplicate").
    pub fn duplicates(&self) -> usize {
        let lacked = self.records.saturating_sub(self.held_after_cut as usize);
        self.second_sent.saturating_sub(lacked)
    }
}

/// What [`resume`] needs to run the agent.
pub struct AgentRun<'a> {
    /// The `hearth-agent` binary.
    pub binary: &'a Path,
    /// Its store, unlocked in the session under `runtime`.
    pub store: &'a Path,
    /// The session's `XDG_RUNTIME_DIR`.
    pub runtime: &'a Path,
}

impl AgentRun<'_> {
    /// `hearth-agent sync` in the unlocked session, logging its sync
    /// module at `info` (the batch and pipeline lines).
    fn sync(&self) -> anyhow::Result<Output> {
        Ok(Command::new(self.binary)
            .env("XDG_RUNTIME_DIR", self.runtime)
            .env_remove("HEARTH_PASSPHRASE")
            .env("RUST_LOG", "hearth_agent::sync=info")
            .arg("--store")
            .arg(self.store)
            .arg("sync")
            .stdin(Stdio::null())
            .output()?)
    }
}

/// Records the server at `db` holds.
fn server_records(db: &Path) -> anyhow::Result<u64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(c.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?)
}

/// The records of every `uploading batch ... count=N` line in `log`.
pub fn announced(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("uploading batch"))
        .filter_map(|l| field(l, "count"))
        .filter_map(|v| v.parse::<usize>().ok())
        .sum()
}

/// The largest `count=N` of the `uploading batch` lines in `log`.
pub fn largest_batch(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("uploading batch"))
        .filter_map(|l| field(l, "count")?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
}

/// The value of `name=VALUE` in a log line.
fn field<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
}

/// The fields of the last `sync pipeline` line in `log`.
pub fn profile(log: &str) -> String {
    log.lines()
        .rfind(|l| l.contains("sync pipeline"))
        .and_then(|l| l.split_once("sync pipeline"))
        .map_or_else(String::new, |(_, f)| f.trim().to_string())
}

/// `N` of the agent's `sent N, ...` summary line.
fn sent(stdout: &str) -> Option<usize> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("sent "))
        .and_then(|l| l.split(',').next())
        .and_then(|n| n.trim().parse().ok())
}

/// Syncs a pending backlog of `records` records through `proxy`, cut once
/// `cut_at` bytes have gone upstream, then again with the link whole.
/// `db` is the server's database (the records it held after the cut).
pub fn resume(
    agent: &AgentRun<'_>,
    proxy: &CountingProxy,
    db: &Path,
    records: usize,
    cut_at: u64,
) -> anyhow::Result<Resume> {
    let held_before = server_records(db)?;
    proxy.cut_after(cut_at);
    let first = agent.sync()?;
    let log = String::from_utf8_lossy(&first.stderr);
    if first.status.success() {
        bail!("the sync cut at {cut_at} bytes succeeded; the cut did not happen: {log}");
    }
    // A batch whose body arrived whole may still be committing.
    std::thread::sleep(Duration::from_millis(300));
    let held_after_cut = server_records(db)? - held_before;
    proxy.reset();
    let second = agent.sync()?;
    let stdout = String::from_utf8_lossy(&second.stdout);
    let log2 = String::from_utf8_lossy(&second.stderr);
    if !second.status.success() {
        bail!("the resumed sync failed: {log2}");
    }
    Ok(Resume {
        records,
        cut_at,
        first_sent: announced(&log),
        batch: largest_batch(&log),
        held_after_cut,
        second_sent: sent(&stdout).context("the resumed sync's `sent N` line")?,
        profile: profile(&log2),
    })
}

fn x(r: f64) -> String {
    format!("{r:.3}×")
}

/// The rows: the floor, the sync against it, the CPU split, the resume.
pub fn rows(floor: Floor, secs: f64, cpu: &Cpu, r: &Resume) -> Vec<Row> {
    let f = floor.secs();
    vec![
        Row::new(
            format!(
                "5 backlog: floor, n × bare verify ÷ cores (n = {})",
                floor.records
            ),
            format!("{f:.3} s"),
            format!(
                "{:.1} µs × {} ÷ {} cores",
                floor.verify_secs * 1e6,
                floor.records,
                floor.cores
            ),
            "-",
            "(baseline)",
            None,
        ),
        Row::new(
            "5 backlog: sync time beside the floor",
            format!("{secs:.3} s"),
            format!("{f:.3} s floor"),
            x(secs / f),
            "≤ 0.3 s (issue 20)",
            Some(secs <= 0.3),
        ),
        Row::new(
            "5 backlog: server CPU during the sync, by thread",
            cpu.server_threads
                .iter()
                .map(|(name, v)| format!("{name} {v:.2} s"))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{:.2} s server CPU", cpu.server),
            "-",
            "(diagnostic)",
            None,
        ),
        Row::new(
            "5 backlog: signals recompute after the sync, until quiet",
            format!("{:.2} s CPU", cpu.signals_after),
            format!(
                "{:.2} s during the sync",
                cpu.server_threads
                    .iter()
                    .find(|(name, _)| name == SIGNALS_THREAD)
                    .map_or(0.0, |(_, v)| *v)
            ),
            "-",
            "(diagnostic)",
            None,
        ),
        Row::new(
            "5 backlog: CPU during the sync (server; agent)",
            format!("{:.2} s; {:.2} s", cpu.server, cpu.agent),
            format!("{secs:.2} s wall"),
            format!("{}; {}", x(cpu.server / secs), x(cpu.agent / secs)),
            "(diagnostic)",
            None,
        ),
        Row::new(
            format!(
                "5 resume: {} records, link cut after {} B up, then synced again",
                r.records, r.cut_at
            ),
            format!(
                "{} resent ({} on the wire before the cut, {} held by the server, {} sent after; {} duplicates)",
                r.resent(),
                r.first_sent,
                r.held_after_cut,
                r.second_sent,
                r.duplicates()
            ),
            format!("batch of {}", r.batch),
            format!("{:.2} batches", r.resent() as f64 / r.batch.max(1) as f64),
            "≤ 1 batch",
            Some(r.batch > 0 && r.resent() <= r.batch),
        ),
        Row::new(
            format!(
                "5 resume: the resumed sync's agent profile ({} records)",
                r.second_sent
            ),
            if r.profile.is_empty() {
                "-".to_string()
            } else {
                r.profile.clone()
            },
            "-",
            "-",
            "(diagnostic)",
            None,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026-11-28T05:00:00.000001Z  INFO hearth_agent::sync: uploading batch first=1 last=100 count=100
2026-11-28T05:00:00.000002Z  INFO hearth_agent::sync: batch judged synced=100 refused=0
2026-11-28T05:00:00.000003Z  INFO hearth_agent::sync: uploading batch first=101 last=150 count=50
2026-11-28T05:00:00.000004Z  INFO hearth_agent::sync: sync pipeline batches=2 prepare_ms=1.5 settle_ms=2.0 round_trip_ms=9.0 waited_ms=7.0
";

    #[test]
    fn the_agent_log_and_summary_parse() {
        assert_eq!(announced(LOG), 150);
        assert_eq!(largest_batch(LOG), 100);
        assert_eq!(largest_batch("nothing uploaded"), 0);
        assert_eq!(
            profile(LOG),
            "batches=2 prepare_ms=1.5 settle_ms=2.0 round_trip_ms=9.0 waited_ms=7.0"
        );
        let out = "sent 250, synced 250, rejected or quarantined now 0; totals: 0 pending";
        assert_eq!(sent(out), Some(250));
        assert_eq!(sent("nothing"), None);
    }

    #[test]
    fn resent_counts_records_on_the_wire_twice() {
        // 1,000 records; batches 1-5 answered, batch 6 cut on the wire.
        let r = Resume {
            records: 1_000,
            first_sent: 600,
            held_after_cut: 500,
            second_sent: 500,
            ..Resume::default()
        };
        assert_eq!((r.resent(), r.duplicates()), (100, 0));
        // Batch 6 committed but its answer lost: resent and a duplicate.
        let r = Resume {
            held_after_cut: 600,
            ..r
        };
        assert_eq!((r.resent(), r.duplicates()), (100, 100));
        let f = Floor {
            records: 10_000,
            verify_secs: 34e-6,
            cores: 2,
        };
        assert!((f.secs() - 0.17).abs() < 1e-9);
    }

    #[test]
    fn the_server_cpu_splits_by_thread_with_the_ended_rest() {
        let before = [
            ("hearth-writer".to_string(), 1.0),
            ("tokio-rt-worker".to_string(), 2.0),
        ];
        let after = [
            ("hearth-writer".to_string(), 1.5),
            ("tokio-rt-worker".to_string(), 2.1),
        ];
        let mut cpu = Cpu {
            server: 1.0,
            ..Cpu::default()
        };
        cpu.split_threads(&before.into_iter().collect(), &after.into_iter().collect());
        let names: Vec<&str> = cpu.server_threads.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["hearth-writer", "ended", "tokio-rt-worker"]);
        assert!((cpu.server_threads[1].1 - 0.4).abs() < 1e-9);
    }
}
