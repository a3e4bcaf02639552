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

show() { # show CMD...: print the command, its output and exit code
	echo
	echo "\$ ${*/#$build\//}"
	local rc=0
	"$@" || rc=$?
	echo "(exit $rc)"
}

echo
"$top/tests/sandbox/pgha-sandbox" status
echo
echo "== check_pgha_node against each node =="
for n in $PGHA_NODES; do
	var="PGHA_${n^^}_REST"
	show "$build/plugins/check_pgha_node" --patroni "${!var}" --role primary
	show "$build/plugins/check_pgha_node" --patroni "${!var}" --alive --role replica --pending-restart -v
done

echo
echo "The sandbox keeps running: 'tests/sandbox/pgha-sandbox status' shows it,"
echo "'tests/sandbox/pgha-sandbox down' stops it."
