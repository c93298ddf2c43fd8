#!/usr/bin/env bash
# Builds the tablet binary for 32-bit ARM (armv7-unknown-linux-gnueabihf)
# with Debian's cross gcc, then runs it under qemu-user: init, record,
# list, status. Proves the binary a tablet would run works, without
# Docker (which `cross` needs and this machine lacks).
set -euo pipefail
cd "$(dirname "$0")/.."

target=armv7-unknown-linux-gnueabihf
cargo build --release --locked -p hearth-agent --target "$target"
bin="${CARGO_TARGET_DIR:-target}/$target/release/hearth-agent"
size=$(stat -c %s "$bin")
printf 'armv7 hearth-agent: %s bytes (release, stripped)\n' "$size"
# The tablet binary, app included, stays within 6 MiB (issue 14).
if [ "$size" -gt $((6 * 1024 * 1024)) ]; then
    echo "the armv7 agent is $size bytes, over the 6 MiB budget" >&2
    exit 1
fi
# What a tablet runs holds no test hook (built without `test-hooks`).
bash scripts/no-test-hooks.sh "$bin"

run() { qemu-arm -L /usr/arm-linux-gnueabihf "$bin" --store "$store" "$@"; }
store="$(mktemp -d)/store"
trap 'rm -rf "$(dirname "$store")"' EXIT
export HEARTH_PASSPHRASE="tablet smoke test passphrase"
export RUST_LOG=warn

device=$(run init --agency NURSERY-12 --worker dsl.patel)
echo "init: device $device"
id=$(run record daily-presentation --child nhs:9434765919 --headline "Arrived hungry" \
    --attendance present --arrival-time 08:05 --hungry)
echo "record: $id"
run list --json | grep -q "\"record_id\":\"$id\"" || run list --json | grep -q "\"record_id\": \"$id\""
run list
run status
# Bad input under emulation too: a clear message, non-zero exit, nothing written.
if run record concern --child nhs:9434765918 --headline x --category neglect \
    --seen-or-said x --action none --action-detail x 2>/dev/null; then
    echo "an invalid NHS number was accepted" >&2
    exit 1
fi
test "$(run list --json | grep -o '"record_id"' | wc -l)" -eq 1
echo "tablet binary works under qemu-arm"
