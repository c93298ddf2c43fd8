#!/usr/bin/env bash
# Fails when a source file outside tests grows past the size a reader can
# hold in their head (issue 13: split it by concern instead). Tests,
# migrations and test-only files (`tests/`, `tests.rs`) are exempt.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-800}
over=$(git ls-files '*.rs' \
    | grep -Ev '(^|/)tests(/|\.rs$)|/benches/|/fuzz/' \
    | while read -r f; do
        n=$(wc -l <"$f")
        [ "$n" -gt "$limit" ] && echo "  $f: $n lines"
    done || true)
if [ -n "$over" ]; then
    echo "source files over $limit lines (split them by concern):" >&2
    echo "$over" >&2
    exit 1
fi
echo "file sizes: every source file outside tests is at most $limit lines"
