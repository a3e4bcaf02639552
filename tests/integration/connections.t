# connections.t: check_pgha_connections against the real sandbox cluster.
# Baseline OK; extra sessions (idle, idle in transaction, active) push the
# count and the percentage of usable connections over -w/-c, WARNING then
# CRITICAL; closed again -> OK; --patroni picks the leader; bad input ->
# UNKNOWN; a stopped node and a server that does not answer -> CRITICAL
# within -t. Every background session is ended, even on failure.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_connections"
require_healthy

L=$(leader)
set -- $(replicas)
R1=$1
LPORT=$(pgport_of "$L")
MON=(-H 127.0.0.1 -p "$LPORT" -U "$PGHA_MONITOR_USER" -d postgres)
APP=pgha_conn_t$$
TMP=$(mktemp -d)
fixture=''
diag "leader $L (port $LPORT), replica $R1"

# background sessions on the leader as the monitor role
sessions_init "$L" "$APP" -U "$PGHA_MONITOR_USER"
cleanup() {
	end_sessions
	[ -n "$fixture" ] && kill "$fixture" 2>/dev/null && wait "$fixture" 2>/dev/null
	start_stopped_node
	rm -rf "$TMP"
}
trap cleanup EXIT

# perf LABEL: the value of LABEL in the perfdata of $FIRST.
perf() { printf '%s' "${FIRST#*| }" | tr ' ' '\n' | sed -n "s/^$1=\\([0-9.]*\\).*/\\1/p"; }

# --- baseline ----------------------------------------------------------------
run "$CHECK" "${MON[@]}" -v
is "$RC" 0 "no thresholds: OK"
like "$FIRST" "^PGHA_CONNECTIONS OK - 127\\.0\\.0\\.1:$LPORT: [0-9]+ connections?, [0-9.]+% of [0-9]+ usable \\| " "status line: count and percentage of usable"
like "$FIRST" '\| total=[0-9]+;;;0;[0-9]+ active=[0-9]+;;;0;[0-9]+ idle=[0-9]+;;;0;[0-9]+ idle_in_transaction=[0-9]+;;;0;[0-9]+ waiting=[0-9]+;;;0;[0-9]+ used_pct=[0-9.]+%;;;0;100$' "perfdata per state, max max_connections"
like "$OUT" $'\n''[0-9]+ active, [0-9]+ idle, [0-9]+ idle in transaction, [0-9]+ waiting for a lock' "long output: the states"
maxconn=$(sql_at "$L" "SELECT current_setting('max_connections')::int")
reserved=$(sql_at "$L" "SELECT current_setting('superuser_reserved_connections')::int")
usable=$((maxconn - reserved))
like "$OUT" "max_connections $maxconn, superuser_reserved_connections $reserved, reserved_connections 0: $usable usable" "-v: the settings and usable slots"
like "$FIRST" "of $usable usable" "usable = max_connections - superuser_reserved_connections"
base=$(perf total)
[ -n "$base" ] && [ "$base" -ge 1 ]
ok $? "the check's own connection is counted (total=$base)"
pct() { awk -v n="$1" -v u="$usable" 'BEGIN { printf "%.1f", n * 100 / u }'; }

# --- extra sessions: 4 idle, 2 idle in transaction, 2 active ------------------
for i in 1 2 3 4; do hold_session "${APP}_idle$i" "SELECT 1;"; done
for i in 1 2; do hold_session "${APP}_itx$i" "BEGIN; SELECT 1;"; done
for i in 1 2; do run_session "${APP}_act$i" "SELECT pg_sleep(60)"; done
for _ in $(seq 50); do
	[ "$(sql_at "$L" "SELECT count(*) FROM pg_stat_activity
		WHERE application_name LIKE '$APP%' AND (state = 'idle' OR state LIKE 'idle in%'
		OR query LIKE '%pg_sleep%')")" = 8 ] && break
	sleep 0.1
done
is "$(sessions)" 8 "8 extra sessions are up"

run "$CHECK" "${MON[@]}"
now=$(perf total)
[ -n "$now" ] && [ "$now" -ge $((base + 8)) ] && [ "$now" -le $((base + 10)) ]
ok $? "total grew by 8 (from $base to $now)"
[ "$(perf active)" -ge 3 ] && [ "$(perf idle)" -ge 4 ] && [ "$(perf idle_in_transaction)" -ge 2 ]
ok $? "active >= 3 (2 + this check), idle >= 4, idle_in_transaction >= 2: $(perf active)/$(perf idle)/$(perf idle_in_transaction)"
like "$OUT" $'\n''[3-9][0-9]* active, [4-9][0-9]* idle, [2-9][0-9]* idle in transaction, 0 waiting for a lock' "long output agrees"

# by count
w=$((base + 4)) c=$((base + 14))
run "$CHECK" "${MON[@]}" -w "$w" -c "$c"
is "$RC" 1 "count over -w $w: WARNING"
like "$FIRST" "^PGHA_CONNECTIONS WARNING - 127\\.0\\.0\\.1:$LPORT: $now connections, [0-9.]+% of $usable usable \\(warning range $w\\) \\| total=$now;$w;$c;0;$maxconn " "status line names the range, perfdata echoes both"
c=$((base + 6))
run "$CHECK" "${MON[@]}" -w "$w" -c "$c"
is "$RC" 2 "count over -c $c: CRITICAL"
like "$FIRST" "^PGHA_CONNECTIONS CRITICAL - .*\\(critical range $c\\) \\| total=$now;$w;$c;0;$maxconn " "critical range named"
run "$CHECK" "${MON[@]}" -w "~:$w"
is "$RC" 1 "-w ~:$w (above): WARNING"
run "$CHECK" "${MON[@]}" -w "$((base + 20))"
is "$RC" 0 "-w $((base + 20)): OK"

# by percent of usable connections
pw=$(pct $((base + 4))) pc=$(pct $((base + 14)))
run "$CHECK" "${MON[@]}" -w "$pw%" -c "$pc%"
is "$RC" 1 "percentage over -w $pw%: WARNING"
like "$FIRST" "^PGHA_CONNECTIONS WARNING - .*: $now connections, $(pct "$now")% of $usable usable \\(warning range $pw%\\) \\|" "status line: the percentage and the range"
like "$FIRST" "used_pct=$(pct "$now")%;$pw;$pc;0;100\$" "used_pct perfdata carries the % ranges"
like "$FIRST" "total=$now;;;0;$maxconn " "and the count carries none"
pc=$(pct $((base + 6)))
run "$CHECK" "${MON[@]}" -w "$pw%" -c "$pc%"
is "$RC" 2 "percentage over -c $pc%: CRITICAL"
like "$FIRST" "\\(critical range $pc%\\)" "critical percent range named"
run "$CHECK" "${MON[@]}" -w "$pw%" -c "$((base + 6))"
is "$RC" 2 "mixed: -w in percent, -c as a count: CRITICAL by count"
like "$FIRST" "\\(critical range $((base + 6)), warning range $pw%\\)" "both alerts named"
run "$CHECK" "${MON[@]}" -w 90% -c 95%
is "$RC" 0 "-w 90% -c 95%: OK"

# --patroni: the leader, named
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" -U "$PGHA_MONITOR_USER" -d postgres -w "$w"
is "$RC" 1 "--patroni connects to the leader, which has the sessions: WARNING"
like "$FIRST" "^PGHA_CONNECTIONS WARNING - $L \\(127\\.0\\.0\\.1:$LPORT\\): " "status line names the leader"

# --- closed again --------------------------------------------------------------
end_sessions
is "$(sessions)" 0 "the extra sessions are gone"
run "$CHECK" "${MON[@]}" -w "$((base + 4))" -c "$((base + 6))"
is "$RC" 0 "back to OK by count"
run "$CHECK" "${MON[@]}" -w "$pw%" -c "$pc%"
is "$RC" 0 "back to OK by percent"
[ "$(perf total)" -le $((base + 1)) ]
ok $? "total back near the baseline ($(perf total))"

# --- bad input -------------------------------------------------------------------
run "$CHECK" "${MON[@]}" -w foo
is "$RC" 3 "-w foo: exit 3"
like "$FIRST" '^PGHA_CONNECTIONS UNKNOWN - invalid warning range "foo"' "one clear line"
run "$CHECK" "${MON[@]}" -c 20:10%
is "$RC" 3 "-c 20:10%: exit 3"
like "$FIRST" '^PGHA_CONNECTIONS UNKNOWN - invalid critical range "20:10%"' "says which range"
run "$CHECK" "${MON[@]}" --member n1
is "$RC" 3 "--member without --patroni: exit 3"
like "$FIRST" '^PGHA_CONNECTIONS UNKNOWN - --member needs --patroni' "says so"
run "$CHECK" "${MON[@]}" --bogus
is "$RC" 3 "unknown option: exit 3"
run "$CHECK" --help
is "$RC" 3 "--help: exit 3"
like "$OUT" "percentage of usable" "--help explains the % ranges"

# --- a server that does not answer --------------------------------------------------
"$FIXTURE" --mode hang --port-file "$TMP/port" --lifetime 20 &
fixture=$!
for _ in $(seq 20); do [ -s "$TMP/port" ] && break; sleep 0.1; done
run_timed "$CHECK" -H 127.0.0.1 -p "$(cat "$TMP/port")" -U "$PGHA_MONITOR_USER" -d postgres -t 2
kill "$fixture" 2>/dev/null; wait "$fixture" 2>/dev/null; fixture=
is "$RC" 2 "a server that never answers: CRITICAL"
like "$FIRST" '^PGHA_CONNECTIONS CRITICAL - 127\.0\.0\.1:[0-9]+: .*timed out' "says it timed out"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 2 (took ${ELAPSED} ms)"

# --- a stopped node -------------------------------------------------------------------
RPORT=$(pgport_of "$R1")
stop_node "$R1"
run_timed "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_CONNECTIONS CRITICAL - 127\\.0\\.0\\.1:$RPORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
run "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres --timeout-result unknown
is "$RC" 3 "--timeout-result unknown: UNKNOWN"
start_node
ok $? "$R1 came back and the cluster is healthy"
run "$CHECK" -H 127.0.0.1 -p "$RPORT" -U "$PGHA_MONITOR_USER" -d postgres
is "$RC" 0 "and the replica answers again: OK"

done_testing
