#!/usr/bin/env bash
# bench/ab.sh - A/B: two builds of sxgated on the same data, same client,
# same machine, run alternately, so that a refactoring's cost (or gain) is
# measured against the run-to-run noise of this shared VM rather than
# against figures from another day.
#
#   bench/ab.sh OLD_BIN_DIR NEW_BIN_DIR [WORKDIR]
#
# Each round runs, for A then B (B then A on odd rounds, so neither always
# goes first): the binary protocol's peak configuration of
# docs/BENCHMARKS.md (batch 256, depth 32, 8 connections, sxgated
# --threads 2) and RESP CHECK at depth 16 and 64 (8 connections, sxgated
# --threads 1).  The client is NEW_BIN_DIR's sxgate-bench for both.
# The data comes from OLD_BIN_DIR's sxgate-gen (so that both loaders take
# it), and each side serves a snapshot built by its own sxgate-build (so
# that a change of the snapshot format can be measured too).
# Knobs: AB_RECORDS (2000000), AB_ROUNDS (3), AB_SECONDS per run (3).
# Prints a table of lookups/s per run and the median of each, with the
# ratio B/A per configuration; then the same for the server's CPU time per
# lookup (user + system of sxgated over the run, /proc/PID/stat read once
# the server is ready and again after the run (bench/lib.sh), divided by
# the lookups of the run), which on a machine shared with other work moves
# much less than the rates do.
set -euo pipefail
A=$(realpath "$1"); B=$(realpath "$2")
dir=${3:-build/ab}
n=${AB_RECORDS:-2000000} rounds=${AB_ROUNDS:-3} secs=${AB_SECONDS:-3}
mkdir -p "$dir"
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_data "$dir" "$n" "$A"
for side in A B; do
	bin=$A; [ "$side" = B ] && bin=$B
	if [ ! -f "$dir/list.$side.snap" ] || [ "$dir/list.$side.snap" -ot "$dir/list.snap" ] ||
	   [ "$dir/list.$side.snap" -ot "$bin/sxgate-build" ]; then
		"$bin/sxgate-build" --input "$dir/list.csv" --output "$dir/list.$side.snap" \
			--quiet >/dev/null 2>&1
	fi
done

run() { # SIDE THREADS BENCH-ARGS... -> prints "lookups/s cpu-us-per-lookup"
	local side=$1 threads=$2; shift 2
	local rp bp bin=$A
	[ "$side" = B ] && bin=$B
	rp=$(free_port); bp=$(free_port)
	"$bin/sxgated" --snapshot "$dir/list.$side.snap" --resp-port "$rp" --bin-port "$bp" \
		--threads "$threads" 2>"$dir/sxgated.log" &
	local pid=$!
	pids+=("$pid")
	wait_ready "$dir/sxgated.log"
	local args=("$@") out
	args=("${args[@]//@RESP@/$rp}"); args=("${args[@]//@BIN@/$bp}")
	local c0 c1
	c0=$(proc_ticks "$pid")        # after the snapshot load: the run's ticks only
	out=$("$B/sxgate-bench" --queries "$dir/queries.tsv" "${args[@]}" \
		--duration "$secs" --json 2>/dev/null)
	c1=$(proc_ticks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null || true
	python3 -c 'import json, sys
j = json.loads(sys.argv[1]); print(round(j["lookups_per_s"]), j["lookups"])' "$out" |
	{ read -r lps n; echo "$lps $(us_per $((c1 - c0)) "$n")"; }
}

declare -A res cpu
configs=(bin_peak resp_check_d16 resp_check_d64)
conf_threads=(2 1 1)
conf_args=("--port @BIN@ --batch 256 --depth 32 --connections 8"
           "--protocol resp --port @RESP@ --connections 8 --depth 16"
           "--protocol resp --port @RESP@ --connections 8 --depth 64")
for r in $(seq "$rounds"); do
	order=(A B); [ $((r % 2)) = 0 ] && order=(B A)
	for i in "${!configs[@]}"; do
		for side in "${order[@]}"; do
			# shellcheck disable=SC2206
			read -r v c < <(run "$side" "${conf_threads[$i]}" ${conf_args[$i]})
			res[$side.${configs[$i]}]+="$v "
			cpu[$side.${configs[$i]}]+="$c "
			echo "ab: round $r ${configs[$i]} $side $v lookups/s, $c server CPU us/lookup"
		done
	done
done
echo
printf '%-16s %-34s %-34s %s\n' config "A runs (median)" "B runs (median)" "B/A"
for c in "${configs[@]}"; do
	python3 - "$c" "${res[A.$c]}" "${res[B.$c]}" <<'PY'
import statistics, sys
c, a, b = sys.argv[1], [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
fa = " ".join("%.2fM" % (x / 1e6) for x in a) + " (%.2fM)" % (ma / 1e6)
fb = " ".join("%.2fM" % (x / 1e6) for x in b) + " (%.2fM)" % (mb / 1e6)
print("%-16s %-34s %-34s %.3f" % (c, fa, fb, mb / ma))
PY
done
echo
printf '%-16s %-34s %-34s %s\n' config "A us/lookup (median)" "B us/lookup (median)" "B/A"
for c in "${configs[@]}"; do
	python3 - "$c" "${cpu[A.$c]}" "${cpu[B.$c]}" <<'PY'
import statistics, sys
c, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
fa = " ".join("%.3f" % x for x in a) + " (%.3f)" % ma
fb = " ".join("%.3f" % x for x in b) + " (%.3f)" % mb
print("%-16s %-34s %-34s %.3f" % (c, fa, fb, mb / ma if ma else 0))
PY
done
