#!/usr/bin/env bash
# The project's one test command: the README's, and what .ci/run calls.
# Formatting, lints, the whole test suite (unit, integration and the
# end-to-end tests of the real binaries), the no_std core for a
# microcontroller target with no allocator, the tablet binary built for
# armv7 and run under qemu-user, and the benchmarks in quick mode (so they
# keep compiling and working; they are never timed tests).
#
# Needs: rustup targets thumbv7em-none-eabihf and armv7-unknown-linux-gnueabihf,
# and Debian's gcc-arm-linux-gnueabihf and qemu-user (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "no_std core for thumbv7em-none-eabihf (no allocator, then alloc)"
cargo build -p hearth-shared --no-default-features --target thumbv7em-none-eabihf --locked
cargo build -p hearth-shared --no-default-features --features alloc --target thumbv7em-none-eabihf --locked

step "tests"
cargo test --workspace --locked

step "tablet binary: armv7 cross build, run under qemu-arm"
bash scripts/tablet.sh

step "benchmarks, quick mode: they must keep compiling and running (never timed tests)"
cargo test -p hearth-bench --benches --locked
cargo run -q -p hearth-bench --bin hearth-bench --locked -- --quick
