#!/usr/bin/env bash
# What the feedback log costs at peak (issue 5: at most 5% of throughput).
# A 200 000-record list with a query stream whose share of listed IDs is
# HIT_RATE (default 0.01, a gate's traffic; 0.5 is a stress case where
# a large share of decisions are DENY, SUSPENDED or EXEMPT and are logged).  sxgated runs alternately without
# and with --feedback; sxgate-bench drives the binary protocol at its peak
# (batch 64, depth 8, 4 connections).  Prints both rates and the ratio.
set -euo pipefail
hit=${HIT_RATE:-0.01}
dir=${1:-build/bench/feedback-$hit}
secs=${FEEDBACK_SECONDS:-5}
rounds=${FEEDBACK_ROUNDS:-3}
mkdir -p "$dir"
if [ ! -s "$dir/list.snap" ]; then
	bin/sxgate-gen --records 200000 --seed 2026 --output "$dir/list.csv" \
		--queries 200000 --hit-rate "$hit" --queries-output "$dir/queries.tsv" --quiet
	bin/sxgate-build --quiet --input "$dir/list.csv" --output "$dir/list.snap"
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

run() {   # $1: extra sxgated flags; prints lookups/s
	local p; p=$(port)
	bin/sxgated --snapshot "$dir/list.snap" --resp-port 0 --bin-port "$p" --threads 1 \
		$1 2>"$dir/sxgated.log" &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do grep -q ready "$dir/sxgated.log" && break; sleep 0.05; done
	bin/sxgate-bench --port "$p" --queries "$dir/queries.tsv" --batch 64 --depth 8 \
		--connections 4 --duration "$secs" --warmup 1 --json 2>/dev/null |
		python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(int(d["lookups_per_s"]), d["errors"])'
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); client and server share them"
without=0 with=0
for r in $(seq "$rounds"); do
	read -r a ea < <(run "")
	rm -f "$dir/feedback"
	read -r b eb < <(run "--feedback $dir/feedback")
	n=$(bin/sxgate feedback dump "$dir/feedback" 2>/dev/null | tail -n +2 | wc -l)
	echo "round $r: without feedback $a lookups/s (errors $ea), with $b lookups/s (errors $eb), $n feedback records written"
	without=$((without + a)); with=$((with + b))
done
python3 -c "w=$without; f=$with; print(f'feedback log cost at hit rate $hit: {w/$rounds/1e6:.2f} M/s without, {f/$rounds/1e6:.2f} M/s with = {100*(w-f)/w:.1f}% slower (target <= 5%)')"
