//! Figure 2 (criterion): encode+sign and verify+decode of corpus records,
//! each beside bare ed25519 on the same bytes. The ratio of the two lines of
//! a group is the figure; the target is ≤ 1.15×.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hearth_bench::micro::CoreFixture;

fn core(c: &mut Criterion) {
    let f = CoreFixture::new();
    let mut g = c.benchmark_group("core_sign");
    let mut i = 0;
    g.bench_function("bare_ed25519_sign", |b| {
        b.iter(|| {
            i += 1;
            f.bare_sign(i)
        })
    });
    g.bench_function("encode_sign", |b| {
        b.iter(|| {
            i += 1;
            f.encode_sign(i)
        })
    });
    g.finish();
    let mut g = c.benchmark_group("core_verify");
    g.bench_function("bare_ed25519_verify", |b| {
        b.iter(|| {
            i += 1;
            f.bare_verify(i)
        })
    });
    g.bench_function("verify_decode", |b| {
        b.iter(|| {
            i += 1;
            f.verify_decode(i)
        })
    });
    g.finish();
    // Where verify+decode's time goes.
    let mut g = c.benchmark_group("core_verify_parts");
    g.bench_function("signature_stream", |b| {
        b.iter(|| {
            i += 1;
            f.verify_part(i)
        })
    });
    g.bench_function("decode_validate", |b| {
        b.iter(|| {
            i += 1;
            f.decode_part(i)
        })
    });
    g.bench_function("chain_hash_and_device_id", |b| {
        b.iter(|| {
            i += 1;
            f.hash_part(i)
        })
    });
    g.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
