//! The soak harness's command line (issue 19):
//!
//! ```text
//! cargo run -p hearth-e2e --bin soak -- --trials N --seed S [--jobs J]
//! cargo run -p hearth-e2e --bin soak -- --replay 0xTRIALSEED
//! ```
//!
//! Runs the trials of `hearth_e2e::soak` (J at a time, default 2), prints
//! one line per trial, a `trial … FAILED (trial seed 0x…): <invariant>:
//! <detail>; replay: …` line for each failure, the totals so far every 50
//! trials, and the final table.
//! Exits 1 if any trial failed, 2 on bad arguments.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use hearth_e2e::soak::plan::{plan, trial_seed};
use hearth_e2e::soak::report::Totals;
use hearth_e2e::soak::trial::{self, Outcome};

/// How often (in trials) a run prints its totals so far.
const PROGRESS_EVERY: u64 = 50;

const USAGE: &str = "usage: soak --trials N --seed S [--jobs J] | soak --replay 0xSEED";

/// The parsed command line.
struct Args {
    /// Trial seeds to run, in order.
    seeds: Vec<u64>,
    jobs: u64,
    run_seed: Option<u64>,
}

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse(args: &[String]) -> Result<Args, String> {
    let (mut trials, mut seed, mut jobs, mut replay) = (None, None, 2, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .and_then(|v| number(v))
            .ok_or_else(|| format!("{flag} needs a number (decimal or 0x hex)"))?;
        match flag.as_str() {
            "--trials" => trials = Some(value),
            "--seed" => seed = Some(value),
            "--jobs" => jobs = value.max(1),
            "--replay" => replay = Some(value),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    match (replay, trials, seed) {
        (Some(s), None, None) => Ok(Args {
            seeds: vec![s],
            jobs: 1,
            run_seed: None,
        }),
        (None, Some(n), Some(s)) => Ok(Args {
            seeds: (0..n).map(|i| trial_seed(s, i)).collect(),
            jobs,
            run_seed: Some(s),
        }),
        _ => Err("give --trials and --seed, or --replay alone".into()),
    }
}

/// Runs one trial, turning a harness panic into an error message.
fn one(seed: u64) -> Result<Outcome, String> {
    let plan = plan(seed);
    std::panic::catch_unwind(|| trial::run(&plan)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Some(s) = args.run_seed {
        println!(
            "soak: {} trials, run seed {s:#x}, {} at a time",
            args.seeds.len(),
            args.jobs
        );
    }
    let started = Instant::now();
    let seeds = Arc::new(args.seeds);
    let next = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    for _ in 0..args.jobs {
        let (seeds, next, tx) = (seeds.clone(), next.clone(), tx.clone());
        std::thread::spawn(move || {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&seed) = seeds.get(i as usize) else {
                    break;
                };
                if tx.send((i, seed, one(seed))).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut totals = Totals::default();
    for (i, seed, result) in rx {
        let replay = format!("replay: cargo run -p hearth-e2e --bin soak -- --replay {seed:#x}");
        match result {
            Ok(o) => {
                totals.add(&o);
                for v in &o.violations {
                    println!(
                        "trial {i} FAILED (trial seed {seed:#x}): {}: {}; {replay}",
                        v.invariant.name(),
                        v.detail
                    );
                }
                if o.violations.is_empty() {
                    println!(
                        "trial {i} ok ({} devices, {} captured, kill {}: {}, {:.1} s)",
                        o.devices,
                        o.captured,
                        o.kill,
                        if o.killed { "done" } else { "not reached" },
                        o.elapsed.as_secs_f64()
                    );
                }
            }
            Err(e) => {
                totals.add_harness_error();
                println!("trial {i} FAILED (trial seed {seed:#x}): harness: {e}; {replay}");
            }
        }
        // A long run shows its totals as it goes, so a run stopped early
        // still has its counts.
        if totals.trials % PROGRESS_EVERY == 0 && totals.trials < seeds.len() as u64 {
            println!(
                "\nafter {} trials ({:.0} s):\n\n{}",
                totals.trials,
                started.elapsed().as_secs_f64(),
                totals.table()
            );
        }
    }
    println!(
        "\nsoak: {} trials in {:.1} s\n\n{}",
        totals.trials,
        started.elapsed().as_secs_f64(),
        totals.table()
    );
    if totals.failed > 0 {
        std::process::exit(1);
    }
}
