#!/usr/bin/env bash
# Run every Criterion test binary given, then print one closing line
# "N passed, N failed, N skipped" summed over all of them.  Exit 1 when any
# test failed or crashed, or a binary could not run.
set -u
passed=0 failed=0 skipped=0 bad=0
for t in "$@"; do
	name=$(basename "$t")
	out=$("$t" --verbose=0 -j1 2>&1); rc=$?
	syn=$(printf '%s\n' "$out" | grep -a "Synthesis:" | tail -1)
	if [ -z "$syn" ]; then
		printf '%s\n' "$out" | tail -20
		echo "$name: no Criterion synthesis (exit $rc)"; bad=$((bad + 1)); continue
	fi
	tested=$(sed -n 's/.*Tested: *\([0-9]*\).*/\1/p' <<<"$syn")
	pass=$(sed -n 's/.*Passing: *\([0-9]*\).*/\1/p' <<<"$syn")
	fail=$(sed -n 's/.*Failing: *\([0-9]*\).*/\1/p' <<<"$syn")
	crash=$(sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p' <<<"$syn")
	skip=$(printf '%s\n' "$out" | grep -ac "\[SKIP\]" || true)
	printf '%s\n' "$out" | grep -a -E "\[(FAIL|SKIP)\]|\[----\].*(Assertion|crash|signal)" | head -40
	# Criterion's "Failing" already counts the crashed tests
	echo "$name: $pass passed, $fail failed ($crash crashed), $skip skipped (of $tested)"
	passed=$((passed + pass)); failed=$((failed + fail)); skipped=$((skipped + skip))
	[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && bad=$((bad + 1))
done
echo "$passed passed, $((failed + bad)) failed, $skipped skipped"
[ $((failed + bad)) -eq 0 ]
