# replicas.t: check_pgha_replicas against the real sandbox cluster.
#
# Lag is made by stopping a replica's WAL receiver (SIGSTOP): its received
# position stops, so the lag Patroni computes for /cluster grows. Pausing
# replay does not do it: Patroni 3.0.2 resumes a paused replay on its next
# loop ("Resuming paused WAL replay for PostgreSQL 14+") unless the cluster
# is in maintenance mode, and even then /cluster's lag (leader position
# minus the replica's received-or-replayed one) stays 0 while WAL still
# arrives. The last part shows that trap: check_pgha_node --max-lag, which
# asks Patroni's /replica?lag= (replay position), sees the lag; /cluster
# does not.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_replicas"
NODE="$PLUGINS/check_pgha_node"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

L=$(leader)
set -- $(replicas)
R1=$1 R2=$2
ALL=$PGHA_PATRONI_URLS
TABLE=pgha_replicas_lag
diag "leader $L, replicas $R1 $R2"

# Whatever happens, leave the cluster as we found it.
STOPPED_PID="" PAUSED="" STOPPED_NODE=""
cleanup() {
	[ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
	if [ -n "$PAUSED" ]; then
		"$SANDBOX" psql "$R1" -qAtc "SELECT pg_wal_replay_resume()" >/dev/null 2>&1
		"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
	fi
	[ -n "$STOPPED_NODE" ] && "$SANDBOX" start "$STOPPED_NODE" >/dev/null 2>&1
	"$SANDBOX" psql "$(leader)" -qAtc "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1
	"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
}
trap cleanup EXIT

# perf LABEL: the value of a perfdata item of $FIRST, without its unit
perf() { printf '%s\n' "${FIRST#*|}" | tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\).*/\1/p"; }

# write MB: about MB MiB of WAL on the leader
write_wal() {
	"$SANDBOX" psql "$(leader)" -qAtc "CREATE TABLE IF NOT EXISTS $TABLE (id int, v text);
		INSERT INTO $TABLE SELECT g, repeat('x', 1000) FROM generate_series(1, $(($1 * 1000))) g" >/dev/null
}

# --- a healthy cluster -------------------------------------------------------
run "$CHECK" --patroni "$ALL" -w 2: -c 1:
is "$RC" 0 "healthy cluster, -w 2: -c 1:: exit 0"
like "$FIRST" '^PGHA_REPLICAS OK - 2 of 2 replicas healthy \| healthy_replica=2;2:;1:;0;2 unhealthy_replica=0;;;0;2 sync_replica=0;;;0;2 ' "status line and counts"
tl=$("$SANDBOX" psql "$L" -Atc "SELECT timeline_id FROM pg_control_checkpoint()")
for r in "$R1" "$R2"; do
	like "$FIRST" " ${r}_lag=[0-9]+B;;;0 ${r}_timeline=$tl ${r}_sync=0( |\$)" "perfdata for $r: lag, timeline $tl, sync"
	like "$OUT" "^$r: replica running, timeline $tl, lag [0-9.]+ [kMG]?B\$" "a long-output line for $r"
done
like "$OUT" "^$L: leader running, timeline $tl\$" "and one for the leader"
version=$(/usr/bin/patroni --version 2>/dev/null | awk '{print $2}')
run "$CHECK" --patroni "$(rest_of "$R2")" -vv
is "$RC" 0 "asking a replica's REST API: same answer"
like "$OUT" "Patroni $version \\(running states\\)" "-vv: Patroni $version, replicas say running"

# --- a stopped replica ----------------------------------------------------------
"$SANDBOX" stop "$R2" >/dev/null
STOPPED_NODE=$R2
run "$CHECK" --patroni "$(rest_of "$R2"),$(rest_of "$L")" -w 2: -c 1:
is "$RC" 1 "$R2 stopped, -w 2: -c 1:: WARNING (its own endpoint is down, the next answers)"
like "$FIRST" "^PGHA_REPLICAS WARNING - 1 of 2 replicas healthy \\($R2: stopped\\) \\|" "status line names it"
like "$FIRST" " healthy_replica=1;2:;1:;0;2 unhealthy_replica=1;;;0;2 " "counts"
like "$FIRST" " ${R2}_lag=U ${R2}_timeline=U ${R2}_sync=0" "its lag and timeline are unknown"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" "^$R2: replica stopped, .* - unhealthy: stopped\$" "it comes first in long output"
run "$CHECK" --patroni "$ALL" -w 2: -c 2:
is "$RC" 2 "-c 2:: CRITICAL"
run "$CHECK" --patroni "$ALL"
is "$RC" 0 "no thresholds: OK, as check_patroni"
"$SANDBOX" start "$R2" >/dev/null
"$SANDBOX" wait-healthy 90 >/dev/null
ok $? "$R2 is back and streams"
STOPPED_NODE=""
for _ in $(seq 20); do
	run "$CHECK" --patroni "$ALL" -w 2: -c 1:
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "and the check is OK again"

# --- lag over --max-lag: stop R1's WAL receiver and write ------------------------
pid=$("$SANDBOX" psql "$R1" -Atc "SELECT pid FROM pg_stat_wal_receiver")
if [ -n "$pid" ] && kill -STOP "$pid" 2>/dev/null; then
	STOPPED_PID=$pid
	write_wal 30
	for _ in $(seq 40); do
		run "$CHECK" --patroni "$ALL" -w 2: -c 1: --max-lag 1MB
		[ "$RC" = 1 ] && break
		sleep 0.5
	done
	is "$RC" 1 "$R1 receives nothing for 30 MB: WARNING with --max-lag 1MB"
	like "$FIRST" "^PGHA_REPLICAS WARNING - 1 of 2 replicas healthy \\($R1: lag [0-9]+ B over 1MB\\) \\|" "status line names the lag"
	lag=$(perf "${R1}_lag")
	[ "${lag:-0}" -gt 1048576 ]
	ok $? "${R1}_lag perfdata is over 1 MiB ($lag B)"
	run "$CHECK" --patroni "$ALL" -w 2: -c 1:
	is "$RC" 0 "without --max-lag the lagging replica is healthy"
	run "$CHECK" --patroni "$ALL" -w 2: -c 1: --max-lag 1GB
	is "$RC" 0 "and with --max-lag 1GB too"
	run "$NODE" --patroni "$(rest_of "$R1")" --max-lag 1MB
	is "$RC" 2 "check_pgha_node --max-lag 1MB on $R1 agrees: CRITICAL"
	kill -CONT "$pid"
	STOPPED_PID=""
	"$SANDBOX" psql "$L" -qAtc "DROP TABLE $TABLE" >/dev/null
	for _ in $(seq 40); do
		run "$CHECK" --patroni "$ALL" -w 2: -c 1: --max-lag 1MB
		[ "$RC" = 0 ] && break
		sleep 0.5
	done
	is "$RC" 0 "receiver resumed: $R1 caught up, OK"
else
	ok 0 "# SKIP cannot stop the WAL receiver of $R1 (pid '$pid')"
fi

# --- the trap: replay paused, /cluster's lag stays 0 -------------------------------
"$SANDBOX" patronictl pause --wait >/dev/null 2>&1
ok $? "maintenance mode on (else Patroni resumes a paused replay)"
PAUSED=1
"$SANDBOX" psql "$R1" -qAtc "SELECT pg_wal_replay_pause()" >/dev/null
write_wal 30
for _ in $(seq 40); do
	run "$NODE" --patroni "$(rest_of "$R1")" --max-lag 1MB
	[ "$RC" = 2 ] && break
	sleep 0.5
done
is "$RC" 2 "replay paused: check_pgha_node --max-lag 1MB (Patroni's /replica?lag=) is CRITICAL"
for _ in $(seq 20); do
	run "$CHECK" --patroni "$ALL" -w 2: -c 1: --max-lag 1MB
	[ "$RC" = 0 ] && [ "$(perf "${R1}_lag")" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "but check_pgha_replicas --max-lag 1MB is OK, as check_patroni (documented)"
is "$(perf "${R1}_lag")" 0 "/cluster says ${R1}_lag=0"
is "$("$SANDBOX" psql "$R1" -Atc "SELECT pg_is_wal_replay_paused()")" t "while replay is still paused on $R1"
"$SANDBOX" psql "$R1" -qAtc "SELECT pg_wal_replay_resume()" >/dev/null
"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
ok $? "replay resumed, maintenance mode off"
PAUSED=""
"$SANDBOX" psql "$L" -qAtc "DROP TABLE $TABLE" >/dev/null
for _ in $(seq 40); do
	run "$NODE" --patroni "$(rest_of "$R1")" --max-lag 1MB
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "$R1 replayed everything: check_pgha_node --max-lag 1MB OK"

"$SANDBOX" wait-healthy 60 >/dev/null
run "$CHECK" --patroni "$ALL" -w 2: -c 1: --max-lag 1MB
is "$RC" 0 "the cluster is left healthy"
done_testing
