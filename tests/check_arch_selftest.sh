#!/usr/bin/env bash
# check_arch_selftest.sh - proves tools/check_arch.py can fail and pass:
# tiny C files compiled into objects in a scratch tree with a layer table of
# their own, one scenario each (a cycle, an upward edge, an allowed pair, a
# clean graph, and the table errors).  Closing line "N passed, N failed";
# exit 1 when any failed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
checker="$here/tools/check_arch.py"
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sxgate-arch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# A scratch repository: layers engine/*.c 0, server/*.c 1.
fresh() {
	rm -rf "$tmp/r"
	mkdir -p "$tmp/r/engine" "$tmp/r/server" "$tmp/r/docs"
	printf 'engine/*.c 0 engine\nserver/*.c 1 server\n' >"$tmp/r/docs/layers.txt"
	: >"$tmp/r/docs/layers-allow.txt"
}

# src PATH CODE: a source file of the scratch tree.
src() { printf '%s\n' "$2" >"$tmp/r/$1"; }

# run: compile every source into build/, then run the checker; out, rc.
run() {
	local f o
	for f in $(cd "$tmp/r" && ls engine/*.c server/*.c 2>/dev/null); do
		o="$tmp/r/build/${f%.c}.o"
		mkdir -p "$(dirname "$o")"
		"$CC" -c -o "$o" "$tmp/r/$f" || { echo "cannot compile $f"; exit 1; }
	done
	out=$(cd "$tmp/r" && python3 "$checker" "$@" 2>&1); rc=$?
}

# check NAME WANT_RC PATTERN...: rc equals WANT_RC and every pattern (a
# fixed string) appears in the output.
check() {
	local name=$1 want=$2 p ok=1
	shift 2
	[ "$rc" -eq "$want" ] || ok=0
	for p in "$@"; do
		grep -qF -- "$p" <<<"$out" || { ok=0; echo "  missing: $p"; }
	done
	if [ $ok = 1 ]; then
		passed=$((passed + 1)); echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $rc, want $want); output:"
		sed 's/^/  | /' <<<"$out"
	fi
}

# 1. a cycle between two files of one layer
fresh
src engine/a.c 'int b_f(void); int a_f(void) { return b_f(); }'
src engine/b.c 'int a_f(void); int b_f(void) { return a_f() + 1; }'
run
check "cycle is reported and fails" 1 \
	"cycle: 2 files in one cycle" "engine/a.c -> engine/b.c -> engine/a.c" \
	"engine/a.c -> engine/b.c: b_f" "engine/b.c -> engine/a.c: a_f" "FAILED"

# 2. a three-file cycle names every file on its path
fresh
src engine/a.c 'int b_f(void); int a_f(void) { return b_f(); }'
src engine/b.c 'int c_f(void); int b_f(void) { return c_f(); }'
src engine/c.c 'int a_f(void); int c_f(void) { return a_f(); }'
run
check "three-file cycle is one path" 1 \
	"cycle: 3 files" "engine/a.c -> engine/b.c -> engine/c.c -> engine/a.c"

# 3. an edge from a lower layer to a higher one
fresh
src engine/a.c 'int s_f(void); int s_g(void); int a_f(void) { return s_f() + s_g(); }'
src server/s.c 'int s_f(void) { return 1; } int s_g(void) { return 2; }'
run
check "upward edge is reported and fails" 1 \
	"upward: engine/a.c (0 engine) -> server/s.c (1 server): s_f, s_g" \
	"1 upward edges, 0 cycles"

# 4. the same cycle as 1, its pair allowed with a reason
fresh
src engine/a.c 'int b_f(void); int a_f(void) { return b_f(); }'
src engine/b.c 'int a_f(void); int b_f(void) { return a_f() + 1; }'
echo 'engine/b.c engine/a.c  they are one thing split in two' >"$tmp/r/docs/layers-allow.txt"
run
check "allowed pair passes" 0 "check-arch: ok: 2 objects, 2 edges, 1 layers"

# 5. an allowed pair does not excuse a longer cycle through a forbidden edge
src engine/c.c 'int a_f(void); int c_f(void) { return a_f(); }'
src engine/b.c 'int a_f(void); int c_f(void); int b_f(void) { return a_f() + c_f(); }'
run
check "allowed pair inside a bigger cycle still fails" 1 \
	"cycle: 3 files" "engine/b.c -> engine/c.c -> engine/a.c"

# 6. an allowed upward pair passes
fresh
src engine/a.c 'int s_f(void); int a_f(void) { return s_f(); }'
src server/s.c 'int a_f(void); int s_f(void) { return 1; } int s_g(void) { return a_f(); }'
echo 'engine/a.c server/s.c  a callback, kept on purpose' >"$tmp/r/docs/layers-allow.txt"
run
check "allowed upward pair passes" 0 "check-arch: ok: 2 objects, 2 edges, 2 layers"

# 7. a clean graph: higher layer uses lower, no cycle
fresh
src engine/a.c 'int a_f(void) { return 1; }'
src engine/b.c 'int a_f(void); int b_f(void) { return a_f(); }'
src server/s.c 'int a_f(void); int b_f(void); int s_f(void) { return a_f() + b_f(); }'
run
check "clean graph passes" 0 "check-arch: ok: 3 objects, 3 edges, 2 layers"

# 8. a file no rule places
mkdir -p "$tmp/r/client"
src client/x.c 'int a_f(void); int x_f(void) { return a_f(); }'
mkdir -p "$tmp/r/build/client"
"$CC" -c -o "$tmp/r/build/client/x.o" "$tmp/r/client/x.c"
run
check "unmatched file is named" 1 "client/x.c: no rule in" "1 files without a layer"

# 9. an allowed pair without its reason
fresh
src engine/a.c 'int a_f(void) { return 1; }'
echo 'engine/a.c engine/b.c' >"$tmp/r/docs/layers-allow.txt"
run
check "allow entry without a reason is an error" 2 "layers-allow.txt:1: an allowed pair needs a reason"

# 10. a bad layer number names file and line
fresh
src engine/a.c 'int a_f(void) { return 1; }'
printf '# comment\nengine/*.c zero engine\n' >"$tmp/r/docs/layers.txt"
run
check "bad layer line names file:line" 2 "layers.txt:2: layer number 'zero' is not an integer"

# 11. first match wins; '*' does not cross '/'
fresh
src engine/a.c 'int a_f(void) { return 1; }'
src server/main.c 'int s_f(void); int main(void) { return s_f(); }'
src server/s.c 'int a_f(void); int s_f(void) { return a_f(); }'
printf 'server/main.c 2 programs\nengine/*.c 0 engine\nserver/*.c 1 server\n' >"$tmp/r/docs/layers.txt"
run
check "first matching rule wins" 0 "ok: 3 objects, 2 edges, 3 layers"

# 12. a stale object (its source gone) is skipped, not counted
rm "$tmp/r/server/main.c"
out=$(cd "$tmp/r" && python3 "$checker" 2>&1); rc=$?
check "stale object is skipped" 0 "skipped" "ok: 2 objects, 1 edges"

# 13. --dot writes a graph
run --dot "$tmp/g.dot"
out="$out
$(cat "$tmp/g.dot" 2>/dev/null)"
check "--dot writes the graph" 0 '"server/s.c" -> "engine/a.c"' "digraph"

echo "check_arch_selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
