#!/usr/bin/env bash
# deploy/rebuild.sh - the nightly rebuild run by sxgate-rebuild.service.
# Environment (/etc/sxgate/rebuild.env): EXPORT_CMD, SNAP_DIR, REPLICAS,
# RESP_PORT, ROLLOUT_OPTS, ROLLOUT_TARGETS (see deploy/sxgate-rebuild.service).
# Run in the state dir.  ROLLOUT_TARGETS, when set, is what rollout.sh talks
# to instead of each replica's HOST:RESP_PORT, one HOST:PORT[=CHECKHOST] per
# replica in REPLICAS' order: HAProxy's admin listeners, for replicas that
# run with --proxy-protocol (docs/DEPLOY.md, step 6).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# The export's time is the snapshot's as-of: stream entries at or after it
# stay in force on the replicas, older ones are superseded by the export.
asof=$(TZ=Asia/Shanghai date +%Y-%m-%dT%H:%M:%S+08:00)
stamp=$(TZ=Asia/Shanghai date +%Y%m%d-%H%M)
$EXPORT_CMD list.csv permits.csv
sxgate-build --input list.csv --permits permits.csv --as-of "$asof" --output "list-$stamp.snap"
hp=()
for r in $REPLICAS; do
	h=${r%%=*} check=
	case $r in *=*) check="=${r#*=}" ;; esac
	rsync -a "list-$stamp.snap" "$h:$SNAP_DIR/.list-$stamp.snap.tmp"
	ssh "$h" mv "$SNAP_DIR/.list-$stamp.snap.tmp" "$SNAP_DIR/list-$stamp.snap"
	hp+=("$h:${RESP_PORT:-6380}$check")
done
# shellcheck disable=SC2206  # ROLLOUT_TARGETS is split on purpose
[ -z "${ROLLOUT_TARGETS:-}" ] || hp=($ROLLOUT_TARGETS)
# shellcheck disable=SC2086  # ROLLOUT_OPTS is split on purpose
"$here/rollout.sh" --timeout 300 ${ROLLOUT_OPTS:-} "$SNAP_DIR/list-$stamp.snap" "${hp[@]}"
find . -maxdepth 1 -name 'list-*.snap' -mtime +7 -delete
