#!/bin/bash
# hosts.t: the patroni, pg and etcd host modules of `pgha run` against the
# real sandbox, through the test runbooks tests/runbooks/hosts*.lua, which
# write what they saw to stderr as "hosts: NAME VALUE" lines: reads of
# /cluster, /patroni, /config, PostgreSQL values converted by type on the
# leader and a replica, a write refused by the read-only pg.query, etcd
# health (also with one member stopped), keys and the runbook lock's
# holder; every mutating function refused in a check and under --dry-run
# (nothing changes); members that are down or hang give nil and a message
# within the budget; pg.exec, etcd.delete_prefix and a real switchover
# through patroni.switchover in `run` steps, switched back at the end.
# No secret of the credentials files shows in any output or journal.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

PGHA="$top_builddir/pgha"
RB="$top_srcdir/tests/runbooks"
PY=/usr/bin/python3
T=$(mktemp -d)
J="$T/journal"
ALL="$T/all-output"
HANG_PID=
LOCK_WRITTEN=
ORIG_LEADER=

b64() { printf '%s' "$1" | base64 -w0; }
# etcd_post PATH JSON: POST to the first etcd member that answers
etcd_post() {
	local u
	for u in $PGHA_ETCD1_URL $PGHA_ETCD2_URL $PGHA_ETCD3_URL; do
		curl -sf -m 5 -X POST "$u$1" -d "$2" && return 0
	done
	return 1
}
etcd_put() { etcd_post /v3/kv/put "{\"key\":\"$(b64 "$1")\",\"value\":\"$(b64 "$2")\"}" >/dev/null; }
etcd_del_prefix() { # PREFIX ending in '/': the range up to PREFIX with '/' -> '0'
	etcd_post /v3/kv/deleterange "{\"key\":\"$(b64 "$1")\",\"range_end\":\"$(b64 "${1%/}0")\"}" >/dev/null
}
etcd_del_key() { etcd_post /v3/kv/deleterange "{\"key\":\"$(b64 "$1")\"}" >/dev/null; }
etcd_count_prefix() {
	etcd_post /v3/kv/range "{\"key\":\"$(b64 "$1")\",\"range_end\":\"$(b64 "${1%/}0")\",\"count_only\":true}" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin).get("count", "0"))'
}

cleanup() {
	[ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null
	[ -n "$LOCK_WRITTEN" ] && etcd_del_key "/pgha/lock/$PGHA_SCOPE"
	etcd_del_prefix /pgha-test/ 2>/dev/null
	"$SANDBOX" start-etcd 3 >/dev/null 2>&1
	start_stopped_node
	"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
	# leave the cluster led by the node that led it before
	if [ -n "$ORIG_LEADER" ] && [ "$(leader)" != "$ORIG_LEADER" ]; then
		"$SANDBOX" patronictl switchover --leader "$(leader)" --candidate "$ORIG_LEADER" \
			--force >/dev/null 2>&1
		"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
require_healthy
[ -x "$PGHA" ] || { echo "Bail out! no $PGHA"; exit 1; }
[ -f "$PGHA_CLUSTER_FILE" ] || { echo "Bail out! no cluster file $PGHA_CLUSTER_FILE"; exit 1; }
[ -x "$PY" ] || { echo "Bail out! no $PY"; exit 1; }

# rb RUNBOOK ARGS...: pgha run on the sandbox's cluster file (OUT, RC)
rb() {
	local name=$1
	shift
	run "$PGHA" run "$name" "$@" -c "$PGHA_CLUSTER_FILE" --runbook-dir "$RB" --journal-dir "$J"
	printf '%s\n' "$OUT" >>"$ALL"
}
# fact NAME: the value of the first "hosts: NAME VALUE" line of OUT
fact() { printf '%s\n' "$OUT" | sed -n "s/^pgha: \[info\] hosts: $1 //p" | head -n 1; }

L=$(leader)
ORIG_LEADER=$L
R=$(replicas)
R=${R%% *}
LPORT=$(pgport_of "$L")
etcd_del_prefix /pgha-test/
etcd_put /pgha-test/hosts/a value-a
etcd_put /pgha-test/hosts/b value-b

# --- reads on a healthy cluster ---------------------------------------------
rb hosts
is "$RC" 0 "hosts: every read-only check passes (exit 0)"
is "$(fact leader)" "$L" "patroni.cluster(): the leader is the sandbox's"
is "$(fact members)" 3 "patroni.cluster(): 3 members"
is "$(fact get_leader_on_leader)" "200 table" "patroni.get('/leader', leader): 200 and the JSON decoded"
is "$(fact get_leader_on_replica)" "503 table replica" "patroni.get('/leader', replica): 503 with its JSON body"
is "$(fact get_liveness)" "200 string 0" "patroni.get('/liveness'): an empty body is the text \"\""
like "$(fact node_leader)" "^200 (master|primary) $PGHA_SCOPE\$" "patroni.node(leader): its /patroni"
like "$(fact config_ttl)" '^integer:[0-9]+ integer:[0-9]+$' "patroni.config(): numbers are integers"
is "$(fact endpoint)" "$(rest_of "$L")" "patroni.endpoint(leader): its REST base URL"
is "$(fact endpoint_url)" "http://10.0.0.1:8008" "patroni.endpoint(URL): /patroni and the slash stripped"
is "$(fact node_unreachable)" 'nil could not connect to "http://127.0.0.1:1/patroni": Connection refused' \
	"an unreachable URL: nil, message"
is "$(fact node_unknown)" 'nil no member "nosuch" in the cluster (members: n1, n2, n3)' \
	"an unknown member: nil, message naming the members"
like "$(fact misuse_path)" "^true .*a path starting with '/'" "misuse raises: a path without /"
like "$(fact misuse_member)" "^true .*a member name" "misuse raises: a bad member name"

is "$(fact pg_leader_rec)" "boolean:false" "pg.query(leader): pg_is_in_recovery() is false"
is "$(fact pg_replica_rec)" "boolean:true" "pg.query(replica): pg_is_in_recovery() is true"
is "$(fact pg_types)" "integer:42 integer:42 integer:9007199254740993 float:2.5 float:0.25 float:1.5 string:x nil boolean:true string:0/3000060 integer:16 true" \
	"types: int2/int4/int8/oid integer (int8 exact), float4/float8/numeric number, NULL absent, bool, others text, NaN"
is "$(fact pg_leader_n)" "1 1 15 rec ro" "rows.n, #rows, rows.columns in order"
is "$(fact pg_session)" "pgha run on" "application_name \"pgha run\", transaction_read_only on"
is "$(fact pg_params)" "integer:42 a'b nil boolean:true" "parameters: number, string, json.null as NULL, boolean"
is "$(fact pg_rows)" "3 1 3" "several rows"
is "$(fact pg_empty)" "0 0 x" "no row: rows.n 0, the columns still named"
is "$(fact pg_write)" "nil $L (127.0.0.1:$LPORT): ERROR:  cannot execute CREATE TABLE in a read-only transaction" \
	"pg.query refuses a write: nil, \"member (host:port): message\""
is "$(fact pg_sql_error)" "nil $L (127.0.0.1:$LPORT): ERROR:  division by zero" "an SQL error: nil, message"
is "$(fact pg_unknown)" 'nil no member "nosuch" in the cluster (members: n1, n2, n3)' \
	"pg.query of an unknown member: nil, message"
like "$(fact pg_misuse_param)" "^true .*parameter 1 is a table" "pg.query misuse raises"

like "$(fact etcd_health)" '^ok=true healthy=3 voters=3 quorum=2 leader=etcd[123] members=3$' \
	"etcd.health(): ok with 3 voters, quorum 2, a leader"
is "$(fact etcd_leader_key)" "$L $L" "etcd.get(Patroni's leader key): the leader's name"
is "$(fact etcd_absent)" "false" "etcd.get of an absent key: false"
is "$(fact etcd_absent_serializable)" "false" "etcd.get(key, {serializable = true}) of an absent key: false"
is "$(fact etcd_list)" "2 /pgha-test/hosts/a=value-a,/pgha-test/hosts/b=value-b" "etcd.list(prefix): key = value"
is "$(fact etcd_members_keys)" 3 "etcd.list of Patroni's members/: 3 keys"
like "$(fact etcd_lock)" '^(false nil|self)$' "etcd.lock_holder(): false when nobody holds the lock (or this run, once pgha run takes it)"
is "$(fact etcd_misuse)" "true true" "etcd misuse raises"

# --- the lock's holder ---------------------------------------------------------
etcd_put "/pgha/lock/$PGHA_SCOPE" '{"run":"20261125T212348Z-1087-6e91","runbook":"switchover","version":"1.2.0","user":"alice","host":"db-admin1","pid":1087,"since":"2026-11-25T21:23:48Z","lease":"3644716205522740231"}'
LOCK_WRITTEN=1
rb hosts --dry-run
is "$RC" 0 "hosts --dry-run with the lock held: exit 0"
is "$(fact etcd_lock)" "20261125T212348Z-1087-6e91 switchover alice 1087 3644716205522740231" \
	"etcd.lock_holder(): the holder decoded (run, runbook, user, pid, lease)"
etcd_del_key "/pgha/lock/$PGHA_SCOPE"
LOCK_WRITTEN=

# --- mutating calls refused in a check and under --dry-run -----------------
for call in switchover request pause exec delete_prefix; do
	rb hosts_refuse call=$call leader="$L" candidate="$R" --yes
	case $call in
	switchover) fn=patroni.switchover ;;
	request) fn=patroni.request ;;
	pause) fn=patroni.pause ;;
	exec) fn=pg.exec ;;
	delete_prefix) fn=etcd.delete_prefix ;;
	esac
	is "$RC" 3 "$fn in a check: refused (exit 3)"
	like "$OUT" "hosts_refuse\.lua:[0-9]+: ${fn//./\\.} mutates: refused in step \"sneaky\" check \(check and verify are read-only\)" \
		"$fn in a check: the engine's message with file:line"
done
is "$(leader)" "$L" "the refused switchover changed nothing: the leader is still $L"
run curl -s -m 5 "$(rest_of "$L")/cluster"
unlike "$OUT" '"pause": *true' "the refused pause changed nothing: not paused"
is "$(etcd_count_prefix /pgha-test/hosts/)" 2 "the refused delete_prefix deleted nothing"
rb hosts_refuse call=switchover leader="$L" candidate="$R" --dry-run
is "$RC" 3 "patroni.switchover under --dry-run: refused (exit 3)"
like "$OUT" 'patroni\.switchover mutates: refused in step "sneaky" check \(a dry-run changes nothing' \
	"the dry-run refusal names the rule"
rb hosts_refuse call=delete_prefix --dry-run
like "$OUT" 'etcd\.delete_prefix mutates: refused in step "sneaky" check \(a dry-run changes nothing' \
	"etcd.delete_prefix under --dry-run: refused"
is "$(leader)" "$L" "after the dry-runs the leader is still $L"
is "$(etcd_count_prefix /pgha-test/hosts/)" 2 "after the dry-runs the keys are still there"

# --- timeouts: a node that accepts connections and never answers ------------
"$PY" -c 'import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$T/hang.port" &
HANG_PID=$!
for _ in $(seq 50); do [ -s "$T/hang.port" ] && break; sleep 0.1; done
HPORT=$(cat "$T/hang.port")
run_timed "$PGHA" run hosts_hang url="http://127.0.0.1:$HPORT" --yes -c "$PGHA_CLUSTER_FILE" \
	--runbook-dir "$RB" --journal-dir "$J"
printf '%s\n' "$OUT" >>"$ALL"
is "$RC" 0 "hosts_hang: exit 0"
like "$(fact hang_switchover)" "^nil no answer from \"http://127.0.0.1:$HPORT/switchover\" within 1000 ms 1\.[0-2]\$" \
	"a write gives up after its timeout option (1 s): nil, message"
like "$(fact hang_node)" "^nil no answer from \"http://127.0.0.1:$HPORT/patroni\" within [0-9]+ ms [12]\.[0-9]\$" \
	"a read gives up within the step's budget (2 s): nil, message"
ok "$([ "$ELAPSED" -lt 6000 ]; echo $?)" "both within their time ($ELAPSED ms)"
kill "$HANG_PID" 2>/dev/null
HANG_PID=

# --- one etcd member stopped -------------------------------------------------
"$SANDBOX" stop-etcd 3 >/dev/null 2>&1
rb hosts
is "$RC" 0 "hosts with etcd3 stopped: exit 0"
like "$(fact etcd_health)" '^ok=true healthy=2 voters=3 quorum=2 leader=etcd[12] members=3$' \
	"etcd.health(): healthy=2 of 3 voters, still ok"
like "$(fact etcd_unhealthy)" "^etcd3 $PGHA_ETCD3_URL could not connect to .*Connection refused\$" \
	"the stopped member: healthy=false and why"
is "$(fact etcd_absent)" "false" "etcd.get still answers"
"$SANDBOX" start-etcd 3 >/dev/null 2>&1
for _ in $(seq 40); do
	rb hosts
	[[ $(fact etcd_health) == ok=true\ healthy=3* ]] && break
	sleep 0.5
done
like "$(fact etcd_health)" '^ok=true healthy=3 voters=3' "etcd3 started again: healthy=3"

# --- a replica stopped --------------------------------------------------------
stop_node "$R"
rb hosts probe="$R" probe_url="$(rest_of "$R")"
is "$RC" 0 "hosts with $R stopped: exit 0 (no crash, no raise)"
is "$(fact down_node)" "nil could not connect to \"$(rest_of "$R")/patroni\": Connection refused" \
	"patroni.node of a stopped member: nil, message"
like "$(fact down_pg)" "^nil $R \(127\.0\.0\.1:$(pgport_of "$R")\): connection to server at \"127\.0\.0\.1\", port $(pgport_of "$R") failed: Connection refused\$" \
	"pg.query of a stopped member: nil, \"member (host:port): libpq's message\""
start_node
is "$?" 0 "$R started again, cluster healthy"

# --- writes in run steps: pg.exec, etcd.delete_prefix, a real switchover ------
rb hosts_write from="$L" to="$R" delete_prefix=/pgha-test/hosts/ --yes
is "$RC" 0 "hosts_write: switchover $L -> $R and the writes succeed (exit 0)"
is "$(fact exec_ro)" "off" "pg.exec runs read-write (transaction_read_only off)"
is "$(fact exec_temp)" "SELECT 5 5" "pg.exec: rows.command and rows.affected"
is "$(fact query_ro)" "on" "pg.query in a run step is still read-only"
is "$(fact deleted)" 2 "etcd.delete_prefix: the number of keys deleted"
is "$(fact deleted_again)" 0 "etcd.delete_prefix of nothing: 0"
is "$(etcd_count_prefix /pgha-test/hosts/)" 0 "the keys are gone"
like "$(fact lock_in_run)" '^(false nil|self)$' "etcd.lock_holder() in a run: nobody, or this run"
like "$(fact switchover)" "^200 Successfully switched over to \"$R\"" "patroni.switchover: 200 and Patroni's text"
is "$(leader)" "$R" "the leader is now $R"
"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
rb hosts_write from="$R" to="$L" --yes
is "$RC" 0 "hosts_write: switchover back $R -> $L (exit 0)"
like "$(fact switchover)" "^200 Successfully switched over to \"$L\"" "switched back: 200"
is "$(leader)" "$L" "the leader is $L again, as the test found it"
"$SANDBOX" wait-healthy 90 >/dev/null 2>&1

# --- no secret in any output or journal --------------------------------------
secrets=0 checked=0
for f in "$PGHA_AUTH_FILE" "$PGPASSFILE"; do
	[ -r "$f" ] || continue
	while IFS= read -r s; do
		[ ${#s} -ge 4 ] || continue
		checked=$((checked + 1))
		grep -rqF -- "$s" "$ALL" "$J" && secrets=$((secrets + 1))
	done < <(sed -n 's/^password=//p' "$f"; awk -F: 'NF >= 5 {print $NF}' "$f")
done
ok "$([ "$checked" -gt 0 ]; echo $?)" "the sandbox's passwords were read for the next test ($checked)"
is "$secrets" 0 "no password of the credentials or pgpass file in any output or journal"

done_testing
