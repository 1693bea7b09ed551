#!/usr/bin/env bash
# bench/http.sh - the HTTP/JSON API (docs/HTTP.md) against this machine's
# HTTP ceiling and against sxgated's own RESP and binary ports, one run.
#
#   bench/http.sh [WORKDIR]      (make bench-http; make bench runs it too)
#
# wrk (keep-alive, one thread, HTTP_CONNS connections) asks sxgated
# GET /v1/check for one listed ID; then nginx (nginx-light, started here on
# loopback, one worker, access log off) serves a static file holding that
# very reply, the same bytes: the HTTP rate this machine reaches with no
# work behind it (a production setup: master and one worker, sendfile, the
# file's descriptor cached, access log off).  RESP CHECK at the same concurrency (sxgate-bench, depth
# 1 per connection, as wrk's keep-alive sends one request at a time).
# Then POST /v1/check with 256 IDs of the generated queries (wrk -s) in
# lookups/s against the binary protocol's CHECK frames of 256 IDs, depth
# 1, the same connections.  sxgated and nginx each get one I/O thread.
# Rounds alternate the runs (HTTP_ROUNDS), so the load of a shared machine
# falls on each alike; prints each round, then medians and the ratios the
# issue sets targets for (>= 50%).
# Knobs: HTTP_RECORDS (2000000), HTTP_SECONDS (5), HTTP_CONNS (16),
# HTTP_ROUNDS (3).
set -euo pipefail
dir=${1:-build/bench-http}
n=${HTTP_RECORDS:-2000000} secs=${HTTP_SECONDS:-5} conns=${HTTP_CONNS:-16}
rounds=${HTTP_ROUNDS:-3}
B=bin
for p in wrk nginx; do
	command -v "$p" >/dev/null || { echo "bench/http.sh: $p is not installed (make deps installs it with make bench-http)"; exit 1; }
done
mkdir -p "$dir"
dir=$(realpath "$dir")
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
bench_data "$dir" "$n" "$B"
listed=$(grep -m1 -o '[1-9][0-9]\{16\}[0-9X]' "$dir/list.csv")

hp=$(free_port); rp=$(free_port); bp=$(free_port); np=$(free_port)
"$B/sxgated" --snapshot "$dir/list.snap" --threads 1 --resp-port "$rp" --bin-port "$bp" \
	--http-port "$hp" 2>"$dir/sxgated.log" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$dir/sxgated.log" && break; sleep 0.1; done

# The static twin of the GET's reply, served by nginx.
path="/v1/check?id=$listed&channel=air"
mkdir -p "$dir/www" "$dir/nginx-tmp"
curl -sS "http://127.0.0.1:$hp$path" >"$dir/www/check.json"
cat >"$dir/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000000;
	sendfile on;
	open_file_cache max=16 inactive=3600s;
	open_file_cache_valid 3600s;
	client_body_temp_path $dir/nginx-tmp;
	proxy_temp_path $dir/nginx-tmp;
	fastcgi_temp_path $dir/nginx-tmp;
	uwsgi_temp_path $dir/nginx-tmp;
	scgi_temp_path $dir/nginx-tmp;
	server {
		listen 127.0.0.1:$np;
		location / { root $dir/www; default_type application/json; }
	}
}
NGINX
nginx -c "$dir/nginx.conf" -p "$dir" &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$np/check.json" >/dev/null && break; sleep 0.1; done
cmp -s <(curl -sS "http://127.0.0.1:$np/check.json") <(curl -sS "http://127.0.0.1:$hp$path") ||
	{ echo "bench/http.sh: nginx does not serve the GET's bytes"; exit 1; }

# POST /v1/check of the first 256 RIC IDs of the generated queries, as air
# on the queries' day (a batch shares type, channel and day).
python3 - "$dir/queries.tsv" "$dir/post256.lua" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
ids = [r[0] for r in rows if r[1] in ("RIC", "-")][:256]     # one type: the batch's
body = json.dumps({"channel": "air", "at": rows[0][4], "ids": ids})
open(sys.argv[2], "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = '
                             '"application/json"\nwrk.body = %s\n' % json.dumps(body))
PY

wrk_run() { # URL [ARGS...] -> "requests/s p50_ms p99_ms"
	wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" 2>&1 | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(s):
    v, u = float(s[:-2] if s.endswith(("us", "ms")) else s[:-1]), s[-2:] if s.endswith(("us", "ms")) else s[-1:]
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p50 = re.search(r"^\s+50%\s+(\S+)$", t, re.M); p99 = re.search(r"^\s+99%\s+(\S+)$", t, re.M)
err = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if not rps or err: sys.exit("wrk: " + t)
print(int(float(rps.group(1))), "%.3f" % ms(p50.group(1)), "%.3f" % ms(p99.group(1)))'
}
sxb() { # ARGS... -> lookups/s
	"$B/sxgate-bench" --queries "$dir/queries.tsv" --warmup 0.5 --duration "$secs" \
		--connections "$conns" --json "$@" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["lookups_per_s"]), d["errors"])'
}

med() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

# Rounds alternate the runs compared (A B C, A B C, ...), so that the load
# of a shared machine falls on each alike; the table gives medians, and
# each ratio is the median of its rounds' ratios.
G=() GL=() S=() SL=() R=() P=() PL=() BL=() q_gs=() q_gr=() q_pb=()
for round in $(seq "$rounds"); do
	read -r g g50 g99 < <(wrk_run "http://127.0.0.1:$hp$path")
	read -r s s50 s99 < <(wrk_run "http://127.0.0.1:$np/check.json")
	read -r r rerr < <(sxb --protocol resp --port "$rp" --depth 1)
	read -r p p50 p99 < <(wrk_run "http://127.0.0.1:$hp/v1/check" -s "$dir/post256.lua")
	read -r bl berr < <(sxb --port "$bp" --batch 256 --depth 1)
	[ "$rerr" = 0 ] && [ "$berr" = 0 ] || echo "sxgate-bench errors: resp $rerr, binary $berr"
	G+=("$g"); GL+=("$g50/$g99"); S+=("$s"); SL+=("$s50/$s99"); R+=("$r")
	P+=($((p * 256))); PL+=("$p50/$p99"); BL+=("$bl")
	q_gs+=("$(ratio "$g" "$s")"); q_gr+=("$(ratio "$g" "$r")"); q_pb+=("$(ratio $((p * 256)) "$bl")")
	echo "round $round: GET $g/s (p50/p99 ms $g50/$g99), nginx $s/s ($s50/$s99), RESP $r/s;" \
	     "POST 256 $((p * 256)) lookups/s ($p50/$p99), binary 256 $bl lookups/s"
done
echo "== HTTP keep-alive, wrk -t1 -c$conns, ${secs}s a run, $rounds rounds (medians); $n records;" \
     "sxgated --threads 1, nginx 1 worker; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %14s\n' run "requests/s"
printf '%-40s %14.0f\n' "sxgated GET /v1/check (listed ID)" "$(med "${G[@]}")"
printf '%-40s %14.0f\n' "nginx static, same $(wc -c <"$dir/www/check.json") bytes" "$(med "${S[@]}")"
printf '%-40s %14.0f\n' "sxgated RESP CHECK, depth 1" "$(med "${R[@]}")"
echo "== batches of 256 IDs, $conns connections, one request in flight each (lookups/s)"
printf '%-40s %14.0f\n' "sxgated POST /v1/check, 256 IDs" "$(med "${P[@]}")"
printf '%-40s %14.0f\n' "sxgated binary CHECK frames of 256" "$(med "${BL[@]}")"
echo "== ratios, median of the rounds' (targets of issue 17: >= 0.50)"
printf '%-40s %14.3f   (rounds: %s)\n' "GET /v1/check / nginx static" "$(med "${q_gs[@]}")" "${q_gs[*]}"
printf '%-40s %14.3f   (rounds: %s)\n' "GET /v1/check / RESP CHECK" "$(med "${q_gr[@]}")" "${q_gr[*]}"
printf '%-40s %14.3f   (rounds: %s)\n' "POST 256 / binary 256 (lookups/s)" "$(med "${q_pb[@]}")" "${q_pb[*]}"
