#!/usr/bin/env bash
# deploy/rollout.sh - reload a new snapshot on sxgated replicas one at a time.
#
#   deploy/rollout.sh [--timeout S] [--settle S] [--force]
#                     [--cacert FILE [--cert FILE --key FILE]]
#                     SNAPSHOT HOST:PORT[=CHECKHOST] ...
#
# SNAPSHOT is the path of the new file as the replicas see it (copy it to
# every replica first, e.g. with rsync to a temporary name and mv).  PORT is
# each replica's RESP port: with --cacert, its TLS RESP port (redis-cli
# --tls, verifying the server certificate against FILE; --cert/--key present
# a client certificate, e.g. one bound to an admin tenant, for replicas with
# --tls-client-auth); without, a plain one.  AUTH: export REDISCLI_AUTH (and
# put --user TENANT in REDIS_CLI_OPTS).  CHECKHOST is the address of the
# replica's plain HTTP port (its --http-bind) when not HOST.  For each
# replica in turn:
#   1. note INFO snapshot's snapshot_generation,
#   2. RELOAD SNAPSHOT [FORCE]  (the replica verifies it and swaps it in
#      without dropping a query; stream updates at or after the snapshot's
#      as-of stay in force),
#   3. wait until INFO snapshot shows a newer generation serving SNAPSHOT,
#   4. wait until GET /health on its HTTP port (INFO server http_port)
#      answers 200 (snapshot loaded, update feed connected and caught up),
# and only then go on to the next one.  The first replica that fails stops
# the rollout (exit 1): the ones not reached keep the old snapshot.
# Needs redis-cli (built with TLS for --cacert); /health is read with bash's
# /dev/tcp (no curl needed).
set -u
timeout=60 settle=0 force=
cli_opts=()
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--settle) settle=$2; shift 2 ;;
	--force) force=FORCE; shift ;;
	--cacert) cli_opts+=(--tls --cacert "$2"); shift 2 ;;
	--cert|--key) cli_opts+=("$1" "$2"); shift 2 ;;
	-h|--help) usage ;;
	--*) echo "rollout: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || usage
snap=$1; shift
REDIS_CLI=${REDIS_CLI:-redis-cli}
# shellcheck disable=SC2206  # REDIS_CLI_OPTS is split on purpose
cli_opts+=(${REDIS_CLI_OPTS:-})
cli() { "$REDIS_CLI" "${cli_opts[@]}" "$@"; }

say() { printf '%s rollout: %s\n' "$(date -u +%H:%M:%S.%3N)" "$*"; }
field() { # field HOST PORT SECTION KEY
	cli -h "$1" -p "$2" INFO "$3" 2>/dev/null | tr -d '\r' | sed -n "s/^$4://p"
}
health() { # health HOST MPORT -> prints the status code and the body's first line
	local h=$1 p=$2 line body code
	exec 3<>"/dev/tcp/$h/$p" 2>/dev/null || { echo "000 no answer"; return; }
	printf 'GET /health HTTP/1.0\r\nHost: %s\r\n\r\n' "$h" >&3
	IFS= read -r -t 3 line <&3 || line=
	code=$(printf '%s' "$line" | awk '{print $2}')
	body=$(timeout 3 cat <&3 | tr -d '\r' | sed '1,/^$/d' | head -1)
	exec 3<&- 3>&-
	echo "${code:-000} $body"
}

n=0
for hp in "$@"; do
	n=$((n + 1))
	ch=$hp
	case $hp in *=*) ch=${hp#*=}; hp=${hp%%=*} ;; esac
	h=${hp%:*} p=${hp##*:}
	[ "$ch" != "$hp" ] || ch=$h
	gen=$(field "$h" "$p" snapshot snapshot_generation)
	mport=$(field "$h" "$p" server http_port)
	[ -n "$mport" ] || mport=$(field "$h" "$p" server metrics_port)   # before http_port
	if [ -z "$gen" ]; then
		say "$hp: no answer to INFO; stopping (replicas $n..$# not reloaded)"; exit 1
	fi
	say "$hp: generation $gen, reloading $snap"
	reply=$(cli -h "$h" -p "$p" RELOAD "$snap" $force 2>&1 | tr -d '\r')
	case $reply in
	OK*) ;;
	*) say "$hp: RELOAD refused: $reply; stopping"; exit 1 ;;
	esac
	deadline=$((SECONDS + timeout))
	while :; do
		g=$(field "$h" "$p" snapshot snapshot_generation)
		path=$(field "$h" "$p" snapshot snapshot_path)
		if [ -n "$g" ] && [ "$g" -gt "$gen" ] && [ "$path" = "$snap" ]; then break; fi
		[ $SECONDS -lt $deadline ] || { say "$hp: still generation ${g:-?} ($path) after ${timeout}s; stopping"; exit 1; }
		sleep 0.1
	done
	as_of=$(field "$h" "$p" snapshot snapshot_as_of)
	if [ -n "$mport" ] && [ "$mport" != 0 ]; then
		while :; do
			hs=$(health "$ch" "$mport")
			[ "${hs%% *}" = 200 ] && break
			[ $SECONDS -lt $deadline ] || { say "$hp: /health still ${hs} after ${timeout}s; stopping"; exit 1; }
			sleep 0.1
		done
		say "$hp: generation $g (as-of $as_of) serving, /health 200"
	else
		say "$hp: generation $g (as-of $as_of) serving (no metrics port: /health not checked)"
	fi
	[ "$settle" = 0 ] || sleep "$settle"
done
say "done: $n replicas on $snap"
