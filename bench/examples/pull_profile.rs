//! Figure 7 evidence: runs one chronology pull's steps in a loop against a
//! kept server database, to profile (`perf record`) where a pull's time goes.
//!
//! ```text
//! HEARTH_BENCH_KEEP=1 cargo run --release -p hearth-bench -- --only=ingest   # prints the dir and child A
//! cargo run --release -p hearth-bench --example pull_profile -- DIR/server nhs:... [rounds]
//! ```

use std::collections::BTreeSet;
use std::time::Instant;

use hearth_shared::ChildRef;
use hearth_sync_server::chronology::format::Format;
use hearth_sync_server::chronology::{Chronology, DateRange, reconcile};
use hearth_sync_server::store::Store;
use hearth_sync_server::store::sqlite::SqliteStore;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(child)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: pull_profile DATA_DIR CHILD [ROUNDS]");
    };
    let rounds: usize = args.next().map_or(Ok(50), |r| r.parse())?;
    let child: ChildRef = child
        .parse()
        .map_err(|_| anyhow::anyhow!("not a child reference"))?;
    let store = SqliteStore::connect(std::path::Path::new(&data))?;
    let (mut load, mut rec, mut fmt) = (0.0, 0.0, 0.0);
    for _ in 0..rounds {
        let t = Instant::now();
        let records = store.records_for(std::slice::from_ref(&child))?;
        load += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let entries = reconcile(
            &records,
            &BTreeSet::from([child.clone()]),
            DateRange::default(),
        );
        rec += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let json = Format::Json.render(&Chronology {
            child: child.clone(),
            details: Default::default(),
            signals: Vec::new(),
            names: Default::default(),
            family: false,
            children: vec![child.clone()],
            entries,
        });
        std::hint::black_box(json.len());
        fmt += t.elapsed().as_secs_f64();
    }
    let ms = |s: f64| s * 1e3 / rounds as f64;
    println!(
        "per pull: load {:.1} ms, reconcile {:.1} ms, JSON {:.1} ms",
        ms(load),
        ms(rec),
        ms(fmt)
    );
    Ok(())
}
