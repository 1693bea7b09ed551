#!/usr/bin/env bash
# bench/latency.sh - latency at equal rates, honestly compared (make
# bench-latency; bench/resp.sh runs it as its section 3): sxgated RESP
# CHECK against Redis SISMEMBER of the same IDs, the same client
# (sxgate-bench), the same connections, in open loop.
#
#   bench/latency.sh [WORKDIR]
#
# Data: bench/lib.sh resp_data (sxgated --threads 1 serves all.snap, one
# single-threaded redis-server holds every ID in one set); the queries are
# the generated records' 200 000 (99% misses), sent one command each.
#
# First Redis's closed-loop peak in the configuration used for every point
# (LAT_CONNS 8 connections x LAT_DEPTH 16 in flight, LAT_THREADS 1 client
# thread), the median of LAT_REPEATS runs.  Then, at LAT_LOADS (10 50 90)
# percent of that peak, each side in open loop (`--rate`: requests due at
# fixed times, latency counted from the due time, so a stall shows) for
# LAT_SECONDS (5) after a 1 s warm-up, LAT_REPEATS (3) times, the two
# sides alternating.  Prints, per load: the median of the repeats and
# their range for p50/p99/p99.9 of each side, whether sxgated's median p99
# is at most Redis's, and the rate each side reached: a point where a side
# fell more than 3% short of the asked rate was beyond what client, server
# and neighbours together could do on this machine (marked "short"), and
# its latencies are queueing, not service.  Then the server CPU per lookup
# of each side at each point (/proc/PID/stat, bench/lib.sh).
# LAT_IO=epoll runs sxgated with --io epoll; SXGATE_BIN (bin) is where the
# programs are.
set -euo pipefail
dir=${1:-build/bench-resp}
n=${RESP_RECORDS:-2000000}
conns=${LAT_CONNS:-8} depth=${LAT_DEPTH:-16} threads=${LAT_THREADS:-1}
secs=${LAT_SECONDS:-5} reps=${LAT_REPEATS:-3} loads=${LAT_LOADS:-10 50 90}
B=${SXGATE_BIN:-bin}
mkdir -p "$dir"
dir=$(realpath "$dir")
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
resp_data "$dir" "$n" "$B"
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

sp=$(free_port); sb=$(free_port)
io=(); [ -n "${LAT_IO:-}" ] && io=(--io "$LAT_IO")
"$B/sxgated" --snapshot "$dir/all.snap" --threads 1 --resp-port "$sp" --bin-port "$sb" "${io[@]}" \
	2>"$dir/latency-sxgated.log" &
spid=$!; pids+=("$spid")
rp=$(free_port)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no \
	--logfile "$dir/latency-redis.log" &
rpid=$!; pids+=("$rpid")
wait_ready "$dir/latency-sxgated.log" "$rp"
redis-cli -p "$rp" --pipe <"$dir/all.resp" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sxgated $("$B/sxgated" --version 2>&1 | head -1 | awk '{print $2}') ($(sed -n 's/.*info: io: \([^,]*\),.*/\1/p' "$dir/latency-sxgated.log")), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), Redis set of $(redis-cli -p "$rp" SCARD sxgate:ids) IDs"

# run SIDE BENCH-ARGS...: "rate p50 p99 p999 cpu-us errors" of one run
run() {
	local side=$1; shift
	local pid=$spid args=(--protocol resp --port "$sp")
	[ "$side" = rd ] && pid=$rpid args=(--port "$rp" --redis-sismember sxgate:ids)
	local t0 t1 out
	t0=$(proc_ticks "$pid")
	out=$("$B/sxgate-bench" --queries "$dir/queries.tsv" --connections "$conns" --depth "$depth" \
		--threads "$threads" --duration "$secs" --json "${args[@]}" "$@" 2>/dev/null) || true
	t1=$(proc_ticks "$pid")
	"$PY" -c '
import json, os, sys
j = json.loads(sys.argv[1] or "{}"); ticks = float(sys.argv[2]); secs = float(sys.argv[3])
n = j.get("lookups", 0)
# the ticks cover the warm-up too: per lookup over all of them at the run rate
total = j.get("lookups_per_s", 0) * (secs + float(sys.argv[4]))
cpu = ticks / os.sysconf("SC_CLK_TCK") * 1e6 / total if total else 0
print("%d %.1f %.1f %.1f %.3f %d" % (j.get("lookups_per_s", 0), j.get("p50_us", 0), j.get("p99_us", 0),
      j.get("p999_us", 0), cpu, j.get("errors", 1) if n else 1))' "$out" $((t1 - t0)) "$secs" "$WARM"
}

WARM=0
peaks=()
for _ in $(seq "$reps"); do
	read -r p _ <<<"$(run rd)"
	peaks+=("$p")
done
peak=$(printf '%s\n' "${peaks[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
echo "Redis SISMEMBER closed-loop peak, $conns connections x depth $depth, $threads client thread(s): $peak/s (runs: ${peaks[*]})"
echo "open loop: each point $reps times, ${secs} s after a 1 s warm-up; cells: median (range of the runs), us"
echo
WARM=1
printf '%-5s %8s | %-38s | %-38s | %-7s | %s\n' load rate "sxgated CHECK p50 / p99 / p99.9" \
	"Redis SISMEMBER p50 / p99 / p99.9" "p99 <=" "reached: sxgated, Redis"
cpurows=()
for f in $loads; do
	rate=$(( peak * f / 100 ))
	sxr=() rdr=()
	for r in $(seq "$reps"); do
		if [ $((r % 2)) = 1 ]; then
			sxr+=("$(run sx --rate "$rate" --warmup 1)"); rdr+=("$(run rd --rate "$rate" --warmup 1)")
		else
			rdr+=("$(run rd --rate "$rate" --warmup 1)"); sxr+=("$(run sx --rate "$rate" --warmup 1)")
		fi
	done
	out=$("$PY" - "$f" "$rate" "${sxr[@]}" -- "${rdr[@]}" <<'PY'
import statistics, sys
f, rate, rest = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
i = rest.index("--")
sx = [[float(v) for v in r.split()] for r in rest[:i]]
rd = [[float(v) for v in r.split()] for r in rest[i + 1:]]
med = lambda runs, k: statistics.median(r[k] for r in runs)
def cell(runs):
    return " / ".join("%.0f (%.0f-%.0f)" % (med(runs, k), min(r[k] for r in runs), max(r[k] for r in runs))
                      for k in (1, 2, 3))
def reached(runs):
    got = med(runs, 0)
    return "%.0fk%s" % (got / 1e3, "" if got >= 0.97 * rate else " short")
errs = sum(r[5] for r in sx + rd)
ok = "yes" if med(sx, 2) <= med(rd, 2) else "no"
print("%-5s %8.0f | %-38s | %-38s | %-7s | %s, %s%s" % (f + "%", rate, cell(sx), cell(rd), ok,
      reached(sx), reached(rd), "  (%d errors)" % errs if errs else ""))
print("CPU %-5s %8.0f | %.3f (%.3f-%.3f) | %.3f (%.3f-%.3f) | %.2fx" % (
      f + "%", rate, med(sx, 4), min(r[4] for r in sx), max(r[4] for r in sx),
      med(rd, 4), min(r[4] for r in rd), max(r[4] for r in rd),
      med(rd, 4) / med(sx, 4) if med(sx, 4) else 0))
PY
)
	echo "$out" | head -1
	cpurows+=("$(echo "$out" | tail -1 | sed 's/^CPU //')")
done
echo
echo "server CPU per lookup over each point (us, median (range)): sxgated | Redis | Redis/sxgated"
printf '%s\n' "${cpurows[@]}"
echo "(p99 <=: sxgated's median p99 at most Redis's; short: the side reached less than 97% of the"
echo " asked rate; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
