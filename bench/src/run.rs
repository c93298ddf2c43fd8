//! What one `hearth-bench` run does: its command line ([`Args`], parsed by
//! clap: `--quick`, `--only=FIGURE,...`, and `--core-probe` for the probe
//! processes it starts itself) and how much work each figure does
//! ([`Counts`]).

/// A figure, or a group of figures that run together, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Figure {
    /// Figure 1: record size.
    Size,
    /// Figure 2: the core's verify and encode.
    Core,
    /// Figure 3: capture.
    Capture,
    /// Figure 5: the agent's backlog sync.
    Backlog,
    /// Figures 4, 6 (server) and 7: ingest and chronology.
    Ingest,
    /// Figure 4 on each backend: SQLite, PostgreSQL with one and with two
    /// instances, and figure 7's pull on each (issue 18).
    Backends,
    /// Figure 6: the armv7 agent binary.
    Binary,
    /// Figure 8: the manager's web pages, drawn in process.
    Web,
    /// Figure 9: practice signals (the rules, the caseload, ingest's cost).
    Signals,
    /// Figure 10: the same backlog with PouchDB 9 to express-pouchdb 4 (npm,
    /// not in `--quick`), then with Hearth (issue 20).
    Cht,
}

impl Figure {
    /// Whether it needs the release `hearth-server` and `hearth-agent`
    /// (checked before anything runs). Figure 8 draws in process.
    pub fn needs_binaries(self) -> bool {
        !matches!(self, Self::Web)
    }
}

/// `hearth-bench`'s command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "hearth-bench",
    about = "Runs Hearth's figures and prints them beside their baselines and targets."
)]
pub struct Args {
    /// Small counts, same code paths (CI): figures are not comparable with targets.
    #[arg(long)]
    pub quick: bool,
    /// Run only these figures (while working on them); the table of record runs them all.
    #[arg(long, value_delimiter = ',', value_name = "FIGURE")]
    pub only: Option<Vec<Figure>>,
    /// Print one process's figure 2 pairs (the probes `hearth-bench` starts itself).
    #[arg(long, hide = true)]
    pub core_probe: bool,
}

impl Args {
    /// Whether this run includes a figure that needs the binaries.
    pub fn needs_binaries(&self) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|f| f.needs_binaries()))
    }

    /// Whether this run includes `figure`.
    pub fn runs(&self, figure: Figure) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&figure))
    }
}

/// How much work each figure does, and figure 2's probes once run (figure
/// 4 reuses their bare verify time as its baseline).
pub struct Counts {
    /// Small counts (`--quick`).
    pub quick: bool,
    /// Figure 2's probes, once run (figure 4 reuses them).
    pub probes: std::cell::OnceCell<Vec<[f64; 6]>>,
    /// Records in the size corpus.
    pub corpus: usize,
    /// Figure 2's rounds.
    pub core_rounds: usize,
    /// Figure 2's iterations per round.
    pub core_iters: usize,
    /// Figure 3's rounds.
    pub capture_rounds: usize,
    /// Figure 3's iterations per round.
    pub capture_iters: usize,
    /// Figure 5's backlog of records.
    pub backlog: usize,
    /// Figure 4's records per device.
    pub ingest_per_device: usize,
    /// Figure 7's small chronology.
    pub chron_small: usize,
    /// Figure 7's large chronology.
    pub chron_large: usize,
    /// Figure 8's timeline.
    pub timeline: usize,
    /// Figure 9's family: records naming three siblings.
    pub signals_family: usize,
    /// Figure 9's caseload: children.
    pub caseload_children: usize,
    /// Figure 9's caseload: records between them.
    pub caseload_records: usize,
}

impl Counts {
    /// The counts of a quick or a full run.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                probes: std::cell::OnceCell::new(),
                corpus: 900,
                core_rounds: 20,
                core_iters: 10,
                capture_rounds: 4,
                capture_iters: 5,
                backlog: 1_000,
                ingest_per_device: 500,
                chron_small: 200,
                chron_large: 500,
                timeline: 1_000,
                signals_family: 500,
                caseload_children: 200,
                caseload_records: 20_000,
            }
        } else {
            Self {
                quick,
                probes: std::cell::OnceCell::new(),
                corpus: 9_000,
                core_rounds: 1_500,
                core_iters: 4,
                capture_rounds: 80,
                capture_iters: 8,
                backlog: 10_000,
                ingest_per_device: 50_000,
                chron_small: 5_000,
                chron_large: 50_000,
                timeline: 5_000,
                signals_family: 5_000,
                caseload_children: 10_000,
                caseload_records: 1_000_000,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_flags_scripts_use_parse() {
        let a = Args::try_parse_from(["hearth-bench", "--quick"]).unwrap();
        assert!(a.quick && !a.core_probe && a.runs(Figure::Ingest));
        let a = Args::try_parse_from(["hearth-bench", "--only=ingest,backlog"]).unwrap();
        assert!(a.runs(Figure::Ingest) && a.runs(Figure::Backlog) && !a.runs(Figure::Size));
        let a = Args::try_parse_from(["hearth-bench", "--core-probe", "--quick"]).unwrap();
        assert!(a.core_probe && a.quick);
        assert!(Args::try_parse_from(["hearth-bench", "--only=nonsense"]).is_err());
        let a = Args::try_parse_from(["hearth-bench", "--only=web"]).unwrap();
        assert!(a.runs(Figure::Web) && !a.runs(Figure::Ingest) && !a.needs_binaries());
        let full = Counts::new(false);
        assert_eq!((full.ingest_per_device, full.chron_large), (50_000, 50_000));
        assert_eq!(
            (
                full.signals_family,
                full.caseload_children,
                full.caseload_records
            ),
            (5_000, 10_000, 1_000_000)
        );
        let a = Args::try_parse_from(["hearth-bench", "--only=cht"]).unwrap();
        assert!(a.runs(Figure::Cht) && !a.runs(Figure::Backlog) && a.needs_binaries());
        let a = Args::try_parse_from(["hearth-bench", "--only=signals"]).unwrap();
        assert!(a.runs(Figure::Signals) && !a.runs(Figure::Web) && a.needs_binaries());
    }
}
