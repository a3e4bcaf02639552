#!/bin/bash
# bench/engine.sh: the runbook engine's start-up cost: `pgha run --dry-run`
# of a small test runbook (three steps, no cluster), from start to the plan
# printed, median wall time over many runs. The issue's target is under 30 ms;
# this prints the number and asserts nothing.
#
#   bench/engine.sh [BUILDDIR]   (default _build/werror, else _build/demo)
#
# Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build pgha "${1:-}"
command -v hyperfine >/dev/null || { echo "bench: apt-get install hyperfine" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hyperfine -N --warmup 5 --runs "${BENCH_RUNS:-100}" --export-json "$tmp/h.json" \
	"$build/pgha run --runbook-dir $top/tests/runbooks basic out=$tmp/out --dry-run --journal-dir $tmp/journal" \
	>/dev/null 2>&1
/usr/bin/python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"pgha run --dry-run (3 steps): median {r['median']*1000:.2f} ms, "
      f"mean {r['mean']*1000:.2f} ms, min {r['min']*1000:.2f} ms (target < 30 ms)")
PY
