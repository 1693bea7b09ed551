#!/usr/bin/env bash
# make run: generate a demo list, build its snapshot, show a few decisions,
# then (when the server is built) serve it in the foreground on loopback.
set -euo pipefail
dir=${1:-build/demo}
mkdir -p "$dir"
records=${DEMO_RECORDS:-200000}

echo "== generating a demo list of $records records (sxgate-gen, seed 2026)"
bin/sxgate-gen --records "$records" --seed 2026 --output "$dir/list.csv" \
	--permits-output "$dir/permits.csv" --queries 2000 --hit-rate 0.5 \
	--joint-rate 0.3 --queries-output "$dir/queries.tsv" --mask-names --quiet
echo "== building the snapshot (sxgate-build)"
bin/sxgate-build --input "$dir/list.csv" --permits "$dir/permits.csv" \
	--output "$dir/demo.snap" --as-of 2026-01-10T00:00:00+08:00

echo "== a few decisions (sxgate check, offline, day 2026-01-10)"
# one of each kind the demo list gives, plus an invalid ID
shown=0 tried=0
declare -A seen=()
while IFS=$'\t' read -r id type chan cls day; do
	tried=$((tried + 1))
	[ "$tried" -gt 400 ] && break
	args=("$id" "$chan")
	[ "$cls" != "-" ] && args+=("$cls")
	out=$(bin/sxgate check --snapshot "$dir/demo.snap" "${args[@]}" --type "$type" --at "$day")
	reason=$(sed -n 1,2p <<<"$out" | tr '\n' ' ')
	[ -n "${seen[$reason]:-}" ] && continue
	seen[$reason]=1
	echo "\$ sxgate check --snapshot $dir/demo.snap ${args[*]} --type $type --at $day"
	sed 's/^/    /' <<<"$out"
	shown=$((shown + 1))
	[ "$shown" -ge 6 ] && break
done < "$dir/queries.tsv"
echo "\$ sxgate check --snapshot $dir/demo.snap 11010519491231002Y air"
bin/sxgate check --snapshot "$dir/demo.snap" 11010519491231002Y air 2>&1 | sed 's/^/    /' || true

if [ -x bin/sxgated ]; then
	# an active, open-ended SX listing with every restriction
	read -r case_no hit < <(awk -F, 'NR > 1 && $3 == "SX" && $4 == "debtor" &&
		$5 == "RIC" && $8 == "active" &&
		$10 == "" && $11 == "" && length($6) == 18 {print $1, $6; exit}' "$dir/list.csv")
	rp=${RESP_PORT:-6380} bp=${BIN_PORT:-6381} hp=${METRICS_PORT:-9380}
	cat <<MSG

== starting sxgated on 127.0.0.1 (RESP $rp, binary $bp, HTTP $hp); Ctrl-C stops it
   journal: $dir/journal   feedback to the courts: $dir/feedback
   try, in another terminal:
     redis-cli -p $rp PING
     redis-cli -p $rp CHECK $hit air AT 2026-01-10
     redis-cli -p $rp CHECK $hit rail G1234:second AT 2026-01-10
     bin/sxgate check $hit air --at 2026-01-10 --port $bp
     redis-cli -p $rp CHECK $hit procurement AT 2026-01-10   (docs/MEASURES.md)
     redis-cli -p $rp CHECK $hit finance bank AT 2026-01-10  (REVIEW)
     redis-cli -p $rp LIST.REMOVE '$case_no' RIC $hit        (a removal, live)
     redis-cli -p $rp CHECK $hit air AT 2026-01-10
     redis-cli -p $rp INFO live
     curl -s 'localhost:$hp/v1/check?id=$hit&channel=air&at=2026-01-10'   (docs/HTTP.md)
     curl -s localhost:$hp/health; curl -s localhost:$hp/metrics | head
     open http://127.0.0.1:$hp/ in a browser: the status page
     bin/sxgate feedback summarize $dir/feedback
     bin/sxgate feedback report $dir/feedback --html $dir/report.html   (for the courts)
     bin/sxgate screen --snapshot $dir/demo.snap --channel air --at 2026-01-10 --all FILE.csv
MSG
	exec bin/sxgated --snapshot "$dir/demo.snap" --bind 127.0.0.1 \
		--resp-port "$rp" --bin-port "$bp" --http-port "$hp" \
		--journal "$dir/journal" --feedback "$dir/feedback"
fi
