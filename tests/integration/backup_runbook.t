#!/bin/bash
# backup_runbook.t: the backup runbook (runbooks/backup.lua) on the real
# sandbox, into a backup directory of its own: the dry-run plan changes
# nothing; a real backup (tar, gzip) from a replica is good and verified,
# check_pgha_backup says OK on it once the leader has switched WAL and
# CRITICAL with a critical age shorter than its age; the leader is refused
# as the source without allow_leader=true; retention with keep_min=1
# retention_days=0 removes the older backup and keeps the newest; the WAL
# archive is trimmed below the oldest kept backup; compress=none gives a
# plain backup checked by pg_verifybackup; compress=zstd with a level.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

PGHA=${PGHA:-$top_builddir/pgha}
CHECK="$PLUGINS/check_pgha_backup"
CF=$PGHA_CLUSTER_FILE
A=$PGHA_ARCHIVE_DIR
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "1..0 # SKIP no /usr/bin/python3"; exit 0; }
T=$(mktemp -d)
# the backups take the owner of the directory they are in
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$T"
B=$T/backups
J=$T/journal
R=(--runbook-dir "$top_srcdir/runbooks" --journal-dir "$J" -c "$CF")
unset PGHA_RUNBOOK_PATH PGHA_LUA_PATH PGHA_ENGINE_TEST
# the replication role's password: the sandbox's password file (lib.sh
# exports PGPASSFILE), passed through pgha's environment
export PGPASSFILE

cleanup() { rm -rf "$T"; }
trap cleanup EXIT

require_healthy

# bjson ID EXPR: a member of DIR/ID/backup.json, by a Python expression on d.
bjson() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' \
		"$B/$1/backup.json" "$2" 2>/dev/null
}
# backups: the backup ids in $B, oldest first.
backups() { ls "$B" 2>/dev/null | grep -E '^[0-9]{8}T[0-9]{6}Z$' | tr '\n' ' ' | sed 's/ $//'; }
last_run() { ls -t "$J" | head -1 | sed 's/\.jsonl$//'; }
journal_end() {
	"$PY" -c '
import json, sys
state = ""
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "end":
        state = r["state"]
print(state)' "$J/$1.jsonl"
}
# switch_wal_and_wait ID: switch WAL on the leader (as the superuser) and
# wait until the backup's stop segment is in the archive (30 s).
switch_wal_and_wait() {
	local stop
	stop=$(bjson "$1" 'd["stop_wal"]')
	sql_at "$(leader)" "SELECT pg_switch_wal()" >/dev/null
	for _ in $(seq 150); do
		[ -e "$A/$stop" ] && return 0
		sleep 0.2
	done
	return 1
}

L=$(leader)
set -- $(replicas)
diag "leader $L, replicas $*"

# --- dry-run: the plan, nothing changes -------------------------------------------
run "$PGHA" run backup --dry-run "dir=$B" "${R[@]}"
is "$RC" 0 "backup dry-run exits 0 on a healthy cluster"
like "$OUT" "check: ok: source n[0-9] \(streaming replica, replay lag" "the plan names the source replica and its lag"
like "$OUT" "leader $L archiving" "the plan says the leader archives"
like "$OUT" "gate: Take a base backup" "the plan shows the gate"
like "$OUT" "plan: every check passed" "the plan ends with every check passed"
ok "$([ ! -e "$B" ]; echo $?)" "the dry-run created nothing (no $B)"
A_BEFORE=$(ls "$A" | wc -l)

# --- the leader is refused as the source -------------------------------------------
run "$PGHA" run backup "node=$L" --yes "dir=$B" "${R[@]}"
is "$RC" 3 "node=$L (the leader) is refused (exit 3)"
like "$OUT" "$L is the leader: pass allow_leader=true" "and the refusal says how to allow it"
ok "$([ ! -e "$B" ] || [ -z "$(backups)" ]; echo $?)" "no backup was taken"
run "$PGHA" run backup "node=$L" allow_leader=true --dry-run "dir=$B" "${R[@]}"
is "$RC" 0 "node=$L allow_leader=true passes the pre-flight (dry-run)"
like "$OUT" "source $L \(the leader" "and names the leader as the source"

# --- pg_basebackup fails: nothing is left behind ------------------------------------
run "$PGHA" run backup --yes user=pgha_no_such_role "dir=$B" "${R[@]}"
is "$RC" 1 "a backup as a role that does not exist fails and is rolled back (exit 1)"
like "$OUT" "pg_basebackup exited with 1: pg_basebackup: error: " "the failure gives pg_basebackup's message"
is "$(ls -A "$B" 2>/dev/null)" "" "no backup, work or scratch directory is left"

# --- pg_verifybackup finds a problem: the unverified backup goes -------------------------
FB=$T/fakebin
mkdir -p "$FB"
ln -s /usr/lib/postgresql/15/bin/pg_basebackup "$FB/pg_basebackup"
printf '#!/bin/sh\necho "pg_verifybackup: error: \"base/1/1259\" has checksum mismatch" >&2\nexit 1\n' >"$FB/pg_verifybackup"
chmod 0755 "$FB/pg_verifybackup"
run "$PGHA" run backup --yes "bindir=$FB" "dir=$B" "${R[@]}"
is "$RC" 1 "a backup that pg_verifybackup rejects fails and is rolled back (exit 1)"
like "$OUT" "pg_verifybackup found problems: .*checksum mismatch" "the failure gives pg_verifybackup's message"
like "$OUT" "removed the unverified backup $B/[0-9]{8}T[0-9]{6}Z" "the undo removes the unverified backup"
is "$(ls -A "$B" 2>/dev/null)" "" "nothing is left in the backup directory"

# --- a real backup: tar, gzip, from a replica --------------------------------------
sql_at "$L" "CHECKPOINT" >/dev/null
run "$PGHA" run backup --yes "dir=$B" "${R[@]}"
is "$RC" 0 "backup --yes exits 0"
[ "$RC" = 0 ] || diag "$OUT"
ID1=$(backups)
ok "$([ -n "$ID1" ] && [ "$(echo "$ID1" | wc -w)" = 1 ]; echo $?)" "one backup directory ($ID1)"
like "$OUT" "backup $ID1: [0-9.]+ [kMG]?B in [0-9.]+ s \([0-9.]+ MB/s\) from n[0-9]" "the run reports size, time and throughput"
like "$OUT" "backup $ID1 done: .* $B/$ID1" "and where the backup is"
is "$(journal_end "$(last_run)")" "success" "the journal ends with success"
is "$(bjson "$ID1" 'd["verified"]')" "true" "backup.json says verified"
is "$(bjson "$ID1" 'd["verify_method"]')" "extract+pg_verifybackup" "verified by extraction and pg_verifybackup"
is "$(bjson "$ID1" 'd["id"]')" "$ID1" "its id is the directory's name"
is "$(bjson "$ID1" 'd["layout"] + "/" + d["compression"]["method"]')" "tar/gzip" "tar layout, gzip"
is "$(bjson "$ID1" '" ".join(sorted(f["name"] for f in d["files"]))')" "backup_manifest base.tar.gz pg_wal.tar.gz" \
	"its files are listed"
is "$(bjson "$ID1" 'all(__import__("hashlib").sha256(open(sys.argv[1].rsplit("/",1)[0]+"/"+f["name"],"rb").read()).hexdigest()==f["sha256"] for f in d["files"])')" \
	"true" "the listed sha256 sums are right"
SRC=$(bjson "$ID1" 'd["node"]')
ok "$([ "$SRC" != "$L" ] && [ -n "$SRC" ]; echo $?)" "taken from a replica ($SRC)"
is "$(bjson "$ID1" 'd["system_identifier"]')" "$(sql_at "$L" "SELECT system_identifier FROM pg_control_system()")" \
	"the system identifier is the cluster's"
like "$(bjson "$ID1" 'd["start_wal"] + " " + d["start_lsn"]')" "^[0-9A-F]{24} [0-9A-F]+/[0-9A-F]+$" "start_wal and start_lsn are set"
ok "$([ -z "$(ls -A "$B" | grep '^\.')" ]; echo $?)" "no work or scratch directory is left"
if [ "$(id -u)" -eq 0 ]; then
	is "$(stat -c %U "$B" "$B/$ID1" "$B/$ID1"/* | sort -u | tr '\n' ' ')" "postgres " \
		"the backup belongs to the owner of the directory it is in (postgres), not root"
fi

run "$PGHA" run backup --dry-run trim_archive=false "dir=$B" "${R[@]}"
like "$OUT" "trim-archive"$'\n'"  skipped: trim_archive=false" "trim_archive=false skips the archive trimming"

switch_wal_and_wait "$ID1"
ok $? "the backup's last segment reaches the archive after a WAL switch"
run "$CHECK" --backup-dir "$B" --archive-dir "$A"
is "$RC" 0 "check_pgha_backup is OK on the new backup"
[ "$RC" = 0 ] || diag "$OUT"
sleep 2
run "$CHECK" --backup-dir "$B" --archive-dir "$A" -w '' -c 1s
is "$RC" 2 "check_pgha_backup -c 1s is CRITICAL two seconds later"

# --- retention: keep_min=1 retention_days=0 removes the older backup -----------------
sleep 1
run "$PGHA" run backup --yes keep_min=1 retention_days=0 "dir=$B" "passfile=$PGPASSFILE" "${R[@]}"
is "$RC" 0 "a second backup with keep_min=1 retention_days=0 exits 0"
[ "$RC" = 0 ] || diag "$OUT"
ID2=$(backups)
ok "$([ -n "$ID2" ] && [ "$ID2" != "$ID1" ] && [ "$(echo "$ID2" | wc -w)" = 1 ]; echo $?)" \
	"only the newest backup is left ($ID2; $ID1 removed)"
like "$OUT" "removed $B/$ID1 \(good, finished" "the run says which backup it removed and why"
is "$(bjson "$ID2" 'd["verified"]')" "true" "the newest backup is verified"
START2=$(bjson "$ID2" 'd["start_wal"]')
switch_wal_and_wait "$ID2" >/dev/null
# the trim also keeps what the good backups of the cluster file's own
# backup directory need (the archive is shared)
KEEP=$("$PY" - "$CF" "$START2" <<'EOF'
import configparser, glob, json, os, sys
cf = configparser.ConfigParser(interpolation=None, strict=False)
cf.read(sys.argv[1])
keep = sys.argv[2]
d = cf.get("backup", "dir", fallback=None)
for f in sorted(glob.glob(os.path.join(d or "/nonexistent", "*", "backup.json"))):
    try:
        b = json.load(open(f))
    except Exception:
        continue
    if b.get("verified") is True and b.get("start_wal", "")[8:] < keep[8:]:
        keep = b["start_wal"]
    break
print(keep)
EOF
)
OLDER=$(ls "$A" | grep -E '^[0-9A-F]{24}$' | awk -v s="${KEEP:8}" 'substr($0, 9) < s' | wc -l)
is "$OLDER" 0 "no archived segment before the oldest kept backup's start ($KEEP) is left"
KEPT=$(ls "$A" | grep -E '^[0-9A-F]{24}$' | awk -v s="${KEEP:8}" 'substr($0, 9) >= s' | wc -l)
ok "$([ "$KEPT" -ge 1 ]; echo $?)" "the segments from $KEEP on are kept ($KEPT)"
run "$CHECK" --backup-dir "$B" --archive-dir "$A"
is "$RC" 0 "check_pgha_backup is OK after retention and trimming"
[ "$RC" = 0 ] || diag "$OUT"

# --- retention: keep_min keeps good backups however old ------------------------------
sleep 1
run "$PGHA" run backup --yes keep_min=2 retention_days=0 compress=zstd level=3 "dir=$B" "${R[@]}"
is "$RC" 0 "compress=zstd level=3 exits 0"
[ "$RC" = 0 ] || diag "$OUT"
ID3=$(backups | awk '{print $NF}')
is "$(backups)" "$ID2 $ID3" "keep_min=2 keeps both good backups"
is "$(bjson "$ID3" 'd["compression"]["method"] + ":" + str(d["compression"]["level"]) + " " + d["files"][0]["name"]')" \
	"zstd:3 base.tar.zst" "zstd level 3 in backup.json, base.tar.zst"
is "$(bjson "$ID3" 'd["verified"]')" "true" "the zstd backup is verified"

# --- compress=lz4 (GNU tar does not detect lz4 by itself) ------------------------------
sleep 1
run "$PGHA" run backup --yes keep_min=3 compress=lz4 "dir=$B" "${R[@]}"
is "$RC" 0 "compress=lz4 exits 0"
[ "$RC" = 0 ] || diag "$OUT"
ID5=$(backups | awk '{print $NF}')
is "$(bjson "$ID5" 'd["compression"]["method"] + " " + d["files"][0]["name"] + " " + str(d["verified"])')" \
	"lz4 base.tar.lz4 True" "an lz4 backup, verified"

# --- compress=none: plain format, pg_verifybackup -------------------------------------
sleep 1
run "$PGHA" run backup --yes compress=none keep_min=1 retention_days=0 "dir=$B" "${R[@]}"
is "$RC" 0 "compress=none exits 0"
[ "$RC" = 0 ] || diag "$OUT"
ID4=$(backups)
ok "$([ "$(echo "$ID4" | wc -w)" = 1 ]; echo $?)" "one backup left ($ID4)"
is "$(bjson "$ID4" 'd["layout"] + " " + d["verify_method"] + " " + str(d["verified"])')" "plain pg_verifybackup True" \
	"a plain backup verified by pg_verifybackup"
ok "$([ -f "$B/$ID4/data/PG_VERSION" ] && [ -f "$B/$ID4/data/backup_manifest" ] && [ -d "$B/$ID4/data/pg_wal" ]; echo $?)" \
	"data/ holds the data directory, its manifest and pg_wal"
run /usr/lib/postgresql/15/bin/pg_verifybackup "$B/$ID4/data"
is "$RC" 0 "pg_verifybackup agrees"
switch_wal_and_wait "$ID4" >/dev/null
run "$CHECK" --backup-dir "$B" --archive-dir "$A"
is "$RC" 0 "check_pgha_backup is OK on the plain backup"
[ "$RC" = 0 ] || diag "$OUT"
diag "archive: $A_BEFORE files before, $(ls "$A" | wc -l) now"

done_testing
