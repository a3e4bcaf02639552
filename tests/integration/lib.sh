# lib.sh: TAP helpers for the integration tests, sourced by each *.t.
#
# Sets SANDBOX (the sandbox script), PLUGINS (built check binaries) and
# sources the sandbox's endpoints (PGHA_* variables, see `pgha-sandbox env`).
# Helpers: ok, is, like, unlike, run (captures OUT and RC of a command),
# diag, done_testing; the nodes (rest_of, leader, replicas, pgport_of,
# sql_at, require_healthy); run_timed; a stopped node (stop_node,
# start_node, start_stopped_node); background sessions on a node
# (sessions_init, hold_session, run_session, sessions, end_sessions).

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


# require_healthy: bail out unless the sandbox cluster is healthy (60 s).
require_healthy() {
	"$SANDBOX" wait-healthy 60 >/dev/null || { echo "Bail out! sandbox not healthy"; exit 1; }
}

# pgport_of NODE: the node's PostgreSQL port (PGHA_N1_PGPORT for n1).
pgport_of() {
	local var
	var="PGHA_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_PGPORT"
	printf '%s' "${!var}"
}

# sql_at NODE SQL: run SQL on NODE as the superuser; prints the rows
# unaligned, without headers; psql's errors are dropped.
sql_at() { "$SANDBOX" psql "$1" -XAtc "$2" 2>/dev/null; }

# run_timed CMD...: run CMD (OUT, RC, FIRST) and set ELAPSED to the
# milliseconds it took.
run_timed() {
	local start
	start=$(date +%s%N)
	run "$@"
	ELAPSED=$(( ($(date +%s%N) - start) / 1000000 ))
}

# --- a stopped node ----------------------------------------------------------
# stop_node NODE: stop NODE (Patroni and PostgreSQL). start_node starts it
# again and waits for a healthy cluster (90 s; its status is
# wait-healthy's); call start_stopped_node from the EXIT trap so that a
# failing test leaves no node down.
STOPPED_NODE=''
stop_node() {
	"$SANDBOX" stop "$1" >/dev/null 2>&1
	STOPPED_NODE=$1
}
start_node() {
	"$SANDBOX" start "$STOPPED_NODE" >/dev/null 2>&1
	STOPPED_NODE=
	"$SANDBOX" wait-healthy 90 >/dev/null
}
start_stopped_node() {
	[ -n "$STOPPED_NODE" ] || return 0
	start_node 2>/dev/null
}

# --- background sessions -----------------------------------------------------
# Sessions that stay open on a node while a check runs (idle, idle in
# transaction, holding a lock, running a long query). sessions_init NODE
# APP [PSQL-ARG...] says where they go: NODE, through psql with PSQL-ARGs
# (e.g. -U ROLE; default the sandbox superuser); every session's
# application_name starts with APP, which is how sessions and end_sessions
# find them. Call end_sessions from the EXIT trap.
SESSION_NODE='' SESSION_APP='' SESSION_DIR='' SESSION_ARGS=() BG_PIDS=() BG_FDS=()
sessions_init() {
	SESSION_NODE=$1 SESSION_APP=$2
	shift 2
	SESSION_ARGS=("$@")
}

# hold_session NAME SQL: a psql session (application_name NAME) fed through
# a fifo this shell keeps open: it runs SQL, then sits idle until the fifo
# is closed or it is killed; more SQL goes to it with
# printf '...\n' >&"${BG_FDS[i]}" (i counts from 0 in the order of the
# calls). Children never inherit the other sessions' fifos, so closing one
# ends exactly one session.
hold_session() {
	local fifo fd
	[ -n "$SESSION_DIR" ] || SESSION_DIR=$(mktemp -d)
	fifo="$SESSION_DIR/fifo${#BG_FDS[@]}"
	mkfifo "$fifo"
	(
		for fd in "${BG_FDS[@]}"; do exec {fd}>&-; done
		PGAPPNAME=$1 exec "$SANDBOX" psql "$SESSION_NODE" "${SESSION_ARGS[@]}" -X -q \
			<"$fifo" >/dev/null 2>&1
	) &
	BG_PIDS+=("$!")
	exec {fd}>"$fifo"
	BG_FDS+=("$fd")
	printf '%s\n' "$2" >&"$fd"
}

# run_session NAME SQL: a psql running SQL in the background.
run_session() {
	(
		for fd in "${BG_FDS[@]}"; do exec {fd}>&-; done
		PGAPPNAME=$1 exec "$SANDBOX" psql "$SESSION_NODE" "${SESSION_ARGS[@]}" -X -q -c "$2" \
			>/dev/null 2>&1
	) &
	BG_PIDS+=("$!")
}

# sessions: how many of our sessions the server shows.
sessions() {
	sql_at "$SESSION_NODE" "SELECT count(*) FROM pg_stat_activity
		WHERE application_name LIKE '$SESSION_APP%'"
}

# end_sessions: close the fifos, kill the clients, end their backends (a
# backend in pg_sleep outlives its client) and wait until they are gone.
end_sessions() {
	local fd
	[ -n "$SESSION_NODE" ] || return 0
	for fd in "${BG_FDS[@]}"; do exec {fd}>&-; done
	[ ${#BG_PIDS[@]} -gt 0 ] && kill "${BG_PIDS[@]}" 2>/dev/null
	[ ${#BG_PIDS[@]} -gt 0 ] && wait "${BG_PIDS[@]}" 2>/dev/null
	BG_PIDS=() BG_FDS=()
	[ -n "$SESSION_DIR" ] && rm -rf "$SESSION_DIR"
	SESSION_DIR=
	sql_at "$SESSION_NODE" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name LIKE '$SESSION_APP%'" >/dev/null
	for _ in $(seq 50); do [ "$(sessions)" = 0 ] && break; sleep 0.1; done
}
