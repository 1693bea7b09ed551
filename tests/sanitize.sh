#!/usr/bin/env bash
# tests/sanitize.sh KIND BUILD_DIR TEST_SRC... - run the test suite built
# with a sanitizer (make test-sanitize: KIND asan, BUILD_DIR build/asan;
# make test-tsan: tsan, build/tsan) and fail on any sanitizer report, from
# the test binaries or from the programs they start.
#
# Integration tests start the real programs.  The helpers (tests/testutil.h
# tu_repo_root, tests/helpers/srvtest.h st_bin) take them from ROOT/bin and
# the sample data from ROOT/../shared/data or else ROOT/tests/data, ROOT
# being the nearest directory above the test binary that holds a Makefile
# and engine/snapshot.h.  So BUILD_DIR is made such a root: a marker
# Makefile, engine/snapshot.h linked in, BUILD_DIR/../shared linked to the
# real shared/ when there is one, tests/data linked.  The sanitized tests (BUILD_DIR/tests/) then start the sanitized
# programs (BUILD_DIR/bin/) and never the normal ones.  SXGATE_BIN_DIR is
# exported too, for helpers that honour it.
#
# ASan and LSan reports go to files (log_path) instead of stderr, so a
# report from a server that a test started and then killed is not lost in
# its log; any such file fails the run and is printed.  gcc's UBSan ignores
# log_path: a UBSan report goes to the process's stderr and, with
# -fno-sanitize-recover=all and abort_on_error, kills the process, which
# fails the test that ran it (or that talked to the server it killed).
set -u
kind=$1 dir=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$dir" && pwd)

printf '# Not a Makefile: marks %s as the test root of the %s build\n# (tests/sanitize.sh), so tests start the programs in bin/ here.\n' \
	"$dir" "$kind" >"$dir/Makefile"
mkdir -p "$dir/engine"
ln -sf "$root/engine/snapshot.h" "$dir/engine/snapshot.h"
if [ -d "$root/../shared" ] && [ ! -e "$dir/../shared" ]; then
	ln -s "$(cd "$root/.." && pwd)/shared" "$dir/../shared"
fi
# the copy of the sample data a fresh clone carries (no ../shared in CI)
mkdir -p "$dir/tests"
ln -sfn "$root/tests/data" "$dir/tests/data"
# and the helper scripts the tests run (tests/helpers/browser.py)
ln -sfn "$root/tests/helpers" "$dir/tests/helpers"
export SXGATE_BIN_DIR="$dir/bin"
# Instrumented code runs 2-20 times slower; for tests that honour it:
# tests/test_server_abuse.c holds crowds of 2 000 instead of 10 000 and
# reports its memory bounds instead of asserting them (docs/RELIABILITY.md).
export SXGATE_TEST_SLOWDOWN=10

logs="$dir/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
case "$kind" in
asan)
	export ASAN_OPTIONS="log_path=$logs/asan:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
	export LSAN_OPTIONS="log_path=$logs/lsan"
	;;
tsan)
	export TSAN_OPTIONS="log_path=$logs/tsan:second_deadlock_stack=1:halt_on_error=0"
	;;
*)
	echo "usage: $0 asan|tsan BUILD_DIR TEST_SRC..." >&2
	exit 2
	;;
esac

tests=()
for src in "$@"; do
	name=$(basename "$src" .c)
	tests+=("$dir/tests/$name")
done
echo "sanitize ($kind): ${#tests[@]} test binaries from $dir/tests, programs from $dir/bin"
"$root/tests/run-tests.sh" "${tests[@]}"
rc=$?

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
	n=$(printf '%s\n' "$reports" | wc -l)
	echo "sanitize ($kind): $n sanitizer report(s):"
	for f in $reports; do
		echo "---- $f"
		head -60 "$f"
	done
	rc=1
else
	echo "sanitize ($kind): no sanitizer reports"
fi
exit $rc
