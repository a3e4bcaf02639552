#!/bin/bash
# demo.sh: from a fresh Debian 12 checkout to a working suite: installs the
# missing Debian packages (needs root), builds pgha, starts the sandbox
# cluster and shows the checks against every node.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -eq 0 ]; then
	tests/deps.sh
else
	echo "demo.sh: not root, so not installing packages (run with sudo for that)"
fi

build="$top/_build/demo"
if [ ! -x configure ]; then ./autogen.sh >/dev/null; fi
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then (cd "$build" && "$top/configure" -q); fi
make -s -C "$build" -j"$(nproc)" >/dev/null
echo "demo.sh: built pgha in $build"

tests/sandbox/pgha-sandbox up
eval "$(tests/sandbox/pgha-sandbox env)"
export PGPASSFILE

show() { # show CMD...: print the command, its output and exit code
	echo
	echo "\$ ${*/#$build\//}"
	local rc=0
	"$@" || rc=$?
	echo "(exit $rc)"
}

P="$build/plugins"
echo
echo "== pgha status: the live view, and its health check for cron or a load balancer =="
show "$build/pgha" status -c "$PGHA_CLUSTER_FILE" --no-color
show "$build/pgha" status -c "$PGHA_CLUSTER_FILE" --health-check
echo
echo "== the cluster checks, against all three Patroni endpoints =="
show "$P/check_pgha_leader" --patroni "$PGHA_PATRONI_URLS" --verify-nodes
show "$P/check_pgha_replicas" --patroni "$PGHA_PATRONI_URLS" -w 2: -c 1: --max-lag 16MB
show "$P/check_pgha_members" --patroni "$PGHA_PATRONI_URLS" --healthy-warning 3: --healthy-critical 2:
show "$P/check_pgha_maintenance" --patroni "$PGHA_PATRONI_URLS"
show "$P/check_pgha_etcd" --etcd "$PGHA_ETCD_URLS" --scope "$PGHA_SCOPE"

echo
echo "== check_pgha_node against each node =="
for n in $PGHA_NODES; do
	var="PGHA_${n^^}_REST"
	show "$P/check_pgha_node" --patroni "${!var}" --role primary
done

echo
echo "== replication lag measured in PostgreSQL, on the leader found through Patroni =="
show "$P/check_pgha_lag" --patroni "$PGHA_PATRONI_URLS" -U "$PGHA_MONITOR_USER" -d postgres \
	--expected-standbys 2 --warning-bytes 16MB --critical-bytes 64MB

echo
echo "== runbooks: the shipped ones, a switchover planned (dry-run) then done =="
RB=(--runbook-dir "$PWD/runbooks" --journal-dir "$build/journal" -c "$PGHA_CLUSTER_FILE")
show "$build/pgha" runbooks --runbook-dir "$PWD/runbooks"
show "$build/pgha" run switchover --dry-run "${RB[@]}"
show "$build/pgha" run switchover --yes "${RB[@]}"
show "$build/pgha" journal --journal-dir "$build/journal"
show "$build/pgha" status -c "$PGHA_CLUSTER_FILE" --no-color

echo
echo "The sandbox keeps running: 'tests/sandbox/pgha-sandbox status' shows it,"
echo "'tests/sandbox/pgha-sandbox down' stops it."
