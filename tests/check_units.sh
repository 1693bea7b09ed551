#!/usr/bin/env bash
# check_units.sh - the systemd units of deploy/ as systemd sees them, with
# no systemd running (make test):
#   - `systemd-analyze security --offline=true` rates sxgated@.service and
#     sxgate-rebuild.service at most 2.5 ("OK"), and a unit without any
#     hardening above that (so the check can fail);
#   - `systemd-analyze verify` accepts every unit and the timer (a copy whose
#     ExecStart names a program that exists here: the units name installed
#     paths);
#   - sxgated@.service keeps what the server's notify code relies on
#     (Type=notify, NotifyAccess=main, WatchdogSec).
# Skipped, and said so, only where systemd-analyze is absent (Debian:
# apt-get install systemd; make deps installs it).  Closing line
# "check_units: N passed, N failed, N skipped"; exit 1 when any failed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
MAX=2.5
units="sxgated@.service sxgate-rebuild.service"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "check_units: skipped: systemd-analyze is not installed (apt-get install systemd)"
	echo "check_units: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sxgate-units-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# score FILE: the overall exposure systemd-analyze gives FILE ("" if none)
score() {
	systemd-analyze security --offline=true --no-pager "$1" 2>"$tmp/err" |
		sed -n 's/^→ Overall exposure level for .*: \([0-9][0-9.]*\) .*/\1/p' | tail -1
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

for u in $units; do
	s=$(score "$here/deploy/$u")
	if [ -z "$s" ]; then
		fail "security $u: no score from systemd-analyze: $(head -3 "$tmp/err")"
	elif le "$s" "$MAX"; then
		ok "security $u: exposure $s <= $MAX"
	else
		fail "security $u: exposure $s > $MAX; the directives that cost most:"
		systemd-analyze security --offline=true --no-pager "$here/deploy/$u" 2>&1 |
			grep '✗' | awk '{ print $NF "\t" $0 }' | sort -rn | head -12 | cut -f2- |
			sed 's/^/  | /'
	fi
done

# The check can fail: a unit with no hardening at all is rated above MAX.
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/bare.service"
s=$(score "$tmp/bare.service")
if [ -n "$s" ] && ! le "$s" "$MAX"; then
	ok "security of a bare unit: exposure $s > $MAX (the check can fail)"
else
	fail "security of a bare unit: exposure '${s}' is not above $MAX: the score is not read right"
fi

# verify: ExecStart pointed at something that exists; an instance name for
# the template.
exe="$here/bin/sxgated"
[ -x "$exe" ] || exe=/bin/true
mkdir -p "$tmp/v"
sed "s|/usr/local/bin/sxgated|$exe|" "$here/deploy/sxgated@.service" >"$tmp/v/sxgated@main.service"
sed "s|/usr/local/share/sxgate/rebuild.sh|$here/deploy/rebuild.sh|" \
	"$here/deploy/sxgate-rebuild.service" >"$tmp/v/sxgate-rebuild.service"
cp "$here/deploy/sxgate-rebuild.timer" "$tmp/v/"
for u in sxgated@main.service sxgate-rebuild.service sxgate-rebuild.timer; do
	if out=$(cd "$tmp/v" && systemd-analyze verify --no-pager "$tmp/v/$u" 2>&1) && [ -z "$out" ]; then
		ok "verify $u"
	else
		fail "verify $u:"
		printf '%s\n' "$out" | sed 's/^/  | /'
	fi
done

# What sxgated's notify code needs from its unit.
for d in Type=notify NotifyAccess=main 'WatchdogSec=[1-9]' 'SystemCallErrorNumber=EPERM'; do
	if grep -Eq "^$d" "$here/deploy/sxgated@.service"; then
		ok "sxgated@.service has $d"
	else
		fail "sxgated@.service lacks $d"
	fi
done

echo "check_units: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
