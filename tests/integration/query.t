# query.t: check_pgha_query against the real sandbox cluster: SELECT 42
# with ranges, label and unit; NULL, text, no row, no result set, a syntax
# error and a write refused by the read-only transaction are UNKNOWN; a
# query still running at -t; --patroni/--member; a stopped node; bad input.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_query"
require_healthy

TABLE=pgha_query_test
L=$(leader)
# shellcheck disable=SC2046  # two node names
set -- $(replicas)
R1=$1 R2=$2
LPORT=$(pgport_of "$L")
R2PORT=$(pgport_of "$R2")
MON=(-U "$PGHA_MONITOR_USER" -d postgres)
Q=("$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}")
diag "leader $L (port $LPORT), replicas $R1 $R2"

cleanup() {
	"$SANDBOX" psql "$L" -Atqc "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1
	start_stopped_node
}
trap cleanup EXIT

# --- connection options: the user's are kept, the deadline is added ----------
run "$CHECK" -H 127.0.0.1 -p "$LPORT" --dsn "dbname=postgres user=$PGHA_MONITOR_USER options='-c work_mem=7MB'" \
	-q "SELECT setting::int FROM pg_settings WHERE name = 'work_mem'"
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 7168 | result=7168" "options given in --dsn reach the server"
run env PGOPTIONS='-c work_mem=9MB' "${Q[@]}" -q "SELECT setting::int FROM pg_settings WHERE name = 'work_mem'"
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 9216 | result=9216" "and so do PGOPTIONS"
run "${Q[@]}" -t 7 -q "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
like "$FIRST" "result is [1-9][0-9]* \\| result=[0-9]+\$" "statement_timeout is set from -t"
run "${Q[@]}" -t 7 -q "SELECT (setting::int BETWEEN 5000 AND 7000)::int FROM pg_settings WHERE name = 'statement_timeout'"
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 1 | result=1" "statement_timeout just under -t 7 (ms)"

# --- a number against ranges ---------------------------------------------------
run "${Q[@]}" -q 'SELECT 42'
is "$RC" 0 "SELECT 42 without ranges: OK"
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 42 | result=42" "status line and perfdata"

run "${Q[@]}" -q 'SELECT 42' -w 50 -c 100
is "$RC" 0 "42 within -w 50 -c 100: OK"
like "$FIRST" "\| result=42;50;100\$" "perfdata echoes the ranges"

run "${Q[@]}" -q 'SELECT 42' -w 40 -c 50
is "$RC" 1 "42 outside -w 40: WARNING"
like "$FIRST" "^PGHA_QUERY WARNING - 127\.0\.0\.1:$LPORT: result is 42 \(outside warning range 40\) \| result=42;40;50\$" "says which range"

run "${Q[@]}" -q 'SELECT 42' -w 30 -c 40
is "$RC" 2 "42 outside -c 40: CRITICAL"
like "$FIRST" "result is 42 \(outside critical range 40\)" "names the critical range"

run "${Q[@]}" -q 'SELECT 42' -c @40:45
is "$RC" 2 "42 inside -c @40:45: CRITICAL"
like "$FIRST" "result is 42 \(inside critical range @40:45\)" "an inside range says inside"

run "${Q[@]}" -q 'SELECT 42' -w 50: -c 10:
is "$RC" 1 "42 below -w 50:: WARNING"

run "${Q[@]}" -q 'SELECT 2.5::numeric' --label load --uom s -w 2
is "$RC" 1 "numeric 2.5 with --label load --uom s, -w 2: WARNING"
like "$FIRST" "load is 2\.5s .*\| load=2\.5s;2\$" "label and unit in text and perfdata"

run "${Q[@]}" -q 'SELECT 3' --label '' --uom '' -w '' -c ''
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 3 | result=3" "empty --label, --uom, -w, -c (unset Nagios \$ARGn\$): the defaults"

run "${Q[@]}" -q 'SELECT count(*) FROM pg_stat_activity' --label sessions -c 1000
is "$RC" 0 "a real monitoring query (pg_monitor sees pg_stat_activity): OK"
like "$FIRST" "sessions is [0-9]+ \| sessions=[0-9]+;;1000\$" "perfdata under its label"

run "${Q[@]}" -q 'SELECT 7, 8 UNION ALL SELECT 9, 10' -v
is "$RC" 0 "two rows, two columns: OK, the first value counts"
like "$FIRST" "result is 7 \| result=7\$" "value from the first column of the first row"
like "$OUT" "returned 2 rows and 2 columns; only the first value counts" "-v says so"

# --- no usable number: UNKNOWN, and says why -------------------------------------
run "${Q[@]}" -q 'SELECT NULL::int' -w 1
is "$RC" 3 "NULL: UNKNOWN"
is "$FIRST" "PGHA_QUERY UNKNOWN - 127.0.0.1:$LPORT: the query returned NULL" "says NULL"

run "${Q[@]}" -q "SELECT 'forty-two'"
is "$RC" 3 "text: UNKNOWN"
is "$FIRST" "PGHA_QUERY UNKNOWN - 127.0.0.1:$LPORT: the query returned \"forty-two\", not a number" "quotes the text"

run "${Q[@]}" -q "SELECT 'NaN'::float8"
is "$RC" 3 "NaN: UNKNOWN"
like "$FIRST" "returned \"NaN\", not a finite number" "says not finite"

run "${Q[@]}" -q "SELECT 'a' || chr(10) || 'b'"
is "$RC" 3 "text with a newline: UNKNOWN"
is "$OUT" "$FIRST" "the answer stays on one line"

run "${Q[@]}" -q 'SELECT 1 WHERE false'
is "$RC" 3 "no row: UNKNOWN"
is "$FIRST" "PGHA_QUERY UNKNOWN - 127.0.0.1:$LPORT: the query returned no row" "says no row"

run "${Q[@]}" -q 'SET work_mem = 65536'
is "$RC" 3 "a statement without a result set: UNKNOWN"
like "$FIRST" "returned no result set" "says so"

run "${Q[@]}" -q 'SELEC 42'
is "$RC" 3 "syntax error: UNKNOWN"
like "$FIRST" "^PGHA_QUERY UNKNOWN - 127\.0\.0\.1:$LPORT: ERROR: +syntax error at or near \"SELEC\"\$" "with the server's message"

run "${Q[@]}" -q 'SELECT * FROM pgha_no_such_table'
is "$RC" 3 "missing table: UNKNOWN"
like "$FIRST" "relation \"pgha_no_such_table\" does not exist" "with the server's message"

run "${Q[@]}" -q 'SELECT 1; SELECT 2'
is "$RC" 3 "two statements: UNKNOWN"
like "$FIRST" "cannot insert multiple commands" "the server refuses more than one"

# --- read-only: writes are refused, even as a superuser -----------------------------
run "$CHECK" -H 127.0.0.1 -p "$LPORT" -U "$PGHA_PGUSER" -d postgres -q "CREATE TABLE $TABLE (i int)"
is "$RC" 3 "CREATE TABLE as the superuser: UNKNOWN"
like "$FIRST" "cannot execute CREATE TABLE in a read-only transaction" "refused by the read-only transaction"
is "$("$SANDBOX" psql "$L" -Atqc "SELECT count(*) FROM pg_class WHERE relname = '$TABLE'")" 0 "and the table does not exist"

"$SANDBOX" psql "$L" -Atqc "CREATE TABLE $TABLE (i int); INSERT INTO $TABLE VALUES (1)" >/dev/null
run "$CHECK" -H 127.0.0.1 -p "$LPORT" -U "$PGHA_PGUSER" -d postgres \
	-q "WITH d AS (DELETE FROM $TABLE RETURNING i) SELECT count(*) FROM d"
is "$RC" 3 "a DELETE inside a SELECT: UNKNOWN"
like "$FIRST" "cannot execute [A-Z]+ in a read-only transaction" "refused"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" -U "$PGHA_PGUSER" -d postgres \
	-q "SELECT set_config('transaction_read_only', 'off', false)::int"
is "$RC" 3 "switching the transaction to read-write: UNKNOWN"
like "$FIRST" "read-write mode must be set before any query" "refused"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" -U "$PGHA_PGUSER" -d postgres -q "SELECT count(*) FROM $TABLE"
is "$FIRST" "PGHA_QUERY OK - 127.0.0.1:$LPORT: result is 1 | result=1" "the row is still there"
"$SANDBOX" psql "$L" -Atqc "DROP TABLE $TABLE" >/dev/null

# --- a query still running at -t --------------------------------------------------
run_timed "${Q[@]}" -q 'SELECT pg_sleep(10)' -t 2
is "$RC" 2 "a query still running at -t 2: CRITICAL (the --timeout-result default)"
like "$FIRST" "^PGHA_QUERY CRITICAL - .*(statement timeout|no answer before the timeout)" "says it was cancelled (by the server or by the check)"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 2 (took ${ELAPSED} ms)"
run "${Q[@]}" -q 'SELECT pg_sleep(10)' -t 1 --timeout-result unknown
is "$RC" 3 "with --timeout-result unknown: UNKNOWN"

# --- --patroni: the leader, or --member --------------------------------------------
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" "${MON[@]}" -q 'SELECT pg_is_in_recovery()::int' -c 0
is "$RC" 0 "--patroni connects to the leader (not in recovery)"
like "$FIRST" "^PGHA_QUERY OK - $L \(127\.0\.0\.1:$LPORT\): result is 0" "and names it"
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" --member "$R1" "${MON[@]}" -q 'SELECT pg_is_in_recovery()::int' -c 0
is "$RC" 2 "--member $R1 is in recovery: 1 outside -c 0"
like "$FIRST" "^PGHA_QUERY CRITICAL - $R1 \(" "names the member"

# --- a stopped node: CRITICAL within -t --------------------------------------------
stop_node "$R2"
run_timed "$CHECK" -H 127.0.0.1 -p "$R2PORT" "${MON[@]}" -q 'SELECT 1' -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_QUERY CRITICAL - 127\.0\.0\.1:$R2PORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" --member "$R2" "${MON[@]}" -q 'SELECT 1' --unreachable-state warning
is "$RC" 1 "--member of a stopped node with --unreachable-state warning: WARNING"
start_node
ok $? "$R2 back, cluster healthy"

# --- bad input: UNKNOWN, exit 3, one status line ----------------------------------
run "$CHECK" -H 127.0.0.1 -p "$LPORT"
is "$RC" 3 "no -q: exit 3"
is "$FIRST" "PGHA_QUERY UNKNOWN - give the query with -q SQL" "says what is missing"
for args in "-q ;" "-w 2:1" "-c foo" "--uom furlongs" "--label a=b" "--member $R1" "-t 0" "--bogus"; do
	# shellcheck disable=SC2086  # word splitting wanted
	run "$CHECK" -H 127.0.0.1 -p "$LPORT" -q 'SELECT 1' $args
	is "$RC" 3 "bad input ($args): exit 3"
	like "$FIRST" "^PGHA_QUERY UNKNOWN - [^|]+\$" "one UNKNOWN status line"
done

done_testing
