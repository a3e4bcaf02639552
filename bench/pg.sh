#!/bin/bash
# bench/pg.sh: what each libpq check costs per run, against
# monitoring-plugins' check_pgsql (C, libpq) connecting to the same server
# with the same login in the same run (the baseline). Prints per check the
# median wall time, mean CPU time, peak RSS, and the ratios. Measures
# only; asserts nothing.
#
#   bench/pg.sh [BUILDDIR]   (default _build/werror, else _build/demo)
#
# Needs the sandbox running, hyperfine, GNU time and check_pgsql
# (apt-get install hyperfine time monitoring-plugins-standard).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build plugins/check_pgha_query "${1:-}"
pgsql=/usr/lib/nagios/plugins/check_pgsql
[ -x "$pgsql" ] || { echo "bench: apt-get install monitoring-plugins-standard" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: apt-get install time" >&2; exit 1; }

eval "$("$top/tests/sandbox/pgha-sandbox" env)"
export PGPASSFILE
leader=$("$top/tests/sandbox/pgha-sandbox" leader)
var="PGHA_${leader^^}_PGPORT"
port=${!var}
user=$PGHA_MONITOR_USER
conn="-H 127.0.0.1 -p $port -d postgres -U $user"
runs=${BENCH_RUNS:-40}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cases=(
	"lag|check_pgha_lag $conn"
	"connections|check_pgha_connections $conn"
	"blocking|check_pgha_blocking $conn"
	"transactions|check_pgha_transactions $conn"
	"slots|check_pgha_slots $conn"
	"archiver|check_pgha_archiver $conn"
	"query|check_pgha_query $conn -q 'SELECT 1'"
)
baseline="$pgsql -H 127.0.0.1 -P $port -d postgres -l $user"

peak_rss() { # peak RSS in kB of a command line, the largest of 5 runs
	local max=0 kb
	for _ in 1 2 3 4 5; do
		/usr/bin/time -o "$tmp/rss" -f '%M' bash -c "exec $1" >/dev/null 2>&1 || true
		kb=$(tail -1 "$tmp/rss")
		[ "$kb" -gt "$max" ] && max=$kb
	done
	echo "$max"
}

echo "bench: against the sandbox leader $leader (port $port) as $user, $runs runs each"
base_rss=$(peak_rss "$baseline")
printf '%-13s %9s %9s %7s %9s %9s %7s %8s %8s\n' check "wall ms" "base ms" ratio \
	"cpu ms" "base cpu" ratio "RSS kB" "base kB"
for c in "${cases[@]}"; do
	IFS='|' read -r name cmd <<<"$c"
	bin=${cmd%% *}
	[ -x "$build/plugins/$bin" ] || continue
	hyperfine -N --warmup 3 --runs "$runs" -i --export-json "$tmp/$name.json" \
		-n base "$baseline" -n check "$build/plugins/$cmd" >/dev/null 2>&1
	rss=$(peak_rss "$build/plugins/$cmd")
	/usr/bin/python3 - "$tmp/$name.json" "$name" "$rss" "$base_rss" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, k = r["base"], r["check"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
print(f'{sys.argv[2]:<13} {k["median"]*1000:9.2f} {b["median"]*1000:9.2f} {k["median"]/b["median"]:6.2f}x'
      f' {cpu(k):9.2f} {cpu(b):9.2f} {cpu(k)/cpu(b):6.2f}x {sys.argv[3]:>8} {sys.argv[4]:>8}')
PY
done
