#!/bin/bash
# restore.t: the point-in-time restore drill on the real sandbox.
#
# pgha restore-backup on its own (a bad backup and a data directory that is
# not empty refused; a real backup restored into an empty directory), then
# the drill: rows committed, a base backup (the backup runbook, run as the
# postgres user, whose files Patroni must read; a pg_basebackup by hand
# when the runbook is absent or fails), more rows, the time T noted, more
# rows and a DROP TABLE (the accident), WAL switched and archived. A backup
# whose WAL range lacks an archived segment is refused by the pre-flight
# (exit 3, the segment named; it is put back). Then `pgha run restore
# target_time=T`: every row committed before T is there, none after, the
# dropped table is back, three nodes stream on a new timeline, the old data
# directories were kept, the bootstrap file is gone. The cluster is left
# healthy (the kept directories, the tables and the backup removed).
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

PGHA=${PGHA:-$top_builddir/pgha}
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3
A=$PGHA_ARCHIVE_DIR
CF=$PGHA_CLUSTER_FILE
[ -x "$PY" ] || { echo "1..0 # SKIP no /usr/bin/python3"; exit 0; }
BDIR=$(sed -n '/^\[backup\]/,/^\[/s/^dir = //p' "$CF")
[ -n "$BDIR" ] || { echo "1..0 # SKIP no [backup] dir in $CF"; exit 0; }
grep -q '^restore_command = ' "$CF" || { echo "1..0 # SKIP no restore_command in $CF (old sandbox script?)"; exit 0; }
require_healthy
unset PGHA_RUNBOOK_PATH PGHA_LUA_PATH PGHA_ENGINE_TEST

T=$(mktemp -d)
chmod 0711 "$T"
J=$T/journal
MOVED='' ID='' RUN='' RUN2='' RUN3=''
if [ "$(id -u)" -eq 0 ]; then
	install -d -o postgres -g postgres -m 0700 "$T/pg"
	install -o postgres -g postgres -m 0600 "$PGPASSFILE" "$T/pg/pgpass"
	as_pg() { runuser -u postgres -- env PGPASSFILE="$T/pg/pgpass" "$@"; }
	PGUSER_OS=postgres
else
	mkdir -p "$T/pg"
	cp "$PGPASSFILE" "$T/pg/pgpass"
	as_pg() { env PGPASSFILE="$T/pg/pgpass" "$@"; }
	PGUSER_OS=$(id -un)
fi
cleanup() {
	[ -n "$MOVED" ] && [ -e "$T/$MOVED" ] && mv -n "$T/$MOVED" "$A/$MOVED"
	for n in $PGHA_NODES; do "$SANDBOX" start "$n" >/dev/null 2>&1; done
	"$SANDBOX" wait-healthy 120 >/dev/null 2>&1
	sql_at "$(leader)" "DROP TABLE IF EXISTS restore_drill, restore_victim" >/dev/null 2>&1
	[ -n "$ID" ] && [ -e "$BDIR/$ID/base.tar.gz" ] && chmod 0600 "$BDIR/$ID/base.tar.gz"
	for r in $RUN $RUN2 $RUN3; do
		rm -rf "$PGHA_SANDBOX_DIR"/n*/data.pgha-restore-"$r" "$PGHA_SANDBOX_DIR"/n*/data.pgha-restore-failed-"$r"
	done
	[ -n "$ID" ] && rm -rf "${BDIR:?}/$ID"
	rm -rf "$T"
}
trap cleanup EXIT

# --- pgha restore-backup on its own -------------------------------------------
run "$PGHA" restore-backup --help
is "$RC" 0 "restore-backup --help"
like "$OUT" "--backup DIR" "--help names --backup"
run "$PGHA" restore-backup --datadir=/tmp/x
is "$RC" 1 "no --backup: exit 1"
like "$OUT" "--backup DIR is required" "says --backup is required"
mkdir -p "$T/bad/20200101T000000Z"
printf '{"format":1,"id":"20200101T000000Z","finished_at":"2020-01-01T00:00:05Z","start_wal":"000000010000000000000002","verified":false,"files":[{"name":"base.tar.gz","size":1}]}\n' \
	>"$T/bad/20200101T000000Z/backup.json"
run "$PGHA" restore-backup --backup "$T/bad/20200101T000000Z" --scope=s --datadir="$T/dd"
is "$RC" 1 "a backup that is not good: exit 1"
like "$OUT" "backup 20200101T000000Z is not good: .*not verified" "says why it is not good"
ok "$([ ! -e "$T/dd" ]; echo $?)" "and makes no data directory"

# --- the drill: data, backup, data, T, data + accident --------------------------
L=$(leader)
diag "leader $L"
sql_at "$L" "DROP TABLE IF EXISTS restore_drill, restore_victim" >/dev/null
sql_at "$L" "CREATE TABLE restore_drill (id int PRIMARY KEY, phase text)" >/dev/null
sql_at "$L" "INSERT INTO restore_drill SELECT g, 'before backup' FROM generate_series(1, 3) g" >/dev/null
sql_at "$L" "CREATE TABLE restore_victim (x int)" >/dev/null
sql_at "$L" "INSERT INTO restore_victim SELECT generate_series(1, 5)" >/dev/null
is "$(sql_at "$L" "SELECT count(*) FROM restore_drill")/$(sql_at "$L" "SELECT count(*) FROM restore_victim")" 3/5 \
	"tables restore_drill (3 rows) and restore_victim (5 rows) created"

B_RC=1
if [ -f "$top_srcdir/runbooks/backup.lua" ]; then
	install -d -o "$PGUSER_OS" -m 0750 "$BDIR" 2>/dev/null || mkdir -p "$BDIR"
	install -d -o "$PGUSER_OS" -m 0700 "$T/journal-pg" 2>/dev/null || mkdir -p "$T/journal-pg"
	run as_pg "$PGHA" run backup --runbook-dir "$top_srcdir/runbooks" --journal-dir "$T/journal-pg" -c "$CF" --yes \
		passfile="$T/pg/pgpass" retention_days=3650
	B_RC=$RC
	ID=$(printf '%s\n' "$OUT" | sed -n 's/.*backup \([0-9]\{8\}T[0-9]\{6\}Z\) done.*/\1/p' | tail -n1)
	[ "$B_RC" -eq 0 ] || diag "backup runbook failed (exit $B_RC): $(printf '%s' "$OUT" | tail -n 3)"
fi
if [ "$B_RC" -eq 0 ] && [ -n "$ID" ]; then
	ok 0 "pgha run backup (as $PGUSER_OS): backup $ID"
else
	# by hand, as backup.t does
	set -- $(replicas)
	R=$1
	mkdir -p "$BDIR"
	chown "$PGUSER_OS" "$BDIR" 2>/dev/null
	sql_at "$L" "CHECKPOINT" >/dev/null
	ID=$(date -u +%Y%m%dT%H%M%SZ)
	STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	run as_pg "$PGBIN/pg_basebackup" -h "$PGHA_PGHOST" -p "$(pgport_of "$R")" -U "$PGHA_REPLICATION_USER" \
		-w -D "$BDIR/$ID" -Ft -X stream --checkpoint=fast --compress=client-gzip:1
	FINISHED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	as_pg "$PY" - "$BDIR/$ID" "$ID" "$R" "$STARTED" "$FINISHED" <<'EOF'
import hashlib, json, os, sys
d, bid, node, started, finished = sys.argv[1:]
m = json.load(open(os.path.join(d, "backup_manifest")))
r = m["WAL-Ranges"]
def wal(tli, t):
    hi, lo = t.split("/")
    seg = (int(hi, 16) << 32 | int(lo, 16)) // (16 * 1024 * 1024)
    return "%08X%08X%08X" % (tli, seg // 256, seg % 256)
files = [{"name": n, "size": os.path.getsize(os.path.join(d, n)),
          "sha256": hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest()}
         for n in ("base.tar.gz", "pg_wal.tar.gz", "backup_manifest")]
doc = {"format": 1, "id": bid, "node": node, "timeline": r[-1]["Timeline"],
       "start_lsn": r[0]["Start-LSN"], "stop_lsn": r[-1]["End-LSN"],
       "start_wal": wal(r[0]["Timeline"], r[0]["Start-LSN"]), "stop_wal": wal(r[-1]["Timeline"], r[-1]["End-LSN"]),
       "started_at": started, "finished_at": finished, "layout": "tar",
       "compression": {"method": "gzip", "level": 1}, "files": files, "verified": True}
json.dump(doc, open(os.path.join(d, ".backup.json.tmp"), "w"))
os.replace(os.path.join(d, ".backup.json.tmp"), os.path.join(d, "backup.json"))
EOF
	ok "$([ -s "$BDIR/$ID/backup.json" ]; echo $?)" "backup $ID taken by hand (pg_basebackup from $R, backup.json written here)"
fi
START_WAL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["start_wal"])' "$BDIR/$ID/backup.json" 2>/dev/null)
like "$START_WAL" '^[0-9A-F]{24}$' "the backup starts at $START_WAL"

# restore-backup itself, into a scratch directory, as the postgres user
if [ "$(id -u)" -eq 0 ]; then install -d -o postgres -m 0700 "$T/pg/full"; else mkdir -p "$T/pg/full"; fi
: >"$T/pg/full/stray"
run as_pg "$PGHA" restore-backup --backup "$BDIR/$ID" --datadir="$T/pg/full"
is "$RC" 1 "restore-backup into a directory that is not empty: exit 1"
like "$OUT" 'is not empty \(it holds "stray"\): refusing' "names what is in it"
run as_pg "$PGHA" restore-backup --backup "$BDIR/$ID" --scope="$PGHA_SCOPE" --datadir="$T/pg/scratch"
is "$RC" 0 "restore-backup into an absent directory (as $PGUSER_OS)"
like "$OUT" "extracting .*/base.tar.gz into $T/pg/scratch" "says what it extracts"
ok "$([ -f "$T/pg/scratch/PG_VERSION" ] && [ -f "$T/pg/scratch/backup_label" ] && [ -n "$(ls "$T/pg/scratch/pg_wal" | grep -E '^[0-9A-F]{24}$')" ]; echo $?)" \
	"PG_VERSION, backup_label and the streamed WAL are there"
is "$(stat -c %a "$T/pg/scratch")" 700 "the data directory has mode 0700"
rm -rf "$T/pg/scratch"

sql_at "$L" "INSERT INTO restore_drill SELECT g, 'before T' FROM generate_series(4, 6) g" >/dev/null
sleep 1
TT=$(sql_at "$L" "SELECT now()")
sleep 1
sql_at "$L" "INSERT INTO restore_drill SELECT g, 'after T' FROM generate_series(7, 9) g" >/dev/null
sql_at "$L" "DROP TABLE restore_victim" >/dev/null
is "$(sql_at "$L" "SELECT count(*) FROM restore_drill")/$(sql_at "$L" "SELECT to_regclass('restore_victim') IS NULL")" "9/t" \
	"9 rows, restore_victim dropped (the accident), T = $TT"
SEG=$(sql_at "$L" "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 150); do [ -e "$A/$SEG" ] && break; sleep 0.2; done
ok "$([ -e "$A/$SEG" ]; echo $?)" "WAL switched, $SEG archived"
TL_BEFORE=$(sql_at "$L" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")

RB=(--runbook-dir "$top_srcdir/runbooks" --journal-dir "$J" -c "$CF")

# --- refused: a segment of the backup's WAL range missing from the archive ------
MOVED=$("$PY" -c "import sys; n=sys.argv[1]; s=int(n[8:16],16)*256+int(n[16:],16)+1; print('%s%08X%08X' % (n[:8], s//256, s%256))" "$START_WAL")
if [ -e "$A/$MOVED" ]; then
	mv "$A/$MOVED" "$T/$MOVED"
	run "$PGHA" run restore "${RB[@]}" "target_time=$TT" "backup=$ID" --yes
	GONE=$MOVED
	mv -n "$T/$MOVED" "$A/$MOVED" && MOVED=''
	is "$RC" 3 "segment $GONE of the backup's range missing: refused by the pre-flight (exit 3)"
	like "$OUT" "WAL archive $A is not continuous from backup $ID's start $START_WAL" "says the archive is not continuous"
	like "$OUT" "missing: ([0-9A-F]{24}, )*$GONE" "names the missing segment $GONE"
	unlike "$OUT" 'step 2/[0-9]+ "stop-patroni" done' "nothing was stopped"
else
	ok 0 "# SKIP $MOVED not in the archive"; ok 0 "# SKIP"; ok 0 "# SKIP"; ok 0 "# SKIP"
fi
MOVED=''
is "$("$SANDBOX" leader 2>/dev/null)" "$L" "the cluster still runs with leader $L"

# --- the restore ------------------------------------------------------------------
CFG_BEFORE=$(curl -sf --max-time 5 "$(rest_of "$L")/config")
run "$PGHA" run restore "${RB[@]}" "target_time=$TT" "backup=$ID" --yes
is "$RC" 0 "pgha run restore target_time='$TT' backup=$ID --yes: exit 0"
[ "$RC" -eq 0 ] || diag "$(printf '%s' "$OUT" | tail -n 15)"
RUN=$(printf '%s\n' "$OUT" | sed -n 's/^pgha: run \([^ ]*\) of restore .*/\1/p' | tail -n1)
like "$OUT" 'step 9/9 "report" done' "all 9 steps done"
like "$OUT" "recovery stopped on timeline $TL_BEFORE at LSN [0-9A-F]+/[0-9A-F]+ \\(PostgreSQL's reason: before " \
	"the report gives the stop point from the new timeline's history"

"$SANDBOX" wait-healthy 120 >/dev/null 2>&1
NL=$(leader)
FIRST_NODE=$(sed -n 's/^\[node \(.*\)\]$/\1/p' "$CF" | head -n1)
is "$NL" "$FIRST_NODE" "the first node of the cluster file leads"
is "$(sql_at "$NL" "SELECT string_agg(id || ':' || phase, ',' ORDER BY id) FROM restore_drill")" \
	"1:before backup,2:before backup,3:before backup,4:before T,5:before T,6:before T" \
	"every row committed before T is there, none after"
is "$(sql_at "$NL" "SELECT count(*) FROM restore_victim")" 5 "the dropped table is back with its 5 rows"
TL_AFTER=$(sql_at "$NL" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
ok "$([ "${TL_AFTER:-0}" -gt "$TL_BEFORE" ]; echo $?)" "new timeline $TL_AFTER (was $TL_BEFORE)"
is "$(sql_at "$NL" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" 2 "2 replicas streaming from $NL"
for n in $PGHA_NODES; do
	[ "$n" = "$NL" ] && continue
	is "$(sql_at "$n" "SELECT received_tli FROM pg_stat_wal_receiver")" "$TL_AFTER" "$n receives timeline $TL_AFTER"
done
CFG_AFTER=$(curl -sf --max-time 5 "$(rest_of "$NL")/config")
is "$("$PY" -c 'import json,sys; a,b=(json.loads(x) for x in sys.argv[1:]); a.pop("pause",None); b.pop("pause",None); print("same" if a==b else "before %s after %s" % (a,b))' "$CFG_BEFORE" "$CFG_AFTER" 2>&1)" same \
	"the DCS dynamic configuration is the one before the restore"
PENDING=''
for n in $PGHA_NODES; do
	[ "$(sql_at "$n" "SELECT count(*) FROM pg_settings WHERE pending_restart")" = 0 ] || PENDING="$PENDING $n"
done
is "${PENDING:-none}" none "no node has a restart pending"
KEPT=0
for n in $PGHA_NODES; do [ -f "$PGHA_SANDBOX_DIR/$n/data.pgha-restore-$RUN/PG_VERSION" ] && KEPT=$((KEPT + 1)); done
is "$KEPT" 3 "the 3 old data directories were kept (data.pgha-restore-$RUN)"
ok "$(ls "$PGHA_SANDBOX_DIR"/n*/patroni.d/90-pgha-restore.yml >/dev/null 2>&1 && echo 1 || echo 0)" \
	"no 90-pgha-restore.yml left in any patroni.d"
run "$PGHA" journal "$RUN" --journal-dir "$J"
like "$OUT" "end.*success" "the journal ends in success"

# --- again, to an LSN on the new timeline, from the same (older) backup ----------
# Recovery follows the archive's timelines (recovery_target_timeline =
# latest): the backup's timeline up to the first restore's switch, then the
# new one; the old timeline's WAL past the switch (the accident) is not used.
sql_at "$NL" "INSERT INTO restore_drill SELECT g, 'before LSN' FROM generate_series(10, 12) g" >/dev/null
LSN=$(sql_at "$NL" "SELECT pg_current_wal_lsn()")
sql_at "$NL" "INSERT INTO restore_drill SELECT g, 'after LSN' FROM generate_series(13, 15) g" >/dev/null
SEG=$(sql_at "$NL" "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 150); do [ -e "$A/$SEG" ] && break; sleep 0.2; done
run "$PGHA" run restore "${RB[@]}" "target_lsn=$LSN" "backup=$ID" --yes
is "$RC" 0 "pgha run restore target_lsn=$LSN backup=$ID (timeline $TL_BEFORE, then $TL_AFTER): exit 0"
[ "$RC" -eq 0 ] || diag "$(printf '%s' "$OUT" | tail -n 15)"
RUN2=$(printf '%s\n' "$OUT" | sed -n 's/^pgha: run \([^ ]*\) of restore .*/\1/p' | tail -n1)
like "$OUT" "recovery stopped on timeline $TL_AFTER at LSN [0-9A-F]+/[0-9A-F]+ \\(PostgreSQL's reason: before LSN $LSN\\)" \
	"stopped before LSN $LSN on timeline $TL_AFTER"
"$SANDBOX" wait-healthy 120 >/dev/null 2>&1
NL=$(leader)
is "$(sql_at "$NL" "SELECT string_agg(id::text, ',' ORDER BY id) FROM restore_drill")" "1,2,3,4,5,6,10,11,12" \
	"rows up to the LSN, none after, none of the first accident's timeline"
TL3=$(sql_at "$NL" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
ok "$([ "${TL3:-0}" -gt "$TL_AFTER" ]; echo $?)" "timeline $TL3 now"
is "$(sql_at "$NL" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" 2 "2 replicas streaming again"

# --- a restore that fails is rolled back: the old data back, the cluster up --------
# The base backup unreadable for the user Patroni runs as (root still reads
# it for the pre-flight's checksums): Patroni's bootstrap fails.
if [ "$(id -u)" -eq 0 ] && [ -f "$BDIR/$ID/base.tar.gz" ]; then
	sql_at "$NL" "CREATE TABLE restore_probe (x int)" >/dev/null
	SEG=$(sql_at "$NL" "SELECT pg_walfile_name(pg_switch_wal())")
	for _ in $(seq 150); do [ -e "$A/$SEG" ] && break; sleep 0.2; done
	chmod 000 "$BDIR/$ID/base.tar.gz"
	run "$PGHA" run restore "${RB[@]}" latest=true "backup=$ID" timeout=40s --yes
	chmod 0600 "$BDIR/$ID/base.tar.gz"
	RUN3=$(printf '%s\n' "$OUT" | sed -n 's/^pgha: run \([^ ]*\) failed.*/\1/p' | tail -n1)
	is "$RC" 1 "a restore whose bootstrap fails: exit 1 (failed and rolled back)"
	like "$OUT" 'step 5 "bootstrap-leader" failed' "the bootstrap step failed"
	like "$OUT" "every completed step was undone" "every completed step was undone"
	run "$SANDBOX" wait-healthy 120
	is "$RC" 0 "the cluster is healthy again"
	NL=$(leader)
	is "$(sql_at "$NL" "SELECT to_regclass('restore_probe') IS NOT NULL")" t "on its old data (the table made just before is there)"
	LEFT=$(ls -d "$PGHA_SANDBOX_DIR"/n*/data.pgha-restore-"$RUN3" 2>/dev/null | wc -l)
	is "$LEFT" 0 "the old data directories were put back"
	ok "$(ls "$PGHA_SANDBOX_DIR"/n*/patroni.d/90-pgha-restore.yml >/dev/null 2>&1 && echo 1 || echo 0)" \
		"no 90-pgha-restore.yml left"
	sql_at "$NL" "DROP TABLE restore_probe" >/dev/null
else
	for _ in 1 2 3 4 5 6 7; do ok 0 "# SKIP the rollback needs root (a backup Patroni cannot read)"; done
fi

done_testing
