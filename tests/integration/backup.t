#!/bin/bash
# backup.t: check_pgha_backup on a real base backup of the sandbox and its
# real WAL archive. pg_basebackup (tar, client gzip, streamed WAL) from a
# replica, as the postgres user when run as root; backup.json written here
# from its backup_manifest (the backup runbook's job), after extracting and
# checking it with pg_verifybackup. Then WAL is switched a few times on the
# leader, and one archived segment after the backup's start is moved away
# for a moment: CRITICAL naming it; it is put back (also on any exit).
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_backup"
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3
A=$PGHA_ARCHIVE_DIR
[ -x "$PY" ] || { echo "1..0 # SKIP no /usr/bin/python3"; exit 0; }
require_healthy

T=$(mktemp -d)
chmod 0711 "$T"
B=$T/backups
mkdir -p "$B"
MOVED=''
cleanup() {
	[ -n "$MOVED" ] && [ -e "$T/$MOVED" ] && mv -n "$T/$MOVED" "$A/$MOVED"
	rm -rf "$T"
}
trap cleanup EXIT

# as_pg CMD...: run CMD as the postgres user when we are root (the daemons'
# user), with a password file it can read; as ourselves otherwise.
if [ "$(id -u)" -eq 0 ]; then
	install -o postgres -g postgres -m 0600 "$PGPASSFILE" "$T/pgpass"
	chown postgres:postgres "$B"
	as_pg() { runuser -u postgres -- env PGPASSFILE="$T/pgpass" "$@"; }
else
	as_pg() { "$@"; }
fi

L=$(leader)
set -- $(replicas)
R=$1
diag "leader $L, backup from replica $R"

# --- a real base backup ----------------------------------------------------------
sql_at "$L" "CHECKPOINT" >/dev/null   # a replica's backup starts at its last restartpoint
ID=$(date -u +%Y%m%dT%H%M%SZ)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
run as_pg "$PGBIN/pg_basebackup" -h "$PGHA_PGHOST" -p "$(pgport_of "$R")" -U "$PGHA_REPLICATION_USER" \
	-w -D "$B/$ID" -Ft -X stream --checkpoint=fast --compress=client-gzip:1
is "$RC" 0 "pg_basebackup -Ft -X stream --compress=client-gzip:1 from replica $R"
[ "$RC" -eq 0 ] || diag "$OUT"
FINISHED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ok "$([ -s "$B/$ID/base.tar.gz" ] && [ -s "$B/$ID/pg_wal.tar.gz" ] && [ -s "$B/$ID/backup_manifest" ]; echo $?)" \
	"base.tar.gz, pg_wal.tar.gz and backup_manifest written"

# verified as the backup runbook does for tar format on PostgreSQL 15
V=$T/verify
mkdir -p "$V/pg_wal"
tar -xzf "$B/$ID/base.tar.gz" -C "$V" && tar -xzf "$B/$ID/pg_wal.tar.gz" -C "$V/pg_wal"
run "$PGBIN/pg_verifybackup" -m "$B/$ID/backup_manifest" "$V"
is "$RC" 0 "extracted and checked by pg_verifybackup"
rm -rf "$V"
VERIFIED=$([ "$RC" -eq 0 ] && echo true || echo false)

SYSID=$(sql_at "$R" "SELECT system_identifier FROM pg_control_system()")
VERSION=$(sql_at "$R" "SHOW server_version_num")
START_WAL=$("$PY" - "$B/$ID" "$ID" "$PGHA_SCOPE" "$R" "$SYSID" "$VERSION" "$STARTED" "$FINISHED" "$VERIFIED" <<'EOF'
import hashlib, json, os, sys
d, bid, scope, node, sysid, version, started, finished, verified = sys.argv[1:]
m = json.load(open(os.path.join(d, "backup_manifest")))
ranges = m["WAL-Ranges"]
def lsn(t):
    hi, lo = t.split("/")
    return int(hi, 16) << 32 | int(lo, 16)
def wal(tli, t):
    seg = lsn(t) // (16 * 1024 * 1024)
    return "%08X%08X%08X" % (tli, seg // 256, seg % 256)
files = []
for name in ("base.tar.gz", "pg_wal.tar.gz", "backup_manifest"):
    p = os.path.join(d, name)
    files.append({"name": name, "size": os.path.getsize(p),
                  "sha256": hashlib.sha256(open(p, "rb").read()).hexdigest()})
doc = {"format": 1, "id": bid, "scope": scope, "node": node, "system_identifier": sysid,
       "server_version": int(version), "timeline": ranges[-1]["Timeline"],
       "start_lsn": ranges[0]["Start-LSN"], "stop_lsn": ranges[-1]["End-LSN"],
       "start_wal": wal(ranges[0]["Timeline"], ranges[0]["Start-LSN"]),
       "stop_wal": wal(ranges[-1]["Timeline"], ranges[-1]["End-LSN"]),
       "started_at": started, "finished_at": finished,
       "size_bytes": sum(f["size"] for f in files), "layout": "tar",
       "compression": {"method": "gzip", "level": 1}, "files": files,
       "verified": verified == "true", "verified_at": finished,
       "verify_method": "extract+pg_verifybackup",
       "runbook": {"name": "backup.t", "version": "0", "run": "test"}}
tmp = os.path.join(d, ".backup.json.tmp")
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, os.path.join(d, "backup.json"))
print(doc["start_wal"])
EOF
)
like "$START_WAL" '^[0-9A-F]{24}$' "backup.json written from the manifest's WAL-Ranges (start $START_WAL)"

# --- WAL switched on the leader, archived -----------------------------------------
# switch: write a WAL record, switch, and wait until the finished segment is
# in the archive; prints its name.
switch() {
	local seg i
	seg=$(sql_at "$L" "SELECT pg_walfile_name(pg_switch_wal()) FROM (SELECT pg_logical_emit_message(false, 'pgha', 'backup.t')) m")
	for i in $(seq 150); do
		[ -e "$A/$seg" ] && break
		sleep 0.2
	done
	printf '%s\n' "$seg"
}
for i in 1 2 3; do LAST=$(switch); done
ok "$([ -e "$A/$LAST" ]; echo $?)" "three WAL switches on the leader, the last $LAST archived"

# --- OK: the real backup and the real archive ----------------------------------
run "$CHECK" --backup-dir "$B" --archive-dir "$A" -w 1h -c 2h
is "$RC" 0 "the real backup with the real archive: OK"
like "$FIRST" "^PGHA_BACKUP OK - newest good backup $ID is [0-9.]+ s old, [0-9.]+ (kB|MB), WAL archive continuous from $START_WAL to [0-9A-F]{24} \\| age=[0-9]+s;3600;7200;0 size=[0-9]+B;;;0 backups=1;;;0 bad_backups=0;;;0 wal_missing=0;;;0$" \
	"status line: the backup, continuous from its start_wal"
run "$CHECK" --cluster-file "$PGHA_CLUSTER_FILE" --backup-dir "$B" -v
is "$RC" 0 "--cluster-file (its archive_dir) with --backup-dir: OK"
like "$OUT" "$ID good: .* on $R, start $START_WAL, tar" "-v lists the backup"

# --- CRITICAL: a segment after the start missing -----------------------------------
MOVED=$("$PY" -c "import sys; n=sys.argv[1]; s=int(n[8:16],16)*256+int(n[16:],16)+1; print('%s%08X%08X' % (n[:8], s//256, s%256))" "$START_WAL")
if [ -e "$A/$MOVED" ]; then
	mv "$A/$MOVED" "$T/$MOVED"
	run "$CHECK" --backup-dir "$B" --archive-dir "$A" -w 1h -c 2h
	mv -n "$T/$MOVED" "$A/$MOVED"
	is "$RC" 2 "segment $MOVED moved out of the archive: CRITICAL"
	like "$FIRST" "^PGHA_BACKUP CRITICAL - WAL archive not continuous from $START_WAL: $MOVED missing; newest good backup $ID is " \
		"names the missing segment"
	like "$FIRST" 'wal_missing=1;;;0$' "wal_missing=1"
else
	ok 1 "segment $MOVED (after $START_WAL) is not in the archive"
	ok 0 "# SKIP nothing to move"
	ok 0 "# SKIP nothing to move"
fi
MOVED=''
run "$CHECK" --backup-dir "$B" --archive-dir "$A"
is "$RC" 0 "segment put back: OK again"

done_testing
