# bench/lib.sh - what the side-by-side benchmark scripts (ab.sh, tls.sh)
# share: free loopback ports, stopping what they started, and one data set
# (N generated records, their snapshot and 200 000 queries) kept in a work
# directory across runs.  Sourced, not run.

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
	( cd "$1"
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.pem -days 30 -subj "/CN=bench CA" 2>/dev/null
	  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
		-out srv.csr -subj "/CN=localhost" 2>/dev/null
	  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
	  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
		-days 30 -extfile ext 2>/dev/null
	  chmod 600 ./*.key )
}
