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
. "$top_srcdir/tests/tap.sh"

# shellcheck disable=SC1090
if ! sandbox_env=$("$SANDBOX" env 2>&1); then
	echo "Bail out! sandbox env failed: $sandbox_env"
	exit 1
fi
eval "$sandbox_env"
export PGPASSFILE

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

