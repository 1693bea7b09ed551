#!/usr/bin/env bash
# make bench-screen: `sxgate screen` on a 10 M-row manifest, file to file,
# beside the figures it is judged against, measured in the same run:
#   offline   rows/s of `sxgate screen --snapshot` vs bench-engine's
#             in-process batched decision rate (bench/engine.sh, run first:
#             it also makes the list, the snapshot and the query file);
#   server    rows/s of `sxgate screen --host` against a local sxgated vs
#             sxgate-bench's binary peak (batch 256, depth 32, 8
#             connections) on the same server.
# Targets (issue 17): each >= 50%.  Every screen and sxgate-bench run is
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

# best rows/s of `sxgate screen ARGS` over $runs runs
best_screen() {
	local best=0 r out wall
	for ((i = 0; i < runs; i++)); do
		local t0 t1
		t0=$(date +%s.%N)
		out=$(bin/sxgate screen "$man" "$@" --output "$dir/screen-out.csv" \
			--rejects "$dir/screen-rejects.csv" 2>&1)
		t1=$(date +%s.%N)
		r=$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$out" | head -1)
		wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
		echo "   run $((i + 1)): $(head -1 <<<"$out" | sed 's/^sxgate screen: //'); ${wall} s wall" >&2
		[ "${r:-0}" -gt "$best" ] && best=$r
	done
	tail -3 <<<"$out" >&2
	echo "$best"
}

echo "== offline: sxgate screen $man --snapshot $snap (file to file)"
echo "   --threads 1" >&2
off1=$(best_screen --snapshot "$snap" --threads 1)
echo "   --threads 2" >&2
off2=$(best_screen --snapshot "$snap" --threads 2)

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
for ((i = 0; i < runs; i++)); do
	r=$(bin/sxgate-bench --queries "$dir/queries-$n.tsv" --port "$bport" --batch 256 \
		--depth 32 --connections 8 --threads 1 --warmup 0.5 --duration 5 2>&1 |
		awk '$1 == "lookups" { gsub(/[()\/s]/, "", $3); print $3 }')
	echo "   sxgate-bench binary peak, run $((i + 1)): $r lookups/s" >&2
	[ "${r:-0}" -gt "$peak" ] && peak=$r
done
echo "   sxgate screen --host 127.0.0.1 --port $bport --threads 2" >&2
on2=$(best_screen --host 127.0.0.1 --port "$bport" --threads 2)
kill "$spid"
wait "$spid" 2>/dev/null || true
trap - EXIT

python3 - "$batched" "$off1" "$off2" "$peak" "$on2" <<'PY'
import sys
b, o1, o2, p, n2 = map(float, sys.argv[1:])
def line(what, got, ref, refname):
    pct = 100 * got / ref if ref else 0
    print(f"{what:<34} {got/1e6:6.2f} M rows/s = {pct:5.1f}% of {refname} {ref/1e6:.2f} M/s"
          f"  (target >= 50%: {'met' if pct >= 50 else 'NOT met'})")
print("== sxgate screen, 10 M rows, file to file")
line("offline, --threads 1", o1, b, "batched decision")
line("offline, --threads 2", o2, b, "batched decision")
line("server, --threads 2", n2, p, "binary peak")
import json
print(json.dumps({"decide_batched_per_s": b, "screen_offline_t1_per_s": o1,
                  "screen_offline_t2_per_s": o2, "binary_peak_per_s": p,
                  "screen_server_t2_per_s": n2}))
PY
