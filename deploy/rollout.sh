#!/usr/bin/env bash
# deploy/rollout.sh - reload a new snapshot on sxgated replicas one at a time.
#
#   deploy/rollout.sh [--timeout S] [--settle S] [--force]
#                     [--cacert FILE [--cert FILE --key FILE] [--sni NAME]]
#                     [--tenant T [--secret-file FILE]]
#                     SNAPSHOT HOST:PORT[=CHECKHOST] ...
#
# SNAPSHOT is the path of the new file as the replicas see it (copy it to
# every replica first, e.g. with rsync to a temporary name and mv).  PORT is
# each replica's RESP port: with --cacert, its TLS RESP port (the server's
# certificate is verified against FILE, and its name against HOST, or
# --sni NAME; --cert/--key present a client certificate, for replicas with
# --tls-client-auth); without, a plain one.
#
# Replicas with --tenants: --tenant T names an admin tenant (RELOAD needs
# the admin flag); its secret comes from --secret-file FILE (the first
# line; mode 0600 or stricter, else refused) or the SXGATE_SECRET
# environment variable, never from the command line, where every user sees
# it in ps (--secret is refused).  A client certificate bound to an admin
# tenant (cert=) needs no --tenant.  A replica that asks for AUTH when none
# was given, or refuses the secret, stops the rollout with what it said.
#
# CHECKHOST is the address of the replica's plain HTTP port (its
# --http-bind) when not HOST.  For each replica in turn:
#   1. note INFO snapshot's snapshot_generation,
#   2. RELOAD SNAPSHOT [FORCE]  (the replica verifies it and swaps it in
#      without dropping a query; stream updates at or after the snapshot's
#      as-of stay in force),
#   3. wait until INFO snapshot shows a newer generation serving SNAPSHOT,
#   4. wait until GET /health on its HTTP port (INFO server http_port)
#      answers 200 (snapshot loaded, update feed connected and caught up),
# and only then go on to the next one.  The first replica that fails stops
# the rollout (exit 1): the ones not reached keep the old snapshot.  Usage
# errors exit 2.
# Talks to the replicas with `sxgate` (its info and reload subcommands over
# RESP; SXGATE=PATH names another binary); /health is read with bash's
# /dev/tcp (no curl needed).
set -u
timeout=60 settle=0 force='' tenant='' secret_file=''
conn=()
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
die() { echo "rollout: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--settle) settle=$2; shift 2 ;;
	--force) force=--force; shift ;;
	--cacert) conn+=(--tls --cacert "$2"); shift 2 ;;
	--cert|--key|--sni) conn+=("$1" "$2"); shift 2 ;;
	--tenant) tenant=$2; shift 2 ;;
	--secret-file) secret_file=$2; shift 2 ;;
	--secret|--secret=*)
		die "--secret would show the secret to every user of this machine (ps); use --secret-file FILE or SXGATE_SECRET" ;;
	-h|--help) usage ;;
	--*) echo "rollout: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || usage
snap=$1; shift
SXGATE=${SXGATE:-sxgate}
command -v "$SXGATE" >/dev/null || die "$SXGATE not found (install sxgate, or set SXGATE=PATH)"
if [ -n "$secret_file" ] && [ -z "$tenant" ]; then
	die "--secret-file needs --tenant (the admin tenant whose secret it holds)"
fi
if [ -n "$tenant" ]; then
	[ -n "$secret_file" ] || [ -n "${SXGATE_SECRET:-}" ] ||
		die "--tenant $tenant needs its secret: --secret-file FILE or SXGATE_SECRET"
	conn+=(--tenant "$tenant")
	[ -z "$secret_file" ] || conn+=(--secret-file "$secret_file")
fi

say() { printf '%s rollout: %s\n' "$(date -u +%H:%M:%S.%3N)" "$*"; }
errf=$(mktemp "${TMPDIR:-/tmp}/rollout-XXXXXX")
trap 'rm -f "$errf"' EXIT
# sx SUBCOMMAND HOST PORT ARGS...: one request; its error text in $errf
sx() {
	local sub=$1 h=$2 p=$3
	shift 3
	"$SXGATE" "$sub" "$@" --resp --host "$h" --port "$p" "${conn[@]}" 2>"$errf" | tr -d '\r'
	return "${PIPESTATUS[0]}"
}
field() { # field INFO-TEXT KEY
	sed -n "s/^$2://p" <<<"$1"
}
# What to say when a replica refused us: its words, and the way out.
refused() { # refused HOST:PORT WHAT
	local why
	why=$(tr '\n' ' ' <"$errf" | sed 's/[ .]*$//')
	case $why in
	NOAUTH*) why="$why; the replica runs with --tenants: give --tenant T (an admin tenant) with --secret-file FILE or SXGATE_SECRET, or a --cert bound to one" ;;
	WRONGPASS*too\ many*) why="$why (the replica's AUTH rate limit)" ;;
	WRONGPASS*) why="$why; tenant '${tenant:-?}' and its secret (--secret-file / SXGATE_SECRET) do not match the replica's tenants file" ;;
	NOPERM*) why="$why; RELOAD needs an admin tenant" ;;
	esac
	say "$1: $2: ${why:-no answer}"
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
	if ! info=$(sx info "$h" "$p" all); then
		refused "$hp" "INFO refused"
		say "stopping (replicas $n..$# not reloaded)"; exit 1
	fi
	gen=$(field "$info" snapshot_generation)
	mport=$(field "$info" http_port)
	[ -n "$mport" ] || mport=$(field "$info" metrics_port)   # before http_port
	if [ -z "$gen" ]; then
		say "$hp: INFO has no snapshot_generation; stopping (replicas $n..$# not reloaded)"; exit 1
	fi
	say "$hp: generation $gen, reloading $snap"
	# shellcheck disable=SC2086  # $force is empty or one word
	if ! reply=$(sx reload "$h" "$p" "$snap" $force); then
		refused "$hp" "RELOAD refused"
		say "stopping (replicas $n..$# not reloaded)"; exit 1
	fi
	case $reply in
	OK*) ;;
	*) say "$hp: RELOAD answered '$reply'; stopping"; exit 1 ;;
	esac
	deadline=$((SECONDS + timeout))
	while :; do
		si=$(sx info "$h" "$p" snapshot) || si=
		g=$(field "$si" snapshot_generation)
		path=$(field "$si" snapshot_path)
		if [ -n "$g" ] && [ "$g" -gt "$gen" ] && [ "$path" = "$snap" ]; then break; fi
		[ $SECONDS -lt $deadline ] || { say "$hp: still generation ${g:-?} ($path) after ${timeout}s; stopping"; exit 1; }
		sleep 0.1
	done
	as_of=$(field "$si" snapshot_as_of)
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
