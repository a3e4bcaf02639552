# lag.t: check_pgha_lag against the real sandbox cluster.
# Healthy; NULL lag times on an idle primary are 0 s; replica mode on an
# idle cluster; replay paused on one replica (Patroni paused too, or it
# resumes the replay within a loop) while the leader writes ~20 MB ->
# WARNING then CRITICAL by bytes, seconds grow (primary view and replica
# mode); resumed -> OK; a standby stopped -> missing standby alert
# (--expected-standbys 2, --patroni); a stopped node and a server that does
# not answer -> CRITICAL within -t; a login without pg_monitor; bad input.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_lag"
require_healthy

L=$(leader)
set -- $(replicas)
R1=$1 R2=$2
diag "leader $L, replicas $R1 $R2"
LPORT=$(pgport_of "$L")
MON=(-U "$PGHA_MONITOR_USER" -d postgres)
PAT=(--patroni "$PGHA_PATRONI_URLS")
TABLE=pgha_lag_t
NOPRIV=pgha_lag_nopriv
tmpdir=$(mktemp -d)
fixture=

# Leave the cluster as we found it, whatever happened.
cleanup() {
	[ -n "$fixture" ] && kill "$fixture" 2>/dev/null && wait "$fixture" 2>/dev/null
	"$SANDBOX" psql "$R1" -Atc "SELECT pg_wal_replay_resume()" >/dev/null 2>&1
	"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
	local l
	l=$(leader)
	"$SANDBOX" psql "$l" -Atc "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1
	"$SANDBOX" psql "$l" -Atc "DROP ROLE IF EXISTS $NOPRIV" >/dev/null 2>&1
	"$SANDBOX" start "$R2" >/dev/null 2>&1
	"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
	rm -rf "$tmpdir"
}
trap cleanup EXIT

# perf OUT LABEL: the perfdata value of LABEL, without its unit.
perf() {
	printf '%s' "${1%%$'\n'*}" | tr ' ' '\n' | sed -n "s/^'\{0,1\}$2'\{0,1\}=\([-0-9.]*\).*/\1/p"
}
# gt A B: A > B as numbers.
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# --- healthy ------------------------------------------------------------------
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}"
is "$RC" 0 "healthy primary: exit 0"
like "$FIRST" "^PGHA_LAG OK - primary 127\.0\.0\.1:$LPORT: 2 standbys; worst n[0-9]: replay lag [0-9.]+ [kMG]?B, [0-9.]+ s \|" \
	"status line: primary, 2 standbys, the worst one"
for n in "$R1" "$R2"; do
	like "$FIRST" "${n}_sent_lag_bytes=[0-9]+B;;;0 ${n}_write_lag_bytes=[0-9]+B;;;0 ${n}_flush_lag_bytes=[0-9]+B;;;0 ${n}_replay_lag_bytes=[0-9]+B;;;0 ${n}_write_lag_seconds=[0-9.]+s;;;0 ${n}_flush_lag_seconds=[0-9.]+s;;;0 ${n}_replay_lag_seconds=[0-9.]+s;;;0" \
		"perfdata for $n in B and s"
	like "$OUT" $'\n'"$n: replay lag [0-9.]+ [kMG]?B, [0-9.]+ s \(sent .*streaming, (a)?sync, 127\.0\.0\.1\)" \
		"long output line for $n"
done
like "$FIRST" ' standbys=2;;;0$' "standbys=2 perfdata"

run "$CHECK" "${PAT[@]}" "${MON[@]}" --expected-standbys 2 --warning-bytes 64MB \
	--critical-bytes 1GB --warning-seconds 30s --critical-seconds 5min
is "$RC" 0 "--patroni, --expected-standbys 2 and loose thresholds: exit 0"
like "$FIRST" "^PGHA_LAG OK - primary $L: 2 standbys; worst " "--patroni connects to the leader $L"
like "$FIRST" "${R1}_replay_lag_bytes=[0-9]+B;67108864;1073741824;0 " "byte thresholds in perfdata, in B"
like "$FIRST" "${R1}_replay_lag_seconds=[0-9.]+s;30;300;0 " "second thresholds in perfdata, in s"
like "$FIRST" ' standbys=2;;2:;0$' "expected standbys as the critical range"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-bytes '' --critical-bytes '' \
	--warning-seconds '' --critical-seconds '' --expected-standbys ''
is "$RC" 0 "empty option values (Nagios \$ARGn\$) set nothing: exit 0"
like "$FIRST" "${R1}_replay_lag_bytes=[0-9]+B;;;0 " "and no thresholds in perfdata"

# An idle primary shows NULL lag times once the standbys caught up: 0 s.
for _ in $(seq 25); do
	nulls=$("$SANDBOX" psql "$L" -Atc "SELECT count(*) FROM pg_stat_replication WHERE replay_lag IS NULL")
	[ "$nulls" = 2 ] && break
	sleep 1
done
is "$nulls" 2 "idle primary: pg_stat_replication shows NULL replay_lag"
run "$CHECK" "${PAT[@]}" "${MON[@]}" --critical-seconds 1
is "$RC" 0 "NULL lag times are not unknown: exit 0"
like "$FIRST" "${R1}_replay_lag_seconds=0s;;1;0 .*${R2}_replay_lag_seconds=0s;;1;0 |${R2}_replay_lag_seconds=0s;;1;0 .*${R1}_replay_lag_seconds=0s;;1;0 " \
	"and they count as 0 s"

# --- replica mode, idle: the delay does not grow --------------------------------
run "$CHECK" "${PAT[@]}" --member "$R2" "${MON[@]}" --role replica --critical-seconds 1
is "$RC" 0 "replica mode on $R2 (idle cluster): exit 0"
like "$FIRST" "^PGHA_LAG OK - replica $R2: replay lag 0 B, [0-9.]+ s \| replay_lag_bytes=0B;;;0 replay_lag_seconds=[0-9.]+s;;1;0$" \
	"replica status line and perfdata"
s1=$(perf "$OUT" replay_lag_seconds)
sleep 3
run "$CHECK" "${PAT[@]}" --member "$R2" "${MON[@]}" --critical-seconds 1
s2=$(perf "$OUT" replay_lag_seconds)
is "$RC" 0 "3 s later: still OK"
ok "$(gt 1 "$s2"; echo $?)" "replay delay stays under 1 s while idle ($s1 s, then $s2 s)"
like "$OUT" "WAL receiver streaming" "long output: the WAL receiver streams"

run "$CHECK" -H 127.0.0.1 -p "$(pgport_of "$R2")" "${MON[@]}" --role primary
is "$RC" 2 "--role primary on a replica: CRITICAL"
like "$FIRST" "^PGHA_LAG CRITICAL - 127\.0\.0\.1:[0-9]+ is a replica \(in recovery\), expected a primary$" \
	"says what it is"
run "$CHECK" "${PAT[@]}" --member "$L" "${MON[@]}" --role replica
is "$RC" 2 "--role replica on the leader: CRITICAL"
like "$FIRST" "^PGHA_LAG CRITICAL - $L is a primary, expected a replica$" "says what it is"

# --- replay paused on R1 while the leader writes ---------------------------------
# the replica's replay delay counts from its last replayed commit: make
# sure it has one (a freshly restarted replica has none, and then the delay
# is unknown rather than 0)
"$SANDBOX" psql "$L" -Atc "CREATE TABLE IF NOT EXISTS pgha_lag_mark (t timestamptz); INSERT INTO pgha_lag_mark VALUES (now())" >/dev/null
for _ in $(seq 100); do
	[ -n "$("$SANDBOX" psql "$R1" -Atc "SELECT pg_last_xact_replay_timestamp()")" ] &&
		[ "$("$SANDBOX" psql "$R1" -Atc "SELECT count(*) FROM pgha_lag_mark")" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
"$SANDBOX" psql "$L" -Atc "DROP TABLE pgha_lag_mark" >/dev/null
"$SANDBOX" patronictl pause --wait >/dev/null 2>&1
ok $? "Patroni paused (it would resume the replay otherwise)"
"$SANDBOX" psql "$R1" -Atc "SELECT pg_wal_replay_pause()" >/dev/null
ok $? "replay paused on $R1"
"$SANDBOX" psql "$L" -Atc "SET client_min_messages = warning; DROP TABLE IF EXISTS $TABLE; CREATE TABLE $TABLE (id int, pad text);
	INSERT INTO $TABLE SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g" >/dev/null
ok $? "20000 rows of 1 kB written on $L"

run "$CHECK" "${PAT[@]}" "${MON[@]}" --warning-bytes 4MB --critical-bytes 1GB
is "$RC" 1 "replay lag over --warning-bytes 4MB: WARNING"
like "$FIRST" "^PGHA_LAG WARNING - primary $L: 2 standbys; worst $R1: replay lag [0-9.]+ MB, [0-9.]+ s \|" \
	"the worst standby, $R1, in the status line"
b=$(perf "$OUT" "${R1}_replay_lag_bytes")
ok "$(gt "$b" 16777216; echo $?)" "$R1 replay lag over 16 MB ($b B)"
like "$FIRST" "${R1}_replay_lag_bytes=[0-9]+B;4194304;1073741824;0" "perfdata with the byte thresholds"
like "$OUT" $'\n'"$R1: replay lag [0-9.]+ MB" "long output names $R1's lag"

run "$CHECK" "${PAT[@]}" "${MON[@]}" --warning-bytes 4MB --critical-bytes 8MB
is "$RC" 2 "replay lag over --critical-bytes 8MB: CRITICAL"
like "$FIRST" "^PGHA_LAG CRITICAL - primary $L: 2 standbys; worst $R1: replay lag" "status line CRITICAL, $R1"

for i in 1 2 3 4; do
	sleep 1
	"$SANDBOX" psql "$L" -Atc "INSERT INTO $TABLE VALUES ($i, 'more')" >/dev/null
done
run "$CHECK" "${PAT[@]}" "${MON[@]}" --warning-seconds 1 --critical-seconds 2
is "$RC" 2 "writes go on for 4 s while replay is paused: CRITICAL by seconds"
s=$(perf "$OUT" "${R1}_replay_lag_seconds")
ok "$(gt "$s" 2; echo $?)" "primary view: $R1 replay_lag over 2 s ($s s)"
like "$FIRST" "${R1}_replay_lag_seconds=[0-9.]+s;1;2;0" "perfdata with the second thresholds"

run "$CHECK" "${PAT[@]}" --member "$R1" "${MON[@]}" --warning-seconds 2 --critical-seconds 1h
is "$RC" 1 "replica mode on $R1: WARNING by seconds"
like "$FIRST" "^PGHA_LAG WARNING - replica $R1: replay lag [0-9.]+ MB, [0-9.]+ s, replay paused \|" \
	"replica status line says the replay is paused"
s=$(perf "$OUT" replay_lag_seconds)
ok "$(gt "$s" 2; echo $?)" "replica mode: replay delay over 2 s ($s s)"
b=$(perf "$OUT" replay_lag_bytes)
ok "$(gt "$b" 16777216; echo $?)" "replica mode: received but not replayed over 16 MB ($b B)"

"$SANDBOX" psql "$R1" -Atc "SELECT pg_wal_replay_resume()" >/dev/null
ok $? "replay resumed on $R1"
for _ in $(seq 30); do
	run "$CHECK" "${PAT[@]}" "${MON[@]}" --warning-bytes 4MB --critical-bytes 8MB
	[ "$RC" = 0 ] && break
	sleep 1
done
is "$RC" 0 "after the resume: OK again"
like "$FIRST" "${R1}_replay_lag_bytes=[0-9]+B;4194304;8388608;0" "with $R1 in perfdata"
"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
ok $? "Patroni resumed"
"$SANDBOX" psql "$L" -Atc "DROP TABLE $TABLE" >/dev/null
ok $? "test table dropped"

# --- a standby stopped --------------------------------------------------------------
"$SANDBOX" stop "$R2" >/dev/null 2>&1
for _ in $(seq 20); do
	run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --expected-standbys 2
	[ "$RC" = 2 ] && break
	sleep 0.25
done
is "$RC" 2 "$R2 stopped, --expected-standbys 2: CRITICAL"
like "$FIRST" "^PGHA_LAG CRITICAL - primary 127\.0\.0\.1:$LPORT: 1 standby missing, 1 of 2 connected; worst $R1: " \
	"says one is missing"
like "$FIRST" ' standbys=1;;2:;0$' "standbys=1 perfdata, critical range 2:"
like "$OUT" $'\n''1 standby connected, 2 expected' "long output says so"

run "$CHECK" "${PAT[@]}" "${MON[@]}"
is "$RC" 2 "$R2 stopped, --patroni: CRITICAL"
like "$FIRST" "^PGHA_LAG CRITICAL - primary $L: standby $R2 missing, 1 of 2 connected; worst $R1: " \
	"names the missing member"
like "$OUT" $'\n'"$R2: not connected \(a replica in Patroni's member list\)" "long output names it"

run "$CHECK" "${PAT[@]}" "${MON[@]}" --missing-state warning
is "$RC" 1 "--missing-state warning: WARNING"
like "$FIRST" ' standbys=1;2:;;0$' "the range moves to the warning field"

run_timed "$CHECK" -H 127.0.0.1 -p "$(pgport_of "$R2")" "${MON[@]}" -t 3
is "$RC" 2 "connecting to the stopped $R2: CRITICAL"
like "$FIRST" '^PGHA_LAG CRITICAL - 127\.0\.0\.1:[0-9]+: .*(refused|failed)' "says the connection failed"
ok "$([ "$ELAPSED" -lt 3000 ]; echo $?)" "within -t 3 (${ELAPSED} ms)"
run "$CHECK" -H 127.0.0.1 -p "$(pgport_of "$R2")" "${MON[@]}" --timeout-result unknown
is "$RC" 3 "--timeout-result unknown: UNKNOWN"

"$SANDBOX" start "$R2" --wait >/dev/null 2>&1
ok $? "$R2 started again and the cluster is healthy"
for _ in $(seq 20); do
	run "$CHECK" "${PAT[@]}" "${MON[@]}" --expected-standbys 2
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "both standbys back: OK"

# --- a server that accepts but never answers: CRITICAL by -t ------------------------
"$FIXTURE" --mode hang --port-file "$tmpdir/port" --max-requests 5 &
fixture=$!
for _ in $(seq 20); do [ -s "$tmpdir/port" ] && break; sleep 0.1; done
run_timed "$CHECK" -H 127.0.0.1 -p "$(cat "$tmpdir/port")" "${MON[@]}" -t 2
kill "$fixture" 2>/dev/null; wait "$fixture" 2>/dev/null; fixture=
is "$RC" 2 "a server that never answers: CRITICAL"
like "$FIRST" '^PGHA_LAG CRITICAL - 127\.0\.0\.1:[0-9]+: .*timed out' "says it timed out"
ok "$([ "$ELAPSED" -lt 3000 ]; echo $?)" "and ends by -t 2 (${ELAPSED} ms)"

# --- a login without pg_monitor -------------------------------------------------------
pw=lag-$RANDOM-$RANDOM
"$SANDBOX" psql "$L" -Atc "CREATE ROLE $NOPRIV LOGIN PASSWORD '$pw'" >/dev/null
PGPASSWORD=$pw run "$CHECK" -H 127.0.0.1 -p "$LPORT" -U "$NOPRIV" -d postgres
is "$RC" 3 "a login without pg_monitor: UNKNOWN"
like "$FIRST" "^PGHA_LAG UNKNOWN - 127\.0\.0\.1:$LPORT: pg_stat_replication hides the standbys' details from user \"$NOPRIV\": grant it pg_monitor$" \
	"says which grant is missing"
unlike "$OUT" "$pw" "the password is not echoed"
"$SANDBOX" psql "$L" -Atc "DROP ROLE $NOPRIV" >/dev/null
ok $? "role dropped"

# --- bad input ------------------------------------------------------------------------
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --warning-bytes 10XB
is "$RC" 3 "--warning-bytes 10XB: exit 3"
like "$FIRST" '^PGHA_LAG UNKNOWN - --warning-bytes: invalid range "10XB": unknown unit "XB"' \
	"one line names the option and the unit"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --critical-seconds 30parsecs
is "$RC" 3 "--critical-seconds 30parsecs: exit 3"
like "$FIRST" '^PGHA_LAG UNKNOWN - --critical-seconds: invalid range "30parsecs"' "names the option"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --critical-seconds 16MB
is "$RC" 3 "a byte unit for seconds: exit 3"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --expected-standbys two
is "$RC" 3 "--expected-standbys two: exit 3"
like "$FIRST" '^PGHA_LAG UNKNOWN - invalid number of standbys "two"' "says why"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --role boss
is "$RC" 3 "--role boss: exit 3"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --missing-state maybe
is "$RC" 3 "--missing-state maybe: exit 3"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --member "$R1"
is "$RC" 3 "--member without --patroni: exit 3"
like "$FIRST" '^PGHA_LAG UNKNOWN - --member needs --patroni$' "says so"
run "$CHECK" "${PAT[@]}" --member nosuchnode "${MON[@]}"
is "$RC" 3 "--member of no such member: UNKNOWN"
like "$FIRST" 'no member "nosuchnode"' "names it"

done_testing
