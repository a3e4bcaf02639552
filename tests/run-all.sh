#!/bin/bash
# run-all.sh: every pgha test, as CI runs it.
#   1. build with --enable-werror, run the unit tests
#   2. the same unit tests under valgrind (leaks and memory errors fail)
#   3. build with ASan+UBSan, run the unit tests
#   4. start the sandbox cluster, run the integration tests, stop it
# Ends with "N passed, N failed" counting every TAP test point.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0

# count BUILDDIR: add the results of the last `make check` there.
count() {
	local p f
	p=$(cat "$1"/tests/*/*.trs 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat "$1"/tests/*/*.trs 2>/dev/null | grep -Ec '^:test-result: (FAIL|ERROR|XPASS)')
	passed=$((passed + p))
	failed=$((failed + f))
	echo "== $2: $p passed, $f failed"
}

# configure_build DIR FLAGS...: an out-of-tree build; a failure counts.
configure_build() {
	local dir=$1; shift
	rm -rf "$dir" && mkdir -p "$dir" &&
		(cd "$dir" && "$top/configure" -q "$@") &&
		make -s -C "$dir" -j"$jobs" all
}

clean_trs() { rm -f "$1"/tests/*/*.trs "$1"/tests/*/*.log; }

# show_failures DIR: print the logs of failed tests so CI shows why.
show_failures() {
	local trs
	for trs in $(grep -l -E '^:test-result: (FAIL|ERROR)' "$1"/tests/*/*.trs 2>/dev/null); do
		echo "---- ${trs%.trs}.log"
		grep -v '^ok ' "${trs%.trs}.log" | tail -40
	done
}

if [ ! -x configure ]; then ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; echo "0 passed, 1 failed"; exit 1; }; fi

echo "== unit tests (-Werror)"
main="$top/_build/werror"
if configure_build "$main" --enable-werror; then
	clean_trs "$main"
	make -s -C "$main" -j"$jobs" check >/dev/null 2>&1
	count "$main" "unit"; show_failures "$main"
else
	echo "== build with -Werror failed"; failed=$((failed + 1))
fi

echo "== unit tests under valgrind"
if [ -x "$main/plugins/check_pgha_node" ] && command -v valgrind >/dev/null; then
	clean_trs "$main"
	make -s -C "$main" -j"$jobs" check \
		LOG_COMPILER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" \
		>/dev/null 2>&1
	count "$main" "valgrind"; show_failures "$main"
fi

echo "== unit tests (ASan+UBSan)"
san="$top/_build/sanitizers"
if configure_build "$san" --enable-werror --enable-sanitizers; then
	clean_trs "$san"
	ASAN_OPTIONS=detect_leaks=1 make -s -C "$san" -j"$jobs" check >/dev/null 2>&1
	count "$san" "sanitizers"; show_failures "$san"
else
	echo "== sanitizer build failed"; failed=$((failed + 1))
fi

echo "== integration tests (real sandbox cluster)"
sandbox="$top/tests/sandbox/pgha-sandbox"
if "$sandbox" up; then
	clean_trs "$main"
	make -s -C "$main" integration >/dev/null 2>&1
	count "$main" "integration"; show_failures "$main"
else
	echo "== sandbox did not come up"; failed=$((failed + 1))
	tail -n 30 "${PGHA_SANDBOX_DIR:-/tmp/pgha-sandbox}"/log/*.log 2>/dev/null
fi
"$sandbox" down >/dev/null 2>&1 || true

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
