#!/bin/bash
# bench/node.sh: what one check_pgha_node run costs, against the `curl` CLI
# fetching the same document in the same run (the baseline). Prints the
# medians and the ratio; no threshold is asserted.
#
#   bench/node.sh [BUILDDIR]       (default _build/werror, else _build/demo)
#
# Uses the sandbox leader when the sandbox runs, else the fixture server
# serving a canned /patroni document. Needs hyperfine (apt-get install
# hyperfine).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
	for b in "$top/_build/werror" "$top/_build/demo" "$top"; do
		[ -x "$b/plugins/check_pgha_node" ] && { build=$b; break; }
	done
fi
check="$build/plugins/check_pgha_node"
[ -x "$check" ] || { echo "bench: build pgha first (no $check)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: install hyperfine" >&2; exit 1; }

tmp=$(mktemp -d)
fixture_pid=
cleanup() { [ -n "$fixture_pid" ] && kill "$fixture_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

if url=$("$top/tests/sandbox/pgha-sandbox" env 2>/dev/null | sed -n "s/^PGHA_N1_REST=//p" | tr -d "'\"") &&
	[ -n "$url" ] && curl -sf -o /dev/null "$url/patroni"; then
	where="sandbox node n1 ($url)"
else
	printf '%s' '{"state":"running","role":"master","timeline":3,"patroni":{"version":"3.0.2","scope":"b"}}' > "$tmp/patroni.json"
	"$build/tests/unit/fixture_server" --port-file "$tmp/port" --route "/patroni=$tmp/patroni.json" \
		--lifetime 55 &
	fixture_pid=$!
	for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	url="http://127.0.0.1:$(cat "$tmp/port")"
	where="fixture server ($url)"
fi

echo "bench: GET /patroni from the $where"
hyperfine -N --warmup 5 --runs 100 --export-json "$tmp/h.json" \
	-n curl "curl -s -o /dev/null $url/patroni" \
	-n check_pgha_node "$check --patroni $url --role leader" >/dev/null 2>&1 || true
/usr/bin/python3 - "$tmp/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, k = r["curl"]["median"], r["check_pgha_node"]["median"]
print(f"curl CLI median          {c*1000:7.2f} ms")
print(f"check_pgha_node median   {k*1000:7.2f} ms")
print(f"ratio check/curl         {k/c:7.2f}x")
PY
