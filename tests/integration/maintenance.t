# maintenance.t: check_pgha_maintenance against the real sandbox cluster:
# healthy, paused (PATCH /config), a scheduled switchover (POST /switchover),
# a scheduled restart (patronictl), each undone afterwards.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_maintenance"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

# rest METHOD NODE PATH [JSON]: an authenticated REST call; prints the HTTP
# status then the body. Credentials go to curl on stdin, never in argv.
rest() {
	local user pass
	user=$(sed -n 's/^username=//p' "$PGHA_AUTH_FILE")
	pass=$(sed -n 's/^password=//p' "$PGHA_AUTH_FILE")
	printf 'user = "%s:%s"\n' "$user" "$pass" |
		curl -s -K - -X "$1" -H 'Content-Type: application/json' ${4:+--data "$4"} \
			-w '\n%{http_code}' "$(rest_of "$2")$3"
}

# Undo everything this test may have done, even when it fails half-way.
cleanup() {
	"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
	"$SANDBOX" patronictl flush "$PGHA_SCOPE" switchover --force >/dev/null 2>&1
	"$SANDBOX" patronictl flush "$PGHA_SCOPE" restart --force >/dev/null 2>&1
}
trap cleanup EXIT

# until_rc WANT CMD...: run CMD (via run) until it exits WANT, up to 10 s.
until_rc() {
	local want=$1 i
	shift
	for i in $(seq 50); do
		run "$@"
		[ "$RC" = "$want" ] && return 0
		sleep 0.2
	done
}

L=$(leader)
set -- $(replicas)
R1=$1 R2=$2
diag "leader $L, replicas $R1 $R2"
ALL=$PGHA_PATRONI_URLS

# --- healthy ---------------------------------------------------------------------
run "$CHECK" --patroni "$ALL"
is "$RC" 0 "healthy cluster: OK"
is "$FIRST" "PGHA_MAINTENANCE OK - not paused; no switchover scheduled; no restart scheduled | is_in_maintenance=0;;0:0;0 has_scheduled_actions=0;;;0 scheduled_switchover=0;;0:0;0 scheduled_restart=0;;0:0;0" \
	"status line and perfdata"
run "$CHECK" --patroni "http://127.0.0.1:1,$(rest_of "$R2")"
is "$RC" 0 "a dead endpoint first: the next one answers"

# --- paused ----------------------------------------------------------------------
out=$(rest PATCH "$L" /config '{"pause": true}')
is "${out##*$'\n'}" 200 "PATCH /config {\"pause\": true} with basic auth: 200"
until_rc 2 "$CHECK" --patroni "$ALL"
is "$RC" 2 "paused cluster: CRITICAL"
like "$FIRST" '^PGHA_MAINTENANCE CRITICAL - cluster paused \(maintenance mode: no automatic failover\) \| is_in_maintenance=1;;0:0;0 ' \
	"says paused, is_in_maintenance=1"
run "$CHECK" --patroni "$(rest_of "$R1")" --paused-state warning
is "$RC" 1 "asked through a replica, --paused-state warning: WARNING"
run "$CHECK" --patroni "$ALL" --alert scheduled
is "$RC" 0 "--alert scheduled: the pause does not alert"
"$SANDBOX" patronictl resume --wait >/dev/null 2>&1
ok $? "patronictl resume --wait"
until_rc 0 "$CHECK" --patroni "$ALL"
is "$RC" 0 "resumed: OK again"

# --- a switchover scheduled an hour ahead ------------------------------------------
at=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S+00:00)
out=$(rest POST "$L" /switchover "{\"leader\": \"$L\", \"candidate\": \"$R1\", \"scheduled_at\": \"$at\"}")
is "${out##*$'\n'}" 202 "POST /switchover scheduled at $at: 202"
until_rc 2 "$CHECK" --patroni "$ALL"
is "$RC" 2 "scheduled switchover: CRITICAL"
like "$FIRST" "^PGHA_MAINTENANCE CRITICAL - switchover scheduled at ${at//+/\\+} from $L to $R1 \\|" \
	"names the time, the leader and the candidate"
like "$FIRST" 'has_scheduled_actions=1;;;0 scheduled_switchover=1;;0:0;0 scheduled_restart=0;;0:0;0$' \
	"perfdata"
run "$CHECK" --patroni "$ALL" --switchover-state warning
is "$RC" 1 "--switchover-state warning: WARNING"
run "$CHECK" --patroni "$ALL" --alert paused,restart
is "$RC" 0 "--alert paused,restart: the switchover does not alert"
out=$(rest DELETE "$L" /switchover)
is "${out##*$'\n'}" 200 "DELETE /switchover cancels it: 200"
until_rc 0 "$CHECK" --patroni "$ALL"
is "$RC" 0 "cancelled: OK"
is "$(leader)" "$L" "and nobody switched over"

# --- a restart scheduled on a replica ------------------------------------------------
"$SANDBOX" patronictl restart "$PGHA_SCOPE" "$R2" --scheduled "$at" --force >/dev/null 2>&1
ok $? "patronictl restart $R2 --scheduled $at"
until_rc 2 "$CHECK" --patroni "$ALL"
is "$RC" 2 "scheduled restart: CRITICAL"
like "$FIRST" "^PGHA_MAINTENANCE CRITICAL - restart scheduled on $R2 at ${at//+/\\+} \\|" "names the member and the time"
like "$FIRST" 'scheduled_switchover=0;;0:0;0 scheduled_restart=1;;0:0;0$' "scheduled_restart=1"
run "$CHECK" --patroni "$ALL" --alert paused --alert switchover
is "$RC" 0 "--alert paused --alert switchover: the restart does not alert"
"$SANDBOX" patronictl flush "$PGHA_SCOPE" restart --force >/dev/null 2>&1
ok $? "patronictl flush restart"
until_rc 0 "$CHECK" --patroni "$ALL"
is "$RC" 0 "flushed: OK"

# --- a stopped endpoint ------------------------------------------------------------------
run "$CHECK" --patroni "http://127.0.0.1:1" -t 2
is "$RC" 2 "nothing reachable: CRITICAL"
like "$FIRST" '^PGHA_MAINTENANCE CRITICAL - not reachable: ' "says so"

cleanup
"$SANDBOX" wait-healthy 60 >/dev/null
ok $? "the cluster is healthy at the end"
run "$CHECK" --patroni "$ALL"
is "$RC" 0 "and neither paused nor anything scheduled"

done_testing
