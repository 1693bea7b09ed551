#!/usr/bin/env bash
# make bench-screen: `sxgate screen` on a 10 M-row manifest, file to file,
# beside the figures it is judged against, measured in the same run:
#   offline   rows/s of `sxgate screen --snapshot` vs bench-engine's
#             in-process batched decision rate (bench/engine.sh, run first:
#             it also makes the list, the snapshot and the query file);
#   server    rows/s of `sxgate screen --host` against a local sxgated vs
#             sxgate-bench's binary peak (batch 256, depth 32, 8
#             connections) on the same server.
# Targets (issue 17): each >= 50%.  Beside the wall-clock rates, CPU per
# row: the screen's user + system time (all threads; plus sxgated's from
# /proc/PID/stat against a server) over the rows, against bench-engine's
# batched decisions per CPU second (BENCH_CPU_TIME=1) and sxgate-bench's
# + sxgated's CPU per lookup at the binary peak: on a machine shared with
# other work these move far less than throughput does.  Every screen and sxgate-bench run is
# repeated BENCH_RUNS times (default 3) and the best is kept: the machine
# is shared, and the best run is the one least disturbed.  The screen's
# rows/s is its own summary's (input read to output written, the
# snapshot's open excluded; the wall time with it is printed too).
set -euo pipefail
dir=${1:-build/bench}
n=${BENCH_RECORDS:-10000000}
rows=${SCREEN_ROWS:-10000000}
runs=${BENCH_RUNS:-3}
mkdir -p "$dir"

echo "== make bench-engine's run (bench/engine.sh)"
bench/engine.sh "$dir" | tee "$dir/screen-engine.txt"
# bench-engine's own text path: the queries' parse (its "parsed at" line)
parse=$(sed -n 's/^queries .*(parsed at \([0-9.]*\) M\/s).*/\1/p' "$dir/screen-engine.txt" | head -1)
batched=$(python3 -c 'import json,sys; print(json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])["decide_batched_per_s"])' "$dir/screen-engine.txt")

man="$dir/manifest-$rows.csv"
if [ ! -s "$man" ]; then
	echo "== manifest: sxgate-gen --queries $rows (99.9% misses) as CSV"
	bin/sxgate-gen --records "$n" --seed 42 --output /dev/null --queries "$rows" \
		--hit-rate 0.001 --joint-rate 0 --queries-output "$dir/screen-q.tsv" --quiet
	awk -F'\t' 'BEGIN { OFS = ","; print "row,id_type,id_no,channel,class,day" }
		{ print NR, $2, $1, $3, ($4 == "-" ? "" : $4), $5 }' "$dir/screen-q.tsv" > "$man"
	rm -f "$dir/screen-q.tsv"
fi
echo "manifest: $man, $(($(wc -l < "$man") - 1)) rows, $(stat -c %s "$man") bytes"
snap="$dir/list-$n.snap"

tck=$(getconf CLK_TCK)
# CPU seconds (user + system) sxgated has used so far
srv_cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$spid/stat"; }

# `sxgate screen ARGS` $runs times; prints "best-rows/s cpu-us-per-row" (the
# CPU of that best run: the screen's own user + system, plus sxgated's
# when one is running)
best_screen() {
	local best=0 bcpu=0 r out cpu s0 s1
	for ((i = 0; i < runs; i++)); do
		s0=$( [ -n "${spid:-}" ] && srv_cpu || echo 0)
		out=$(/usr/bin/time -f "cpu %U %S wall %e" bin/sxgate screen "$man" "$@" \
			--output "$dir/screen-out.csv" --rejects "$dir/screen-rejects.csv" 2>&1)
		s1=$( [ -n "${spid:-}" ] && srv_cpu || echo 0)
		r=$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$out" | head -1)
		cpu=$(awk -v a="$s0" -v b="$s1" -v o="${opencpu:-0}" -v n="$rows" \
			'$1 == "cpu" { printf "%.3f", ($2 + $3 + b - a - o) * 1e6 / n }' <<<"$out")
		echo "   run $((i + 1)): $(head -1 <<<"$out" | sed 's/^sxgate screen: //'); $(grep '^cpu' <<<"$out" | awk '{print $5}') s wall; CPU $cpu us/row${spid:+ (client + server)}" >&2
		if [ "${r:-0}" -gt "$best" ]; then best=$r; bcpu=$cpu; fi
	done
	grep -v '^cpu' <<<"$out" | tail -3 >&2
	echo "$best $bcpu"
}

# the CPU of opening the snapshot (checksums, maps), left out of the
# offline runs' CPU per row as their rows/s leaves out its time
opencpu=$( { /usr/bin/time -f "%U %S" bin/sxgate info --snapshot "$snap" >/dev/null; } 2>&1 |
	awk '{ printf "%.2f", $1 + $2 }')
echo "opening the snapshot: $opencpu CPU seconds (sxgate info --snapshot)"
echo "== offline: sxgate screen $man --snapshot $snap (file to file)"
echo "   --threads 1" >&2
read -r off1 off1cpu < <(best_screen --snapshot "$snap" --threads 1)
echo "   --threads 2" >&2
read -r off2 off2cpu < <(best_screen --snapshot "$snap" --threads 2)
echo "   bench-engine's batched decision per CPU second (BENCH_CPU_TIME=1, same queries)" >&2
cpurate=$(BENCH_CPU_TIME=1 build/bench-engine "$snap" "$dir/queries-$n.tsv" 2 |
	python3 -c 'import json,sys; print(json.loads([l for l in sys.stdin if l.startswith("{")][-1])["decide_batched_per_s"])')

opencpu=0
echo "== against a local sxgated (--threads 2) on loopback"
read -r rport bport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
bin/sxgated --snapshot "$snap" --resp-port "$rport" --bin-port "$bport" --threads 2 \
	> "$dir/screen-sxgated.log" 2>&1 &
spid=$!
trap 'kill "$spid" 2>/dev/null || true' EXIT
for _ in $(seq 600); do
	grep -q "ready to accept connections" "$dir/screen-sxgated.log" && break
	kill -0 "$spid" 2>/dev/null || { cat "$dir/screen-sxgated.log"; exit 1; }
	sleep 0.1
done
peak=0
peakcpu=0
for ((i = 0; i < runs; i++)); do
	s0=$(srv_cpu)
	out=$(/usr/bin/time -f "cpu %U %S" bin/sxgate-bench --queries "$dir/queries-$n.tsv" \
		--port "$bport" --batch 256 --depth 32 --connections 8 --threads 1 --warmup 0.5 \
		--duration 5 2>&1)
	s1=$(srv_cpu)
	r=$(awk '$1 == "lookups" { gsub(/[()\/s]/, "", $3); print $3 }' <<<"$out")
	total=$(awk '$1 == "lookups" { print $2 }' <<<"$out")
	cpu=$(awk -v a="$s0" -v b="$s1" -v n="$total" '$1 == "cpu" { printf "%.3f", ($2 + $3 + b - a) * 1e6 / n }' <<<"$out")
	echo "   sxgate-bench binary peak, run $((i + 1)): $r lookups/s; CPU $cpu us/lookup (client + server, warmup included)" >&2
	if [ "${r:-0}" -gt "$peak" ]; then peak=$r; peakcpu=$cpu; fi
done
echo "   sxgate screen --host 127.0.0.1 --port $bport --threads 2" >&2
read -r on2 on2cpu < <(best_screen --host 127.0.0.1 --port "$bport" --threads 2)
kill "$spid"
wait "$spid" 2>/dev/null || true
trap - EXIT

python3 - "$batched" "$off1" "$off2" "$peak" "$on2" "$cpurate" "$off1cpu" "$off2cpu" \
	"$peakcpu" "$on2cpu" "${parse:-0}" <<'PY'
import json, sys
b, o1, o2, p, n2, cr, o1c, o2c, pc, n2c, parse = map(float, sys.argv[1:])
parse *= 1e6
def line(what, got, ref, refname):
    pct = 100 * got / ref if ref else 0
    print(f"{what:<28} {got/1e6:6.2f} M rows/s = {pct:5.1f}% of {refname} {ref/1e6:.2f} M/s"
          f"  (target >= 50%: {'met' if pct >= 50 else 'NOT met'})")
print("== sxgate screen, 10 M rows, file to file (wall clock, best of the runs)")
line("offline, --threads 1", o1, b, "batched decision")
line("offline, --threads 2", o2, b, "batched decision")
line("server, --threads 2", n2, p, "binary peak")
if parse:
    serial = 1 / (1 / parse + 1 / b)
    print(f"(bench-engine's text path in the same run: its query parse {parse/1e6:.2f} M/s, "
          f"then the batched decision: {serial/1e6:.2f} M/s; the screen offline, --threads 1, "
          f"is {100 * o1 / serial:.0f}% of that)")
print("== per CPU second (user + system of every process involved)")
def cline(what, us, ref_us, refname):
    r = 1 / us if us else 0
    print(f"{what:<28} {us:6.3f} us/row = {r:5.2f} M rows per CPU second = "
          f"{100 * ref_us / us if us else 0:5.1f}% of {refname} ({ref_us:.3f} us)")
cline("offline, --threads 1", o1c, 1e6 / cr, "batched decision per CPU second")
cline("offline, --threads 2", o2c, 1e6 / cr, "batched decision per CPU second")
cline("server, client + server", n2c, pc, "sxgate-bench + sxgated")
print(json.dumps({"decide_batched_per_s": b, "query_parse_per_s": parse, "decide_batched_per_cpu_s": cr,
                  "screen_offline_t1_per_s": o1, "screen_offline_t2_per_s": o2,
                  "screen_offline_t1_cpu_us_per_row": o1c,
                  "screen_offline_t2_cpu_us_per_row": o2c,
                  "binary_peak_per_s": p, "binary_peak_cpu_us_per_lookup": pc,
                  "screen_server_t2_per_s": n2, "screen_server_t2_cpu_us_per_row": n2c}))
PY
