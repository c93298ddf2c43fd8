//! Figure 1 (criterion): prints the per-kind size table of the corpus
//! (signed record bytes against the agent's minified JSON), then times
//! encoding both forms so the bench has something to measure. The size
//! figure itself is bytes, not time, and is deterministic.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_bench::{corpus, size};
use hearth_shared::json::body_to_json;

fn sizes(c: &mut Criterion) {
    let corpus = corpus::corpus(900);
    let table = size::summarise(&size::measure(&corpus));
    println!(
        "\nfigure 1: signed record bytes against minified JSON (900 records, seed {:#x})",
        corpus::SEED
    );
    print!("{}", size::render(&table));
    let bodies: Vec<_> = corpus.iter().map(|s| s.body.clone()).collect();
    let mut g = c.benchmark_group("size");
    let mut i = 0;
    g.bench_function("postcard_body", |b| {
        b.iter(|| {
            i += 1;
            postcard::to_allocvec(&bodies[i % bodies.len()])
                .expect("encodes")
                .len()
        })
    });
    g.bench_function("json_body_minified", |b| {
        b.iter(|| {
            i += 1;
            serde_json::to_string(&body_to_json(&bodies[i % bodies.len()]))
                .expect("JSON")
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, sizes);
criterion_main!(benches);
