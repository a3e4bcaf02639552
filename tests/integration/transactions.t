# transactions.t: check_pgha_transactions against the real sandbox cluster.
# Baseline OK (this check's own transaction not counted); a session idle in
# transaction (as the superuser, application_name set) past the idle and
# age ranges -> WARNING / CRITICAL naming it (pid, user, application,
# client, state, ages, its last query on one line); an active long query
# alerts by age, not by idle time; ended -> OK; bad input -> UNKNOWN; a
# stopped node -> CRITICAL within -t. Every background session is ended,
# even on failure.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_transactions"
require_healthy

L=$(leader)
set -- $(replicas)
R1=$1
LPORT=$(pgport_of "$L")
MON=(-H 127.0.0.1 -p "$LPORT" -U "$PGHA_MONITOR_USER" -d postgres)
APP=pgha_tx_t$$
diag "leader $L (port $LPORT), replica $R1"

# background sessions on the leader as the superuser: the check sees their
# queries through pg_monitor's pg_read_all_stats
sessions_init "$L" "$APP"
sql() { sql_at "$L" "$1"; }
cleanup() {
	end_sessions
	start_stopped_node
}
trap cleanup EXIT

# perf LABEL: the value of LABEL in the perfdata of $FIRST.
perf() { printf '%s' "${FIRST#*| }" | tr ' ' '\n' | sed -n "s/^$1=\\([0-9.]*\\).*/\\1/p"; }

# --- baseline: nothing open (Patroni's own queries are short: retry) ----------
for _ in $(seq 20); do
	run "$CHECK" "${MON[@]}" --critical-age 0
	[ "$RC" = 0 ] && break
	sleep 0.1
done
is "$RC" 0 "no other transaction, --critical-age 0: OK (the check's own is not counted)"
is "$FIRST" "PGHA_TRANSACTIONS OK - 127.0.0.1:$LPORT: no open transaction, none idle in transaction | oldest_xact=0s;;0;0 oldest_idle_xact=0s;;;0 xacts=0;;;0 idle_xacts=0;;;0" "status line and perfdata"

# --- a session idle in transaction ------------------------------------------------
hold_session "${APP}_idler" "BEGIN;
SELECT 'pgha'
    || 'idle';"
for _ in $(seq 50); do
	[ "$(sql "SELECT state FROM pg_stat_activity WHERE application_name = '${APP}_idler'")" = "idle in transaction" ] && break
	sleep 0.1
done
idler=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '${APP}_idler'")
diag "idle session pid $idler"
run "$CHECK" "${MON[@]}" --warning-idle 1h
is "$RC" 0 "idle in transaction for less than an hour: OK"
like "$FIRST" "^PGHA_TRANSACTIONS OK - 127\\.0\\.0\\.1:$LPORT: oldest transaction [0-9.]+ s \\(pid $idler '${APP}_idler'\\), idle in transaction [0-9.]+ s \\(pid $idler '${APP}_idler'\\) \\| " "both maxima name the session"
like "$FIRST" "xacts=1;;;0 idle_xacts=1;;;0\$" "one open transaction, one idle"
sleep 2.2

run "$CHECK" "${MON[@]}" --warning-idle 2s --critical-idle 1h
is "$RC" 1 "idle over --warning-idle 2s: WARNING"
like "$FIRST" "^PGHA_TRANSACTIONS WARNING - 127\\.0\\.0\\.1:$LPORT: idle in transaction [0-9.]+ s \\(pid $idler '${APP}_idler', warning range 2s\\), oldest transaction [0-9.]+ s \\(pid $idler '${APP}_idler'\\) \\| " "the idle one first, the range named"
like "$FIRST" "oldest_idle_xact=[0-9.]+s;2;3600;0 " "perfdata: idle time with its ranges in seconds"
line=$(printf '%s\n' "$OUT" | sed -n 2p)
like "$line" "^pid $idler \\(user postgres, application '${APP}_idler', client 127\\.0\\.0\\.1, idle in transaction\\): transaction open for [0-9.]+ s, idle for [0-9.]+ s; last query: SELECT 'pgha' // 'idle';\$" "long output: pid, user, application, client, state, ages, the last query on one line ('|' shown as '/')"
idle_s=$(perf oldest_idle_xact)
awk -v s="$idle_s" 'BEGIN { exit !(s >= 2 && s < 60) }'
ok $? "oldest_idle_xact in seconds ($idle_s)"

run "$CHECK" "${MON[@]}" --warning-idle 1s --critical-idle 0.03min
is "$RC" 2 "idle over --critical-idle 0.03min (1.8 s): CRITICAL"
like "$FIRST" "\\(pid $idler '${APP}_idler', critical range 0\\.03min\\)" "the range as given"
run "$CHECK" "${MON[@]}" --warning-age 2s
is "$RC" 1 "transaction older than --warning-age 2s: WARNING"
like "$FIRST" "oldest transaction [0-9.]+ s \\(pid $idler '${APP}_idler', warning range 2s\\)" "names it"
run "$CHECK" "${MON[@]}" --critical-age 1h --critical-idle 1h
is "$RC" 0 "under an hour: OK"

# --- an active long query: old, but not idle ------------------------------------------
run_session "${APP}_sleeper" "SELECT pg_sleep(60)"
for _ in $(seq 50); do
	[ "$(sql "SELECT state FROM pg_stat_activity WHERE application_name = '${APP}_sleeper'")" = active ] && break
	sleep 0.1
done
sleeper=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '${APP}_sleeper'")
sleep 1.2
run "$CHECK" "${MON[@]}" --critical-idle 1.5s --warning-age 1s
is "$RC" 2 "the idle session is CRITICAL, the active one WARNING by age"
like "$FIRST" "^PGHA_TRANSACTIONS CRITICAL - .*: idle in transaction [0-9.]+ s \\(pid $idler '${APP}_idler', critical range 1\\.5s\\), oldest transaction" "the idle one leads"
like "$OUT" $'\n'"pid $sleeper \\(user postgres, application '${APP}_sleeper', client 127\\.0\\.0\\.1, active\\): transaction open for [0-9.]+ s; query: SELECT pg_sleep\\(60\\)" "the active session is listed: its age alerts"
like "$FIRST" "xacts=2;;;0 idle_xacts=1;;;0\$" "two open transactions, one idle"
run "$CHECK" "${MON[@]}" --critical-idle 1h
is "$(printf '%s\n' "$OUT" | grep -c "^pid $sleeper ")" 0 "nothing alerts: the younger active session is not listed"
run "$CHECK" "${MON[@]}" --critical-idle 1h -v
is "$(printf '%s\n' "$OUT" | grep -c "^pid $sleeper ")" 1 "-v lists every session"
run "$CHECK" "${MON[@]}" --all-backends --query-length 6
is "$RC" 0 "--all-backends: OK"
like "$OUT" "last query: SELECT\\.\\.\\.\$" "--query-length cuts the query"

run "$CHECK" --patroni "$PGHA_PATRONI_URLS" -U "$PGHA_MONITOR_USER" -d postgres --warning-idle 1s
is "$RC" 1 "--patroni: the leader, WARNING"
like "$FIRST" "^PGHA_TRANSACTIONS WARNING - $L \\(127\\.0\\.0\\.1:$LPORT\\): idle in transaction" "names the leader"

# --- ended -------------------------------------------------------------------------------
end_sessions
is "$(sessions)" 0 "the sessions are gone"
for _ in $(seq 20); do
	run "$CHECK" "${MON[@]}" --warning-idle 1s --critical-age 1s
	[ "$RC" = 0 ] && break
	sleep 0.1
done
is "$RC" 0 "back to OK"
like "$FIRST" ", none idle in transaction \\| " "none idle in transaction"

# --- bad input ------------------------------------------------------------------------------
run "$CHECK" "${MON[@]}" --warning-idle 5 parsecs
is "$RC" 3 "a positional argument: exit 3"
run "$CHECK" "${MON[@]}" --warning-idle 5parsecs
is "$RC" 3 "--warning-idle 5parsecs: exit 3"
like "$FIRST" '^PGHA_TRANSACTIONS UNKNOWN - invalid warning range "5parsecs".*--warning-idle' "one clear line naming the option"
run "$CHECK" "${MON[@]}" --critical-age 10min:1min
is "$RC" 3 "--critical-age 10min:1min: exit 3"
like "$FIRST" '^PGHA_TRANSACTIONS UNKNOWN - invalid critical range "10min:1min"' "says why"
run "$CHECK" "${MON[@]}" -w 10
is "$RC" 3 "-w is not an option here: exit 3"

# --- a stopped node ----------------------------------------------------------------------------
RPORT=$(pgport_of "$R1")
stop_node "$R1"
run_timed "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_TRANSACTIONS CRITICAL - 127\\.0\\.0\\.1:$RPORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
start_node
ok $? "$R1 came back and the cluster is healthy"
run "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres
is "$RC" 0 "the replica answers again: OK"

done_testing
