#!/usr/bin/env bash
# Fails if any binary given holds a test hook: the name of an environment
# variable that only tests may set. Test hooks live behind the `test-hooks`
# cargo feature, which only the tests turn on; a release or tablet build
# must contain neither their code nor their names (issue 12, item 15).
# Usage: scripts/no-test-hooks.sh BINARY...
set -euo pipefail

hooks=(HEARTH_FAULT HEARTH_CLOCK_SKEW_SECS HEARTH_INSECURE_TEST_KDF HEARTH_TEST_TAMPER_CASELOAD HEARTH_KILL_AT)
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
status=0
for bin in "$@"; do
    [ -f "$bin" ] || { echo "$bin: not found" >&2; exit 2; }
    for hook in "${hooks[@]}"; do
        # `strings` as the issue asks, where binutils is installed; grep -a
        # finds the same bytes without it.
        if command -v strings >/dev/null; then
            found=$(strings -a "$bin" | grep -c -F "$hook" || true)
        else
            found=$(grep -a -c -F "$hook" "$bin" || true)
        fi
        if [ "$found" -ne 0 ]; then
            echo "$bin contains the test hook $hook; a shipped binary must be built without the test-hooks feature" >&2
            status=1
        fi
    done
done
[ "$status" -eq 0 ] && echo "no test hooks in: $*"
exit "$status"
