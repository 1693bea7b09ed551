#!/usr/bin/env bash
# bench/run.sh DIR - `make bench`: the whole benchmark suite on this machine.
#
#   1. the engine in-process beside the DRAM random-read rate (bench/engine.sh,
#      which also generates the data when missing and times sxgate-build);
#   2. the binary protocol on loopback: a closed-loop sweep of batch, depth,
#      connections and client threads, server threads 1 and 2, then open-loop
#      latency at 10/50/90% of the peak, for the peak configuration and for
#      single lookups (batch 1, depth 1, many connections);
#   3. RESP with one client for both sides: sxgated CHECK/LISTED against
#      redis-server SISMEMBER over the same IDs, depths 1/16/64, and the same
#      again with redis-benchmark, a client neither side wrote;
#   4. memory: sxgated RSS and snapshot size against redis-server holding
#      the same IDs;
#   5. sxgate-build time against loading the IDs into Redis;
#   6. latency and errors while RELOAD swaps the snapshot every second;
#   7. where the time goes: perf (CPU split, hottest functions) and strace
#      (system calls per request) on the server under load.
# Results go to DIR/results/ (results.jsonl, facts, commands, logs);
# bench/report.py turns them into docs/BENCHMARKS.md and the table printed
# at the end, bench/plot.py into docs/bench-throughput-latency.svg.
#
# Knobs (environment): BENCH_RECORDS (10000000), BENCH_SECONDS per measured
# run (5), BENCH_SWEEP_SECONDS per sweep point (3), BENCH_QUERIES lines of
# the query file used on the wire (500000), BENCH_PROFILE=0 skips step 7,
# BENCH_WAIT_IDLE=S waits up to S seconds for the 1-minute load average to
# drop below 1 before starting (client, server and anything else share the
# cores; the report shows the load average either way).
#
# Every process started here is stopped on exit (trap), by its PID; ports
# are free ephemeral ports on 127.0.0.1 chosen at run time.
set -euo pipefail

dir=${1:-build/bench}
n=${BENCH_RECORDS:-10000000}
secs=${BENCH_SECONDS:-5}
sweep_secs=${BENCH_SWEEP_SECONDS:-3}
nq=${BENCH_QUERIES:-500000}
profile=${BENCH_PROFILE:-1}
res=$dir/results
B=$res/bin                   # the programs, copied: one build for the whole run
snap=$dir/list-$n.snap
csv=$dir/list-$n.csv
queries=$res/queries.tsv
key=sxgate:ids
wait_idle=${BENCH_WAIT_IDLE:-0}
t_suite=$(date +%s.%N)

rm -rf "$res"
mkdir -p "$res" "$B"
facts=$res/facts
results=$res/results.jsonl
cmds=$res/commands.txt
: >"$facts"; : >"$results"; : >"$cmds"

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian's interpreter when present: a version-manager shim earlier in PATH
# can cost a second per start on a busy machine, and this script starts many.
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
say() { printf '%s\n' "$*"; }
t_section=$t_suite
section_name=
section() {   # NAME TEXT: start a timed section (its time goes to facts)
	[ -n "$section_name" ] && fact "time_$section_name" "$(elapsed "$t_section")"
	t_section=$(date +%s.%N)
	section_name=$1
	shift
	say "== $* [$(elapsed "$t_suite") s]"
}
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
fact() { printf '%s=%s\n' "$1" "$2" >>"$facts"; }
logcmd() { printf '%s\n' "$*" >>"$cmds"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", b - a}'; }
get() { "$PY" bench/results.py get "$results" "$@"; }
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- the machine and the programs --------------------------------------------
if [ "$wait_idle" -gt 0 ]; then
	for _ in $(seq "$wait_idle"); do
		awk '{exit !($1 < 1)}' /proc/loadavg && break
		sleep 1
	done
fi
if awk -v n="$(nproc)" '{exit !($1 > n / 4)}' /proc/loadavg; then
	say "warning: load average $(cut -d' ' -f1-3 /proc/loadavg) before the run: other work shares these $(nproc) cores, figures will be low and noisy"
fi
for p in sxgated sxgate-bench sxgate sxgate-build sxgate-gen; do
	cp "bin/$p" "$B/$p"
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
fact nproc "$(nproc)"
fact mem_gib "$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"
fact cpu "$cpu"
fact kernel "$(uname -sr)"
fact os "$(. /etc/os-release && echo "$PRETTY_NAME")"
fact redis_version "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
fact sxgated_version "$("$B/sxgated" --version 2>&1 | head -1)"
fact commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)' || true)"
fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact load_before "$(loadavg)"
fact records "$n"
fact secs "$secs"
fact sweep_secs "$sweep_secs"
fact nq "$nq"
say "== sxgate benchmarks: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $cpu, $(uname -r); load average $(loadavg)"
say "   client and server share these $(nproc) cores; results in $res"

# ---- 1. engine (and data, and the build time) ------------------------------------
section engine "1. engine in-process (bench/engine.sh: generates data if missing, builds the snapshot)"
gen_needed=0
[ -s "$csv" ] || gen_needed=1
fact gen_needed "$gen_needed"
logcmd "BENCH_RECORDS=$n bench/engine.sh $dir"
BENCH_RECORDS=$n bench/engine.sh "$dir" 2>&1 | tee "$res/engine.txt"
[ "${PIPESTATUS[0]}" = 0 ] || { say "bench/engine.sh failed"; exit 1; }
head -n "$nq" "$dir/queries-$n.tsv" >"$queries"
logcmd "head -n $nq $dir/queries-$n.tsv > $queries"
fact snap_bytes "$(stat -c %s "$snap")"

# ---- redis-server with the same IDs -----------------------------------------------
section redis "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') holding the list's IDs"
rport=$(free_port)
logcmd "redis-server --port $rport --bind 127.0.0.1 --save '' --appendonly no"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
	--logfile "$(realpath -m "$res/redis.log")" --dir "$(realpath -m "$res")" &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do
	redis-cli -p "$rport" PING >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$rport" PING >/dev/null || { say "redis-server did not start"; cat "$res/redis.log"; exit 1; }
fact redis_rss_empty_kb "$(awk '/VmRSS/ {print $2}' /proc/$redis_pid/status)"

logcmd "build/bench-redis-ids $csv $key 1000 > $res/ids.resp"
t0=$(date +%s.%N)
build/bench-redis-ids "$csv" "$key" 1000 >"$res/ids.resp" 2>"$res/ids.log"
fact redis_resp_gen_s "$(elapsed "$t0")"
logcmd "redis-cli -p $rport --pipe < $res/ids.resp"
t0=$(date +%s.%N)
redis-cli -p "$rport" --pipe <"$res/ids.resp" >"$res/pipe.log" 2>&1
fact redis_load_s "$(elapsed "$t0")"
grep -q 'errors: 0' "$res/pipe.log" || { say "redis-cli --pipe reported errors:"; cat "$res/pipe.log"; exit 1; }
rm -f "$res/ids.resp"
fact redis_ids "$(redis-cli -p "$rport" SCARD "$key")"
redis-cli -p "$rport" INFO memory | tr -d '\r' >"$res/redis-info-memory.txt"
fact redis_used_memory "$(awk -F: '/^used_memory:/ {print $2}' "$res/redis-info-memory.txt")"
fact redis_used_memory_rss "$(awk -F: '/^used_memory_rss:/ {print $2}' "$res/redis-info-memory.txt")"
fact redis_vmrss_kb "$(awk '/VmRSS/ {print $2}' /proc/$redis_pid/status)"
say "   $(cat "$res/ids.log"); SCARD $(redis-cli -p "$rport" SCARD "$key"); load $(grep redis_load_s "$facts" | cut -d= -f2) s; used_memory $(awk -F: '/^used_memory_human:/ {print $2}' "$res/redis-info-memory.txt")"

# ---- sxgated ------------------------------------------------------------------------
sx_pid=
sx_port=
sx_bport=
sx_cfg=
start_sxgated() {   # THREADS [IO]: (re)start sxgated unless it runs so already
	local threads=$1 io=${2:-}
	if [ -n "$sx_pid" ] && [ "$sx_cfg" = "$threads:$io" ] && kill -0 "$sx_pid" 2>/dev/null; then
		return 0
	fi
	stop_sxgated
	sx_cfg="$threads:$io"
	sx_port=$(free_port)
	sx_bport=$(free_port)
	while [ "$sx_bport" = "$sx_port" ]; do sx_bport=$(free_port); done
	local args=(--snapshot "$snap" --bind 127.0.0.1 --resp-port "$sx_port" --bin-port "$sx_bport" --threads "$threads")
	[ -n "$io" ] && args+=(--io "$io")
	logcmd "bin/sxgated ${args[*]}"
	: >"$res/sxgated.log"
	"$B/sxgated" "${args[@]}" 2>>"$res/sxgated.log" &
	sx_pid=$!
	pids+=("$sx_pid")
	for _ in $(seq 600); do
		grep -q ready "$res/sxgated.log" && return 0
		kill -0 "$sx_pid" 2>/dev/null || break
		sleep 0.1
	done
	say "sxgated did not become ready:"
	tail -20 "$res/sxgated.log"
	exit 1
}
stop_sxgated() {
	[ -n "$sx_pid" ] || return 0
	kill "$sx_pid" 2>/dev/null || true
	wait "$sx_pid" 2>/dev/null || true
	sx_cfg=
	local keep=() p
	for p in "${pids[@]}"; do [ "$p" = "$sx_pid" ] || keep+=("$p"); done
	pids=("${keep[@]}")
	sx_pid=
}
sx_info() { redis-cli -p "$sx_port" INFO "$@" | tr -d '\r'; }
sx_info_field() { sx_info | awk -F: -v k="$1" '$1 == k {print $2}'; }

# One sxgate-bench run: ID then sxgate-bench arguments (without --queries
# and --json).  Appends {"id", "cmd", "rc", "r"} to results.jsonl and
# prints one line.
# server_cpu_s: CPU seconds (user + system, all threads) the server used
# during the whole run, warmup and connection setup included.
server_pid_of() {   # PORT
	if [ "$1" = "$rport" ]; then echo "$redis_pid"; else echo "$sx_pid"; fi
}
bench() {
	local id=$1
	shift
	local args=(--queries "$queries" "$@" --json) out rc=0 port= a spid c0 c1 t0 wall
	for a in "$@"; do
		[ "$port" = next ] && port=$a
		[ "$a" = --port ] && port=next
	done
	spid=$(server_pid_of "$port")
	logcmd "bin/sxgate-bench ${args[*]}"
	c0=$(cpu_ticks "$spid")
	t0=$(date +%s.%N)
	out=$("$B/sxgate-bench" "${args[@]}" 2>>"$res/bench-stderr.txt") || rc=$?
	wall=$(elapsed "$t0")
	c1=$(cpu_ticks "$spid")
	"$PY" bench/results.py add "$results" "$id" "sxgate-bench ${args[*]}" "$rc" \
		"$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')" "$wall" "$out"
}

section sxgated "sxgated: start, memory after load"
start_sxgated 1
fact sx_verify "$(grep -o 'verified in [0-9]* ms' "$res/sxgated.log" | head -1)"
fact sx_ids "$(sx_info_field snapshot_ids)"
fact sx_keys "$(sx_info_field snapshot_keys)"
for k in VmRSS RssAnon RssFile VmHWM; do
	fact "sx_${k}_kb" "$(awk -v k="$k:" '$1 == k {print $2}' /proc/$sx_pid/status)"
done
fact sx_used_memory_rss "$(sx_info_field used_memory_rss)"
say "   VmRSS $(awk '/VmRSS/ {print $2}' /proc/$sx_pid/status) kB for $(sx_info_field snapshot_ids) IDs; snapshot $(stat -c %s "$snap") bytes"

# ---- 2. binary protocol ----------------------------------------------------------------
section binary "2. binary protocol, closed loop, ${sweep_secs} s a point (server --threads 1)"
W=(--warmup 0.5 --duration "$sweep_secs")
for b in 1 16 64 256; do
	for d in 1 8 32; do
		bench "bin.sweep.s1.b$b.d$d.c4.t1" --port "$sx_bport" --batch "$b" --depth "$d" --connections 4 --threads 1 "${W[@]}"
	done
done
best=$("$PY" bench/results.py best "$results" bin.sweep.s1.)
bb=$(get "$best" batch); bd=$(get "$best" depth)
for ct in "2 1" "8 1" "4 2" "8 2"; do
	set -- $ct
	bench "bin.sweep.s1.b$bb.d$bd.c$1.t$2" --port "$sx_bport" --batch "$bb" --depth "$bd" --connections "$1" --threads "$2" "${W[@]}"
done
say "   single lookups: batch 1, depth 1 per connection, many connections"
for ct in "1 1" "16 1" "64 1" "64 2"; do   # one connection: the round-trip floor
	set -- $ct
	bench "bin.single.s1.c$1.t$2" --port "$sx_bport" --batch 1 --depth 1 --connections "$1" --threads "$2" "${W[@]}"
done
best1=$("$PY" bench/results.py best "$results" bin.sweep.s1.)
single1=$("$PY" bench/results.py best "$results" bin.single.s1.)

say "== server --threads 2 at the best configurations"
start_sxgated 2
for id in "$best1" "$single1"; do
	b=$(get "$id" batch); d=$(get "$id" depth); c=$(get "$id" connections); t=$(get "$id" threads)
	kind=sweep; [ "$b.$d" = "1.1" ] && kind=single
	nid="bin.$kind.s2.b$b.d$d.c$c.t$t"
	[ $kind = single ] && nid="bin.single.s2.c$c.t$t"
	bench "$nid" --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t" "${W[@]}"
	if [ "$t" = 1 ]; then t2=2; else t2=1; fi
	nid2=${nid%.t*}.t$t2
	bench "$nid2" --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t2" "${W[@]}"
done
say "== server --threads 1 --io epoll at the same two configurations (io_uring is the default)"
start_sxgated 1 epoll
for id in "$best1" "$single1"; do
	b=$(get "$id" batch); d=$(get "$id" depth); c=$(get "$id" connections); t=$(get "$id" threads)
	bench "bin.epoll.s1.b$b.d$d.c$c.t$t" --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t" "${W[@]}"
done

peak=$("$PY" bench/results.py best "$results" bin.sweep.)
single=$("$PY" bench/results.py best "$results" bin.single.)
fact peak_id "$peak"
fact single_id "$single"

# Open loop at 10/50/90% of a closed-loop peak, on the server threads it was
# measured with.
open_curve() {   # NAME PEAK-ID
	local name=$1 id=$2
	local b d c t s rps
	b=$(get "$id" batch); d=$(get "$id" depth); c=$(get "$id" connections); t=$(get "$id" threads)
	s=$(echo "$id" | sed -n 's/.*\.s\([0-9]\)\..*/\1/p')
	rps=$(get "$id" requests_per_s)
	start_sxgated "$s"
	for pct in 10 50 90; do
		local rate
		rate=$(awk -v r="$rps" -v p="$pct" 'BEGIN {printf "%.0f\n", r * p / 100}')
		bench "bin.open.$name.$pct" --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t" \
			--rate "$rate" --warmup 1 --duration "$secs"
	done
}
section open "open loop at 10/50/90% of the peak ($peak), ${secs} s a point"
open_curve peak "$peak"
say "== open loop at 10/50/90% of the single-lookup peak ($single)"
open_curve single "$single"

# ---- 3. RESP ----------------------------------------------------------------------------
section resp "3. RESP, one client for both: sxgated (--threads 1) CHECK/LISTED vs redis-server SISMEMBER, 8 connections"
start_sxgated 1
for d in 1 16 64; do
	bench "resp.check.d$d" --protocol resp --port "$sx_port" --connections 8 --depth "$d" --warmup 0.5 --duration "$secs"
	bench "resp.listed.d$d" --protocol resp --port "$sx_port" --command listed --connections 8 --depth "$d" --warmup 0.5 --duration "$secs"
	bench "redis.sismember.d$d" --port "$rport" --redis-sismember "$key" --connections 8 --depth "$d" --warmup 0.5 --duration "$secs"
done
say "   depth 64 again with 2 client threads (is one client thread the limit?)"
bench resp.check.d64.t2 --protocol resp --port "$sx_port" --connections 8 --depth 64 --threads 2 --warmup 0.5 --duration "$secs"
bench redis.sismember.d64.t2 --port "$rport" --redis-sismember "$key" --connections 8 --depth 64 --threads 2 --warmup 0.5 --duration "$secs"

section rbench "redis-benchmark (neither side's client), -c 16"
# Its CSV line: "test","rps","avg","min","p50","p95","p99","max" (ms).
rbench() {   # ID PORT N P [-r R] COMMAND...
	local id=$1 port=$2 nreq=$3 pipe=$4
	shift 4
	local extra=()
	if [ "$1" = -r ]; then extra=(-r "$2"); shift 2; fi
	local before after line rc=0 spid c0 c1
	spid=$(server_pid_of "$port")
	c0=$(cpu_ticks "$spid")
	before=$(redis-cli -p "$port" INFO stats | tr -d '\r' | awk -F: '$1 == "query_errors" {print $2}')
	logcmd "redis-benchmark -p $port -n $nreq -c 16 -P $pipe ${extra[*]} --csv $*"
	line=$(redis-benchmark -p "$port" -n "$nreq" -c 16 -P "$pipe" "${extra[@]}" --csv "$@" 2>>"$res/redis-benchmark.log" | tail -1) || rc=$?
	after=$(redis-cli -p "$port" INFO stats | tr -d '\r' | awk -F: '$1 == "query_errors" {print $2}')
	c1=$(cpu_ticks "$spid")
	"$PY" bench/results.py rb "$results" "$id" "redis-benchmark -p $port -n $nreq -c 16 -P $pipe ${extra[*]} --csv $*" \
		"$pipe" "$rc" "${before:-}" "${after:-}" "$line" "$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')"
}
fixed=350304197806263293
for p in 1 64; do
	nreq=$((p == 1 ? 100000 : 3000000))
	rbench "rb.sx.fixed.P$p" "$sx_port" "$nreq" "$p" CHECK "$fixed" air
	rbench "rb.redis.fixed.P$p" "$rport" "$nreq" "$p" SISMEMBER "$key" "$fixed"
done
rbench rb.sx.rand.P64 "$sx_port" 3000000 64 -r 1000000000000 CHECK E__rand_int__ air TYPE PASSPORT
rbench rb.redis.rand.P64 "$rport" 3000000 64 -r 1000000000000 SISMEMBER "$key" E__rand_int__

# ---- 6. reload under load ------------------------------------------------------------------
section reload "6. RELOAD every second during a run (binary, single lookups at 50% of their peak)"
# the single-lookup peak on this server (--threads 1)
fact reload_peak_id "$single1"
b=$(get "$single1" batch); d=$(get "$single1" depth); c=$(get "$single1" connections); t=$(get "$single1" threads)
rate=$(awk -v r="$(get "$single1" requests_per_s)" 'BEGIN {printf "%.0f\n", r * 0.5}')
rsecs=$((secs * 3))
gen0=$(sx_info_field snapshot_generation)
bench reload.base --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t" --rate "$rate" --warmup 1 --duration "$rsecs"
# The loop starts with the run's warmup and stops before the run ends, so
# every RELOAD it sends is answered inside the measured window.
# A RELOAD starts on every 1 s tick unless the previous one is still being
# answered (the server verifies the whole snapshot first and runs one
# reload at a time), so swaps come as fast as the server can take them,
# at most one a second, and none is left queued after the run.
(
	end=$(( $(date +%s) + 1 + rsecs - 1 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		t0=$(date +%s.%N)
		r=$(redis-cli -p "$sx_port" RELOAD 2>&1 | tr -d '\r')
		took=$(elapsed "$t0")
		echo "$took $r"
		sleep "$(awk -v t="$took" 'BEGIN {print (t < 1) ? 1 - t : 0}')"
	done
) >"$res/reloads.txt" &
rl_pid=$!
pids+=("$rl_pid")
logcmd "while :; do redis-cli -p $sx_port RELOAD; sleep up to 1 s; done &   # a RELOAD per 1 s tick during the next run"
bench reload.live --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t" --rate "$rate" --warmup 1 --duration "$rsecs"
wait "$rl_pid" 2>/dev/null || true
sleep 0.2
gen1=$(sx_info_field snapshot_generation)
fact reload_gen_before "$gen0"
fact reload_gen_after "$gen1"
fact reload_sent "$(wc -l <"$res/reloads.txt")"
fact reload_ok "$(grep -c ' OK ' "$res/reloads.txt" || true)"
fact reload_failed "$(sx_info_field reloads_failed)"
fact reload_verify "$(grep -o 'reloaded .*verified in [0-9]* ms' "$res/sxgated.log" | sed 's/.*verified in //' | tr '\n' ' ')"
say "   $(wc -l <"$res/reloads.txt") RELOADs sent, generation $gen0 -> $gen1"

# ---- 6b. /health while HTTP clients idle and trickle ------------------------------------
section health "6b. GET /health while 1000 HTTP clients idle and 10 trickle (HAProxy's check timeout is 1 s)"
stop_sxgated
hport=$(free_port)
logcmd "bin/sxgated --snapshot $snap --resp-port 0 --bin-port $(free_port) --http-port $hport --threads 1"
: >"$res/sxgated-health.log"
"$B/sxgated" --snapshot "$snap" --resp-port 0 --bin-port "$(free_port)" --http-port "$hport" \
	--threads 1 2>>"$res/sxgated-health.log" &
hpid=$!
pids+=("$hpid")
for _ in $(seq 600); do grep -q ready "$res/sxgated-health.log" && break; sleep 0.1; done
logcmd "bench/health_load.py $hport --idle 1000 --trickle 10 --asks 300"
hl=$("$PY" bench/health_load.py "$hport" --idle 1000 --trickle 10 --asks 300 2>&1 | tail -1) || true
kill "$hpid" 2>/dev/null || true
wait "$hpid" 2>/dev/null || true
for k in p50_ms p99_ms max_ms failed asks; do
	fact "health_$k" "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$hl" "$k" 2>/dev/null || echo '?')"
done
say "   /health: $hl"

# ---- 7. where the time goes ----------------------------------------------------------------
if [ "$profile" = 1 ] && command -v perf >/dev/null; then
	section profile "7. where the time goes (perf, strace) on sxgated --threads 1"
	# Server-side counters of the request kind, summed, for a window.
	reqs() {   # resp|bin
		if [ "$1" = resp ]; then
			sx_info_field total_commands_processed
		else
			sx_info | awk -F: '$1 ~ /^binstat_(check|listed)$/ {sub("frames=", "", $2); s += $2} END {print s}'
		fi
	}
	# strace -c -f on every thread of PID for 2 s into FILE; prints the
	# requests sxgated answered meanwhile.
	strace_window() {   # PID FILE KIND
		local tids=() tid r0 r1
		for tid in /proc/"$1"/task/*; do tids+=(-p "${tid##*/}"); done
		r0=$(reqs "$3")
		timeout -s INT 2 strace -c -f "${tids[@]}" -o "$2" >/dev/null 2>&1 || true
		r1=$(reqs "$3")
		echo $((r1 - r0))
	}
	profile_run() {   # NAME resp|bin full|strace sxgate-bench-args...
		local name=$1 kind=$2 mode=$3
		shift 3
		local r0 r1 bpid
		logcmd "bin/sxgate-bench --queries $queries $* --duration 60 &   # profiled, then stopped"
		"$B/sxgate-bench" --queries "$queries" "$@" --duration 60 --json >"$res/prof-$name.json" 2>>"$res/bench-stderr.txt" &
		bpid=$!
		pids+=("$bpid")
		sleep 1
		if [ "$mode" = full ]; then
		# (a) CPU of the whole machine by process and by symbol: 2 s
		r0=$(reqs "$kind")
		logcmd "perf record -a -g -e cpu-clock -F 999 -o $res/perf-$name.data -- sleep 2"
		perf record -a -g -N -e cpu-clock -F 999 -o "$res/perf-$name.data" -- sleep 2 >/dev/null 2>&1 || true
		r1=$(reqs "$kind")
		fact "prof_${name}_perf_reqs" "$((r1 - r0))"
		fact "prof_${name}_sx_tids" "$(ls /proc/"$sx_pid"/task | tr '\n' ' ')"
		fact "prof_${name}_bench_tids" "$(ls /proc/"$bpid"/task 2>/dev/null | tr '\n' ' ')"
		local pr=(perf report -i "$res/perf-$name.data" --stdio --no-children)
		local clean=(grep -E '^ +[0-9.]+%')
		# the whole machine, by process (--sort pid is thread:comm, so by comm
		# within each of our processes and everybody else's)
		"${pr[@]}" -g none --sort pid 2>/dev/null | "${clean[@]}" >"$res/perf-$name-pid.txt" || true
		# sxgated and the client by object and function, self time (the
		# report sums objects: user space, kernel, vdso)
		"${pr[@]}" -g none --pid "$sx_pid" --percentage relative --sort dso,sym 2>/dev/null \
			| "${clean[@]}" >"$res/perf-$name-sym.txt" || true
		"${pr[@]}" -g none --pid "$bpid" --percentage relative --sort dso,sym 2>/dev/null \
			| "${clean[@]}" >"$res/perf-$name-benchsym.txt" || true
		# sxgated, inclusive time (kernel call chains are reliable; user
		# space has no frame pointers)
		perf report -i "$res/perf-$name.data" --stdio --children -g none --pid "$sx_pid" \
			--percentage relative --sort sym 2>/dev/null | grep -E '^ +[0-9.]+% +[0-9.]+%' \
			| head -60 >"$res/perf-$name-incl.txt" || true
		# (b) context switches and CPU time of the server: 2 s
		r0=$(reqs "$kind")
		logcmd "perf stat -e task-clock,context-switches,cpu-migrations -p SXGATED_PID -- sleep 2"
		perf stat -e task-clock,context-switches,cpu-migrations -p "$sx_pid" -x, -o "$res/pstat-$name.txt" -- sleep 2 >/dev/null 2>&1 || true
		r1=$(reqs "$kind")
		fact "prof_${name}_stat_reqs" "$((r1 - r0))"
		fi
		# (c) system calls per request, server and client: 2 s each under
		# strace (it slows the traced side several times; a ratio)
		logcmd "strace -c -f -p TID ... (every thread of sxgated, then of sxgate-bench)   # 2 s each"
		fact "prof_${name}_strace_reqs" "$(strace_window "$sx_pid" "$res/strace-$name.txt" "$kind")"
		fact "prof_${name}_cstrace_reqs" "$(strace_window "$bpid" "$res/cstrace-$name.txt" "$kind")"
		kill "$bpid" 2>/dev/null || true
		wait "$bpid" 2>/dev/null || true
		local keep=() p
		for p in "${pids[@]}"; do [ "$p" = "$bpid" ] || keep+=("$p"); done
		pids=("${keep[@]}")
		rm -f "$res/perf-$name.data"
		say "   profiled $name"
	}
	start_sxgated 1
	c=$(get "$single" connections); t=$(get "$single" threads)
	fact prof_single_batch 1
	fact prof_resp16_batch 1
	profile_run single bin full --port "$sx_bport" --batch 1 --depth 1 --connections "$c" --threads "$t"
	b=$(get "$best1" batch); d=$(get "$best1" depth); c=$(get "$best1" connections); t=$(get "$best1" threads)
	fact prof_peak_batch "$b"
	profile_run peak bin full --port "$sx_bport" --batch "$b" --depth "$d" --connections "$c" --threads "$t"
	profile_run resp16 resp full --protocol resp --port "$sx_port" --connections 8 --depth 16
	# one RELOAD, idle otherwise: where a swap's time goes
	logcmd "perf record -e cpu-clock -F 999 -p SXGATED_PID   # while: redis-cli -p $sx_port RELOAD"
	perf record -e cpu-clock -F 999 -p "$sx_pid" -o "$res/perf-reload.data" >/dev/null 2>&1 &
	perf_pid=$!
	pids+=("$perf_pid")
	sleep 0.5
	t0=$(date +%s.%N)
	redis-cli -p "$sx_port" RELOAD >/dev/null
	fact prof_reload_s "$(elapsed "$t0")"
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" 2>/dev/null || true
	perf report -i "$res/perf-reload.data" --stdio --no-children --sort dso,sym 2>/dev/null \
		| grep -E '^ +[0-9.]+%' | head -12 >"$res/perf-reload-sym.txt" || true
	rm -f "$res/perf-reload.data"
	say "   profiled a RELOAD"
	# the same single lookups on the epoll backend: there every send and
	# receive is its own system call, which io_uring batches away
	start_sxgated 1 epoll
	fact prof_single_epoll_batch 1
	c=$(get "$single" connections); t=$(get "$single" threads)
	profile_run single_epoll bin strace --port "$sx_bport" --batch 1 --depth 1 --connections "$c" --threads "$t"
fi

section end "end"
# ---- 4. memory again, after the runs ------------------------------------------------------
fact sx_VmRSS_end_kb "$(awk '/VmRSS/ {print $2}' /proc/$sx_pid/status)"
fact redis_vmrss_end_kb "$(awk '/VmRSS/ {print $2}' /proc/$redis_pid/status)"
stop_sxgated
cleanup
fact load_after "$(loadavg)"
fact suite_s "$(elapsed "$t_suite")"

# ---- report ------------------------------------------------------------------------------------
"$PY" bench/plot.py "$res" docs/bench-throughput-latency.svg
"$PY" bench/report.py "$res" docs/BENCHMARKS.md
