#!/usr/bin/env bash
# The project's one test command: the README's, and what .ci/run calls.
# Formatting, the module graph (no import cycle) and file sizes, lints,
# the whole test suite (unit, integration and the end-to-end tests of the
# real binaries), 20 seeded crash trials of the soak harness, every fuzz
# target for 20 s, the no_std core for a
# microcontroller target with no allocator, the tablet binary built for
# armv7 and run under qemu-user, a check that no release binary holds a test
# hook, and the benchmarks in quick mode (so they keep compiling and
# working; they are never timed tests). `cargo test --workspace` turns the
# `test-hooks` feature on for the binaries the tests run (tests/Cargo.toml
# and the crates' own dev-dependencies say how); nothing else does.
#
# The server's and the end-to-end tests run twice: on SQLite, then on
# PostgreSQL (HEARTH_TEST_BACKEND=postgres; skipped loudly where PostgreSQL is
# not installed, never in CI).
#
# Needs: rustup targets thumbv7em-none-eabihf and armv7-unknown-linux-gnueabihf,
# the nightly toolchain and cargo-fuzz (fuzz/),
# Debian's gcc-arm-linux-gnueabihf and qemu-user, and Debian's postgresql
# (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
# The fuzz crate is outside the workspace (its own nightly build).
rustfmt --edition 2024 --check fuzz/src/lib.rs fuzz/fuzz_targets/*.rs fuzz/examples/*.rs

step "module graph: no import cycles; no source file over 800 lines"
python3 scripts/module-graph.py --check
bash scripts/file-sizes.sh 800

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "no_std core for thumbv7em-none-eabihf (no allocator, then alloc)"
cargo build -p hearth-shared --no-default-features --target thumbv7em-none-eabihf --locked
cargo build -p hearth-shared --no-default-features --features alloc --target thumbv7em-none-eabihf --locked

step "tests"
# Every target, benchmarks included (criterion runs each once, as a test),
# in one build: a later `cargo test -p hearth-bench` or `cargo run -p ...`
# would resolve features for that package alone and rebuild half the
# dependency tree. The binaries the steps below run (soak, hearth-bench)
# come from this build. Then the doc tests, which --all-targets leaves out.
cargo test --workspace --locked --all-targets
cargo test --workspace --locked --doc
debug="${CARGO_TARGET_DIR:-target}/debug"

step "tests on PostgreSQL: the server's unit and integration tests and the end-to-end suite"
# The same tests again with every store in PostgreSQL (issue 18):
# hearth-testpg starts a throwaway cluster per test binary from Debian's
# postgresql package. Not the browser tests (tests/tests/browser): the
# manager's pages are the same over either store.
if [ -n "${HEARTH_TEST_POSTGRES_URL:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
    server_tests=()
    for f in sync-server/tests/*.rs; do server_tests+=(--test "$(basename "$f" .rs)"); done
    # `--workspace` with target filters, not `-p`: the same feature set as
    # the run above, so nothing is built again.
    # Not the scenarios about the transport alone (connection floods, the
    # fault proxies), whose store calls are the ordinary ones the other
    # scenarios make; the crash scenarios stay, since what a kill leaves
    # behind is the store's to get right.
    HEARTH_TEST_BACKEND=postgres cargo test --workspace --locked \
        --lib "${server_tests[@]}" --test e2e -- --skip flood:: --skip network:: --skip mitm::
elif [ "${CI:-}" = true ]; then
    echo "PostgreSQL is not installed: CI must run the PostgreSQL tests (.ci/run installs it)" >&2
    exit 1
else
    printf '\n*** SKIPPED (PostgreSQL not installed): the tests on PostgreSQL ***\n' >&2
    printf '    apt-get install postgresql, or set HEARTH_TEST_POSTGRES_URL\n\n' >&2
fi

step "soak: 20 trials of capture and sync through fault proxies, each with one kill -9, then the invariants"
# The long run (1,000 trials) and how to replay a failure: docs/reliability.md.
"$debug/soak" --trials 20 --seed 1919

step "fuzz targets, 20 s each: they must keep building and finding nothing"
# The long runs (10 million executions or 30 minutes a target) are not CI's:
# docs/reliability.md has their figures and commands.
bash scripts/fuzz.sh smoke 20

step "tablet binary: armv7 cross build, run under qemu-arm"
bash scripts/tablet.sh

step "release binaries: no test hooks (HEARTH_FAULT, HEARTH_CLOCK_SKEW_SECS, HEARTH_INSECURE_TEST_KDF, HEARTH_KILL_AT)"
# `cargo test` above built target/debug's binaries with the test-hooks
# feature; a release build never has it. The `ci` profile is `release`
# without LTO (Cargo.toml): the same features, so the same hooks, in less
# build time; the armv7 agent above was checked as it ships.
# The quick benchmarks below run these same binaries.
cargo build --profile ci --locked -p hearth-sync-server -p hearth-agent
release="${CARGO_TARGET_DIR:-target}/ci"
bash scripts/no-test-hooks.sh "$release/hearth-server" "$release/hearth-agent"
# And in behaviour: with both agent hooks set (the skew to garbage, which a
# hooked build refuses), release `init` succeeds and keeps full Argon2.
hooktmp=$(mktemp -d)
HEARTH_PASSPHRASE="release hook check passphrase" HEARTH_INSECURE_TEST_KDF=1 \
    HEARTH_CLOCK_SKEW_SECS=not-a-number \
    "$release/hearth-agent" --store "$hooktmp/store" init --agency NURSERY-12 --worker ci >/dev/null
grep -Eq '"memory_kib": ?65536' "$hooktmp/store/keyring.json" \
    || { echo "the release agent honoured HEARTH_INSECURE_TEST_KDF" >&2; exit 1; }
rm -rf "$hooktmp"

step "benchmarks, quick mode: they must keep compiling and running (never timed tests)"
# The criterion benchmarks ran once each in the tests above; the figures
# table's binary (built there too) runs the release binaries.
HEARTH_BIN_DIR="$release" "$debug/hearth-bench" --quick
