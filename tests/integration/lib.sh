# lib.sh: TAP helpers for the integration tests, sourced by each *.t.
#
# Sets SANDBOX (the sandbox script), PLUGINS (built check binaries) and
# sources the sandbox's endpoints (PGHA_* variables, see `pgha-sandbox env`).
# Helpers: ok, is, like, unlike, run (captures OUT and RC of a command),
# diag, done_testing.

top_srcdir=${PGHA_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${PGHA_TOP_BUILDDIR:-$top_srcdir}
SANDBOX="$top_srcdir/tests/sandbox/pgha-sandbox"
PLUGINS="$top_builddir/plugins"
FIXTURE="$top_builddir/tests/unit/fixture_server"
TAP_N=0
TAP_FAILED=0

# shellcheck disable=SC1090
if ! sandbox_env=$("$SANDBOX" env 2>&1); then
	echo "Bail out! sandbox env failed: $sandbox_env"
	exit 1
fi
eval "$sandbox_env"
export PGPASSFILE

diag() { printf '# %s\n' "$@"; }

ok() { # ok CONDITION-EXIT-STATUS NAME
	local status=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$status" -eq 0 ]; then
		printf 'ok %d - %s\n' "$TAP_N" "$*"
	else
		printf 'not ok %d - %s\n' "$TAP_N" "$*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$status"
}

is() { # is GOT WANT NAME
	local got=$1 want=$2; shift 2
	[ "$got" = "$want" ]
	ok $? "$*" || diag "got:  '$got'" "want: '$want'"
}

like() { # like TEXT REGEX NAME  (grep -E)
	local text=$1 re=$2; shift 2
	printf '%s' "$text" | grep -Eq -- "$re"
	ok $? "$*" || diag "text: '$text'" "does not match: '$re'"
}

unlike() {
	local text=$1 re=$2; shift 2
	! printf '%s' "$text" | grep -Eq -- "$re"
	ok $? "$*" || diag "text: '$text'" "matches: '$re'"
}

# run CMD...: OUT gets stdout, RC the exit code, FIRST the first line.
run() {
	OUT=$("$@" 2>&1)
	RC=$?
	FIRST=${OUT%%$'\n'*}
	if [ -n "${TAP_VERBOSE:-}" ]; then diag "\$ $*" "$OUT" "exit $RC"; fi
	return 0
}

# rest_of NODE: the node's REST URL (PGHA_N1_REST for n1).
rest_of() {
	local var
	var="PGHA_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_REST"
	printf '%s' "${!var}"
}

# leader: the current leader's node name.
leader() { "$SANDBOX" leader; }

# replicas: the node names that are not the leader.
replicas() {
	local l n
	l=$(leader)
	for n in $PGHA_NODES; do [ "$n" != "$l" ] && printf '%s ' "$n"; done
}

done_testing() {
	printf '1..%d\n' "$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
