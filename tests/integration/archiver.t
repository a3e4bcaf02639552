# archiver.t: check_pgha_archiver against the real sandbox cluster: a
# working archiver is OK; a replica with archive_mode=on says it does not
# archive; a broken archive_command is CRITICAL with the WAL waiting and how
# long; restored, it is OK again after the next successful archive; a
# stopped node; bad input.
#
# How archiving is broken: through Patroni's dynamic configuration
# (patronictl edit-config, i.e. PATCH /config), as an operator would; the
# EXIT trap puts archive_command back exactly as it was and waits for SHOW
# on the leader to agree.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_archiver"
require_healthy

TABLE=pgha_archiver_test
L=$(leader)
# shellcheck disable=SC2046  # two node names
set -- $(replicas)
R1=$1 R2=$2
LPORT=$(pgport_of "$L")
R1PORT=$(pgport_of "$R1")
R2PORT=$(pgport_of "$R2")
MON=(-U "$PGHA_MONITOR_USER" -d postgres)
A=("$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}")
diag "leader $L (port $LPORT), replicas $R1 $R2"

sql() { "$SANDBOX" psql "$L" -Atqc "$1"; }

# archive_command as it is now (from the DCS configuration Patroni applies)
orig_cmd=$(sql "SHOW archive_command")
[ -n "$orig_cmd" ] || { echo "Bail out! cannot read archive_command on $L"; exit 1; }
diag "archive_command: $orig_cmd"

# wait_show VALUE: until SHOW archive_command on the leader says VALUE (20 s;
# Patroni applies a DCS change on its next loop)
wait_show() {
	for _ in $(seq 200); do
		[ "$(sql "SHOW archive_command")" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
set_archive_command() {
	"$SANDBOX" patronictl edit-config --pg "archive_command=$1" --force >/dev/null 2>&1 &&
		wait_show "$1"
}
restore_archiving() { set_archive_command "$orig_cmd"; }
cleanup() {
	restore_archiving >/dev/null 2>&1
	sql "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1
	start_stopped_node
}
trap cleanup EXIT

# switch_wal: write a little and close the WAL segment, so one is ready
switch_wal() {
	sql "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS $TABLE (i int); INSERT INTO $TABLE SELECT generate_series(1, 1000); SELECT pg_switch_wal()" >/dev/null
}
# until_like REGEX SECONDS CMD...: run CMD until its first line matches
# REGEX, bounded (the archiver takes a moment per segment)
until_like() {
	local re=$1 secs=$2
	shift 2
	for _ in $(seq $((secs * 5))); do
		run "$@"
		printf '%s' "$FIRST" | grep -Eq -- "$re" && return 0
		sleep 0.2
	done
	return 1
}

# --- a working archiver -------------------------------------------------------
switch_wal
until_like '^PGHA_ARCHIVER OK - .* ready=0;' 20 "${A[@]}"
is "$RC" 0 "the archiver works: OK"
like "$FIRST" "^PGHA_ARCHIVER OK - 127\.0\.0\.1:$LPORT: no WAL file waiting; last archived \"[0-9A-F]{24}\" [0-9]+ (s|min|h|d) ago \|" "status line: nothing waiting, the last WAL archived"
like "$FIRST" "\| ready=0;;;0 oldest_ready=0s;;;0 last_archived_age=[0-9.]+s;;;0 failing=0;;;0;1 archived_count=[0-9]+c failed_count=[0-9]+c\$" "perfdata"

run "$CHECK" -H 127.0.0.1 -p "$R1PORT" "${MON[@]}"
is "$RC" 0 "a replica with archive_mode=on: OK"
like "$FIRST" "^PGHA_ARCHIVER OK - 127\.0\.0\.1:$R1PORT: a replica with archive_mode=on does not archive: its primary does" "and says it does not archive"

run "$CHECK" --patroni "$PGHA_PATRONI_URLS" "${MON[@]}"
is "$RC" 0 "--patroni: OK"
like "$FIRST" "^PGHA_ARCHIVER OK - $L \(127\.0\.0\.1:$LPORT\): no WAL file waiting" "checks the leader"

# --- archive_command fails ---------------------------------------------------------
set_archive_command /bin/false
ok $? "archive_command set to /bin/false in Patroni's configuration, applied on $L"
switch_wal
until_like '^PGHA_ARCHIVER CRITICAL' 20 "${A[@]}"
is "$RC" 2 "archiving fails: CRITICAL"
like "$FIRST" "^PGHA_ARCHIVER CRITICAL - 127\.0\.0\.1:$LPORT: archiving fails: \"[0-9A-F]{24}\" failed [0-9]+ s ago, last success [0-9]+ (s|min|h|d) ago \([0-9]+ failures? since the statistics reset\)" "names the failing WAL and the last success"
like "$FIRST" " ready=[1-9][0-9]*;;;0 .* failing=1;;;0;1 .* failed_count=[1-9][0-9]*c\$" "perfdata: WAL waiting, failing=1, failures counted"
like "$OUT" $'\n'"[0-9]+ WAL files? waiting, the oldest for [0-9]+ (s|min)" "long output: what is waiting"

sleep 1.2
run "${A[@]}" -w 0 -c 100 --warning-age 1s --critical-age 1h
is "$RC" 2 "with -w 0 and --warning-age 1s: still CRITICAL (the worst)"
like "$FIRST" "; [0-9]+ WAL files? waiting \(warning range 0\), the oldest for [0-9]+ s \(warning range 1s\) \|" "the waiting WAL alerts on count and age"
like "$FIRST" " ready=[0-9]+;0;100;0 oldest_ready=[0-9.]+s;1;3600;0 " "the ranges in perfdata, ages in seconds"

run "${A[@]}" --critical-age 1s
like "$FIRST" "the oldest for [0-9]+ s \(critical range 1s\)" "--critical-age 1s alerts on the age"

# --- restored: OK again after the next successful archive ---------------------------
restore_archiving
ok $? "archive_command restored: $orig_cmd"
switch_wal
until_like '^PGHA_ARCHIVER OK - .* ready=0;' 30 "${A[@]}"
is "$RC" 0 "archiving works again: OK"
like "$FIRST" "^PGHA_ARCHIVER OK - .*no WAL file waiting; last archived \"[0-9A-F]{24}\" [0-9]+ s ago" "the last archive is recent"
like "$FIRST" " ready=0;;;0 oldest_ready=0s;;;0 .* failing=0;;;0;1 " "nothing waits, not failing"
sql "DROP TABLE $TABLE"

# --- a stopped node: CRITICAL within -t ------------------------------------------
stop_node "$R2"
run_timed "$CHECK" -H 127.0.0.1 -p "$R2PORT" "${MON[@]}" -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_ARCHIVER CRITICAL - 127\.0\.0\.1:$R2PORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
run "$CHECK" -H 127.0.0.1 -p "$R2PORT" "${MON[@]}" --timeout-result ok
is "$RC" 0 "--timeout-result ok: OK"
start_node
ok $? "$R2 back, cluster healthy"

# --- bad input: UNKNOWN, exit 3, one status line ----------------------------------
for args in "-w 1MB" "-c 2:1" "--warning-age 5x" "--critical-age foo" "--archive-off-state sometimes" \
	"--member $R1" "--bogus"; do
	# shellcheck disable=SC2086  # word splitting wanted
	run "$CHECK" -H 127.0.0.1 -p "$LPORT" $args
	is "$RC" 3 "bad input ($args): exit 3"
	like "$FIRST" "^PGHA_ARCHIVER UNKNOWN - [^|]+\$" "one UNKNOWN status line"
done

done_testing
