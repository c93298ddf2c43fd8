//! Peak resident set size of a child process: `VmHWM` from
//! `/proc/PID/status`, polled by a [`Watcher`] thread (the kernel keeps the
//! high-water mark, so polling only risks missing growth in the last few
//! milliseconds before exit).
//!
//! Where the peak goes: [`breakdown`] sorts `/proc/PID/smaps` into what is
//! resident ([`Part`]: the binary's text and data pages, the heap, other
//! anonymous memory, the database's shared WAL index, libraries), and a
//! [`Watcher`] started with [`Watcher::with_breakdown`] keeps the breakdown
//! taken nearest its peak.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// `VmHWM` of `pid` in KiB, if the process is alive and readable.
pub fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `VmRSS` (resident now) of `pid` in KiB, if the process is alive.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resident KiB of one kind of mapping, summed over the mappings of that
/// kind (see [`breakdown`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What is mapped: `hearth-agent text`, `[heap]`, `anonymous`,
    /// `hearth.db-shm`, `libc.so.6 data`...
    pub what: String,
    /// Resident KiB (`Rss:`).
    pub rss_kib: u64,
    /// Of which anonymous (private, written: heap-like) KiB.
    pub anon_kib: u64,
}

/// `/proc/PID/smaps` of `pid`, summed by [`mapping_kind`], largest first;
/// `None` if the process is gone.
pub fn breakdown(pid: u32) -> Option<Vec<Part>> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    Some(parse_smaps(&smaps))
}

/// [`breakdown`] of a `smaps` text.
pub fn parse_smaps(smaps: &str) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut current: Option<usize> = None;
    for line in smaps.lines() {
        let kib = |prefix: &str| {
            line.strip_prefix(prefix)
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        if let Some(v) = kib("Rss:") {
            if let Some(i) = current {
                parts[i].rss_kib += v;
            }
        } else if let Some(v) = kib("Anonymous:") {
            if let Some(i) = current {
                parts[i].anon_kib += v;
            }
        } else if let Some(what) = mapping_kind(line) {
            let i = parts
                .iter()
                .position(|p| p.what == what)
                .unwrap_or_else(|| {
                    parts.push(Part {
                        what,
                        rss_kib: 0,
                        anon_kib: 0,
                    });
                    parts.len() - 1
                });
            current = Some(i);
        }
    }
    parts.retain(|p| p.rss_kib > 0);
    parts.sort_by(|a, b| b.rss_kib.cmp(&a.rss_kib).then(a.what.cmp(&b.what)));
    parts
}

/// The kind of the mapping a `smaps` header line names (`start-end perms
/// offset dev inode [path]`), or `None` for a field line: a file's text
/// (`r-x`), read-only data (`r--`), data (`rw-`) or a shared mapping (the
/// WAL index, `hearth.db-shm`) by its file name, a
/// pseudo-mapping by its name (`[heap]`, `[stack]`), anything else
/// `anonymous` (thread arenas, large allocations, thread stacks).
pub fn mapping_kind(line: &str) -> Option<String> {
    let mut fields = line.split_whitespace();
    let range = fields.next()?;
    let (lo, hi) = range.split_once('-')?;
    if !(lo.chars().all(|c| c.is_ascii_hexdigit()) && hi.chars().all(|c| c.is_ascii_hexdigit())) {
        return None;
    }
    let perms = fields.next()?;
    let path = fields.nth(3).unwrap_or("");
    if path.is_empty() {
        return Some("anonymous".into());
    }
    if path.starts_with('[') {
        return Some(path.to_string());
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let kind = match perms.get(..4) {
        Some(p) if p.ends_with('s') => "shared",
        Some("r-xp") => "text",
        Some("rw-p") => "data",
        Some("r--p") => "read-only",
        _ => "other",
    };
    Some(format!("{name} {kind}"))
}

/// Renders a breakdown on one line: `what rss (anon) + ...`, parts under
/// 64 KiB summed as `other`.
pub fn render_breakdown(parts: &[Part]) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut small = 0;
    for p in parts {
        if p.rss_kib < 64 {
            small += p.rss_kib;
        } else if p.anon_kib > 0 && p.anon_kib != p.rss_kib {
            shown.push(format!(
                "{} {} KiB ({} anon)",
                p.what, p.rss_kib, p.anon_kib
            ));
        } else {
            shown.push(format!("{} {} KiB", p.what, p.rss_kib));
        }
    }
    if small > 0 {
        shown.push(format!("other {small} KiB"));
    }
    shown.join(" + ")
}

/// Polls a process's `VmHWM` every 2 ms until stopped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    at_peak: Arc<Mutex<Vec<Part>>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `pid`.
    pub fn start(pid: u32) -> Self {
        Self::spawn(pid, false)
    }

    /// Starts watching `pid`, also keeping the [`breakdown`] taken when its
    /// resident size was highest (read again whenever it has grown by 64
    /// KiB or more, so it is within 64 KiB of the peak, less whatever grew
    /// in the last 2 ms).
    pub fn with_breakdown(pid: u32) -> Self {
        Self::spawn(pid, true)
    }

    fn spawn(pid: u32, keep_breakdown: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let at_peak = Arc::new(Mutex::new(Vec::new()));
        let (s, p, b) = (stop.clone(), peak.clone(), at_peak.clone());
        let thread = std::thread::spawn(move || {
            let mut read_at = 0;
            while !s.load(Ordering::Relaxed) {
                if let Some(k) = peak_kib(pid) {
                    p.fetch_max(k, Ordering::Relaxed);
                }
                let now = if keep_breakdown {
                    resident_kib(pid)
                } else {
                    None
                };
                if let Some(now) = now.filter(|&n| n >= read_at + 64)
                    && let Some(parts) = breakdown(pid)
                {
                    read_at = now;
                    *b.lock().unwrap_or_else(|e| e.into_inner()) = parts;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Self {
            stop,
            peak,
            at_peak,
            thread: Some(thread),
        }
    }

    /// The breakdown kept nearest the peak (empty unless started
    /// [`Watcher::with_breakdown`]).
    pub fn breakdown_at_peak(&self) -> Vec<Part> {
        self.at_peak
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The highest `VmHWM` seen so far, in KiB.
    pub fn peak_kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Stops and returns the peak in KiB.
    pub fn finish(self) -> u64 {
        self.finish_with_breakdown().0
    }

    /// Stops and returns the peak in KiB and the breakdown nearest it.
    pub fn finish_with_breakdown(mut self) -> (u64, Vec<Part>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (self.peak_kib(), self.breakdown_at_peak())
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// CPU seconds (user + system) used so far by each thread name of `pid`,
/// from `/proc/PID/task/*/stat`, summed over threads of the same name.
/// Threads that ended are not counted (the server's threads live as long
/// as it does). Clock ticks are assumed to be 100 per second (Linux's
/// USER_HZ on every common architecture).
pub fn cpu_by_thread(pid: &str) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        *out.entry(comm).or_insert(0.0) += cpu_seconds(&stat[close + 2..]);
    }
    out
}

/// CPU seconds (user + system) used so far by the whole process `pid`
/// (`self` for this one), including threads that have ended.
pub fn process_cpu(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    cpu_seconds(&stat[close + 2..])
}

/// User + system CPU seconds from a `stat` line's fields after the comm
/// (`state ppid ...`): utime is field 14 and stime 15 (1-based, counting
/// pid and comm), at 100 ticks a second.
fn cpu_seconds(after_comm: &str) -> f64 {
    let fields: Vec<&str> = after_comm.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(14) + ticks(15)) as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0100000 r--p 00000000 fd:01 123 /usr/bin/hearth-agent
Rss:                 512 kB
Anonymous:             0 kB
55d0a0100000-55d0a0400000 r-xp 00100000 fd:01 123 /usr/bin/hearth-agent
Rss:                1800 kB
Anonymous:             0 kB
55d0a0400000-55d0a0410000 rw-p 00400000 fd:01 123 /usr/bin/hearth-agent
Rss:                  64 kB
Anonymous:            60 kB
55d0a1000000-55d0a1200000 rw-p 00000000 00:00 0 [heap]
Rss:                2000 kB
Anonymous:          2000 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Rss:                 300 kB
Anonymous:           300 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Rss:                 100 kB
Anonymous:           100 kB
7f0000400000-7f0000408000 rw-s 00000000 fd:01 99 /tmp/x/hearth.db-shm
Rss:                  32 kB
Anonymous:             0 kB
";

    #[test]
    fn smaps_sums_by_kind_largest_first() {
        let parts = parse_smaps(SMAPS);
        let got: Vec<(&str, u64, u64)> = parts
            .iter()
            .map(|p| (p.what.as_str(), p.rss_kib, p.anon_kib))
            .collect();
        assert_eq!(
            got,
            [
                ("[heap]", 2000, 2000),
                ("hearth-agent text", 1800, 0),
                ("hearth-agent read-only", 512, 0),
                ("anonymous", 400, 400),
                ("hearth-agent data", 64, 60),
                ("hearth.db-shm shared", 32, 0),
            ]
        );
        let line = render_breakdown(&parts);
        assert!(
            line.starts_with("[heap] 2000 KiB + hearth-agent text 1800 KiB"),
            "{line}"
        );
        assert!(
            line.contains("hearth-agent data 64 KiB (60 anon)"),
            "{line}"
        );
        assert!(line.ends_with("other 32 KiB"), "{line}");
    }

    #[test]
    fn field_lines_are_not_mappings() {
        assert_eq!(mapping_kind("Rss:                 512 kB"), None);
        assert_eq!(mapping_kind("VmFlags: rd wr mr mw me ac sd"), None);
        assert_eq!(
            mapping_kind("7f00-7f01 rw-p 00000000 00:00 0 [stack]").as_deref(),
            Some("[stack]")
        );
    }
}
