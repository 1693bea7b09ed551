#!/usr/bin/env bash
# bench/resp.sh - RESP against Redis, one run (make bench-resp; make bench
# runs it last): what a booking system's Redis client sees, and what each
# server spends on it.
#
#   bench/resp.sh [WORKDIR]
#
# Data (bench/lib.sh resp_data): RESP_RECORDS generated records (2 000 000)
# plus one million passports E000000000000..E000000999999, one record
# each, in one snapshot for `sxgated --threads 1`, and every distinct ID of
# both in one Redis set of a single-threaded redis-server.  The passports are the IDs
# redis-benchmark's `-r 1000000 E__rand_int__` asks for: every one is in
# both servers.
#
#   1. redis-benchmark (a client neither side wrote), -c 4 -P 64, -c 16
#      -P 16, each also with its --threads 2: sxgated `LISTED id TYPE
#      PASSPORT` against Redis `SISMEMBER key id`, random IDs, and the
#      client's own PING ceiling on both servers at the same settings;
#   2. sxgate-bench, 8 connections, depth 1/16/64 (and 16/64 with 2 client
#      threads): sxgated RESP CHECK, Redis SISMEMBER of the same IDs, and
#      sxgated's binary protocol (batch 1) at the same depth;
#   3. latency in open loop: bench/latency.sh (its own servers, the same
#      data; RESP_LATENCY=0 skips it): sxgated CHECK and Redis SISMEMBER,
#      the same client and connections, at 10/50/90% of Redis's
#      closed-loop peak, each point RESP_REPEATS (3) times;
#   4. over TLS (RESP_TLS=0 skips): redis-benchmark --tls -c 4 -P 64,
#      LISTED against SISMEMBER.
# Server CPU per lookup is user + system time from /proc/PID/stat over the
# run (every thread; bench/lib.sh proc_ticks, read before and after each
# run) divided by what the server answered.  Prints tables;
# docs/BENCHMARKS.md quotes them (bench/manual.md).  Knobs: RESP_RECORDS,
# RESP_N (requests per redis-benchmark run, 2000000), RESP_SECONDS per
# sxgate-bench run (5), RESP_REPEATS (3), RESP_TLS (1), SXGATE_BIN (bin).
set -euo pipefail
dir=${1:-build/bench-resp}
n=${RESP_RECORDS:-2000000} N=${RESP_N:-2000000} secs=${RESP_SECONDS:-5}
reps=${RESP_REPEATS:-3} tls=${RESP_TLS:-1}
B=${SXGATE_BIN:-bin}
mkdir -p "$dir"
dir=$(realpath "$dir")
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
resp_data "$dir" "$n" "$B"
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

if [ "$tls" = 1 ] && [ ! -f "$dir/srv.pem" ]; then
	bench_certs "$dir"
fi

sp=$(free_port); sb=$(free_port); stp=$(free_port)
tlsargs=()
[ "$tls" = 1 ] && tlsargs=(--tls-resp-port "$stp" --tls-cert "$dir/srv.pem" --tls-key "$dir/srv.key")
"$B/sxgated" --snapshot "$dir/all.snap" --threads 1 --resp-port "$sp" --bin-port "$sb" \
	"${tlsargs[@]}" 2>"$dir/sxgated.log" &
spid=$!; pids+=("$spid")
rp=$(free_port); rtp=$(free_port)
rtls=()
[ "$tls" = 1 ] && rtls=(--tls-port "$rtp" --tls-cert-file "$dir/srv.pem" --tls-key-file "$dir/srv.key"
	--tls-ca-cert-file "$dir/ca.pem" --tls-auth-clients no)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no "${rtls[@]}" \
	--logfile "$dir/redis.log" &
rpid=$!; pids+=("$rpid")
wait_ready "$dir/sxgated.log" "$rp"
redis-cli -p "$rp" --pipe <"$dir/all.resp" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sxgated: $("$B/sxgated" --version 2>&1 | head -1), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
echo "Redis set: $(redis-cli -p "$rp" SCARD sxgate:ids) IDs"

# redis-benchmark PID PORT TLS OPTS... -- CMD...: "requests/s us/request"
rb() {
	local pid=$1 port=$2 t=$3; shift 3
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	local tl=()
	[ "$t" = 1 ] && tl=(--tls --cacert "$dir/ca.pem")
	local c0 c1 rps
	c0=$(proc_ticks "$pid")
	rps=$(redis-benchmark "${tl[@]}" -p "$port" -n "$N" --csv "${opts[@]}" "$@" 2>/dev/null |
		tail -1 | cut -d, -f2 | tr -d '"')
	c1=$(proc_ticks "$pid")
	echo "${rps%.*} $(us_per $((c1 - c0)) "$N")"
}
pct() { "$PY" -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print("%.0f%%" % (100 * a / b if b else 0))' "$1" "$2"; }
x() { "$PY" -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print("%.2fx" % (a / b if b else 0))' "$1" "$2"; }

echo
echo "== 1. redis-benchmark, -r 1000000 (every ID in both servers), $N requests a run"
printf '%-24s %11s %8s %11s %8s %11s %8s %11s %8s | %8s %8s %9s\n' settings \
	"sx PING/s" "us/req" "rd PING/s" "us/req" "LISTED/s" "us/req" "SISMEM/s" "us/req" \
	"LISTED/" "of PING" "CPU rd/sx"
for s in "-c 4 -P 64" "-c 16 -P 16" "-c 4 -P 64 --threads 2" "-c 16 -P 16 --threads 2"; do
	# shellcheck disable=SC2206
	o=($s)
	read -r sping sping_us < <(rb "$spid" "$sp" 0 "${o[@]}" -- PING)
	read -r rping rping_us < <(rb "$rpid" "$rp" 0 "${o[@]}" -- PING)
	read -r l l_us < <(rb "$spid" "$sp" 0 "${o[@]}" -r 1000000 -- LISTED E__rand_int__ TYPE PASSPORT)
	read -r m m_us < <(rb "$rpid" "$rp" 0 "${o[@]}" -r 1000000 -- SISMEMBER sxgate:ids E__rand_int__)
	ceil=$(( sping > rping ? sping : rping ))
	printf '%-24s %11s %8s %11s %8s %11s %8s %11s %8s | %8s %8s %9s\n' "$s" "$sping" "$sping_us" \
		"$rping" "$rping_us" "$l" "$l_us" "$m" "$m_us" "$(x "$l" "$m")" "$(pct "$l" "$ceil")" \
		"$(x "$m_us" "$l_us")"
done
echo "(LISTED/: sxgated LISTED over Redis SISMEMBER, requests/s; of PING: LISTED/s as a share of"
echo " the client's PING ceiling, the faster server's PING; CPU rd/sx: Redis's server CPU per"
echo " request over sxgated's)"
q=$(redis-cli -p "$sp" INFO stats | tr -d '\r' | sed -n 's/^query_errors://p')
echo "sxgated query_errors after the runs: $q"

# sxgate-bench PID ARGS...: "lookups/s us/lookup p50 p99 p999"
sxb() {
	local pid=$1; shift
	local c0 c1 out
	c0=$(proc_ticks "$pid")
	out=$("$B/sxgate-bench" --queries "$dir/queries.tsv" --duration "$secs" --json "$@" 2>/dev/null) || true
	c1=$(proc_ticks "$pid")
	"$PY" -c '
import json, os, sys
j = json.loads(sys.argv[1]); t, k = float(sys.argv[2]), os.sysconf("SC_CLK_TCK")
n = j["lookups"]
print("%d %.3f %.1f %.1f %.1f %d" % (j["lookups_per_s"], t / k * 1e6 / n if n else 0,
      j["p50_us"], j["p99_us"], j["p999_us"], j["errors"]))' "$out" $((c1 - c0))
}

echo
echo "== 2. sxgate-bench, 8 connections, ${secs} s a run (lookups/s, server CPU us per lookup)"
printf '%-22s %10s %7s %10s %7s %10s %7s | %8s %9s %9s\n' "depth" "CHECK/s" "us" "SISMEM/s" "us" \
	"binary/s" "us" "CHECK/" "CPU rd/sx" "CPU sx/bin"
for cfg in "1 1" "16 1" "64 1" "16 2" "64 2"; do
	read -r d th <<<"$cfg"
	read -r c c_us _ <<<"$(sxb "$spid" --protocol resp --port "$sp" --connections 8 --depth "$d" --threads "$th")"
	read -r r r_us _ <<<"$(sxb "$rpid" --port "$rp" --redis-sismember sxgate:ids --connections 8 --depth "$d" --threads "$th")"
	read -r b b_us _ <<<"$(sxb "$spid" --port "$sb" --batch 1 --connections 8 --depth "$d" --threads "$th")"
	label="$d"; [ "$th" = 2 ] && label="$d, 2 client threads"
	printf '%-22s %10s %7s %10s %7s %10s %7s | %8s %9s %9s\n' "$label" "$c" "$c_us" "$r" "$r_us" \
		"$b" "$b_us" "$(x "$c" "$r")" "$(x "$r_us" "$c_us")" "$(x "$c_us" "$b_us")"
done

if [ "${RESP_LATENCY:-1}" = 1 ]; then
	echo
	echo "== 3. latency, open loop (bench/latency.sh: its own sxgated and redis-server, the same data)"
	LAT_SECONDS=$secs LAT_REPEATS=$reps RESP_RECORDS=$n SXGATE_BIN=$B "$(dirname "$0")/latency.sh" "$dir"
fi

if [ "$tls" = 1 ]; then
	echo
	echo "== 4. over TLS: redis-benchmark --tls -c 4 -P 64 -r 1000000, $N requests a run"
	read -r l l_us < <(rb "$spid" "$stp" 1 -c 4 -P 64 -r 1000000 -- LISTED E__rand_int__ TYPE PASSPORT)
	read -r m m_us < <(rb "$rpid" "$rtp" 1 -c 4 -P 64 -r 1000000 -- SISMEMBER sxgate:ids E__rand_int__)
	printf '%-34s %11s %8s\n' run "requests/s" "us/req"
	printf '%-34s %11s %8s\n' "sxgated LISTED over TLS" "$l" "$l_us" "Redis SISMEMBER over TLS" "$m" "$m_us"
	echo "server CPU per request, Redis over sxgated: $(x "$m_us" "$l_us")"
fi
