#!/usr/bin/env bash
# make test-cluster: three sxgated replicas behind HAProxy, fed by one Redis
# Stream (tests/cluster/cluster_test.py).  Every process the test starts is
# recorded in $CLUSTER_WORK/pids and killed, by id, when this script exits.
set -u
cd "$(dirname "$0")/../.."
for p in redis-server redis-cli haproxy python3 openssl; do
	command -v "$p" >/dev/null || { echo "test-cluster: $p is missing (make test-cluster installs it)"; echo "0 passed, 1 failed"; exit 1; }
done
CLUSTER_WORK=$(mktemp -d /tmp/sxgate-cluster.XXXXXX)
export CLUSTER_WORK
: >"$CLUSTER_WORK/pids"
cleanup() {
	local pid
	while read -r pid; do
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	done <"$CLUSTER_WORK/pids"
	if [ "${rc:-1}" = 0 ] && [ -z "${KEEP_CLUSTER_WORK:-}" ]; then
		rm -rf "$CLUSTER_WORK"
	else
		echo "test-cluster: logs kept in $CLUSTER_WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
timeout --signal=TERM 400 python3 tests/cluster/cluster_test.py
rc=$?
exit $rc
