# members.t: check_pgha_members against the real sandbox cluster.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_members"
LEADER_CHECK="$PLUGINS/check_pgha_leader"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

L=$(leader)
# shellcheck disable=SC2046
set -- $(replicas)
R1=$1 R2=$2
diag "leader $L, replicas $R1 $R2"
ranges="-w 3: -c 2: --healthy-warning 3: --healthy-critical 2:"

# --- a healthy cluster ------------------------------------------------------------
# shellcheck disable=SC2086
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" $ranges
is "$RC" 0 "healthy cluster: exit 0"
# Patroni 3.0.2 says "running" for replicas, 3.0.4+ "streaming"
like "$FIRST" '^PGHA_MEMBERS OK - 3 of 3 members healthy \| members=3;3:;2:;0 healthy_members=3;3:;2:;0;3 role_leader=1 role_replica=2 state_(running=3|running=1 state_streaming=2)$' \
	"status line and perfdata: 3 members, 3 healthy, per role and state"
like "$OUT" $'\n'"$L: leader running, timeline [0-9]+, healthy" "long output: the leader"
like "$OUT" $'\n'"$R1: replica (running|streaming), timeline [0-9]+, healthy" "long output: a replica"
run "$CHECK" --patroni "$(rest_of "$R2")"
is "$RC" 0 "no thresholds, a replica's endpoint: exit 0"
like "$FIRST" '^PGHA_MEMBERS OK - 3 of 3 members healthy \| members=3;;;0 healthy_members=3;;;0;3 ' "same numbers"

# --- a stopped replica ------------------------------------------------------------
# Patroni marks it "stopped" and drops it from /cluster when its key expires
# (ttl); the checks below run right after the stop, well within the ttl.
"$SANDBOX" stop "$R2" >/dev/null 2>&1
ok $? "$R2 stopped"
# shellcheck disable=SC2086
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" $ranges
is "$RC" 1 "a stopped replica, --healthy-warning 3:: exit 1"
like "$FIRST" "^PGHA_MEMBERS WARNING - 2 of 3 members healthy \\($R2: stopped\\) \\| members=3;3:;2:;0 healthy_members=2;3:;2:;0;3 role_leader=1 role_replica=2 .*state_stopped=1" \
	"status line names the stopped member; perfdata healthy_members=2"
like "$OUT" $'\n'"$R2: replica stopped, not healthy" "long output: the stopped member first"
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" --healthy-critical 3:
is "$RC" 2 "the same with --healthy-critical 3:: exit 2"
like "$FIRST" "^PGHA_MEMBERS CRITICAL - 2 of 3 members healthy \\($R2: stopped\\)" "status line CRITICAL"
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" -w 4: --healthy-warning 2:
is "$RC" 1 "-w 4: with 3 members, 2 healthy within 2:: exit 1 for the count"
like "$FIRST" 'member count 3 is warning \(range 4:\)' "says the member count alerts"
run "$LEADER_CHECK" --patroni "$PGHA_PATRONI_URLS"
is "$RC" 0 "check_pgha_leader is still OK"
like "$FIRST" "^PGHA_LEADER OK - leader $L running" "same leader"

"$SANDBOX" start "$R2" --wait >/dev/null 2>&1
ok $? "$R2 started again and the cluster is healthy"
# shellcheck disable=SC2086
run "$CHECK" --patroni "$PGHA_PATRONI_URLS" $ranges
is "$RC" 0 "all healthy again: exit 0"
like "$FIRST" '^PGHA_MEMBERS OK - 3 of 3 members healthy ' "3 of 3"

# --- unreachable ------------------------------------------------------------------
run "$CHECK" --patroni "http://127.0.0.1:1"
is "$RC" 2 "no endpoint reachable: exit 2"
run "$CHECK" --patroni "http://127.0.0.1:1" --timeout-result unknown
is "$RC" 3 "... or 3 with --timeout-result unknown"

done_testing
