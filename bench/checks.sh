#!/bin/bash
# bench/checks.sh: what each REST check costs per run, against the `curl`
# CLI fetching the same Patroni document in the same run (the baseline).
# Prints, per check: median wall time, mean CPU time (user+sys), peak RSS,
# and the ratios check/curl. Asserts nothing: it measures.
#
#   bench/checks.sh [BUILDDIR]   (default _build/werror, else _build/demo)
#
# Needs the sandbox running (tests/sandbox/pgha-sandbox up), hyperfine and
# GNU time (apt-get install hyperfine time).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build plugins/check_pgha_node "${1:-}"
command -v hyperfine >/dev/null || { echo "bench: apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: apt-get install time" >&2; exit 1; }
eval "$("$top/tests/sandbox/pgha-sandbox" env)"
leader=$("$top/tests/sandbox/pgha-sandbox" leader)
var="PGHA_${leader^^}_REST"
url=${!var}
runs=${BENCH_RUNS:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | endpoint the baseline fetches | check command line
cases=(
	"node|/patroni|check_pgha_node --patroni $url --role primary"
	"leader|/cluster|check_pgha_leader --patroni $url"
	"replicas|/cluster|check_pgha_replicas --patroni $url"
	"members|/cluster|check_pgha_members --patroni $url"
	"maintenance|/cluster|check_pgha_maintenance --patroni $url"
	"config|/config|check_pgha_config --patroni $url --hash 00000000000000000000000000000000"
)

# peak RSS in kB of a command, the largest of 5 runs
peak_rss() {
	local max=0 kb
	for _ in 1 2 3 4 5; do
		/usr/bin/time -o "$tmp/rss" -f '%M' "$@" >/dev/null 2>&1 || true
		kb=$(tail -1 "$tmp/rss")
		[ "$kb" -gt "$max" ] && max=$kb
	done
	echo "$max"
}

echo "bench: against the sandbox leader $leader ($url), $runs runs each"
printf '%-12s %9s %9s %7s %9s %9s %7s %8s %8s\n' check "wall ms" "curl ms" ratio \
	"cpu ms" "curl cpu" ratio "RSS kB" "curl kB"
for c in "${cases[@]}"; do
	IFS='|' read -r name path cmd <<<"$c"
	bin=${cmd%% *}
	[ -x "$build/plugins/$bin" ] || continue
	hyperfine -N --warmup 3 --runs "$runs" -i --export-json "$tmp/$name.json" \
		-n curl "curl -s -o /dev/null $url$path" \
		-n check "$build/plugins/$cmd" >/dev/null 2>&1
	# shellcheck disable=SC2086
	rss=$(peak_rss $build/plugins/$cmd)
	curl_rss=$(peak_rss curl -s -o /dev/null "$url$path")
	/usr/bin/python3 - "$tmp/$name.json" "$name" "$rss" "$curl_rss" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, k = r["curl"], r["check"]
cpu = lambda x: (x["user"] + x["system"]) * 1000
print(f'{sys.argv[2]:<12} {k["median"]*1000:9.2f} {c["median"]*1000:9.2f} {k["median"]/c["median"]:6.2f}x'
      f' {cpu(k):9.2f} {cpu(c):9.2f} {cpu(k)/cpu(c):6.2f}x {sys.argv[3]:>8} {sys.argv[4]:>8}')
PY
done
