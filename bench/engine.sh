#!/usr/bin/env bash
# make bench-engine: generate BENCH_RECORDS (10 M) records, build the
# snapshot (time and peak memory), then the in-process lookup rates beside
# the DRAM random-read rate of this machine, measured in the same run.
set -euo pipefail
dir=${1:-build/bench}
n=${BENCH_RECORDS:-10000000}
mkdir -p "$dir"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ ! -s "$dir/list-$n.csv" ]; then
	echo "== sxgate-gen --records $n (99.9% miss queries)"
	start=$(date +%s.%N)
	bin/sxgate-gen --records "$n" --seed 42 --output "$dir/list-$n.csv" \
		--permits-output "$dir/permits-$n.csv" --queries 2000000 --hit-rate 0.001 \
		--joint-rate 0 --queries-output "$dir/queries-$n.tsv" --quiet
	echo "gen: $(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?') s"
fi
# the same list asked with 10% of the queries on the joint-punishment
# channels (procurement, bidding, credit, finance ...): the list is the
# same bytes, so it is not written again
if [ ! -s "$dir/queries-joint-$n.tsv" ]; then
	echo "== sxgate-gen --joint-rate 0.1 (the same list, 10% joint-channel queries)"
	bin/sxgate-gen --records "$n" --seed 42 --output /dev/null --queries 2000000 \
		--hit-rate 0.001 --joint-rate 0.1 --queries-output "$dir/queries-joint-$n.tsv" --quiet
fi
echo "== sxgate-build (10 M records: target <= 15 s)"
python3 - "$dir" "$n" <<'PY'
import resource, subprocess, sys, time
d, n = sys.argv[1], sys.argv[2]
t = time.time()
r = subprocess.run(["bin/sxgate-build", "--input", f"{d}/list-{n}.csv", "--permits", f"{d}/permits-{n}.csv",
                    "--output", f"{d}/list-{n}.snap", "--quiet"])
el = time.time() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"build: {el:.2f} s wall, peak RSS {peak:.0f} MiB, exit {r.returncode}")
sys.exit(r.returncode)
PY
bin/sxgate info --snapshot "$dir/list-$n.snap" | grep -E "^(records|ids|keys|file_bytes|index_bytes|index_bytes_per_id|build_ms):"
echo "== in-process lookups at 99.9% misses (target: batched >= 50% of DRAM rate)"
build/bench-engine "$dir/list-$n.snap" "$dir/queries-$n.tsv" "${BENCH_SECONDS:-3}" \
	"$dir/queries-joint-$n.tsv"
