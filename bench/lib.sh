# lib.sh: what the benchmarks share; sourced with the script's arguments.
# bench_build NEED [BUILDDIR] sets top (the source tree) and build
# (BUILDDIR, else _build/werror, else _build/demo) and stops unless
# $build/NEED exists (a program the benchmark runs).
bench_build() {
	local need=$1 b
	top=$(cd "$(dirname "$0")/.." && pwd)
	build=${2:-}
	if [ -z "$build" ]; then
		for b in "$top/_build/werror" "$top/_build/demo"; do
			[ -x "$b/$need" ] && { build=$b; break; }
		done
	fi
	[ -n "$build" ] && [ -x "$build/$need" ] || { echo "bench: build pgha first (no BUILDDIR/$need)" >&2; exit 1; }
}
