# tap.sh: TAP helpers for the shell tests, sourced by tests/*/lib.sh.
# ok, is, like, unlike, run (captures OUT, RC and FIRST of a command), diag,
# done_testing.

TAP_N=0
TAP_FAILED=0

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

# matches TEXT REGEX: grep -E on each line of TEXT; a REGEX holding a newline
# (e.g. $'\nfoo', "at the start of a line after the first") is matched
# against the whole text with bash's ERE instead, since grep would split it
# into several patterns, one of them empty, and match anything.
matches() {
	local text=$1 re=$2
	if [[ $re == *$'\n'* ]]; then
		[[ $text =~ $re ]]
	else
		printf '%s' "$text" | grep -Eq -- "$re"
	fi
}

like() { # like TEXT REGEX NAME
	local text=$1 re=$2; shift 2
	matches "$text" "$re"
	ok $? "$*" || diag "text: '$text'" "does not match: '$re'"
}

unlike() {
	local text=$1 re=$2; shift 2
	! matches "$text" "$re"
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

done_testing() {
	printf '1..%d\n' "$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
