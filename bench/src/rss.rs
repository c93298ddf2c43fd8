//! Peak resident set size of a child process: `VmHWM` from
//! `/proc/PID/status`, polled by a [`Watcher`] thread (the kernel keeps the
//! high-water mark, so polling only risks missing growth in the last few
//! milliseconds before exit).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// Polls a process's `VmHWM` every 2 ms until stopped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `pid`.
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(k) = peak_kib(pid) {
                    p.fetch_max(k, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Self {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    /// The highest `VmHWM` seen so far, in KiB.
    pub fn peak_kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Stops and returns the peak in KiB.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak_kib()
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
