#!/bin/bash
# lock.t: the runbook engine's cluster lock in the sandbox's real etcd
# (/pgha/lock/<scope>, a key bound to a lease): a second run is refused and
# told who holds the lock; a killed holder's lock expires with its lease; a
# run releases it on every way out; a resumed run takes back its own lock
# at once; fencing stops a run whose key was deleted behind its back.
# The test runbooks write to a file (test.mutate, PGHA_ENGINE_TEST=1) and
# tests/runbooks/slow.lua waits in its step two while a file exists.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

PGHA=${PGHA:-$top_builddir/pgha}
PY=/usr/bin/python3
RB=$top_srcdir/tests/runbooks
[ -x "$PGHA" ] || { echo "1..0 # SKIP no pgha binary at $PGHA"; exit 0; }
command -v etcdctl >/dev/null || { echo "1..0 # SKIP no etcdctl"; exit 0; }
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

T=$(mktemp -d)
BG=
cleanup() {
	[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export PGHA_ENGINE_TEST=1
unset PGHA_RUNBOOK_PATH
J=$T/journal
OUTF=$T/out
CF=$PGHA_CLUSTER_FILE
KEY=/pgha/lock/$PGHA_SCOPE
R=(--runbook-dir "$RB" --journal-dir "$J" -c "$CF")
ME=$(id -un)
HOST=$(hostname)

etcd() { ETCDCTL_API=3 etcdctl --endpoints="$PGHA_ETCD_URLS" --command-timeout=5s "$@"; }
lock_value() { etcd get --print-value-only "$KEY"; }
mutated() { [ -f "$OUTF" ] && tr '\n' ',' <"$OUTF"; }
runid_of() { sed -n 's/^pgha: run \([^ :]*\): .*/\1/p' "$1" | head -n 1; }
# wait_for FILE REGEX: until a line of FILE matches (15 s)
wait_for() {
	local _
	for _ in $(seq 150); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# start_slow HOLD [ARGS...]: slow.lua in the background, waiting in its
# step two while HOLD exists; BG its pid, ID its run id, output in $T/bg.
start_slow() {
	local hold=$1
	shift
	rm -f "$OUTF"
	touch "$hold"
	"$PGHA" run slow out="$OUTF" hold="$hold" --yes "${R[@]}" "$@" >"$T/bg" 2>&1 &
	BG=$!
	wait_for "$OUTF" '^start two$'
	ID=$(runid_of "$T/bg")
}
# end_bg: wait for the background run; its exit code in BGRC.
end_bg() { wait "$BG"; BGRC=$?; BG=; }

etcd del "$KEY" >/dev/null # a leftover from an aborted test run
run etcd get --prefix /pgha/lock/
is "$OUT" "" "no lock held before the tests"

# --- a second run is refused and told who holds the lock -------------------------
start_slow "$T/hold1" --lock-ttl 5
ok "$([ -n "$ID" ]; echo $?)" "the first run is in its step two"
pid=$BG
"$PY" - "$(lock_value)" "$ID" "$pid" "$ME" "$HOST" <<'EOF' 2>&1
import json, sys, re
v = json.loads(sys.argv[1])
_, run, pid, user, host = sys.argv[1:]
assert v["run"] == run and v["runbook"] == "slow" and v["version"] == "1.0.0", v
assert v["user"] == user and v["host"] == host and v["pid"] == int(pid), v
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", v["since"]), v
assert re.match(r"^\d+$", v["lease"]), v
EOF
ok $? "the key holds the holder: run, runbook, version, user, host, pid, since, lease"
lease_hex=$(printf '%x' "$(lock_value | sed -n 's/.*"lease":"\([0-9]*\)".*/\1/p')")
like "$(etcd lease timetolive "$lease_hex")" 'granted with TTL\(5s\)' "bound to a lease of --lock-ttl 5 s"
sleep 6
like "$(etcd lease timetolive "$lease_hex")" 'granted with TTL\(5s\), remaining\([1-5]s\)' \
	"the lease is kept alive past its TTL"

OUT2=$T/out2
run "$PGHA" run basic out="$OUT2" --yes "${R[@]}"
is "$RC" 3 "a second run on the same cluster: refused (exit 3)"
like "$OUT" "^pgha: refused: cluster \"$PGHA_SCOPE\" is locked by run $ID \(runbook slow 1\.0\.0, user $ME on host $HOST, pid $pid, since [0-9-]+T[0-9:]+Z\)$" \
	"the refusal names the holder: run id, runbook, user, host, pid, since"
ok "$([ ! -e "$OUT2" ]; echo $?)" "the refused run changed nothing"
run "$PGHA" run basic out="$OUT2" --dry-run "${R[@]}"
is "$RC" 0 "a dry-run needs no lock"

# --- a killed holder's lock expires with its lease --------------------------------
kill -9 "$BG"
{ wait "$BG"; } 2>/dev/null
BG=
rm -f "$T/hold1"
killed=$(date +%s%N)
run "$PGHA" run basic out="$OUT2" --yes "${R[@]}"
is "$RC" 3 "right after kill -9 of the holder: still locked"
like "$OUT" "is locked by run $ID " "by the dead run"
for _ in $(seq 30); do
	run "$PGHA" run basic out="$OUT2" --yes "${R[@]}"
	[ "$RC" != 3 ] && break
	sleep 0.5
done
waited=$(( ($(date +%s%N) - killed) / 1000000 ))
is "$RC" 0 "once the lease expired a new run takes the lock and runs"
diag "lock free ${waited} ms after kill -9 (ttl 5 s)"
[ "$waited" -ge 1500 ] && [ "$waited" -le 12000 ]
ok $? "freed by the lease's expiry: between 1.5 and 12 s after the kill (${waited} ms)"
like "$OUT" "cluster lock $KEY taken \(lease [0-9]+, ttl 30 s\)" "the new run says it took the lock"
is "$(etcd get --prefix /pgha/lock/)" "" "released after a successful run: the key is gone"
jf=$(ls -t "$J"/*.jsonl | head -n 1)
like "$(grep '"event":"lock"' "$jf")" '"acquired":true,"key":"'"$KEY"'","lease":"[0-9]+","ttl":30' \
	"the journal records the lock: acquired, key, lease, ttl"
like "$(tail -n 2 "$jf" | head -n 1)" '"event":"unlock","ok":true' "and its release, just before the end"

# --- released on failure, rollback, interruption ---------------------------------
rm -f "$OUT2"
run "$PGHA" run basic out="$OUT2" fail_at=finish --yes "${R[@]}"
is "$RC" 1 "a failed, rolled back run: exit 1"
is "$(etcd get --prefix /pgha/lock/)" "" "released after the rollback"

start_slow "$T/hold2"
kill -TERM "$BG"
end_bg
is "$BGRC" 2 "SIGTERM: exit 2"
like "$(cat "$T/bg")" "interrupted in step 2 \"two\"; resume with: pgha run --resume $ID -c $CF" \
	"says how to resume"
is "$(etcd get --prefix /pgha/lock/)" "" "released after the interruption"
rm -f "$T/hold2"
run "$PGHA" run --resume "$ID" token=t0 "${R[@]}" --yes
is "$RC" 0 "the interrupted run resumes under the lock and finishes"
is "$(etcd get --prefix /pgha/lock/)" "" "released at its end"

# --- a resumed run takes back its own lock without waiting ------------------------
start_slow "$T/hold3"
kill -9 "$BG"
{ wait "$BG"; } 2>/dev/null
BG=
rm -f "$T/hold3"
like "$(lock_value)" "\"run\":\"$ID\"" "after kill -9 the dead run's key is still there (ttl 30 s)"
run_timed "$PGHA" run --resume "$ID" token=t0 "${R[@]}" --yes
is "$RC" 0 "resume right after kill -9: the run takes back its own lock and finishes"
[ "$ELAPSED" -lt 10000 ]
ok $? "without waiting for the old lease (${ELAPSED} ms)"
is "$(mutated)" "run one,start two,start two,end two,run three token=t0 note=plain," \
	"step one did not run again"
n=$(grep -c '"event":"lock","acquired":true' "$J/$ID.jsonl")
is "$n" 2 "the journal has both locks: the first run's and the resume's"
is "$(etcd get --prefix /pgha/lock/)" "" "released at its end"

# --- fencing: the key deleted behind the run's back -------------------------------
start_slow "$T/hold4"
run etcd del "$KEY"
is "$OUT" 1 "the lock key deleted with etcdctl while the run is in step two"
rm -f "$T/hold4"
end_bg
is "$BGRC" 2 "the run stops: exit 2"
like "$(cat "$T/bg")" "^pgha: run $ID stopped: lost the cluster lock before step 3 \"three\": the key $KEY is gone" \
	"it says it lost the cluster lock, before which step"
like "$(cat "$T/bg")" "step 3 was not run and nothing was undone" "and what it did not do"
is "$(mutated)" "run one,start two,end two," "step three (mutating) did not run; nothing was undone"
like "$(grep '"event":"lock_lost"' "$J/$ID.jsonl")" '"step":3,"name":"three","reason":"the key ' \
	"the journal records lock_lost at step 3"
run "$PGHA" journal "$ID" --journal-dir "$J"
like "$FIRST" "^run $ID: lock_lost " "pgha journal shows the state lock_lost"
run "$PGHA" run --resume "$ID" token=t0 "${R[@]}" --yes
is "$RC" 0 "the run resumes once the lock can be had again"
is "$(mutated)" "run one,start two,end two,run three token=t0 note=plain," "only step three ran"
is "$(etcd get --prefix /pgha/lock/)" "" "no lock left behind"

done_testing
