//! Interleaved timing: a baseline and a subject measured in alternating
//! rounds, so a burst of noise from another tenant hits both.
//!
//! Three estimates come out: the ratio of the medians, the ratio of the
//! fastest rounds, and the median of the **paired** ratios (each subject
//! round over the baseline round run right beside it). The paired one is
//! the most robust on a shared machine: two adjacent rounds see the same
//! clock speed and the same neighbours, so slow swings cancel in each
//! pair, where they can put the two medians (or minima) in different
//! states of the machine.

use std::time::Instant;

/// The outcome of [`interleaved`].
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// Median seconds per operation, baseline.
    pub baseline: f64,
    /// Median seconds per operation, subject.
    pub subject: f64,
    /// Fastest round, baseline: for CPU-bound work the least disturbed
    /// measurement on a shared machine.
    pub baseline_min: f64,
    /// Fastest round, subject.
    pub subject_min: f64,
    /// Median of subject round / adjacent baseline round.
    pub paired: f64,
}

impl Pair {
    /// subject / baseline.
    pub fn ratio(&self) -> f64 {
        self.subject / self.baseline
    }

    /// subject / baseline, fastest rounds.
    pub fn ratio_min(&self) -> f64 {
        self.subject_min / self.baseline_min
    }
}

/// Runs `f` `depth` stack frames further down.
#[inline(never)]
fn at_depth(depth: usize, f: &mut dyn FnMut()) {
    let pad = [0u8; 64];
    std::hint::black_box(&pad);
    if depth == 0 {
        f();
    } else {
        at_depth(depth - 1, f);
    }
    std::hint::black_box(&pad);
}

/// Runs `rounds` rounds of `iters` baseline operations then `iters` subject
/// operations (the order alternating each round).
pub fn interleaved(
    rounds: usize,
    iters: usize,
    mut baseline: impl FnMut(usize),
    mut subject: impl FnMut(usize),
) -> Pair {
    let mut b = Vec::with_capacity(rounds);
    let mut s = Vec::with_capacity(rounds);
    let time = |f: &mut dyn FnMut(usize), out: &mut Vec<f64>| {
        let t = Instant::now();
        for i in 0..iters {
            f(i);
        }
        out.push(t.elapsed().as_secs_f64() / iters as f64);
    };
    for r in 0..rounds {
        // Each round at another stack depth (64 steps of at least 64
        // bytes), the same for both sides of the pair: where the stack
        // falls relative to the data moved one process's ratio by ±10 %,
        // so a figure should average over placements, not draw one.
        at_depth(r % 64, &mut || {
            if r % 2 == 0 {
                time(&mut baseline, &mut b);
                time(&mut subject, &mut s);
            } else {
                time(&mut subject, &mut s);
                time(&mut baseline, &mut b);
            }
        });
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let paired = crate::size::median(s.iter().zip(&b).map(|(s, b)| s / b).collect());
    Pair {
        paired,
        baseline_min: min(&b),
        subject_min: min(&s),
        baseline: crate::size::median(b),
        subject: crate::size::median(s),
    }
}
