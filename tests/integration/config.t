# config.t: check_pgha_config against the real sandbox cluster: the hash is
# check_patroni's, a PATCH /config is caught and named by --show-diff,
# --save moves the reference, a switchover leaves the configuration alone.
# The configuration is restored exactly at the end.
# shellcheck shell=bash
. "$(dirname "$0")/lib.sh"

CHECK="$PLUGINS/check_pgha_config"
"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }

# rest METHOD NODE PATH [JSON]: an authenticated REST call; prints the body,
# a newline, the HTTP status. Credentials go to curl on stdin, not argv.
rest() {
	local user pass
	user=$(sed -n 's/^username=//p' "$PGHA_AUTH_FILE")
	pass=$(sed -n 's/^password=//p' "$PGHA_AUTH_FILE")
	printf 'user = "%s:%s"\n' "$user" "$pass" |
		curl -s -K - -X "$1" -H 'Content-Type: application/json' ${4:+--data "$4"} \
			-w '\n%{http_code}' "$(rest_of "$2")$3"
}

# until_rc WANT CMD...: run CMD (via run) until it exits WANT, up to 10 s
# (a PATCH reaches every node's view of the DCS within a moment).
until_rc() {
	local want=$1 i
	shift
	for i in $(seq 50); do
		run "$@"
		[ "$RC" = "$want" ] && return 0
		sleep 0.2
	done
}

tmpdir=$(mktemp -d)
L=$(leader)
set -- $(replicas)
R1=$1
ALL=$PGHA_PATRONI_URLS
diag "leader $L, replica $R1"

# Restore the two settings this test changes, even when it fails half-way.
restore() {
	rest PATCH "$L" /config \
		'{"maximum_lag_on_failover": 1048576, "postgresql": {"parameters": {"work_mem": null}}}'
}
trap 'restore >/dev/null; rm -rf "$tmpdir"' EXIT

# --- the hash is check_patroni's ---------------------------------------------------
curl -s "$(rest_of "$L")/config" > "$tmpdir/config.json"
orig=$(/usr/bin/python3 -c 'import hashlib, json, sys
print(hashlib.md5(json.dumps(json.load(open(sys.argv[1]))).encode()).hexdigest())' "$tmpdir/config.json")
diag "check_patroni's hash of the sandbox configuration: $orig"
run "$CHECK" --patroni "$ALL" --hash "$orig"
is "$RC" 0 "--hash computed by python3 as check_patroni does: OK"
is "$FIRST" "PGHA_CONFIG OK - dynamic configuration unchanged (hash $orig) | is_configuration_changed=0;;@1:1" \
	"status line and perfdata"

# --- state file ------------------------------------------------------------------------
state="$tmpdir/config.state"
run "$CHECK" --patroni "$ALL" --state-file "$state"
is "$RC" 0 "first run records: OK"
like "$FIRST" "dynamic configuration recorded in \"$state\" \\(hash $orig\\)" "says so, with the same hash"
is "$(stat -c %a "$state")" 600 "state file mode 0600"
run "$CHECK" --patroni "$(rest_of "$R1")" --state-file "$state"
is "$RC" 0 "second run, asked through a replica: OK"

# --- a change: a parameter added, a top-level setting changed ------------------------------
out=$(rest PATCH "$L" /config '{"maximum_lag_on_failover": 2097152, "postgresql": {"parameters": {"work_mem": "5MB"}}}')
is "${out##*$'\n'}" 200 "PATCH /config (work_mem 5MB, maximum_lag_on_failover 2MB): 200"
until_rc 2 "$CHECK" --patroni "$ALL" --state-file "$state" --show-diff
is "$RC" 2 "changed configuration: CRITICAL, as check_patroni"
like "$FIRST" '^PGHA_CONFIG CRITICAL - dynamic configuration changed \(hash [0-9a-f]{32}\) \| is_configuration_changed=1;;@1:1$' \
	"status line"
like "$OUT" $'\nmaximum_lag_on_failover changed\n' "--show-diff names the top-level key"
like "$OUT" $'\npostgresql\\.parameters\\.work_mem added\n' "and the nested one"
like "$OUT" "recorded hash $orig" "and the recorded hash"
run "$CHECK" --patroni "$ALL" --state-file "$state" --show-diff -v
like "$OUT" 'maximum_lag_on_failover changed from 1048576 to 2097152' "-v shows the values"
run "$CHECK" --patroni "$ALL" --hash "$orig"
is "$RC" 2 "--hash of the old configuration: CRITICAL"
run "$CHECK" --patroni "$ALL" --state-file "$state" --save
is "$RC" 2 "--save reports the change once"
run "$CHECK" --patroni "$ALL" --state-file "$state"
is "$RC" 0 "then the changed configuration is the reference: OK"

# --- restore: the hash comes back exactly ----------------------------------------------------
out=$(restore)
is "${out##*$'\n'}" 200 "PATCH /config restoring both settings: 200"
until_rc 0 "$CHECK" --patroni "$ALL" --hash "$orig"
is "$RC" 0 "restored: the original hash again"
run "$CHECK" --patroni "$ALL" --state-file "$state" --show-diff --save
is "$RC" 2 "the state file (recorded the change) sees the restore as a change"
like "$OUT" $'\npostgresql\\.parameters\\.work_mem removed\n' "work_mem removed"
run "$CHECK" --patroni "$ALL" --state-file "$state"
is "$RC" 0 "and after --save: OK"

# --- a switchover changes the timeline, not the configuration ----------------------------------
tl_before=$(curl -s "$(rest_of "$L")/patroni" | sed -n 's/.*"timeline": \([0-9]*\).*/\1/p')
"$SANDBOX" patronictl switchover --leader "$L" --candidate "$R1" --force >/dev/null 2>&1
ok $? "switchover $L -> $R1"
"$SANDBOX" wait-healthy 90 >/dev/null
is "$(leader)" "$R1" "$R1 leads now"
tl_after=$(curl -s "$(rest_of "$R1")/patroni" | sed -n 's/.*"timeline": \([0-9]*\).*/\1/p')
is "$tl_after" "$((tl_before + 1))" "the timeline moved ($tl_before -> $tl_after)"
run "$CHECK" --patroni "$ALL" --state-file "$state" --show-diff
is "$RC" 0 "after the switchover the configuration check stays OK" || diag "$OUT"
run "$CHECK" --patroni "$ALL" --hash "$orig"
is "$RC" 0 "and the hash is still check_patroni's original one"

# --- unreachable -------------------------------------------------------------------------------
run "$CHECK" --patroni "http://127.0.0.1:1" --hash "$orig" -t 2
is "$RC" 2 "nothing reachable: CRITICAL"

"$SANDBOX" wait-healthy 60 >/dev/null
ok $? "the cluster is healthy at the end"
done_testing
