#!/bin/bash
# bench/status.sh: what one `pgha status --json` costs on the sandbox,
# against fetching the same documents one after another with bare tools in
# the same run (the baseline):
#   curl  GET /cluster, GET /patroni of each node (read endpoints need no
#         credentials), etcd GET /version,
#         POST member/list and POST maintenance/status of each member;
#   psql  one connection to the leader as the monitoring user and a count
#         of pg_stat_activity.
# Prints the median wall time of each, the sum of the baseline medians and
# the ratios pgha / sum. pgha asks everything concurrently, so a ratio
# under 1 means the concurrency pays. Asserts nothing: it measures.
#
#   bench/status.sh [BUILDDIR]   (default _build/werror, else _build/demo)
#
# Needs the sandbox running (tests/sandbox/pgha-sandbox up, which writes the
# cluster file) and hyperfine (apt-get install hyperfine).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build pgha "${1:-}"
command -v hyperfine >/dev/null || { echo "bench: apt-get install hyperfine" >&2; exit 1; }
sandbox="$top/tests/sandbox/pgha-sandbox"
eval "$("$sandbox" env)"
export PGPASSFILE PGHA_CLUSTER_FILE
[ -f "$PGHA_CLUSTER_FILE" ] || { echo "bench: no $PGHA_CLUSTER_FILE (run pgha-sandbox up)" >&2; exit 1; }
leader=$("$sandbox" leader)
pgport_var="PGHA_${leader^^}_PGPORT"
runs=${BENCH_RUNS:-40}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmds=(-n pgha "$build/pgha status --json")
names=()
add() { names+=("$1"); cmds+=(-n "$1" "$2"); }
rest_var="PGHA_${leader^^}_REST"
add "curl /cluster" "curl -s -o /dev/null ${!rest_var}/cluster"
for n in $PGHA_NODES; do
	v="PGHA_${n^^}_REST"
	add "curl $n /patroni" "curl -s -o /dev/null ${!v}/patroni"
done
add "curl etcd /version" "curl -s -o /dev/null $PGHA_ETCD1_URL/version"
add "curl etcd member/list" "curl -s -o /dev/null -X POST -d {} $PGHA_ETCD1_URL/v3/cluster/member/list"
for i in 1 2 3; do
	v="PGHA_ETCD${i}_URL"
	add "curl etcd$i status" "curl -s -o /dev/null -X POST -d {} ${!v}/v3/maintenance/status"
done
psql_bin=/usr/lib/postgresql/15/bin/psql
[ -x "$psql_bin" ] || psql_bin=psql
add "psql leader" "$psql_bin -X -Atq -h $PGHA_PGHOST -p ${!pgport_var} -U $PGHA_MONITOR_USER -d postgres -c 'select count(*) from pg_stat_activity' -o /dev/null"

echo "bench: pgha status --json on the sandbox (leader $leader), $runs runs each; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
hyperfine -N --warmup 3 --runs "$runs" -i --export-json "$tmp/all.json" "${cmds[@]}" >/dev/null 2>&1
"$build/pgha" status --json > "$tmp/one.json"
/usr/bin/python3 - "$tmp/all.json" "$tmp/one.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
one = json.load(open(sys.argv[2]))
med = lambda n: r[n]["median"] * 1000
pgha = med("pgha")
curls = [n for n in r if n.startswith("curl")]
rest = sum(med(n) for n in curls)
pg = med("psql leader")
for n in r:
    print(f"  {n:<24} {med(n):8.2f} ms")
print(f"pgha status --json      {pgha:8.2f} ms median (its own elapsed_ms, last run: {one['elapsed_ms']} ms;"
      f" health {one['health']['state']})")
print(f"sum of {len(curls)} curl calls      {rest:8.2f} ms   ratio pgha/curl       {pgha / rest:5.2f}x")
print(f"curl calls + psql       {rest + pg:8.2f} ms   ratio pgha/(curl+psql) {pgha / (rest + pg):5.2f}x")
print("target: the whole status of the sandbox in under 50 ms:", "met" if pgha < 50 else "NOT met", "on this run")
PY
