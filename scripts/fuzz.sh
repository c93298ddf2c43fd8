#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (issue 19).
#
#   scripts/fuzz.sh smoke [SECONDS]   build once (debug: it compiles in half
#                                     the time), run every target SECONDS
#                                     (default 20) two at a time; fails on
#                                     any crash (what CI runs)
#   scripts/fuzz.sh long [TARGET...]  release, -runs=10000000
#                                     -max_total_time=1800 per target
#                                     (default: all), two at a time; prints
#                                     the table for docs/reliability.md
#   scripts/fuzz.sh list              the targets
#
# Needs the nightly toolchain and cargo-fuzz (it installs nothing; .ci/run
# does). Targets are what `cargo fuzz list` says. Each run reads the
# committed seeds (fuzz/seeds/<target>/) and grows the live corpus
# (fuzz/corpus/<target>/, not committed); a crash is written to
# fuzz/artifacts/<target>/ and its reproduction command printed.
#
# Environment:
#   FUZZ_SANITIZER  address | none (default none: safe Rust with
#                   unsafe_code forbidden gains little from ASan, which
#                   roughly doubles build time and halves executions)
#   FUZZ_JOBS       targets run at once (default 2)
#   FUZZ_LONG_RUNS, FUZZ_LONG_SECONDS  the long run's limits
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-2}
# Release with debug assertions and overflow checks: an overflow is a bug
# the fuzzer should see, not a wrapped value.
build_flags=(--sanitizer "$sanitizer" --debug-assertions)
logs=target/fuzz-logs
fuzz() { cargo +nightly fuzz "$@"; }

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# run_one TARGET LIBFUZZER-ARGS...: one target, its log in $logs/TARGET.log,
# its exit status and seconds in $logs/TARGET.status.
run_one() {
    local t=$1
    shift
    mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
    local start status=0
    start=$(date +%s)
    touch "$logs/$t.start"
    fuzz run "${build_flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 "$@" \
        >"$logs/$t.log" 2>&1 || status=$?
    echo "$status $(($(date +%s) - start))" >"$logs/$t.status"
    if [ "$status" -ne 0 ]; then
        echo "FAILED: $t (exit $status); log: fuzz/$logs/$t.log" >&2
        grep -E 'panicked at|ERROR: libFuzzer|^artifact_prefix|Test unit written|Reproduce with' \
            "$logs/$t.log" | head -20 >&2 || true
    fi
}

# run_all LIBFUZZER-ARGS... -- TARGET...: at most $jobs at once.
run_all() {
    local args=()
    while [ "$1" != "--" ]; do
        args+=("$1")
        shift
    done
    shift
    local t
    for t in "$@"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
            wait -n || true
        done
        run_one "$t" "${args[@]}" &
    done
    wait
}

# table TARGET...: target, executions, seconds, cov, ft, crashes, exit.
table() {
    printf '%-14s %12s %8s %8s %8s %8s %5s\n' target executions seconds cov ft crashes exit
    local t status secs execs cov ft crashes
    for t in "$@"; do
        read -r status secs <"$logs/$t.status"
        execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' || echo '?')
        cov=$(grep -o 'cov: [0-9]*' "$logs/$t.log" | tail -1 | grep -o '[0-9]*$' || echo '?')
        ft=$(grep -o 'ft: [0-9]*' "$logs/$t.log" | tail -1 | grep -o '[0-9]*$' || echo '?')
        crashes=$(find "artifacts/$t" -type f -newer "$logs/$t.start" | wc -l)
        printf '%-14s %12s %8s %8s %8s %8s %5s\n' "$t" "$execs" "$secs" "$cov" "$ft" "$crashes" "$status"
    done
}

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
list)
    fuzz list
    exit 0
    ;;
smoke)
    seconds=${1:-20}
    mapfile -t targets < <(fuzz list)
    args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -len_control=0)
    # A debug build: CI asks that every target builds and runs clean, not
    # for volume, and a debug build of the server and agent trees takes
    # half the time of a release one.
    build_flags+=(--dev)
    ;;
long)
    if [ $# -gt 0 ]; then
        targets=("$@")
    else
        mapfile -t targets < <(fuzz list)
    fi
    # -len_control=0: the structure-aware targets (record_fields, batch,
    # sync_request, reconcile...) need inputs of a few hundred bytes from
    # the start, not libFuzzer's slow growth from a few bytes.
    args=(-runs="${FUZZ_LONG_RUNS:-10000000}" -max_total_time="${FUZZ_LONG_SECONDS:-1800}"
        -timeout=20 -rss_limit_mb=2048 -len_control=0)
    ;;
*) usage ;;
esac

[ ${#targets[@]} -gt 0 ] || {
    echo "no fuzz targets found (cargo fuzz list)" >&2
    exit 1
}
mkdir -p "$logs"
start=$(date +%s)
# The build's own output goes to a log: on a failure, what the compiler
# said is printed last, where a CI log's tail shows it, with the disk and
# memory it had.
if ! fuzz build "${build_flags[@]}" >"$logs/build.log" 2>&1; then
    echo "FAILED: the fuzz targets did not build (log: fuzz/$logs/build.log); the compiler said:" >&2
    grep -E -A14 '^error|signal: 9|SIGKILL|No space left' "$logs/build.log" | head -120 >&2 || true
    echo "--- the log's last lines:" >&2
    tail -25 "$logs/build.log" >&2
    df -h . "${TMPDIR:-/tmp}" >&2 || true
    free -m >&2 || true
    exit 1
fi
echo "built ${#targets[@]} targets in $(($(date +%s) - start)) s (sanitizer: $sanitizer)"
run_all "${args[@]}" -- "${targets[@]}"
echo "fuzz $mode: $(($(date +%s) - start)) s in all"
table "${targets[@]}"
failed=0
for t in "${targets[@]}"; do
    read -r status _ <"$logs/$t.status"
    [ "$status" -eq 0 ] || failed=1
done
exit "$failed"
