#!/bin/bash
# bench/backup.sh: throughput of the backup runbook against a bare
# pg_basebackup with the same options, from the same replica, same sandbox,
# alternating rounds.
#
#   A: pg_basebackup -Ft -X stream --checkpoint=fast --manifest-checksums=SHA256
#      --compress=client-gzip into a temp dir (what the runbook runs)
#   B: pgha run backup node=REPLICA --yes (its "backup" step: pg_basebackup,
#      then backup_manifest read, sha256 of each file, backup.json; and the
#      whole run: pre-flight, verification by extraction + pg_verifybackup,
#      WAL switch attempt, retention, archive trimming)
#
# The data: `pgbench -i -s SCALE` into a scratch database on the leader
# (s=20 is about 300 MB), dropped at the end. MB/s are the databases' total
# size (sum of pg_database_size) over the seconds, for both sides. B's step
# time comes from its journal (step_end seconds of "backup"), the whole run
# from its start and end records. Prints the medians and the ratio of the
# step's throughput to the bare one (target >= 0.95x). Asserts nothing.
#
#   bench/backup.sh [BUILDDIR] (default _build/werror, else _build/demo)
#   BENCH_ROUNDS=3 (rounds of each), BENCH_SCALE=20, BENCH_COMPRESS=gzip
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_build pgha "${1:-}"
SANDBOX=$top/tests/sandbox/pgha-sandbox
eval "$("$SANDBOX" env)"
export PGPASSFILE
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "bench: the sandbox is not healthy" >&2; exit 1; }
PGBIN=/usr/lib/postgresql/15/bin
rounds=${BENCH_ROUNDS:-3}
scale=${BENCH_SCALE:-20}
compress=${BENCH_COMPRESS:-gzip}
DB=pgha_bench
tmp=$(mktemp -d)
L=$("$SANDBOX" leader)
cleanup() {
	rm -rf "$tmp"
	"$SANDBOX" psql "$L" -XAtqc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port_of() { local v="PGHA_${1^^}_PGPORT"; echo "${!v}"; }
q() { "$SANDBOX" psql "$1" -XAtqc "$2" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "bench: pgbench -i -s $scale into $DB on the leader $L"
q "$L" "DROP DATABASE IF EXISTS $DB"
q "$L" "CREATE DATABASE $DB"
"$PGBIN/pgbench" -i -q -s "$scale" -h "$PGHA_PGHOST" -p "$(port_of "$L")" -U postgres "$DB" >"$tmp/init.out" 2>&1 \
	|| { cat "$tmp/init.out" >&2; exit 1; }
q "$L" "CHECKPOINT" >/dev/null
R=''
for n in $PGHA_NODES; do [ "$n" != "$L" ] && { R=$n; break; }; done
for _ in $(seq 300); do
	lag=$(q "$L" "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) FROM pg_stat_replication")
	[ "${lag%.*}" -le 0 ] 2>/dev/null && break
	sleep 0.2
done
size=$(q "$R" "SELECT sum(pg_database_size(oid))::bigint FROM pg_database")
mb=$(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1048576}')
echo "bench: $mb MB of databases; backups from replica $R ($compress), $rounds rounds"

if [ "$compress" = none ]; then fmt=(-Fp); else fmt=(-Ft "--compress=client-$compress"); fi
a_s=() b_s=() w_s=()
for r in $(seq "$rounds"); do
	# A: bare pg_basebackup
	rm -rf "$tmp/bare"
	t0=$(now_ms)
	"$PGBIN/pg_basebackup" -h "$PGHA_PGHOST" -p "$(port_of "$R")" -U "$PGHA_REPLICATION_USER" -w \
		-D "$tmp/bare" -X stream --checkpoint=fast --manifest-checksums=SHA256 --label "bench-$r" "${fmt[@]}"
	t1=$(now_ms)
	a=$(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.3f", ms / 1000}')
	out=$(du -sb "$tmp/bare" | cut -f1)
	rm -rf "$tmp/bare"

	# B: the runbook
	"$build/pgha" run backup "node=$R" "compress=$compress" keep_min=1 retention_days=0 "dir=$tmp/backups" --yes \
		-c "$PGHA_CLUSTER_FILE" --runbook-dir "$top/runbooks" --journal-dir "$tmp/journal" >"$tmp/b.out" 2>&1 \
		|| { cat "$tmp/b.out" >&2; exit 1; }
	f=$(ls -t "$tmp/journal"/*.jsonl | head -1)
	read -r b w < <(/usr/bin/python3 - "$f" <<'EOF'
import json, sys
from datetime import datetime
step = start = end = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp()
    if r["event"] == "start": start = t
    if r["event"] == "end": end = t
    if r["event"] == "step_end" and r.get("name") == "backup": step = r["seconds"]
print("%.3f %.3f" % (step, end - start))
EOF
)
	a_s+=("$a") b_s+=("$b") w_s+=("$w")
	printf 'round %d: bare pg_basebackup %6.2f s (%s bytes written) | runbook step %6.2f s, whole run %6.2f s\n' \
		"$r" "$a" "$out" "$b" "$w"
done

A=$(median "${a_s[@]}") B=$(median "${b_s[@]}") W=$(median "${w_s[@]}")
awk -v mb="$mb" -v a="$A" -v b="$B" -v w="$W" 'BEGIN {
	printf "median bare pg_basebackup: %.2f s, %.1f MB/s\n", a, mb / a
	printf "median runbook backup step: %.2f s, %.1f MB/s\n", b, mb / b
	printf "median runbook whole run:   %.2f s, %.1f MB/s\n", w, mb / w
	printf "ratio step/bare throughput: %.2fx (target >= 0.95x); whole run/bare: %.2fx\n", a / b, a / w
}'
