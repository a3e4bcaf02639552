# etcd.t: check_pgha_etcd against the sandbox's real 3-member etcd cluster.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_etcd"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }
trap '"$SANDBOX" start-etcd 2 >/dev/null 2>&1; "$SANDBOX" start-etcd 3 >/dev/null 2>&1' EXIT

run "$CHECK" --etcd "$PGHA_ETCD_URLS" --scope "$PGHA_SCOPE"
is "$RC" 0 "all members up: OK"
like "$FIRST" '^PGHA_ETCD OK - 3 of 3 members healthy, leader etcd[123], quorum 2, fault tolerance 1; leader key held by n[123] \(lease [0-9]+ s left\) \|' "status line names leader, quorum and the Patroni leader key"
like "$FIRST" ' members=3;;;0 healthy=3;;;0;3 quorum=2 fault_tolerance=1;;;0 db_size=[0-9]+B;;;0;[0-9]+ raft_term=[0-9]+c' "perfdata"
is "$(printf '%s\n' "$OUT" | grep -c '^etcd[123] (http://127.0.0.1:[0-9]*): \(leader\|follower\), raft index')" 3 "one line per member"
leader_key=$(printf '%s' "$FIRST" | sed -n 's/.*leader key held by \(n[0-9]\).*/\1/p')
is "$leader_key" "$(leader)" "the leader key names Patroni's leader"

# only the second endpoint is reachable at first: the member list still comes
run "$CHECK" --etcd "http://127.0.0.1:1,$PGHA_ETCD2_URL"
is "$RC" 0 "first endpoint refused: the next one answers"

run "$CHECK" --etcd "$PGHA_ETCD_URLS" --scope no-such-cluster
is "$RC" 2 "--scope of a cluster with no leader key: CRITICAL"
like "$FIRST" 'no leader key "/service/no-such-cluster/leader"' "names the key"

"$SANDBOX" stop-etcd 3 >/dev/null 2>&1
run "$CHECK" --etcd "$PGHA_ETCD_URLS"
is "$RC" 1 "one member down: WARNING"
like "$FIRST" '^PGHA_ETCD WARNING - 2 of 3 members healthy, .*fault tolerance 0 ' "no fault tolerance left"
like "$OUT" 'etcd3 \(http://[0-9.:]+\): could not connect' "the member down is named"

"$SANDBOX" stop-etcd 2 >/dev/null 2>&1
start=$(date +%s%N)
run "$CHECK" --etcd "$PGHA_ETCD_URLS" -t 5
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
is "$RC" 2 "two members down: CRITICAL"
like "$FIRST" 'quorum lost: 1 of 3 voters healthy \(quorum 2\)|no etcd endpoint answered|no leader' "quorum loss explained"
[ "$elapsed" -lt 5500 ]
ok $? "within -t 5 (${elapsed} ms)"

"$SANDBOX" start-etcd 2 >/dev/null 2>&1
"$SANDBOX" start-etcd 3 >/dev/null 2>&1
for _ in $(seq 40); do
	run "$CHECK" --etcd "$PGHA_ETCD_URLS"
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "members restarted: OK again"
"$SANDBOX" wait-healthy 90 >/dev/null
ok $? "Patroni cluster healthy again"

run "$CHECK" --etcd "$PGHA_ETCD_URLS" --db-warning 2:1
is "$RC" 3 "an invalid range: UNKNOWN"
like "$FIRST" '^PGHA_ETCD UNKNOWN - invalid warning range "2:1"' "one clear line"
run "$CHECK"
is "$RC" 3 "no --etcd: UNKNOWN"
done_testing
