//! Figure 3 (criterion): one durable capture through the agent's store
//! beside a bare rusqlite insert of the same bytes with the same durability
//! (WAL, `synchronous = FULL`, one transaction each). Both are fsync-bound;
//! the target is captures/s ≥ 0.9× inserts/s. Databases go under
//! `$HEARTH_BENCH_DIR` (default: the system temp dir; use a real disk).

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_bench::micro::CaptureFixture;

fn capture(c: &mut Criterion) {
    let mut f = CaptureFixture::new().expect("bench stores");
    let mut g = c.benchmark_group("capture");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("bare_insert_wal_full", |b| {
        b.iter(|| f.bare_insert().expect("insert"))
    });
    g.bench_function("agent_capture", |b| {
        b.iter(|| f.capture().expect("capture"))
    });
    g.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
