//! Figure 2 evidence: runs 300 of one core operation so that
//! `valgrind --tool=callgrind` can count its instructions deterministically
//! (timings on a shared machine are too noisy to split a few per cent).
//!
//! ```text
//! cargo build --release -p hearth-bench --example verify_ir
//! for m in none bare_verify verify_stream verify_decode bare_sign encode_sign; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$m \
//!     target/release/examples/verify_ir $m 2>&1 | grep Collected
//! done
//! ```
//!
//! Subtract `none` (the fixture's setup) from each, divide by 300.

use hearth_bench::micro::CoreFixture;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let f = CoreFixture::new();
    let mut done = 0usize;
    for i in 0..300 {
        match mode.as_str() {
            "bare_verify" => done += usize::from(f.bare_verify(i)),
            "verify_stream" => done += usize::from(f.verify_part(i)),
            "verify_decode" => {
                std::hint::black_box(f.verify_decode(i));
                done += 1;
            }
            "bare_sign" => {
                std::hint::black_box(f.bare_sign(i));
                done += 1;
            }
            "encode_sign" => {
                std::hint::black_box(f.encode_sign(i));
                done += 1;
            }
            _ => {}
        }
    }
    println!("{mode}: {done}");
}
