#!/bin/bash
# engine.t: the runbook engine (pgha run / runbooks / show) on the small test
# runbooks of tests/runbooks/. Needs no cluster: the cluster file is a
# temporary one written here, without etcd, so runs go without the cluster
# lock (tests/integration/lock.t has the lock against the sandbox's etcd).
# Gates are answered through a pty (/usr/bin/python3's pty module), so
# /dev/tty is the pty. Also: kill -9 and SIGTERM in the middle of a run,
# --resume, pgha journal, the progress line on a terminal.

top_srcdir=${PGHA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${PGHA_TOP_BUILDDIR:-$top_srcdir}
. "$top_srcdir/tests/tap.sh"

PGHA=${PGHA:-$top_builddir/pgha}
RB=$top_srcdir/tests/runbooks
PY=/usr/bin/python3
[ -x "$PGHA" ] || { echo "1..0 # SKIP no pgha binary at $PGHA"; exit 0; }
[ -x "$PY" ] || { echo "1..0 # SKIP no /usr/bin/python3"; exit 0; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
J=$T/journal
OUTF=$T/out
export PGHA_ENGINE_TEST=1
unset PGHA_RUNBOOK_PATH
R=(--runbook-dir "$RB" --journal-dir "$J")

cat >"$T/cluster.conf" <<'EOF'
[cluster]
scope = e6scope
patroni = http://127.0.0.1:1, http://127.0.0.1:2
EOF
# the same with an etcd that does not answer
cat >"$T/cluster-etcd.conf" <<'EOF'
[cluster]
scope = e6scope
patroni = http://127.0.0.1:1, http://127.0.0.1:2
etcd = http://127.0.0.1:3
EOF

# answer PROMPT-ANSWERS CMD...: run CMD on a pty, answering each gate in
# turn with the next of ANSWERS ("y|n"); OUT, RC as run().
cat >"$T/answer_tty.py" <<'EOF'
import os, pty, select, sys
answers = sys.argv[1].split("|")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, asked = b"", 0
while True:
    r, _, _ = select.select([fd], [], [], 30)
    if not r:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    n = out.count(b"Proceed? [y/N]") + out.count(b"to proceed, anything else stops")
    while asked < n:
        os.write(fd, (answers[asked] if asked < len(answers) else "").encode() + b"\n")
        asked += 1
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
EOF
answer() { local a=$1; shift; run "$PY" "$T/answer_tty.py" "$a" "$@"; }
# notty CMD...: run without a controlling terminal
notty() { run setsid -w "$@" </dev/null; }
mutated() { [ -f "$OUTF" ] && tr '\n' ',' <"$OUTF"; }
lastjournal() { ls -t "$J"/*.jsonl | head -n 1; }

# --- listing and show ------------------------------------------------------
run "$PGHA" runbooks --runbook-dir "$RB"
like "$OUT" '^basic +1\.0\.0 +test runbook: three steps' "runbooks lists name, version, summary"
like "$OUT" 'syntax\.lua:4:' "runbooks reports an invalid runbook with file:line"
is "$RC" 4 "runbooks exits 4 when one is invalid"
run env PGHA_RUNBOOK_PATH="/nonexistent:$RB" "$PGHA" show basic
is "$RC" 0 "show finds a runbook through PGHA_RUNBOOK_PATH"
like "$OUT" 'max_lag \(size\) default 16MB' "show lists params with type and default"
like "$OUT" 'password \(string\) default \*\*\*\*\*\*\*\*' "show masks a secret default"
like "$OUT" 'gate: Apply: writes .run apply. \(type a word to confirm\)' "show lists the gates"
run "$PGHA" show nosuch --runbook-dir "$RB"
is "$RC" 4 "unknown runbook: exit 4"
like "$OUT" 'runbook "nosuch" not found' "unknown runbook: message"

# --- dry-run ---------------------------------------------------------------
rm -f "$OUTF"
notty "$PGHA" run basic out="$OUTF" -c "$T/cluster.conf" --dry-run "${R[@]}"
is "$RC" 0 "dry-run: exit 0 when every check passes"
like "$OUT" '^step 1/3 prepare' "dry-run prints each step"
like "$OUT" 'check: ok: ready' "dry-run shows what the check returned"
like "$OUT" 'gate: Apply: writes .run apply. \(type "e6scope" to confirm\)' "dry-run shows the gate and the word (the cluster scope)"
ok "$([ ! -e "$OUTF" ]; echo $?)" "dry-run changed nothing (the mutate file is absent)"
notty "$PGHA" run basic out="$OUTF" fail_at=check --dry-run "${R[@]}"
is "$RC" 3 "dry-run with a failing check: exit 3"
like "$OUT" 'check: FAILED: fail_at=check' "dry-run shows the failed check"

# --- mutation refused in check / verify / dry-run --------------------------
rm -f "$OUTF"
run "$PGHA" run check_mutates out="$OUTF" --yes "${R[@]}"
is "$RC" 3 "a mutating call in check: refused (exit 3)"
like "$OUT" 'check_mutates\.lua:11: test\.mutate mutates: refused in step "sneaky" check \(check and verify are read-only\)' \
	"the error names the rule and file:line"
ok "$([ ! -e "$OUTF" ]; echo $?)" "nothing mutated by a check"
run "$PGHA" run check_mutates out="$OUTF" --dry-run "${R[@]}"
is "$RC" 3 "a mutating call under --dry-run: refused (exit 3)"
like "$OUT" 'refused in step "sneaky" check \(a dry-run changes nothing' "dry-run refusal names the rule"
ok "$([ ! -e "$OUTF" ]; echo $?)" "nothing mutated under --dry-run"
run "$PGHA" run verify_mutates out="$OUTF" --yes "${R[@]}"
like "$OUT" 'exec\.run mutates: refused in step "two" verify' "exec.run in verify is refused"
ok "$([ ! -e "$OUTF.verify" ]; echo $?)" "the refused exec.run did not run"
is "$(mutated)" "run one,undo one," "verify failure undid the completed step"
is "$RC" 1 "failed and rolled back: exit 1"

# --- gates -----------------------------------------------------------------
rm -f "$OUTF"
notty "$PGHA" run basic out="$OUTF" "${R[@]}"
is "$RC" 3 "no terminal, no --yes: exit 3"
like "$OUT" 'step 1 "prepare" asks for confirmation but there is no terminal \(/dev/tty\): run on a terminal, or pass --yes; nothing was run' \
	"no terminal: clear message"
ok "$([ ! -e "$OUTF" ]; echo $?)" "no terminal: nothing mutated"

rm -f "$OUTF"
answer "n" "$PGHA" run basic out="$OUTF" "${R[@]}"
is "$RC" 3 "first gate declined on the tty: exit 3"
like "$OUT" 'step 1 "prepare" declined at its gate: stopping' "declined: clear message"
ok "$([ ! -e "$OUTF" ]; echo $?)" "declined first gate: nothing mutated"

rm -f "$OUTF"
answer "y|wrong|y" "$PGHA" run basic out="$OUTF" -c "$T/cluster.conf" "${R[@]}"
is "$RC" 3 "a type_word gate with the wrong word stops the run: exit 3"
like "$OUT" 'Type "e6scope" to proceed' "the word to type is the cluster scope"
is "$(mutated)" "run prepare,undo prepare," "declining undid the completed step (its undo confirmed)"

rm -f "$OUTF"
answer "y|e6scope" "$PGHA" run basic out="$OUTF" -c "$T/cluster.conf" "${R[@]}"
is "$RC" 0 "gates confirmed on the tty: exit 0"
is "$(mutated)" "run prepare,run apply,run finish," "all steps ran"

rm -f "$OUTF"
notty "$PGHA" run basic out="$OUTF" --yes "${R[@]}"
is "$RC" 0 "--yes runs every step without a terminal"
is "$(mutated)" "run prepare,run apply,run finish," "--yes: all steps ran in order"
like "$OUT" '^pgha: step 2/3 "apply" done in [0-9]+\.[0-9] s$' "each step's end says how long it took"

# --- failure and rollback --------------------------------------------------
rm -f "$OUTF"
run "$PGHA" run basic out="$OUTF" fail_at=finish --yes "${R[@]}"
is "$RC" 1 "a failing step: exit 1 after rollback"
is "$(mutated)" "run prepare,run apply,undo apply,undo prepare," "undo runs in reverse order"
rm -f "$OUTF"
run "$PGHA" run noundo out="$OUTF" --yes "${R[@]}"
is "$RC" 2 "rollback stopped by a step without undo: exit 2"
like "$OUT" 'rollback stopped at step 2 "two": it has no undo' "says where the rollback stopped"
like "$OUT" 'left to do by hand, in this order: undo "two", undo "one"' "says what is left to do by hand"
like "$OUT" 'verify did not pass within 0.5 s: never converges' "verify is polled until its timeout"
is "$(mutated)" "run one,run two,run three,run three,undo three," "retried once, then the failed step's own undo"

# --- sandbox limits ---------------------------------------------------------
run timeout 20 "$PGHA" run spin --yes "${R[@]}"
is "$RC" 1 "an endless loop fails the step (exit 1)"
like "$OUT" 'spin\.lua:1[0-9]: time budget exceeded in step "forever" run' "time budget: names the step and file:line"
run timeout 20 "$PGHA" run hog --yes "${R[@]}"
is "$RC" 1 "endless allocation fails the step (exit 1)"
like "$OUT" 'step 1 "grow" failed: memory cap of [0-9]+ bytes exceeded' "memory cap hit"
run "$PGHA" run syntax "${R[@]}"
is "$RC" 4 "syntax error: exit 4"
like "$OUT" 'syntax\.lua:4: .}. expected' "syntax error: file and line"

# --- parameters --------------------------------------------------------------
run "$PGHA" run params node=x count=1.5 ratio=abc force=maybe max_lag=12XB wait=5y bogus=1 junk "${R[@]}"
is "$RC" 4 "bad parameters: exit 4"
n=$(printf '%s\n' "$OUT" | grep -c -e '"count": "1.5" is not an integer' -e '"ratio": "abc" is not a number' \
	-e '"force": "maybe" is not true or false' -e '"max_lag": "12XB" is not a size' \
	-e '"wait": "5y" is not a duration' -e 'unknown parameter "bogus"' -e '"junk" is not name=value' \
	-e 'parameter "node": must look like n1')
is "$n" 8 "all parameter errors reported at once, one line each"
run "$PGHA" run params "${R[@]}"
like "$OUT" 'parameter "node" is required: a node name' "a missing required parameter"
run "$PGHA" run params node=n2 force=yes max_lag=2GB wait=5min --dry-run "${R[@]}"
like "$OUT" 'node=n2 count=3 ratio=0.5 force=true max_lag=2147483648 wait=300' "typed values and defaults reach ctx.params"

# --- exec.run ----------------------------------------------------------------
rm -f "$OUTF"
run timeout 30 "$PGHA" run exec out="$OUTF" --yes "${R[@]}"
is "$RC" 0 "exec runbook passes"
o=$(cat "$OUTF" 2>/dev/null)
like "$o" '^stdout=\$HOME;\|a b code=0$' "exec.run passes argv without a shell"
like "$o" '^stderr=err code=7$' "exec.run captures stderr and the exit code"
like "$o" '^missing=nil could not execute "/nonexistent/pgha-prog"' "a missing program: nil, message"
like "$o" '^timeout=nil "sleep" timed out after 1(\.0+)? s \(killed\) elapsed=[12]$' "a timeout kills the command"
like "$o" '^misuse raises=true$' "misuse raises"
like "$o" '^json=1xnil$' "json encode/decode; bad JSON gives nil"
like "$o" '^wait=nil timed out after 0\.2 s: not yet$' "wait.until times out with the last message"

# --- journal -------------------------------------------------------------------
rm -f "$OUTF"
run "$PGHA" run basic out="$OUTF" password=topsecret99 --yes "${R[@]}"
jf=$(lastjournal)
is "$(stat -c %a "$jf")" 600 "journal file mode 0600"
is "$(stat -c %a "$J")" 700 "journal directory mode 0700"
"$PY" - "$jf" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ev = [r["event"] for r in recs]
s = recs[0]
assert ev[0] == "start" and ev[-1] == "end", ev
assert s["runbook"] == "basic" and s["version"] == "1.0.0" and len(s["sha256"]) == 64
assert s["params"]["password"] == "********", s["params"]
assert s["user"] and s["host"] and s["run"]
assert "gate" in ev and "step_end" in ev and "check" in ev
assert recs[-1]["state"] == "success" and recs[-1]["exit"] == 0
EOF
ok $? "every journal line is JSON with start, checks, gates, steps, end"
unlike "$(cat "$jf")" 'topsecret99' "the password is not in the journal"
sha=$(sha256sum "$RB/basic.lua" | cut -d' ' -f1)
like "$(head -n 1 "$jf")" "\"sha256\":\"$sha\"" "the journal records the runbook's SHA-256"

# --- the cluster lock without etcd ----------------------------------------------
rm -f "$OUTF"
run "$PGHA" run basic out="$OUTF" -c "$T/cluster.conf" --yes "${R[@]}"
is "$RC" 0 "a cluster file without etcd: the run goes on"
is "$(printf '%s\n' "$OUT" | grep -c 'warning: no etcd in the cluster file: running without the cluster lock')" 1 \
	"warned once that it runs without the cluster lock"
like "$(cat "$(lastjournal)")" '"event":"lock","acquired":false,"reason":"no etcd in the cluster file"' \
	"the journal says the lock was not taken, and why"
rm -f "$OUTF"
run "$PGHA" run basic out="$OUTF" -c "$T/cluster-etcd.conf" --yes "${R[@]}"
is "$RC" 3 "etcd listed but not answering: refused (exit 3)"
like "$OUT" '^pgha: refused: could not take the cluster lock /pgha/lock/e6scope in etcd: could not connect to "http://127.0.0.1:3".*; nothing was run$' \
	"says which lock and why"
ok "$([ ! -e "$OUTF" ]; echo $?)" "nothing ran without the lock"
run "$PGHA" run basic out="$OUTF" -c "$T/cluster-etcd.conf" --dry-run "${R[@]}"
is "$RC" 0 "a dry-run takes no lock"

# --- progress ------------------------------------------------------------------------
answer "" "$PGHA" run progress --yes "${R[@]}"
is "$RC" 0 "progress runbook on a terminal: exit 0"
like "$OUT" $'\r''  waiting for the moon \(1 s\)' "on a terminal: wait.until's what and the seconds, rewritten with \\r"
o=$(printf '%s' "$OUT" | tr -d '\r')
like "$o" $'\n''pgha: \[info\] after the wait' "a log line after the progress line starts on a line of its own"
like "$o" $'\n''pgha: step 1/1 "wait" done in [12]\.[0-9] s' "the step's end on a line of its own too"
run "$PGHA" run progress --yes "${R[@]}"
unlike "$OUT" 'waiting for' "no progress line when stderr is not a terminal"
like "$OUT" '^pgha: step 1/1 "wait" done in [12]\.[0-9] s$' "the step's time, terminal or not"

# --- kill -9 in the middle, then --resume -----------------------------------------
# wait_for FILE REGEX: until a line of FILE matches (10 s)
wait_for() {
	local _
	for _ in $(seq 100); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
runid_of() { sed -n 's/^pgha: run \([^ :]*\): .*/\1/p' "$1" | head -n 1; }
HOLD=$T/hold
rm -f "$OUTF"
touch "$HOLD"
"$PGHA" run slow out="$OUTF" hold="$HOLD" token=s3cret-tok -c "$T/cluster.conf" --yes "${R[@]}" \
	>"$T/bg" 2>&1 &
bg=$!
wait_for "$OUTF" '^start two$'
ok $? "the run is in step two"
id=$(runid_of "$T/bg")
like "$id" '^[0-9]{8}T[0-9]{6}Z-[0-9]+-[0-9a-f]{4}$' "its run id"
run "$PGHA" run --resume "$id" token=s3cret-tok -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 3 "resuming a run that is still going on: refused (exit 3)"
like "$OUT" "refused: run $id is still going on" "says that it is still going on"
{ kill -9 "$bg"; wait "$bg"; } 2>/dev/null
rm -f "$HOLD"
run "$PGHA" journal --journal-dir "$J"
like "$OUT" "^$id +[0-9-]+ [0-9:]+ +slow 1\.0\.0 +[^ ]+ +unfinished$" "pgha journal: the killed run is unfinished"
run "$PGHA" run --resume "$id" -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 4 "resume without the secret parameter: exit 4"
like "$OUT" 'parameter "token" is a secret the journal does not keep: give it again \(token=\.\.\.\)' \
	"asks for the masked secret again"
run "$PGHA" run --resume "$id" token=s3cret-tok note=changed -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 4 "resume changing a recorded parameter: exit 4"
like "$OUT" 'parameter "note" cannot be changed on resume: the run started with note=plain' \
	"a recorded parameter cannot change"
is "$(mutated)" "run one,start two," "nothing ran during the refused resumes"
run "$PGHA" run --resume "$id" token=s3cret-tok note=plain -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 0 "resume finishes the run (the same value of a recorded parameter is fine)"
like "$OUT" "resuming run $id: slow 1\.0\.0 at step 2/3 \"two\" \(1 step\(s\) done\)" \
	"resume starts at the first step without a successful end"
is "$(mutated)" "run one,start two,start two,end two,run three token=s3cret-tok note=plain," \
	"step one did not run again; step two ran again from its start, then three"
jf=$J/$id.jsonl
"$PY" - "$jf" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ev = [(r["event"], r.get("step")) for r in recs]
names = [e for e, _ in ev]
assert names[0] == "start" and names[-1] == "end", names
assert names.count("start") == 1 and names.count("resume") == 1, names
assert len({r["run"] for r in recs}) == 1, "one run id in the whole file"
i = names.index("resume")
before, after = ev[:i], ev[i + 1:]
assert ("step_end", 1) in before and ("step_start", 2) in before, before
assert ("step_end", 2) not in before, before
assert after[:2] == [("lock", None), ("step_start", 2)] and ("check", 2) in after, after
assert ("step_end", 2) in after and ("step_end", 3) in after, after
assert all(s != 1 for e, s in after), "step 1 again after the resume"
res = recs[i]
assert res["user"] and res["host"] and res["pid"] != recs[0]["pid"] and res["step"] == 2, res
assert recs[-1]["state"] == "success" and recs[-1]["exit"] == 0, recs[-1]
assert recs[0]["params"]["token"] == "********", recs[0]["params"]
EOF
ok $? "the journal tells the whole story: start, step one, two started; resume, check of two, two, three, end"
unlike "$(cat "$jf")" 's3cret-tok' "the secret given again is not in the journal"

run "$PGHA" journal "$id" --journal-dir "$J"
is "$RC" 0 "pgha journal RUN_ID: exit 0"
like "$FIRST" "^run $id: success " "its first line: the run and its state"
like "$OUT" ' start +slow 1\.0\.0 by [^ ]+ on host [^ ]+, pid [0-9]+, --yes .*params:.* token=\*{8}' \
	"the start: runbook, user, host, pid, masked params"
like "$OUT" ' resume +by [^ ]+ on host [^ ]+, pid [0-9]+, from step 2 "two"$' "the resume"
like "$OUT" ' check +step 2 "two": ok: two is ready$' "the check run again after the resume"
like "$OUT" ' step_end +step 3 "three": ok \([0-9.]+ s\)$' "a step's end with its time"
like "$OUT" ' end +success \(exit 0\)$' "the end"
is "$(printf '%s\n' "$OUT" | grep -c '^20[0-9-]*T[0-9:.]*Z ')" "$(wc -l <"$jf")" "one line per record"
run "$PGHA" journal nosuch --journal-dir "$J"
is "$RC" 4 "pgha journal of an unknown run: exit 4"

run "$PGHA" run --resume "$id" token=x -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 3 "resuming a run that ended: refused (exit 3)"
like "$OUT" "^pgha: refused: run $id has ended \(final state success, exit 0\)" "says its final state"

# --- resume refused after the runbook changed ---------------------------------------
mkdir -p "$T/rb"
HOLD2=$T/hold2
cp "$RB/slow.lua" "$T/rb/slow.lua"
rm -f "$OUTF"
touch "$HOLD2"
"$PGHA" run slow out="$OUTF" hold="$HOLD2" --yes --runbook-dir "$T/rb" --journal-dir "$J" >"$T/bg" 2>&1 &
bg=$!
wait_for "$OUTF" '^start two$'
id2=$(runid_of "$T/bg")
{ kill -9 "$bg"; wait "$bg"; } 2>/dev/null
rm -f "$HOLD2"
old=$(sha256sum "$T/rb/slow.lua" | cut -d' ' -f1)
printf -- '-- changed after the run started\n' >>"$T/rb/slow.lua"
new=$(sha256sum "$T/rb/slow.lua" | cut -d' ' -f1)
run "$PGHA" run --resume "$id2" token=t0 --yes --journal-dir "$J"
is "$RC" 3 "resume after the runbook file changed: refused (exit 3)"
like "$OUT" "the runbook changed since run $id2 started: \"$T/rb/slow.lua\" has sha256 $new now, the run started with sha256 $old; nothing was run" \
	"names the file and both hashes"
is "$(mutated)" "run one,start two," "nothing ran"
run "$PGHA" run --resume "$id2" slow token=t0 --runbook-dir "$RB" --yes --journal-dir "$J"
is "$RC" 0 "resume naming a runbook with the recorded content (same SHA-256): it finishes"
is "$(mutated)" "run one,start two,start two,end two,run three token=t0 note=plain," "from step two on"

# --- SIGTERM and SIGINT in the middle ------------------------------------------------
HOLD3=$T/hold3
rm -f "$OUTF"
touch "$HOLD3"
"$PGHA" run slow out="$OUTF" hold="$HOLD3" -c "$T/cluster.conf" --yes "${R[@]}" >"$T/bg" 2>&1 &
bg=$!
wait_for "$OUTF" '^start two$'
id3=$(runid_of "$T/bg")
sleep 0.3
kill -TERM "$bg"
wait "$bg"
is "$?" 2 "SIGTERM in a step: exit 2"
like "$(cat "$T/bg")" "^pgha: run $id3 interrupted in step 2 \"two\"; resume with: pgha run --resume $id3 -c $T/cluster.conf --journal-dir $J$" \
	"says where it stopped and how to resume"
pgrep -f "slow-hold $HOLD3" >/dev/null
is "$?" 1 "exec.run's child was killed"
is "$(mutated)" "run one,start two," "nothing was undone"
like "$(tail -n 1 "$J/$id3.jsonl")" '"event":"interrupted","step":2,"name":"two","phase":"run","signal":15' \
	"the journal ends with interrupted: step 2, phase run, signal 15"
run "$PGHA" journal --journal-dir "$J"
like "$OUT" "^$id3 .* interrupted$" "pgha journal: interrupted"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" "^$id3 " "pgha journal: newest first"
is "$(printf '%s\n' "$OUT" | grep -c '^20')" "$(ls "$J"/*.jsonl | wc -l)" "pgha journal: one line per run"
rm -f "$HOLD3"
run "$PGHA" run --resume "$id3" token=t0 -c "$T/cluster.conf" --yes --journal-dir "$J"
is "$RC" 0 "the interrupted run resumes and finishes"
is "$(mutated)" "run one,start two,start two,end two,run three token=t0 note=plain," "from step two on"

rm -f "$OUTF"
"$PGHA" run basic out="$OUTF" pause=30s --yes "${R[@]}" >"$T/bg" 2>&1 &
bg=$!
wait_for "$OUTF" '^run apply$'
sleep 0.3
kill -INT "$bg"
wait "$bg"
is "$?" 2 "SIGINT in time.sleep: exit 2"
like "$(cat "$T/bg")" 'interrupted in step 3 "finish"; resume with: pgha run --resume ' "interrupted in step 3"
like "$(tail -n 1 "$(lastjournal)")" '"event":"interrupted","step":3,"name":"finish","phase":"run","signal":2' \
	"the journal says signal 2 in step 3"

done_testing
