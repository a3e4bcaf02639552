# status.t: `pgha status` against the real sandbox: --json matches the
# cluster, --health-check exit codes (healthy, replica down, etcd member
# down, a hanging node), --watch in a pseudo-terminal, bad cluster files.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

PGHA="$top_builddir/pgha"
PY=/usr/bin/python3
export PGHA_CLUSTER_FILE
TMP=$(mktemp -d)
STOPPED_PID=
cleanup() {
	[ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
	for n in $PGHA_NODES; do "$SANDBOX" start "$n" >/dev/null 2>&1; done
	"$SANDBOX" start-etcd 3 >/dev/null 2>&1
	"$SANDBOX" wait-healthy 90 >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }
[ -x "$PGHA" ] || { echo "Bail out! no $PGHA"; exit 1; }
[ -f "$PGHA_CLUSTER_FILE" ] || { echo "Bail out! no cluster file $PGHA_CLUSTER_FILE (pgha-sandbox up writes it)"; exit 1; }

# health: the health-check line and code, polled until it is as expected
# (the cluster takes a moment to show a change), at most ~20 s.
# wait_health CODE ARGS...: sets RC/OUT/FIRST of the last run.
wait_health() {
	local want=$1 i
	shift
	for i in $(seq 40); do
		run "$PGHA" status --health-check "$@"
		[ "$RC" = "$want" ] && return 0
		sleep 0.5
	done
	return 1
}

# --- --json matches the cluster ---------------------------------------------
L=$(leader)
curl -s "$(rest_of "$L")/cluster" > "$TMP/cluster.json"
run "$PGHA" status --json
is "$RC" 0 "--json exits 0"
printf '%s' "$OUT" > "$TMP/status.json"
check=$("$PY" - "$TMP/status.json" "$TMP/cluster.json" "$L" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
leader = sys.argv[3]
def num(x): return isinstance(x, (int, float)) and not isinstance(x, bool)
def integer(x): return isinstance(x, int) and not isinstance(x, bool)
out = []
def chk(name, cond): out.append(("ok" if cond else "FAIL") + " " + name)
chk("schema_version is the number 1", d["schema_version"] == 1 and integer(d["schema_version"]))
chk("scope", d["scope"] == "pgha-sandbox")
chk("leader name = pgha-sandbox leader", d["leader"] == leader)
chk("3 members", len(d["members"]) == 3 and sorted(m["name"] for m in d["members"]) == ["n1", "n2", "n3"])
tl = {m["name"]: m.get("timeline") for m in c["members"]}
chk("timelines as Patroni says", all(m["timeline"] == tl[m["name"]] and integer(m["timeline"]) for m in d["members"]))
chk("the leader's timeline at the top", d["timeline"] == tl[leader])
roles = {m["name"]: m["role"] for m in d["members"]}
chk("roles: one leader, two replicas", sorted(roles.values()) == ["leader", "replica", "replica"] and roles[leader] == "leader")
reps = [m for m in d["members"] if m["name"] != leader]
chk("replicas: lag in bytes (integer) and seconds (number) from PostgreSQL",
    all(integer(m["lag_bytes"]) and m["lag_bytes"] >= 0 and num(m["lag_seconds"]) and m["lag_seconds"] >= 0 for m in reps))
chk("replicas streaming", all(m["replication_state"] == "streaming" for m in reps))
chk("leader has no lag", [m["lag_bytes"] for m in d["members"] if m["name"] == leader] == [None])
chk("ports are numbers", all(integer(m["port"]) for m in d["members"]))
chk("every member reachable, none pending restart", all(m["reachable"] and m["pending_restart"] is False for m in d["members"]))
e = d["etcd"]
chk("etcd 3 healthy of 3 voters, quorum 2, fault tolerance 1",
    (e["voters"], e["healthy"], e["quorum"], e["fault_tolerance"]) == (3, 3, 2, 1))
chk("etcd members etcd1..3 healthy, one leader",
    [m["name"] for m in e["members"]] == ["etcd1", "etcd2", "etcd3"] and all(m["healthy"] for m in e["members"])
    and sum(m["leader"] for m in e["members"]) == 1 and e["leader"] in ("etcd1", "etcd2", "etcd3"))
chk("etcd numbers are numbers", all(integer(m["raft_index"]) and integer(m["db_size_bytes"]) for m in e["members"]))
p = d["postgresql"]
chk("connected to the leader's PostgreSQL", p["connected"] and p["member"] == leader and p["error"] is None)
chk("connections counted (ours at least)", integer(p["connections"]["total"]) and p["connections"]["total"] >= 1
    and integer(p["connections"]["max"]))
chk("no blocked session", p["blocked_sessions"] == 0 and p["blocked"] == [])
chk("not paused, nothing scheduled", d["paused"] is False and d["scheduled_switchover"] is None)
chk("health OK, exit code 0", d["health"]["state"] == "OK" and d["health"]["exit_code"] == 0 and d["health"]["problems"] == [])
chk("elapsed_ms is a number", num(d["elapsed_ms"]))
print("\n".join(out))
PY
)
while IFS= read -r line; do
	case $line in ok\ *) ok 0 "json: ${line#ok }" ;; *) ok 1 "json: ${line#FAIL }" ;; esac
done <<<"$check"

# --- text -------------------------------------------------------------------
run "$PGHA" status
is "$RC" 0 "text view exits 0"
like "$FIRST" '^pgha-sandbox  [0-9-]+ [0-9:]+ .* Patroni 3\.0\.2' "first line: scope, time, Patroni version"
like "$OUT" '^health: OK - leader '"$L" "health line"
like "$OUT" '^'"$L"' +127\.0\.0\.1:[0-9]+ +leader +running +[0-9]+ +- +-' "leader row"
for n in $(replicas); do
	like "$OUT" '^'"$n"' +127\.0\.0\.1:[0-9]+ +replica +(running|streaming) +[0-9]+ +[0-9]+ +[0-9]+\.[0-9]{3}' "replica $n: lag in bytes and seconds"
done
is "$(printf '%s\n' "$OUT" | grep -cE '^etcd[123] +http://127\.0\.0\.1:[0-9]+ +(leader|follower) .* healthy$')" 3 "3 etcd members healthy"
like "$OUT" 'etcd 3\.4\.[0-9]+: 3 of 3 voters healthy, quorum 2, fault tolerance 1' "etcd quorum line"
like "$OUT" '^leader '"$L"' \(127\.0\.0\.1:[0-9]+, PostgreSQL 15\.[0-9]+\): [0-9]+ of [0-9]+ connections .*, 0 blocked sessions' "connections and blocked sessions"
like "$OUT" '^paused: no   scheduled: nothing' "paused and scheduled actions"
unlike "$OUT" $'\033' "no escape sequences when stdout is not a terminal"

# --- a blocked session on the leader -----------------------------------------
"$SANDBOX" psql "$L" -X -q -c "CREATE TABLE IF NOT EXISTS pgha_status_lock (x int)" >/dev/null 2>&1
"$SANDBOX" psql "$L" -X -q -c "BEGIN; LOCK TABLE pgha_status_lock; SELECT pg_sleep(4); COMMIT" >/dev/null 2>&1 &
holder=$!
sleep 0.5
"$SANDBOX" psql "$L" -X -q -c "SELECT count(*) FROM pgha_status_lock" >/dev/null 2>&1 &
waiter=$!
for _ in $(seq 20); do
	run "$PGHA" status --json
	printf '%s' "$OUT" | "$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["postgresql"]["blocked_sessions"] != 1)' && break
	sleep 0.2
done
printf '%s' "$OUT" | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["postgresql"]
assert p["blocked_sessions"] == 1, p
b = p["blocked"][0]
assert b["query"] == "SELECT count(*) FROM pgha_status_lock", b
assert b["user"] == "postgres" and b["database"] == "postgres", b
assert isinstance(b["pid"], int) and len(b["blocked_by"]) == 1 and isinstance(b["blocked_by"][0], int), b
assert isinstance(b["waiting_seconds"], (int, float)) and b["waiting_seconds"] >= 0, b
assert p["connections"]["waiting_on_locks"] >= 1, p
'
ok $? "--json: the blocked session, who blocks it, for how long"
run "$PGHA" status
like "$OUT" ', 1 blocked session$' "text: 1 blocked session"
like "$OUT" '^  pid [0-9]+ \(postgres@postgres\) waits [0-9]+\.[0-9] s for pid [0-9]+: SELECT count\(\*\) FROM pgha_status_lock$' "text: the blocked query"
wait "$holder" "$waiter"
"$SANDBOX" psql "$L" -X -q -c "DROP TABLE pgha_status_lock" >/dev/null 2>&1

# --- --health-check: healthy ----------------------------------------------
run "$PGHA" status --health-check
is "$RC" 0 "healthy cluster: exit 0"
like "$OUT" "^PGHA_STATUS OK - leader $L on timeline [0-9]+, 2 of 2 replicas streaming, etcd 3 of 3 healthy \(fault tolerance 1\)$" "one OK line"
is "$(printf '%s\n' "$OUT" | wc -l)" 1 "exactly one line"

# the same from options instead of a cluster file
run env -u PGHA_CLUSTER_FILE "$PGHA" status --health-check --patroni "$PGHA_PATRONI_URLS" \
	--etcd "$PGHA_ETCD_URLS" --auth-file "$PGHA_AUTH_FILE" -U "$PGHA_MONITOR_USER" -d postgres
is "$RC" 0 "--patroni/--etcd/-U/-d instead of a cluster file: exit 0"

# --- a replica down: WARNING ------------------------------------------------
# WARNING, not CRITICAL: the leader still takes writes and the other replica
# still streams, so a failover candidate is left; CRITICAL is for no leader,
# no replica streaming at all, or etcd without quorum.
R=$(replicas | cut -d' ' -f1)
"$SANDBOX" stop "$R" >/dev/null 2>&1
run "$PGHA" status --health-check
is "$RC" 1 "replica $R stopped: WARNING (exit 1)"
like "$FIRST" "^PGHA_STATUS WARNING - 1 of 2 replicas streaming \(($R stopped|$R unreachable|http://127\.0\.0\.1:[0-9]+ unreachable)\)" "names the replica that is down"
run "$PGHA" status --json
printf '%s' "$OUT" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
down = [m for m in d["members"] if not m["reachable"]]
assert len(down) == 1 and down[0]["state"] in ("stopped", "unreachable"), down
assert d["health"]["state"] == "WARNING" and d["health"]["exit_code"] == 1
'
ok $? "--json: one member not reachable, health WARNING"
run "$PGHA" status
like "$OUT" '^  ('"$R"'|http://127\.0\.0\.1:[0-9]+): could not connect to "http://127\.0\.0\.1:[0-9]+/patroni": Connection refused' "text: why the member is unreachable"
"$SANDBOX" start "$R" --wait >/dev/null 2>&1
wait_health 0
ok $? "replica back: OK again"

# --- an etcd member down: WARNING -------------------------------------------
"$SANDBOX" stop-etcd 3 >/dev/null 2>&1
run "$PGHA" status --health-check
is "$RC" 1 "etcd member down: WARNING (exit 1)"
is "$FIRST" "PGHA_STATUS WARNING - etcd: 2 of 3 members healthy, fault tolerance 0" "no fault tolerance left"
run "$PGHA" status --json
printf '%s' "$OUT" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)["etcd"]
assert (e["healthy"], e["fault_tolerance"]) == (2, 0), e
m = [m for m in e["members"] if m["name"] == "etcd3"][0]
assert not m["healthy"] and not m["reachable"] and "Connection refused" in m["error"], m
'
ok $? "--json: etcd3 unhealthy, fault tolerance 0"
"$SANDBOX" start-etcd 3 >/dev/null 2>&1
wait_health 0
ok $? "etcd member back: OK again"

# --- one node hanging: the rest is shown within -t --------------------------
R=$(replicas | cut -d' ' -f1)
STOPPED_PID=$(cat "$PGHA_SANDBOX_DIR/run/$R.pid")
kill -STOP "$STOPPED_PID"
start=$(date +%s%N)
run "$PGHA" status --health-check -t 2
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
kill -CONT "$STOPPED_PID"
STOPPED_PID=
[ "$elapsed" -lt 2600 ]
ok $? "Patroni of $R hangs: done within -t 2 (${elapsed} ms)"
is "$RC" 1 "a hanging Patroni: WARNING"
like "$FIRST" "$R: Patroni does not answer \(PostgreSQL still streaming\)" "names the hanging node"
wait_health 0
ok $? "OK once it answers again"

# --- --watch in a pseudo-terminal -------------------------------------------
# watch_pty SECONDS ENV...: run `pgha status --watch 1` in a pty for SECONDS,
# then SIGINT; prints the exit code, the distinct timestamps seen, and flags.
watch_pty() {
	"$PY" - "$PGHA" "$@" <<'PY'
import os, pty, re, select, signal, sys, time
pgha, secs, env = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    for kv in env:
        k, v = kv.split("=", 1)
        os.environ[k] = v
    os.execv(pgha, [pgha, "status", "--watch", "1"])
buf = b""
def drain(until):
    global buf
    while time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return
            if not d:
                return
            buf += d
drain(time.time() + secs)
os.kill(pid, signal.SIGINT)
t0 = time.time()
drain(time.time() + 3)
_, st = os.waitpid(pid, 0)
took = time.time() - t0
stamps = sorted(set(re.findall(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", buf)))
print("exit=%d" % os.waitstatus_to_exitcode(st))
print("stamps=%d" % len(stamps))
print("home=%d" % buf.count(b"\x1b[H"))
print("colour=%d" % (b"\x1b[32m" in buf or b"\x1b[1m" in buf))
print("restored=%d" % buf.rstrip(b"\r\n").endswith(b"\x1b[?25h"))
print("quick=%d" % (took < 1.5))
PY
}
res=$(watch_pty 2.5)
like "$res" 'exit=0' "--watch: exits 0 on SIGINT"
like "$res" 'stamps=[23]' "--watch: redraws (two or three timestamps seen)"
like "$res" 'home=[23]' "--watch: redraws in place (cursor home per frame)"
like "$res" 'colour=1' "--watch on a terminal: colour"
like "$res" 'restored=1' "--watch: cursor shown again on exit"
like "$res" 'quick=1' "--watch: SIGINT ends it at once"
res=$(watch_pty 1.5 NO_COLOR=1)
like "$res" 'colour=0' "NO_COLOR: no colour on a terminal"
like "$res" 'exit=0' "NO_COLOR: exits 0 on SIGINT"

# not a terminal: frames one after another, no escape sequences
timeout -s INT --preserve-status 2.5 "$PGHA" status --watch 1 > "$TMP/watch.txt" 2>&1
is "$?" 0 "--watch into a pipe: exits 0 on SIGINT"
frames=$(grep -c '^health: ' "$TMP/watch.txt")
[ "$frames" -ge 2 ]
ok $? "--watch into a pipe: $frames frames"
unlike "$(cat "$TMP/watch.txt")" $'\033' "--watch into a pipe: no escape sequences"

# --- bad cluster files and options ------------------------------------------
printf '[cluster]\nscope = x\n# next line is wrong\npatrony = http://127.0.0.1:1\n' > "$TMP/bad.conf"
OUT=$("$PGHA" status -c "$TMP/bad.conf" 2>&1 >/dev/null); RC=$?
is "$RC" 2 "bad cluster file, text: exit 2 (usage)"
is "$OUT" "$TMP/bad.conf:4: unknown key \"patrony\" in [cluster] (did you mean \"patroni\"?)" "one line on stderr with file:line"
run "$PGHA" status -c "$TMP/bad.conf" --json
is "$RC" 2 "bad cluster file, --json: exit 2"
run "$PGHA" status -c "$TMP/bad.conf" --health-check
is "$RC" 3 "bad cluster file, --health-check: exit 3 (UNKNOWN)"
is "$OUT" "PGHA_STATUS UNKNOWN - $TMP/bad.conf:4: unknown key \"patrony\" in [cluster] (did you mean \"patroni\"?)" "one UNKNOWN line with file:line"
printf '[cluster]\nscope = x\npatroni = http://127.0.0.1:1\n[postgresql]\npassword = secret\n' > "$TMP/pw.conf"
run "$PGHA" status -c "$TMP/pw.conf" --health-check
is "$RC" 3 "password in the cluster file: refused"
like "$OUT" "^PGHA_STATUS UNKNOWN - $TMP/pw.conf:5: \"password\" is not allowed in \[postgresql\]: .*\.pgpass" "says where passwords go"
unlike "$OUT" secret "the password is not echoed"
run "$PGHA" status -c "$TMP/none.conf"
is "$RC" 2 "missing cluster file: exit 2"
like "$OUT" "could not open cluster file \"$TMP/none.conf\": No such file or directory" "names the file"
run "$PGHA" status --bogus
is "$RC" 2 "unknown option: exit 2"
like "$OUT" "^pgha status: unknown option '--bogus'" "names the option"
run "$PGHA" status --health-check --bogus
is "$RC" 3 "unknown option with --health-check: exit 3"
run env -u PGHA_CLUSTER_FILE "$PGHA" status
is "$RC" 2 "no cluster given: exit 2"
run "$PGHA" status --health-check --patroni http://127.0.0.1:1 -t 2
is "$RC" 2 "no Patroni answers: CRITICAL"
like "$FIRST" '^PGHA_STATUS CRITICAL - no Patroni REST API answered: could not connect' "says so"
run "$PGHA" --version
is "$RC" 0 "pgha --version: exit 0"
like "$FIRST" '^pgha \(pgha\) [0-9]' "version line"
run "$PGHA" status --help
is "$RC" 0 "pgha status --help: exit 0"
is "$(printf '%s\n' "$OUT" | awk 'length > 80' | wc -l)" 0 "help fits 80 columns"
run "$PGHA" nosuch
is "$RC" 2 "unknown command: exit 2"

# --- after the whole cluster restarts, the leader is on a new timeline and the
# replicas stream on it, while Patroni still reports their old one (it comes
# from their last restartpoint, minutes away): the health check believes
# pg_stat_replication, not that figure
"$SANDBOX" down >/dev/null 2>&1
"$SANDBOX" up >/dev/null 2>&1
ok $? "cluster stopped and started again, all streaming"
for _ in $(seq 20); do
	run "$PGHA" status -c "$PGHA_CLUSTER_FILE" --health-check
	[ "$RC" = 0 ] && break
	sleep 0.5
done
is "$RC" 0 "health check OK right after the restart"
like "$FIRST" "^PGHA_STATUS OK - leader n[123] on timeline [0-9]+, 2 of 2 replicas streaming" "all replicas counted as streaming"
done_testing
