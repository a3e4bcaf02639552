#!/bin/bash
# engine.t: the runbook engine (pgha run / runbooks / show) on the small test
# runbooks of tests/runbooks/. Needs no cluster: the cluster file is a
# temporary one written here. Gates are answered through a pty
# (/usr/bin/python3's pty module), so /dev/tty is the pty.

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

done_testing
