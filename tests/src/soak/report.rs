//! The run's totals and its final table: trials, devices, records
//! captured, faults by kind, kills by point (planned and done), and
//! invariant violations by invariant. [`Totals::table`] is Markdown, so
//! it goes into `docs/reliability.md` as printed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use super::invariants::Invariant;
use super::trial::Outcome;

/// What the trials so far add up to.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    /// Trials finished.
    pub trials: u64,
    /// Trials with at least one violation or a harness failure.
    pub failed: u64,
    /// Devices, over all trials.
    pub devices: u64,
    /// Records reported captured.
    pub captured: u64,
    /// Faults by kind.
    pub faults: BTreeMap<String, u64>,
    /// Kills by label: (planned, done).
    pub kills: BTreeMap<String, (u64, u64)>,
    /// Violations by invariant.
    pub violations: BTreeMap<Invariant, u64>,
    /// Trials the harness itself could not finish (a binary hung, a
    /// server did not restart): failures too.
    pub harness_errors: u64,
    /// Sum of the trials' wall times.
    pub trial_time: Duration,
}

impl Totals {
    /// Adds one trial.
    pub fn add(&mut self, o: &Outcome) {
        self.trials += 1;
        self.failed += u64::from(!o.violations.is_empty());
        self.devices += o.devices as u64;
        self.captured += o.captured as u64;
        for (kind, n) in &o.faults {
            *self.faults.entry(kind.clone()).or_default() += n;
        }
        let kill = self.kills.entry(o.kill.clone()).or_default();
        kill.0 += 1;
        kill.1 += u64::from(o.killed);
        for v in &o.violations {
            *self.violations.entry(v.invariant).or_default() += 1;
        }
        self.trial_time += o.elapsed;
    }

    /// Adds a trial the harness could not finish.
    pub fn add_harness_error(&mut self) {
        self.trials += 1;
        self.failed += 1;
        self.harness_errors += 1;
    }

    /// The table, Markdown.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "| measure | count |\n|---|---|");
        let _ = writeln!(t, "| trials | {} |", self.trials);
        let _ = writeln!(t, "| trials failed | {} |", self.failed);
        let _ = writeln!(t, "| devices | {} |", self.devices);
        let _ = writeln!(t, "| records reported captured | {} |", self.captured);
        let avg = self.trial_time.as_secs_f64() / self.trials.max(1) as f64;
        let _ = writeln!(t, "| mean trial time | {avg:.2} s |");
        for (kind, n) in &self.faults {
            let _ = writeln!(t, "| faults: {kind} | {n} |");
        }
        for (kill, (planned, done)) in &self.kills {
            let _ = writeln!(t, "| kill {kill} (planned / done) | {planned} / {done} |");
        }
        for inv in Invariant::ALL {
            let n = self.violations.get(&inv).copied().unwrap_or(0);
            let _ = writeln!(t, "| violations: {} | {n} |", inv.name());
        }
        let _ = writeln!(t, "| harness errors | {} |", self.harness_errors);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::invariants::Violation;

    #[test]
    fn totals_count_kills_faults_and_violations() {
        let mut totals = Totals::default();
        let mut o = Outcome {
            devices: 3,
            captured: 7,
            faults: [("tcp pass".into(), 4), ("tcp drop-response".into(), 1)].into(),
            kill: "server checkpoint".into(),
            killed: true,
            ..Outcome::default()
        };
        totals.add(&o);
        o.killed = false;
        o.violations.push(Violation {
            invariant: Invariant::GapsClose,
            detail: String::new(),
        });
        totals.add(&o);
        totals.add_harness_error();
        assert_eq!((totals.trials, totals.failed, totals.captured), (3, 2, 14));
        assert_eq!(totals.kills["server checkpoint"], (2, 1));
        assert_eq!(totals.faults["tcp pass"], 8);
        let table = totals.table();
        assert!(table.contains("| violations: gaps-close | 1 |"), "{table}");
        assert!(table.contains("| violations: chronology | 0 |"), "{table}");
        assert!(table.contains("| harness errors | 1 |"), "{table}");
    }
}
