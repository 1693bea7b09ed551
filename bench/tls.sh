#!/usr/bin/env bash
# bench/tls.sh - what TLS costs: sxgated over TLS against its own plain
# ports and against redis-server --tls-port, the same clients, one run.
#
#   bench/tls.sh [WORKDIR]      (make bench-tls)
#
# redis-benchmark -c 4 at pipelines 1, 16 and 64: sxgated `CHECK id air`
# for one listed ID against Redis SISMEMBER of it (redis-benchmark sends
# one fixed command); then sxgate-bench's binary peak configuration and RESP CHECK at
# depth 16/64 plain and over TLS (when sxgate-bench has --tls); then new
# connections per second, a handshake each (-k 0).  The sxgate-bench rows
# give sxgated's server CPU per lookup beside the rate (/proc/PID/stat over
# the run, bench/lib.sh), which the shared machine disturbs least.  Certificates: EC P-256,
# made here.  Prints a table; the ratios are what docs/BENCHMARKS.md
# quotes.  Knobs: TLS_RECORDS (2000000), TLS_N (requests per
# redis-benchmark run, 400000).
set -euo pipefail
dir=${1:-build/bench-tls}
n=${TLS_RECORDS:-2000000} N=${TLS_N:-400000}
B=bin
mkdir -p "$dir"
dir=$(realpath "$dir")
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_data "$dir" "$n" "$B"
if [ ! -f "$dir/srv.pem" ]; then
	bench_certs "$dir"
fi
listed=$(grep -m1 -o '[1-9][0-9]\{16\}[0-9X]' "$dir/list.csv")

sp=$(free_port); stp=$(free_port); sb=$(free_port); stb=$(free_port)
"$B/sxgated" --snapshot "$dir/list.snap" --threads 1 --resp-port "$sp" --bin-port "$sb" \
	--tls-resp-port "$stp" --tls-bin-port "$stb" --tls-cert "$dir/srv.pem" \
	--tls-key "$dir/srv.key" 2>"$dir/sxgated.log" &
spid=$!; pids+=("$spid")
rp=$(free_port); rtp=$(free_port)
redis-server --port "$rp" --tls-port "$rtp" --bind 127.0.0.1 --save '' --appendonly no \
	--tls-cert-file "$dir/srv.pem" --tls-key-file "$dir/srv.key" --tls-ca-cert-file "$dir/ca.pem" \
	--tls-auth-clients no --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$dir/sxgated.log" && redis-cli -p "$rp" PING >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$rp" SADD ids "$listed" >/dev/null

rb() { # PORT TLS(0|1) P CMD... -> requests/s
	local port=$1 tls=$2 p=$3; shift 3
	local t=(); [ "$tls" = 1 ] && t=(--tls --cacert "$dir/ca.pem")
	redis-benchmark "${t[@]}" -p "$port" -n "$N" -c 4 -P "$p" -q "$@" 2>/dev/null |
		tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1 | cut -d. -f1
}
echo "== redis-benchmark -c 4, $N requests a run (requests/s)"
printf '%-34s %12s %12s %8s\n' run plain tls tls/plain
for p in 1 16 64; do
	a=$(rb "$sp" 0 "$p" CHECK "$listed" air); b=$(rb "$stp" 1 "$p" CHECK "$listed" air)
	printf '%-34s %12s %12s %8.3f\n' "sxgated CHECK listed P=$p" "$a" "$b" "$(ratio "$b" "$a")"
	c=$(rb "$rp" 0 "$p" SISMEMBER ids "$listed"); d=$(rb "$rtp" 1 "$p" SISMEMBER ids "$listed")
	printf '%-34s %12s %12s %8.3f\n' "redis SISMEMBER P=$p" "$c" "$d" "$(ratio "$d" "$c")"
	printf '%-34s %12s %12.3f\n' "  sxgated/redis over TLS P=$p" "" "$(ratio "$b" "$d")"
done
echo "== new connections, a TLS handshake each (redis-benchmark -k 0 PING, -c 4)"
hs() { redis-benchmark --tls --cacert "$dir/ca.pem" -p "$1" -n 4000 -c 4 -k 0 -q PING 2>/dev/null |
	tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1 | cut -d. -f1; }
a=$(hs "$stp"); b=$(hs "$rtp")
printf '%-34s %12s\n%-34s %12s\n' "sxgated handshakes/s" "$a" "redis handshakes/s" "$b"
if "$B/sxgate-bench" --help 2>&1 | grep -q -- '--tls'; then
	echo "== sxgate-bench (lookups/s, then sxgated's CPU us per lookup): plain vs TLS"
	printf '%-34s %12s %12s %8s | %8s %8s %8s\n' run plain tls tls/plain "us plain" "us tls" "tls/plain"
	# sxb ARGS...: "lookups/s us-per-lookup" (server CPU over the run, bench/lib.sh)
	sxb() {
		local t0 t1 out
		t0=$(proc_ticks "$spid")
		out=$("$B/sxgate-bench" --queries "$dir/queries.tsv" --duration 3 --json "$@" 2>/dev/null)
		t1=$(proc_ticks "$spid")
		python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(int(j["lookups_per_s"]), j["lookups"])' "$out" |
			{ read -r lps nl; echo "$lps $(us_per $((t1 - t0)) "$nl")"; }
	}
	for cfg in "bin peak|--port $sb --batch 256 --depth 32 --connections 8|--port $stb --batch 256 --depth 32 --connections 8" \
	           "RESP CHECK d16|--protocol resp --port $sp --connections 8 --depth 16|--protocol resp --port $stp --connections 8 --depth 16" \
	           "RESP CHECK d64|--protocol resp --port $sp --connections 8 --depth 64|--protocol resp --port $stp --connections 8 --depth 64"; do
		IFS='|' read -r name plainargs tlsargs <<<"$cfg"
		# shellcheck disable=SC2086
		read -r a au < <(sxb $plainargs)
		# shellcheck disable=SC2086
		read -r b bu < <(sxb $tlsargs --tls --cacert "$dir/ca.pem")
		printf '%-34s %12s %12s %8.3f | %8s %8s %8.3f\n' "$name" "$a" "$b" "$(ratio "$b" "$a")" \
			"$au" "$bu" "$(ratio "$bu" "$au")"
	done
else
	echo "== sxgate-bench has no --tls here: its TLS rows skipped"
fi
