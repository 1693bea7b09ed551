# shellcheck shell=bash
# bench/lib.sh - what the side-by-side benchmark scripts (ab.sh, tls.sh,
# resp.sh, latency.sh) share: free loopback ports, stopping what they
# started, one data set (N generated records, their snapshot and 200 000
# queries) kept in a work directory across runs, the RESP data set beside
# Redis, and server CPU per lookup from /proc/PID/stat.  Sourced, not run.

pids=()
bench_cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap bench_cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ratio() { python3 -c "import sys; a, b = float(sys.argv[1] or 0), float(sys.argv[2] or 0); print(a / b if b else 0)" "$1" "$2"; }

# bench_data DIR N BIN_DIR: DIR/list.csv, DIR/list.snap, DIR/queries.tsv for
# N records, made once.
bench_data() {
	local dir=$1 n=$2 bin=$3
	if [ ! -f "$dir/list.snap" ] || [ "$(cat "$dir/records" 2>/dev/null)" != "$n" ]; then
		echo "bench: generating $n records and 200000 queries in $dir"
		"$bin/sxgate-gen" --records "$n" --seed 7 --output "$dir/list.csv" --queries 200000 \
			--hit-rate 0.01 --queries-output "$dir/queries.tsv" --quiet
		"$bin/sxgate-build" --input "$dir/list.csv" --output "$dir/list.snap" >/dev/null 2>&1
		echo "$n" >"$dir/records"
	fi
}

# bench_certs DIR: a CA and a server certificate for localhost/127.0.0.1
# (EC P-256) in DIR: ca.pem, srv.pem, srv.key.
bench_certs() {
	( cd "$1" || exit
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.pem -days 30 -subj "/CN=bench CA" 2>/dev/null
	  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
		-out srv.csr -subj "/CN=localhost" 2>/dev/null
	  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
	  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
		-days 30 -extfile ext 2>/dev/null
	  chmod 600 ./*.key )
}

# proc_ticks PID: user + system clock ticks of every thread of PID so far.
# Read it once the server is ready and again after the run: the difference
# is the run's, without the start-up (loading a snapshot costs seconds).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# us_per TICKS N: microseconds of CPU per item, TICKS clock ticks over N.
us_per() {
	python3 -c 'import os, sys; t, n = float(sys.argv[1]), float(sys.argv[2])
print("%.3f" % (t / os.sysconf("SC_CLK_TCK") * 1e6 / n if n else 0))' "$1" "$2"
}

# wait_ready LOG [REDIS_PORT]: until sxgated's LOG says ready (and
# redis-server on REDIS_PORT answers PING); 30 s at most.
wait_ready() {
	for _ in $(seq 300); do
		if grep -q ready "$1" && { [ -z "${2:-}" ] || redis-cli -p "$2" PING >/dev/null 2>&1; }; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench: not ready after 30 s (see $1)" >&2
	return 1
}

# resp_data DIR N BIN_DIR: bench_data, plus one million passports
# E000000000000..E000000999999 (one record each) beside the N records in
# DIR/all.snap, and every distinct ID of both as one Redis set (sxgate:ids)
# in DIR/all.resp for `redis-cli --pipe`.  The passports are the IDs
# redis-benchmark's `-r 1000000 E__rand_int__` asks for.
resp_data() {
	local dir=$1 n=$2 bin=$3
	bench_data "$dir" "$n" "$bin"
	if [ ! -f "$dir/all.snap" ] || [ "$(cat "$dir/all.records" 2>/dev/null)" != "$n" ]; then
		echo "bench: 1000000 passports beside the $n records, one snapshot, one Redis set"
		{ cat "$dir/list.csv"
		  awk 'BEGIN { for (i = 0; i < 1000000; i++)
			printf "（2024）闽0203执%d号,厦门市思明区人民法院,SX,debtor,PASSPORT,E%012d,某,active,2025-01-10,,,350203\n", i, i }'
		} >"$dir/all.csv"
		"$bin/sxgate-build" --input "$dir/all.csv" --output "$dir/all.snap" --quiet
		"${BENCH_REDIS_IDS:-build/bench-redis-ids}" "$dir/all.csv" sxgate:ids 1000 >"$dir/all.resp"
		echo "$n" >"$dir/all.records"
	fi
}
