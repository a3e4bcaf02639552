# slots.t: check_pgha_slots against the real sandbox cluster: Patroni's
# slots are active; an inactive physical slot retains WAL after writes and
# alerts by bytes and by count; wal_status unreserved then lost; --slot,
# --exclude, --patroni/--member; a stopped node; bad input.
#
# Patroni 3.0.2 drops replication slots it does not know whenever it
# reloads its slot list (after a restart, a promotion, or when one of its
# own slots disappears: "Dropped unknown replication slot"), so the test
# slot is declared in the dynamic configuration's ignore_slots first, and
# ignore_slots is restored exactly as it was at the end. Everything the test
# creates (slot, table, ALTER SYSTEM settings) is removed by an EXIT trap.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_slots"
require_healthy

SLOT=pgha_test_slot
TABLE=pgha_slots_test
L=$(leader)
# shellcheck disable=SC2046  # two node names
set -- $(replicas)
R1=$1 R2=$2
LPORT=$(pgport_of "$L")
R2PORT=$(pgport_of "$R2")
MON=(-U "$PGHA_MONITOR_USER" -d postgres)
diag "leader $L (port $LPORT), replicas $R1 $R2"

# rest METHOD NODE PATH [JSON]: an authenticated REST call; prints the body.
# Credentials go to curl on stdin, not argv.
rest() {
	local user pass
	user=$(sed -n 's/^username=//p' "$PGHA_AUTH_FILE")
	pass=$(sed -n 's/^password=//p' "$PGHA_AUTH_FILE")
	printf 'user = "%s:%s"\n' "$user" "$pass" |
		curl -s -f -K - -X "$1" -H 'Content-Type: application/json' ${4:+--data "$4"} \
			"$(rest_of "$2")$3"
}
sql() { "$SANDBOX" psql "$L" -Atqc "$1"; }

# ignore_slots as it was (JSON, "null" when absent), restored at the end.
orig_ignore=$(curl -s "$(rest_of "$L")/config" | jq -c '.ignore_slots')
[ -n "$orig_ignore" ] || { echo "Bail out! cannot read GET /config"; exit 1; }
cleanup() {
	sql "SELECT pg_drop_replication_slot('$SLOT') FROM pg_replication_slots WHERE slot_name = '$SLOT'" >/dev/null 2>&1
	sql "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1
	sql "ALTER SYSTEM RESET max_slot_wal_keep_size" >/dev/null 2>&1
	sql "ALTER SYSTEM RESET wal_keep_size" >/dev/null 2>&1
	sql "SELECT pg_reload_conf()" >/dev/null 2>&1
	rest PATCH "$L" /config "{\"ignore_slots\": $orig_ignore}" >/dev/null
	start_stopped_node
}
trap cleanup EXIT

# retained BYTES of slot NAME in perfdata $FIRST
retained() { printf '%s' "$FIRST" | sed -n "s/.* $1=\([0-9]*\)B.*/\1/p"; }

# --- Patroni's own slots: active, nothing to report ----------------------------
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}"
is "$RC" 0 "leader with its replicas streaming: OK"
like "$FIRST" "^PGHA_SLOTS OK - 127\.0\.0\.1:$LPORT: 2 slots, 0 inactive, most WAL retained " "status line counts the slots"
like "$FIRST" "\| $R1=[0-9]+B;;;0 $R2=[0-9]+B;;;0 slots=2;;;0 inactive_slots=0;0;;0\$" "perfdata per slot, slots and inactive_slots"
like "$OUT" "slot \"$R1\" \(physical\) active, retains " "long output: the replica's slot is active"

run "$CHECK" --patroni "$PGHA_PATRONI_URLS" "${MON[@]}"
is "$RC" 0 "--patroni: OK"
like "$FIRST" "^PGHA_SLOTS OK - $L \(127\.0\.0\.1:$LPORT\): 2 slots" "--patroni picks the leader"

run "$CHECK" --patroni "$(rest_of "$R1")" --member "$R1" "${MON[@]}" -v
is "$RC" 0 "a replica (--member): OK"
like "$FIRST" "^PGHA_SLOTS OK - $R1 \(.*\): no replication slots \| slots=0;;;0 inactive_slots=0;0;;0\$" "Patroni 3.0 keeps no slots on replicas"
like "$OUT" "measured from the replay position \(a replica\)" "-v: a replica measures from its replay position"

# --- an inactive physical slot retaining WAL --------------------------------------
out=$(rest PATCH "$L" /config "{\"ignore_slots\": [{\"name\": \"$SLOT\", \"type\": \"physical\"}]}")
like "$out" "\"ignore_slots\": \[\{\"name\": \"$SLOT\"" "PATCH /config: Patroni ignores the test slot"
is "$(sql "SELECT slot_name FROM pg_create_physical_replication_slot('$SLOT', true)")" "$SLOT" "inactive slot $SLOT created, WAL reserved now"
sql "CREATE TABLE $TABLE AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 100000) g" >/dev/null
sql "SELECT pg_switch_wal()" >/dev/null
ok $? "about 30 MB written, WAL switched"
# the replicas' slots follow once they have flushed that WAL (up to 10 s)
for _ in $(seq 100); do
	[ "$(sql "SELECT bool_and(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) < 8388608)
		FROM pg_replication_slots WHERE slot_name <> '$SLOT'")" = t ] && break
	sleep 0.1
done

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" -w 8MB -c 1GB
is "$RC" 1 "retained WAL over -w 8MB: WARNING"
like "$FIRST" "^PGHA_SLOTS WARNING - 127\.0\.0\.1:$LPORT: slot \"$SLOT\" \(physical\) inactive, retains [0-9.]+ MB \(warning range 8MB\) \|" "status line names the slot, what it retains and the range"
like "$FIRST" " $SLOT=[0-9]+B;8388608;1073741824;0 " "perfdata in bytes with the ranges in bytes"
bytes=$(retained "$SLOT")
[ "${bytes:-0}" -gt 8388608 ]
ok $? "perfdata: $SLOT retains more than 8 MB ($bytes B)"
like "$FIRST" "inactive_slots=1;0;;0\$" "one inactive slot"
like "$OUT" $'\n'"slot \"$R1\" \(physical\) active" "the replicas' slots stay in long output, active"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-bytes 1MB --critical-bytes 8MB
is "$RC" 2 "retained WAL over --critical-bytes 8MB: CRITICAL"
like "$FIRST" "inactive, retains [0-9.]+ MB \(critical range 8MB\)" "names the critical range"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}"
is "$RC" 1 "no byte range: the inactive slot alone is a WARNING"
like "$FIRST" "^PGHA_SLOTS WARNING - .*slot \"$SLOT\" \(physical\) inactive, retains" "and says which"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive=
is "$RC" 0 "--warning-inactive= (no range): OK"
like "$FIRST" "^PGHA_SLOTS OK - .*: 3 slots, 1 inactive, most WAL retained [0-9.]+ MB by \"$SLOT\"" "the OK summary still counts it"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive 1 --critical-inactive 0
is "$RC" 2 "--critical-inactive 0 with one inactive slot: CRITICAL"
like "$FIRST" "inactive_slots=1;1;0;0\$" "inactive_slots perfdata carries the ranges"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive 1
is "$RC" 0 "--warning-inactive 1 with one inactive slot: OK"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --exclude "$SLOT" -w 8MB
is "$RC" 0 "--exclude $SLOT: OK"
like "$FIRST" "slots=2;;;0 inactive_slots=0;0;;0\$" "the excluded slot is not counted"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --slot "$SLOT" -c 8MB
is "$RC" 2 "--slot $SLOT -c 8MB: CRITICAL"
like "$FIRST" "\| $SLOT=[0-9]+B;;8388608;0 slots=1;;;0 inactive_slots=1;0;;0\$" "only that slot in perfdata"

run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --slot "$R1" --slot nosuchslot
is "$RC" 2 "--slot naming a missing slot: CRITICAL"
like "$FIRST" "^PGHA_SLOTS CRITICAL - .*slot \"nosuchslot\" does not exist" "names the missing slot"

# --- wal_status unreserved, then lost ------------------------------------------------
# With wal_keep_size 0 and max_slot_wal_keep_size 16MB the slot's 30 MB are
# past what is kept (unreserved); the next checkpoint removes them (lost).
sql "ALTER SYSTEM SET wal_keep_size = 0" >/dev/null
sql "ALTER SYSTEM SET max_slot_wal_keep_size = '16MB'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do
	[ "$(sql "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = unreserved ] && break
	sleep 0.1
done
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive=
is "$RC" 1 "wal_status unreserved: WARNING"
like "$FIRST" "slot \"$SLOT\" \(physical\) inactive, retains [0-9.]+ MB, wal_status unreserved" "says unreserved"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive= --unreserved-state critical
is "$RC" 2 "--unreserved-state critical: CRITICAL"

# the replicas must not be caught by the checkpoint: wait until they replayed
# everything written so far
target=$(sql "SELECT pg_current_wal_lsn()")
for _ in $(seq 100); do
	[ "$(sql "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '$target'")" = 2 ] && break
	sleep 0.1
done
sql "CHECKPOINT" >/dev/null
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive=
is "$RC" 2 "after a checkpoint wal_status lost: CRITICAL"
like "$FIRST" "slot \"$SLOT\" \(physical\) inactive, reserves no WAL, wal_status lost" "says lost"
like "$FIRST" " $SLOT=0B;;;0 " "a lost slot retains nothing"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --warning-inactive= --lost-state warning
is "$RC" 1 "--lost-state warning: WARNING"
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}" --exclude "$SLOT"
is "$RC" 0 "the replicas' slots survived the checkpoint"

# --- cleanup, then all is as before ------------------------------------------------
cleanup
trap - EXIT
run "$CHECK" -H 127.0.0.1 -p "$LPORT" "${MON[@]}"
is "$RC" 0 "slot dropped: OK again"
like "$FIRST" "slots=2;;;0 inactive_slots=0;0;;0\$" "back to the two Patroni slots"
# GET /config may serve the old value for a moment after a PATCH
for _ in $(seq 50); do
	got_ignore=$(curl -s "$(rest_of "$L")/config" | jq -c '.ignore_slots')
	[ "$got_ignore" = "$orig_ignore" ] && break
	sleep 0.2
done
is "$got_ignore" "$orig_ignore" "ignore_slots restored"
trap cleanup EXIT

# --- a stopped node: CRITICAL within -t ------------------------------------------
stop_node "$R2"
run_timed "$CHECK" -H 127.0.0.1 -p "$R2PORT" "${MON[@]}" -t 3
is "$RC" 2 "stopped node: CRITICAL"
like "$FIRST" "^PGHA_SLOTS CRITICAL - 127\.0\.0\.1:$R2PORT: .*refused" "says the connection was refused"
[ "$ELAPSED" -lt 3000 ]
ok $? "within -t 3 (took ${ELAPSED} ms)"
run "$CHECK" -H 127.0.0.1 -p "$R2PORT" "${MON[@]}" --timeout-result unknown
is "$RC" 3 "--timeout-result unknown: UNKNOWN"
start_node
ok $? "$R2 back, cluster healthy"

# --- bad input: UNKNOWN, exit 3, one status line ----------------------------------
for args in "-w 8XB" "-c foo" "--warning-inactive 2:1" "--lost-state maybe" "-w 1MB --warning-bytes 2MB" \
	"--member $R1" "--slot=" "--bogus"; do
	# shellcheck disable=SC2086  # word splitting wanted
	run "$CHECK" -H 127.0.0.1 -p "$LPORT" $args
	is "$RC" 3 "bad input ($args): exit 3"
	like "$FIRST" "^PGHA_SLOTS UNKNOWN - [^|]+\$" "one UNKNOWN status line"
done

done_testing
