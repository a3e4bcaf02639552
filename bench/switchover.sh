#!/bin/bash
# bench/switchover.sh: time from start to converged for a switchover, the
# runbook against Patroni's own client, same sandbox, alternating rounds.
#
#   A: pgha run switchover --yes               (it returns once converged)
#   B: patronictl switchover --force, then poll until the same state
#
# "Converged" is what the runbook waits for: the new leader takes writes
# on a new timeline and both other members stream from it (its
# pg_stat_replication) with replay lag under 1 MB. B polls that with psql
# every 100 ms, as an operator's script would. Each round switches to the
# other replica, so both sides see the same cluster. Prints the medians,
# the ratio A/B (target <= 1.0x) and the write-downtime window the runbook
# observed. Asserts nothing.
#
#   bench/switchover.sh [BUILDDIR] (default _build/werror, else _build/demo)
#   BENCH_ROUNDS=3 (rounds of each)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build pgha "${1:-}"
SANDBOX=$top/tests/sandbox/pgha-sandbox
eval "$("$SANDBOX" env)"
export PGPASSFILE
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "bench: the sandbox is not healthy" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rounds=${BENCH_ROUNDS:-3}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
port_of() { local v="PGHA_${1^^}_PGPORT"; echo "${!v}"; }
q() { psql -X -qAt -h 127.0.0.1 -p "$(port_of "$1")" -U postgres -d postgres -c "$2" 2>/dev/null; }
leader() { "$SANDBOX" leader; }
others() { local l=$1 n; for n in $PGHA_NODES; do [ "$n" != "$l" ] && printf '%s ' "$n"; done; }
converged() { # NEW OLDTL
	[ "$(q "$1" "SELECT NOT pg_is_in_recovery()
		AND ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int > $2
		AND (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'
		     AND pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) <= 1048576) = 2")" = t ]
}
timeline() { q "$1" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"; }
settle() { local l; l=$(leader); for _ in $(seq 300); do converged "$l" 0 && return 0; sleep 0.2; done; return 1; }

a_ms=() b_ms=() windows=()
for r in $(seq "$rounds"); do
	for side in A B; do
		settle
		old=$(leader)
		set -- $(others "$old")
		cand=$1
		tl=$(timeline "$old")
		t0=$(now_ms)
		if [ $side = A ]; then
			"$build/pgha" run switchover "candidate=$cand" --yes -c "$PGHA_CLUSTER_FILE" \
				--runbook-dir "$top/runbooks" --journal-dir "$tmp/journal" >"$tmp/a.out" 2>&1
			t1=$(now_ms)
			converged "$cand" "$tl" || { echo "bench: runbook returned before convergence" >&2; cat "$tmp/a.out" >&2; exit 1; }
			a_ms+=($((t1 - t0)))
			windows+=("$(sed -n 's/.*no writable leader for at most \([0-9.]*\) s.*/\1/p' "$tmp/a.out")")
		else
			"$SANDBOX" patronictl switchover --leader "$old" --candidate "$cand" --force >/dev/null 2>&1
			until converged "$cand" "$tl"; do
				(( $(now_ms) - t0 < 180000 )) || { echo "bench: no convergence after patronictl" >&2; exit 1; }
				sleep 0.1
			done
			t1=$(now_ms)
			b_ms+=($((t1 - t0)))
		fi
		echo "round $r $side: $old -> $cand in $((t1 - t0)) ms"
	done
done
/usr/bin/python3 - "${a_ms[*]}" "${b_ms[*]}" "${windows[*]}" <<'PY'
import statistics, sys
a = [int(x) for x in sys.argv[1].split()]
b = [int(x) for x in sys.argv[2].split()]
w = [float(x) for x in sys.argv[3].split() if x]
ma, mb = statistics.median(a), statistics.median(b)
print(f"pgha run switchover --yes:            median {ma/1000:.2f} s  ({', '.join(f'{x/1000:.2f}' for x in a)})")
print(f"patronictl switchover + poll psql:    median {mb/1000:.2f} s  ({', '.join(f'{x/1000:.2f}' for x in b)})")
print(f"ratio {ma/mb:.2f}x (target <= 1.0x)")
if w:
    print(f"no writable leader (runbook's bound): median {statistics.median(w):.2f} s ({', '.join(f'{x:.2f}' for x in w)})")
PY
