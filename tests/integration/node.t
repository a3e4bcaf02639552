# node.t: check_pgha_node against the real sandbox cluster.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_node"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

L=$(leader)
set -- $(replicas)
R1=$1 R2=$2
diag "leader $L, replicas $R1 $R2"

# --- role ---------------------------------------------------------------
run "$CHECK" --patroni "$(rest_of "$L")" --role primary
is "$RC" 0 "--role primary on the leader: exit 0"
like "$FIRST" '^PGHA_NODE OK - .*role primary \(running\), expected primary' "status line says so"
like "$FIRST" "\| role_ok=1\$" "perfdata role_ok=1"

run "$CHECK" --patroni "$(rest_of "$R1")" --role primary
is "$RC" 2 "--role primary on a replica: exit 2"
like "$FIRST" '^PGHA_NODE CRITICAL - .*role replica \(running\), expected primary' "status line names the role"

run "$CHECK" --patroni "$(rest_of "$R1")" --role replica
is "$RC" 0 "--role replica on a replica: exit 0"
run "$CHECK" --patroni "$(rest_of "$L")" --role replica
is "$RC" 2 "--role replica on the leader: exit 2"
run "$CHECK" --patroni "$(rest_of "$L")" --role leader
is "$RC" 0 "--role leader on the leader: exit 0"
run "$CHECK" --patroni "$(rest_of "$R2")" --role standby-leader
is "$RC" 2 "--role standby-leader on a replica of a normal cluster: exit 2"

# -H/-p shorthand reaches the same node
port=${PGHA_N1_REST##*:}
run "$CHECK" -H 127.0.0.1 -p "$port" --alive
is "$RC" 0 "-H/-p shorthand: alive"

# --- alive (the default) -------------------------------------------------
run "$CHECK" --patroni "$(rest_of "$R2")"
is "$RC" 0 "default check is alive: exit 0"
like "$FIRST" '^PGHA_NODE OK - .*alive: /liveness answered 200 \| alive=1$' "alive status line and perfdata"

# --- version --------------------------------------------------------------
version=$(/usr/bin/patroni --version 2>/dev/null | awk '{print $2}')
run "$CHECK" --patroni "$(rest_of "$L")" --patroni-version "$version"
is "$RC" 0 "--patroni-version $version: exit 0"
run "$CHECK" --patroni "$(rest_of "$L")" --patroni-version 9.9.9
is "$RC" 2 "--patroni-version 9.9.9: exit 2"
like "$FIRST" "Patroni $version, expected 9\.9\.9" "names both versions"

# --- several checks at once, verbose -------------------------------------
run "$CHECK" --patroni "$(rest_of "$L")" --alive --role primary --pending-restart -v
is "$RC" 0 "alive + role + pending restart: exit 0"
like "$OUT" 'primary running, timeline [0-9]+, Patroni' "-v adds the node's details"
like "$FIRST" 'pending_restart=0' "pending_restart perfdata"

# --- bad input -------------------------------------------------------------
run "$CHECK" --patroni "$(rest_of "$L")" --role boss
is "$RC" 3 "--role boss: exit 3"
like "$FIRST" '^PGHA_NODE UNKNOWN - invalid role "boss"' "one clear line"
run "$CHECK"
is "$RC" 3 "no node given: exit 3"
run "$CHECK" --patroni "ftp://x"
is "$RC" 3 "a non-http URL: exit 3"
run "$CHECK" --patroni "$(rest_of "$L")" --timeline zero
is "$RC" 3 "--timeline zero: exit 3"
tmpdir=$(mktemp -d)
printf 'username=pgha\npassword=x\n' > "$tmpdir/auth"
chmod 644 "$tmpdir/auth"
run "$CHECK" --patroni "$(rest_of "$L")" --auth-file "$tmpdir/auth"
is "$RC" 3 "credentials file readable by others: exit 3"
like "$FIRST" 'chmod' "and the fix is named"

# --- a hanging endpoint does not outlive -t --------------------------------
"$FIXTURE" --mode hang --port-file "$tmpdir/port" --max-requests 5 &
fixture=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmpdir/port" ] && break; sleep 0.1; done
start=$(date +%s%N)
run "$CHECK" --patroni "http://127.0.0.1:$(cat "$tmpdir/port")" -t 2
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
kill "$fixture" 2>/dev/null; wait "$fixture" 2>/dev/null
is "$RC" 2 "a hanging endpoint is CRITICAL"
[ "$elapsed" -lt 3000 ]
ok $? "and the check ends by -t 2 (took ${elapsed} ms)"

# --- a stopped node ---------------------------------------------------------
"$SANDBOX" stop "$R2" >/dev/null
run "$CHECK" --patroni "$(rest_of "$R2")"
is "$RC" 2 "stopped node: CRITICAL by default"
like "$FIRST" '^PGHA_NODE CRITICAL - .*not reachable: .*refused' "says it is unreachable"
run "$CHECK" --patroni "$(rest_of "$R2")" --timeout-result=unknown
is "$RC" 3 "stopped node with --timeout-result=unknown: UNKNOWN"
like "$FIRST" '^PGHA_NODE UNKNOWN - ' "status line UNKNOWN"
run "$CHECK" --patroni "$(rest_of "$R2")" --role replica --unreachable-state warning
is "$RC" 1 "stopped node with --unreachable-state warning: WARNING"
"$SANDBOX" start "$R2" >/dev/null
"$SANDBOX" wait-healthy 90 >/dev/null
ok $? "the node came back and streams"

# --- timeline: --timeline and the state file across a switchover ------------
state="$tmpdir/tl.state"
run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state"
is "$RC" 0 "state file, first run: OK"
like "$FIRST" 'timeline [0-9]+ recorded' "says it recorded the timeline"
tl=$(sed -n 's/^timeline=//p' "$state")
[ -n "$tl" ]
ok $? "the state file holds the timeline ($tl)"
is "$(stat -c %a "$state")" 600 "state file mode 0600"
run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state"
is "$RC" 0 "second run, same timeline: OK"
run "$CHECK" --patroni "$(rest_of "$R1")" --timeline "$tl"
is "$RC" 0 "--timeline $tl: OK"

"$SANDBOX" patronictl switchover --leader "$L" --candidate "$R1" --force >/dev/null 2>&1
ok $? "switchover $L -> $R1 requested"
"$SANDBOX" wait-healthy 90 >/dev/null
is "$(leader)" "$R1" "$R1 is the leader now"

run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state"
is "$RC" 2 "after the switchover the state file check is CRITICAL"
like "$FIRST" "timeline changed from $tl to $((tl + 1))" "names both timelines"
run "$CHECK" --patroni "$(rest_of "$R1")" --timeline "$tl"
is "$RC" 2 "--timeline $tl after the switchover: CRITICAL"
run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state" --save
is "$RC" 2 "--save still reports the change once"
run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state"
is "$RC" 0 "and then the new timeline is the reference"
run "$CHECK" --patroni "$(rest_of "$R1")" --role primary
is "$RC" 0 "the new leader is primary"
run "$CHECK" --patroni "$(rest_of "$L")" --role replica
is "$RC" 0 "the old leader is a replica"

# --- pending restart: change a parameter that needs one ----------------------
L=$(leader)
cur=$("$SANDBOX" psql "$L" -Atc "SHOW shared_buffers")
if [ "$cur" = 129MB ]; then new=130MB; else new=129MB; fi
"$SANDBOX" patronictl edit-config --pg "shared_buffers=$new" --force >/dev/null 2>&1
ok $? "shared_buffers $cur -> $new in the DCS config"
for _ in $(seq 40); do
	run "$CHECK" --patroni "$(rest_of "$L")" --pending-restart
	[ "$RC" = 2 ] && break
	sleep 0.5
done
is "$RC" 2 "a restart is pending: CRITICAL"
like "$FIRST" '^PGHA_NODE CRITICAL - .*restart pending \| pending_restart=1$' "status line and perfdata say so"
"$SANDBOX" patronictl restart "$PGHA_SCOPE" --force >/dev/null 2>&1
ok $? "cluster restarted"
"$SANDBOX" wait-healthy 90 >/dev/null
for _ in $(seq 40); do
	run "$CHECK" --patroni "$(rest_of "$(leader)")" --pending-restart
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "after the restart nothing is pending: OK"
is "$("$SANDBOX" psql "$(leader)" -Atc "SHOW shared_buffers")" "$new" "and the new value is live"

# --- replica checks: --max-lag, --is-sync / --is-async (the sandbox is async) ---
L=$(leader)
set -- $(replicas)
R1=$1 R2=$2
run "$CHECK" --patroni "$(rest_of "$R1")" --role replica --max-lag 16MB
is "$RC" 0 "--role replica --max-lag 16MB on a replica: exit 0"
like "$FIRST" '^PGHA_NODE OK - .*role replica \(running\), expected replica, replay lag within 16MB \| role_ok=1$' "status line says so"
run "$CHECK" --patroni "$(rest_of "$R1")" --is-async
is "$RC" 0 "--is-async on an async replica: exit 0"
like "$FIRST" 'replication asynchronous, expected asynchronous \| role_ok=1 sync=0$' "status line and perfdata"
run "$CHECK" --patroni "$(rest_of "$R2")" --is-sync
is "$RC" 2 "--is-sync on an async replica: CRITICAL"
like "$FIRST" '^PGHA_NODE CRITICAL - .*replication asynchronous, expected synchronous \| role_ok=1 sync=0$' "says why"
run "$CHECK" --patroni "$(rest_of "$L")" --max-lag 16MB
is "$RC" 2 "--max-lag on the leader: CRITICAL (not a replica)"
like "$FIRST" 'role primary \(running\), expected replica \| role_ok=0$' "names the role"
run "$CHECK" --patroni "$(rest_of "$L")" --is-async
is "$RC" 2 "--is-async on the leader: CRITICAL"
run "$CHECK" --patroni "$(rest_of "$L")" --role primary --max-lag 1MB
is "$RC" 3 "--max-lag with --role primary: exit 3"

# A lagging replica: stop R1's WAL receiver and write on the leader; Patroni's
# /replica?lag= compares R1's replay position with the leader's in the DCS.
pid=$("$SANDBOX" psql "$R1" -Atc "SELECT pid FROM pg_stat_wal_receiver")
if [ -n "$pid" ] && kill -STOP "$pid" 2>/dev/null; then
	trap 'kill -CONT '"$pid"' 2>/dev/null' EXIT
	"$SANDBOX" psql "$L" -qAtc "CREATE TABLE pgha_node_lag (id int, v text);
		INSERT INTO pgha_node_lag SELECT g, repeat('x', 1000) FROM generate_series(1, 10000) g" >/dev/null
	for _ in $(seq 40); do
		run "$CHECK" --patroni "$(rest_of "$R1")" --max-lag 1MB
		[ "$RC" = 2 ] && break
		sleep 0.5
	done
	is "$RC" 2 "$R1 receives nothing for 10 MB: --max-lag 1MB is CRITICAL"
	like "$FIRST" "role replica \\(running\\), expected replica: its replay lag is over 1MB \\| role_ok=0\$" "says why"
	run "$CHECK" --patroni "$(rest_of "$R1")" --max-lag 1GB --is-async
	is "$RC" 0 "--max-lag 1GB: OK"
	run "$CHECK" --patroni "$(rest_of "$R2")" --max-lag 1MB
	is "$RC" 0 "the other replica is within 1MB"
	kill -CONT "$pid"
	trap - EXIT
	"$SANDBOX" psql "$L" -qAtc "DROP TABLE pgha_node_lag" >/dev/null
	for _ in $(seq 40); do
		run "$CHECK" --patroni "$(rest_of "$R1")" --max-lag 1MB
		[ "$RC" = 0 ] && break
		sleep 0.5
	done
	is "$RC" 0 "receiver resumed: $R1 within 1MB again"
else
	ok 0 "# SKIP cannot stop the WAL receiver of $R1 (pid '$pid')"
fi
"$SANDBOX" wait-healthy 60 >/dev/null
ok $? "the cluster is left healthy"

rm -rf "$tmpdir"
done_testing
