#!/bin/bash
# runbooks.t: the shipped runbooks (runbooks/*.lua) on the real sandbox:
# switchover there and back, its dry-run, a lagging candidate, no healthy
# candidate, a second run refused by the lock, an engine killed during the
# verification then resumed, maintenance on and off, a replica
# reinitialised, and a failover after a hard crash of the leader.
# Every test asserts what the operator sees (exit code, messages) and the
# cluster's state afterwards, read from the cluster itself.

. "$(dirname "$0")/lib.sh"

PGHA=${PGHA:-$top_builddir/pgha}
CF=$PGHA_CLUSTER_FILE
T=$(mktemp -d)
J=$T/journal
R=(--runbook-dir "$top_srcdir/runbooks" --journal-dir "$J" -c "$CF")
unset PGHA_RUNBOOK_PATH PGHA_LUA_PATH PGHA_ENGINE_TEST

cleanup() {
	end_sessions
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null
	sql_at "$(leader)" "SELECT 1" >/dev/null 2>&1
	for n in $PGHA_NODES; do
		"$SANDBOX" psql "$n" -XAtc "SELECT pg_wal_replay_resume()" >/dev/null 2>&1
	done
	"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
	for n in $PGHA_NODES; do "$SANDBOX" start "$n" >/dev/null 2>&1; done
	"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

require_healthy

# timeline NODE: the timeline of NODE's current WAL (primary) as a number.
timeline() {
	sql_at "$1" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
}
# streaming NODE: how many standbys stream from NODE.
streaming() {
	sql_at "$1" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
}
# wait_streaming NODE N: until N standbys stream from NODE (60 s).
wait_streaming() {
	for _ in $(seq 300); do [ "$(streaming "$1")" = "$2" ] && return 0; sleep 0.2; done
	return 1
}
# wait_new_journal BEFORE REGEX: the id of a run whose journal is not in
# BEFORE (an earlier `ls $J`) and has a line matching REGEX (30 s; "" if
# none).
wait_new_journal() {
	local f id
	for _ in $(seq 600); do
		for f in "$J"/*.jsonl; do
			id=$(basename "$f" .jsonl)
			case " $1 " in *" $id.jsonl "*) continue ;; esac
			grep -q "$2" "$f" 2>/dev/null && { printf '%s' "$id"; return 0; }
		done
		sleep 0.05
	done
}
# last_run: the id of the newest run in the journal directory.
last_run() { ls -t "$J" | head -1 | sed 's/\.jsonl$//'; }
# journal_end ID: the final state of a run ("" while unfinished).
journal_end() {
	/usr/bin/python3 -c '
import json, sys
state = ""
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "end":
        state = r["state"]
print(state)' "$J/$1.jsonl"
}
# journal_events ID: the events of a run, one per line ("step_end:converge").
journal_events() {
	/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["event"] + (":" + r["name"] if "name" in r else ""))' "$J/$1.jsonl"
}

L0=$(leader)
TL0=$(timeline "$L0")
wait_streaming "$L0" 2
ok $? "the cluster starts with $L0 leading and 2 standbys streaming"

# --- dry-run: the plan, nothing changes ----------------------------------------
run "$PGHA" run switchover --dry-run "${R[@]}"
is "$RC" 0 "switchover dry-run exits 0 on a healthy cluster"
like "$OUT" "check: ok: leader $L0 on timeline $TL0; candidate n[0-9] streaming, replay lag" \
	"the plan names the leader, the timeline and the candidate with its lag"
like "$OUT" "gate: Switch the leader" "the plan shows the gate"
like "$OUT" "plan: every check passed" "the plan ends with every check passed"
is "$(leader)" "$L0" "after the dry-run the leader is still $L0"
is "$(timeline "$L0")" "$TL0" "and its timeline is still $TL0"

# --- switchover there and back ---------------------------------------------------
run "$PGHA" run switchover --yes "${R[@]}"
is "$RC" 0 "switchover --yes exits 0"
CAND=$(printf '%s\n' "$OUT" | sed -n 's/.*switchover done: [a-z0-9]* -> \([a-z0-9]*\).*/\1/p' | head -1)
ok "$([ -n "$CAND" ] && [ "$CAND" != "$L0" ]; echo $?)" "the run reports the switchover to a new leader ($CAND)"
is "$(leader)" "$CAND" "Patroni shows $CAND as the leader"
is "$(sql_at "$CAND" "SELECT pg_is_in_recovery()")" "f" "$CAND is writable"
TL1=$(timeline "$CAND")
ok "$([ "${TL1:-0}" -gt "$TL0" ]; echo $?)" "$CAND is on a new timeline ($TL1 > $TL0)"
is "$(streaming "$CAND")" 2 "both other members stream from $CAND, the old leader included"
like "$OUT" "no writable leader for at most [0-9.]+ s" "the run reports the window without a writable leader"
ID=$(last_run)
is "$(journal_end "$ID")" "success" "the journal ends with success"
EV=$(journal_events "$ID" | tr '\n' ' ')
like "$EV" "step_end:preflight .*step_end:switchover .*step_end:converge .*skipped:reinitialize-old-leader .*step_end:report .*end" \
	"the journal has every step, the reinitialisation skipped"
WINDOW=$(printf '%s\n' "$OUT" | sed -n 's/.*no writable leader for at most \([0-9.]*\) s.*/\1/p')
diag "switchover $L0 -> $CAND: no writable leader for at most ${WINDOW:-?} s"

run "$PGHA" run switchover "candidate=$L0" --yes "${R[@]}"
is "$RC" 0 "switching back to $L0 right away exits 0"
[ "$RC" = 0 ] || diag "$OUT"
is "$(leader)" "$L0" "$L0 leads again"
is "$(streaming "$L0")" 2 "both other members stream from $L0"

# --- a lagging candidate is refused at the pre-flight ------------------------------
REPS=($(replicas))
LAGGY=${REPS[0]}
"$SANDBOX" patronictl pause --wait >/dev/null 2>&1
ok $? "Patroni paused (it would resume the replay otherwise)"
sql_at "$LAGGY" "SELECT pg_wal_replay_pause()" >/dev/null
sql_at "$L0" "CREATE TABLE IF NOT EXISTS rb_lag (x text); INSERT INTO rb_lag SELECT repeat('x', 1000) FROM generate_series(1, 4000)" >/dev/null
for _ in $(seq 50); do
	lag=$(sql_at "$L0" "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication WHERE application_name = '$LAGGY'")
	[ "${lag%.*}" -gt 1048576 ] 2>/dev/null && break
	sleep 0.1
done
run "$PGHA" run switchover "candidate=$LAGGY" --yes "${R[@]}"
is "$RC" 3 "a switchover to the lagging $LAGGY is refused (exit 3)"
like "$OUT" "candidate $LAGGY replay lag [0-9.]+ MB is over max_lag 1.0 MB" "the refusal gives the lag and the limit"
like "$OUT" "nothing was changed" "and says nothing was changed"
is "$(leader)" "$L0" "$L0 still leads"
sql_at "$LAGGY" "SELECT pg_wal_replay_resume()" >/dev/null
sql_at "$L0" "DROP TABLE rb_lag" >/dev/null

# --- paused cluster without a named candidate --------------------------------------
run "$PGHA" run switchover --dry-run "${R[@]}"
is "$RC" 3 "in maintenance mode a switchover without a candidate is refused"
like "$OUT" "the cluster is paused \(maintenance mode\): name a candidate" "and says why"
"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
wait_streaming "$L0" 2

# --- maintenance runbook: pause with a reason, then resume ---------------------------
run "$PGHA" run maintenance action=pause "${R[@]}" --yes
is "$RC" 3 "maintenance pause without a reason is refused at its pre-flight (exit 3)"
like "$OUT" "reason=... is required to pause" "and says a reason is required"
run "$PGHA" run maintenance action=pause "reason=kernel upgrade on n3" --yes "${R[@]}"
is "$RC" 0 "maintenance pause exits 0"
is "$(curl -s "$(rest_of "$L0")/cluster" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("pause", False))')" \
	"True" "/cluster says paused"
ID=$(last_run)
like "$(cat "$J/$ID.jsonl")" "kernel upgrade on n3" "the reason is in the journal"
run "$PGHA" run maintenance action=pause "reason=again" --yes "${R[@]}"
is "$RC" 0 "pausing a paused cluster exits 0"
like "$OUT" "skipped: the cluster is already paused" "and skips the change"
run "$PGHA" run maintenance action=resume --yes "${R[@]}"
is "$RC" 0 "maintenance resume exits 0"
is "$(curl -s "$(rest_of "$L0")/cluster" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("pause", False))')" \
	"False" "/cluster no longer says paused"

# --- no healthy candidate: both replicas stopped -----------------------------------
REPS=($(replicas))
for n in "${REPS[@]}"; do "$SANDBOX" stop "$n" >/dev/null 2>&1; done
run "$PGHA" run switchover --yes "${R[@]}"
is "$RC" 3 "with both replicas stopped the switchover is refused (exit 3)"
like "$OUT" "no healthy candidate|has no replica" "and says there is no healthy candidate"
is "$(leader)" "$L0" "$L0 still leads"
for n in "${REPS[@]}"; do "$SANDBOX" start "$n" >/dev/null 2>&1; done
"$SANDBOX" wait-healthy 90 >/dev/null
wait_streaming "$L0" 2
ok $? "the replicas are back and streaming"

# --- the lock: a second run while the first holds it --------------------------------
BEFORE=$(ls "$J" | tr '\n' ' ')
"$PGHA" run switchover --yes "${R[@]}" >"$T/first.out" 2>&1 &
BG=$!
FIRST_ID=$(wait_new_journal "$BEFORE" '"event":"lock"')
run "$PGHA" run switchover --yes "${R[@]}"
is "$RC" 3 "a second switchover while the first runs is refused (exit 3)"
like "$OUT" "is locked by run $FIRST_ID \(runbook switchover 1.0.0" "it names the run holding the lock"
wait "$BG"
is "$?" 0 "the first switchover finishes (exit 0)"
BG=
L1=$(leader)
ok "$([ "$L1" != "$L0" ]; echo $?)" "and changed the leader ($L0 -> $L1)"
wait_streaming "$L1" 2

# --- interrupted during the verification, then resumed -------------------------------
BEFORE=$(ls "$J" | tr '\n' ' ')
"$PGHA" run switchover "candidate=$L0" --yes "${R[@]}" >"$T/killed.out" 2>&1 &
BG=$!
KID=$(wait_new_journal "$BEFORE" '"event":"step_start".*"name":"converge"')
kill -9 "$BG"
wait "$BG" 2>/dev/null
BG=
ok "$([ -n "$KID" ]; echo $?)" "the engine was killed during the converge step of run $KID"
is "$(journal_end "$KID")" "" "the killed run has no end record"
run "$PGHA" run --resume "$KID" --yes "${R[@]}"
is "$RC" 0 "--resume $KID finishes the switchover (exit 0)"
is "$(journal_end "$KID")" "success" "the journal of $KID now ends with success"
EV=$(journal_events "$KID" | tr '\n' ' ')
like "$EV" "step_start:converge resume:converge .*step_end:converge .*end" "the journal tells the story: converge, resume, converge done, end"
is "$(printf '%s\n' "$EV" | grep -o 'step_end:switchover' | wc -l)" 1 "the switchover itself ran once"
is "$(leader)" "$L0" "$L0 leads"
is "$(streaming "$L0")" 2 "both other members stream from $L0"

# --- reinitialise a replica ---------------------------------------------------------------
REPS=($(replicas))
run "$PGHA" run reinit-replica "member=$L0" --yes "${R[@]}"
is "$RC" 3 "reinit-replica refuses the leader"
like "$OUT" "never reinitialise a leader" "and says why"
run "$PGHA" run reinit-replica "member=${REPS[0]}" --yes "${R[@]}"
is "$RC" 0 "reinit-replica of ${REPS[0]} exits 0"
like "$OUT" "${REPS[0]} streams from $L0 again" "it waited until the replica streams again"
wait_streaming "$L0" 2
ok $? "both standbys stream from $L0"

# --- failover after a hard crash of the leader ----------------------------------------------
REPS=($(replicas))
"$SANDBOX" kill "$L0" >/dev/null 2>&1
ok $? "leader $L0 killed (Patroni and PostgreSQL, kill -9)"
run "$PGHA" run failover --yes "${R[@]}"
is "$RC" 0 "failover --yes exits 0"
[ "$RC" = 0 ] || diag "$OUT"
like "$OUT" "candidate n[0-9] received [0-9A-F]+/[0-9A-F]+, replayed [0-9A-F]+/[0-9A-F]+: .* behind the last leader LSN" \
	"it shows each candidate's position against the last leader LSN"
NEW=$(leader)
ok "$([ -n "$NEW" ] && [ "$NEW" != "$L0" ]; echo $?)" "a replica leads now ($NEW)"
like "$OUT" "promote $NEW" "the runbook promoted $NEW"
is "$(sql_at "$NEW" "SELECT pg_is_in_recovery()")" "f" "$NEW is writable"
like "$OUT" "failover done: $NEW leads, old leader $L0 streams from it" "the old leader was restarted and rejoined"
is "$(streaming "$NEW")" 2 "both other members stream from $NEW"

done_testing
