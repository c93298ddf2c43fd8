#!/usr/bin/env bash
# The project's one test command: the README's, and what .ci/run calls.
# Formatting, lints, the whole test suite, and the no_std core for a
# microcontroller target with no allocator.
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
