# blocking.t: check_pgha_blocking against the real sandbox cluster.
# Baseline OK; one session holds a row lock in an open transaction (as the
# superuser, application_name set), another waits for it -> WARNING then
# CRITICAL by the longest wait and by count, the blocker named (pid, user,
# application, its query on one line) with whom it blocks; released -> OK;
# bad input -> UNKNOWN; a stopped node -> CRITICAL within -t. Every
# background session is ended and the table dropped, even on failure.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_blocking"
require_healthy

L=$(leader)
set -- $(replicas)
R1=$1
LPORT=$(pgport_of "$L")
MON=(-H 127.0.0.1 -p "$LPORT" -U "$PGHA_MONITOR_USER" -d postgres)
APP=pgha_blk_t$$
TABLE=pgha_blocking_t
diag "leader $L (port $LPORT), replica $R1"

# background sessions on the leader as the superuser: the check sees their
# queries through pg_monitor's pg_read_all_stats
sessions_init "$L" "$APP"
sql() { sql_at "$L" "$1"; }
cleanup() {
	end_sessions
	sql "DROP TABLE IF EXISTS $TABLE" >/dev/null
	start_stopped_node
}
trap cleanup EXIT

# --- baseline ----------------------------------------------------------------
sql "CREATE TABLE $TABLE (id int PRIMARY KEY, v int); INSERT INTO $TABLE VALUES (1, 0), (2, 0)" >/dev/null
ok $? "table $TABLE created on $L"
run "$CHECK" "${MON[@]}" -w 1s -c 1min
is "$RC" 0 "nothing blocked: OK"
is "$FIRST" "PGHA_BLOCKING OK - 127.0.0.1:$LPORT: no session blocked | blocked=0;;;0 blockers=0;;;0 longest_wait=0s;1;60;0" "status line and perfdata (1min is 60 s)"

# --- a blocker and a waiter ------------------------------------------------------
# the query spans lines: the check shows it on one
hold_session "${APP}_blocker" "BEGIN;
UPDATE $TABLE
   SET v = v + 1
 WHERE id = 1;"
for _ in $(seq 50); do
	[ "$(sql "SELECT state FROM pg_stat_activity WHERE application_name = '${APP}_blocker'")" = "idle in transaction" ] && break
	sleep 0.1
done
blocker=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '${APP}_blocker'")
run "$CHECK" "${MON[@]}" -w 1s
is "$RC" 0 "a row lock held, nobody waiting: OK"
run_session "${APP}_waiter" "UPDATE $TABLE SET v = v + 10 WHERE id = 1"
for _ in $(seq 50); do
	run "$CHECK" "${MON[@]}"
	[[ $FIRST == *"1 session blocked"* ]] && break
	sleep 0.1
done
waiter=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '${APP}_waiter'")
diag "blocker pid $blocker, waiter pid $waiter"
like "$FIRST" "^PGHA_BLOCKING OK - 127\\.0\\.0\\.1:$LPORT: 1 session blocked, for [0-9.]+ s by pid $blocker '${APP}_blocker' \\| blocked=1;;;0 blockers=1;;;0 longest_wait=[0-9.]+s;;;0\$" "without thresholds: OK, and the blocker named"
sleep 2.2

run "$CHECK" "${MON[@]}" -w 2s -c 1h
is "$RC" 1 "waiting over 2 s: WARNING"
like "$FIRST" "^PGHA_BLOCKING WARNING - 127\\.0\\.0\\.1:$LPORT: 1 session blocked, for [0-9.]+ s by pid $blocker '${APP}_blocker' \\(warning range 2s\\) \\| blocked=1;;;0 blockers=1;;;0 longest_wait=[0-9.]+s;2;3600;0\$" "status line: the wait, the blocker and the range"
line=$(printf '%s\n' "$OUT" | sed -n 2p)
like "$line" "^pid $blocker \\(user postgres, application '${APP}_blocker', client 127\\.0\\.0\\.1, idle in transaction, transaction open for [0-9.]+ s\\) blocks 1 session for up to [0-9.]+ s: pid $waiter \\(postgres, '${APP}_waiter'\\); query: UPDATE $TABLE SET v = v \\+ 1 WHERE id = 1;\$" "long output: blocker pid, user, application, state, whom it blocks, its query on one line"
is "$(printf '%s\n' "$OUT" | wc -l)" 2 "two lines in all"
wait_s=$(printf '%s' "$FIRST" | sed -n 's/.*longest_wait=\([0-9.]*\)s.*/\1/p')
awk -v w="$wait_s" 'BEGIN { exit !(w >= 2 && w < 30) }'
ok $? "longest_wait is the lock wait in seconds ($wait_s)"

run "$CHECK" "${MON[@]}" -w 1s -c 2
is "$RC" 2 "waiting over -c 2 (seconds): CRITICAL"
like "$FIRST" "\\(critical range 2\\) \\|" "critical range named"
run "$CHECK" "${MON[@]}" -w 0.01min
is "$RC" 1 "-w 0.01min (0.6 s): WARNING"
run "$CHECK" "${MON[@]}" -w 1h
is "$RC" 0 "-w 1h: OK"

run "$CHECK" "${MON[@]}" --warning-count 0 --critical-count 5
is "$RC" 1 "--warning-count 0: WARNING"
like "$FIRST" "\\(warning range 0\\) \\| blocked=1;0;5;0 " "count range named and in perfdata"
run "$CHECK" "${MON[@]}" -w 1s --critical-count 0
is "$RC" 2 "--critical-count 0 beats -w: CRITICAL"
like "$FIRST" "\\(warning range 1s, critical range 0\\)" "both alerts named"

run "$CHECK" "${MON[@]}" -v --query-length 10
like "$OUT" "pid $waiter \\(postgres, '${APP}_waiter', ShareLock on transactionid\\); query: UPDATE pgh\\.\\.\\.\$" "-v names the lock; --query-length cuts the query"
run "$CHECK" "${MON[@]}" --query-length 0
unlike "$OUT" "query:" "--query-length 0: no query"

run "$CHECK" --patroni "$PGHA_PATRONI_URLS" -U "$PGHA_MONITOR_USER" -d postgres -w 1s
is "$RC" 1 "--patroni: the leader, WARNING"
like "$FIRST" "^PGHA_BLOCKING WARNING - $L \\(127\\.0\\.0\\.1:$LPORT\\): 1 session blocked" "names the leader"

run "$PLUGINS/check_pgha_connections" "${MON[@]}"
like "$FIRST" " waiting=[1-9][0-9]*;" "check_pgha_connections counts the waiting session"

# a second waiter queued behind the first: both blocked, the blocker blocks 1 or 2
run_session "${APP}_waiter2" "UPDATE $TABLE SET v = v + 100 WHERE id = 1"
for _ in $(seq 50); do
	run "$CHECK" "${MON[@]}" -w 1s
	[[ $FIRST == *"2 sessions blocked"* ]] && break
	sleep 0.1
done
like "$FIRST" "^PGHA_BLOCKING WARNING - .*: 2 sessions blocked, longest [0-9.]+ s by pid $blocker '${APP}_blocker' .*\\| blocked=2;" "two sessions blocked, the first blocker named"

# --- released ----------------------------------------------------------------------
printf 'ROLLBACK;\n' >&"${BG_FDS[0]}"
for _ in $(seq 50); do
	run "$CHECK" "${MON[@]}" -w 1s -c 2s
	[ "$RC" = 0 ] && break
	sleep 0.1
done
is "$RC" 0 "the blocker rolled back: OK"
like "$FIRST" ": no session blocked \\| blocked=0;;;0 blockers=0;;;0 longest_wait=0s;1;2;0\$" "nothing blocked"
for _ in $(seq 50); do [ "$(sql "SELECT v FROM $TABLE WHERE id = 1")" = 110 ] && break; sleep 0.1; done
is "$(sql "SELECT v FROM $TABLE WHERE id = 1")" 110 "both waiters went through"
end_sessions
is "$(sessions)" 0 "every session ended"

# --- bad input -------------------------------------------------------------------------
run "$CHECK" "${MON[@]}" -w 5x
is "$RC" 3 "-w 5x: exit 3"
like "$FIRST" '^PGHA_BLOCKING UNKNOWN - invalid warning range "5x"' "one clear line"
run "$CHECK" "${MON[@]}" --critical-count 2:1
is "$RC" 3 "--critical-count 2:1: exit 3"
like "$FIRST" '^PGHA_BLOCKING UNKNOWN - invalid critical range "2:1".*--critical-count' "names the option"
run "$CHECK" "${MON[@]}" --query-length -1
is "$RC" 3 "--query-length -1: exit 3"
like "$FIRST" '^PGHA_BLOCKING UNKNOWN - invalid query length "-1"' "one clear line"

# --- a stopped node ----------------------------------------------------------------------
RPORT=$(pgport_of "$R1")
stop_node "$R1"
run_timed "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_BLOCKING CRITICAL - 127\\.0\\.0\\.1:$RPORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
start_node
ok $? "$R1 came back and the cluster is healthy"
run "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres
is "$RC" 0 "the replica answers again: OK"

done_testing
