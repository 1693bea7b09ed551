#!/usr/bin/env bash
# check_prometheus.sh - deploy/prometheus/ as Prometheus's own tool sees it
# (make test):
#   - `promtool check rules` accepts alerts.yml, `promtool check config`
#     the example prometheus.yml (which loads alerts.yml);
#   - `promtool test rules alerts_test.yml`: every alert fires on the
#     synthetic replica meant to fire it, with its labels and rendered
#     annotations, and on no other;
#   - each alert has `for:`, a severity label, a summary and a description
#     naming {{ $labels.instance }} and its runbook section, that section
#     exists in docs/DEPLOY.md, and alerts_test.yml tests it;
#   - the tests can fail: for each alert, a copy of alerts.yml whose rule
#     fires on every replica, and one whose rule never fires, must each
#     make `promtool test rules` fail.
# Skipped, and said so, where promtool is absent (Debian: apt-get install
# prometheus; make deps installs it); the structure and mutation checks
# need python3-yaml.  Closing line "check_prometheus: N passed, N failed,
# N skipped"; exit 1 when any failed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/deploy/prometheus"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! command -v promtool >/dev/null 2>&1; then
	echo "check_prometheus: skipped: promtool not installed (apt-get install prometheus)"
	echo "check_prometheus: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sxgate-prom-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# run WHAT CMD...: ok when CMD exits 0, else FAIL with its output
run() {
	local what=$1; shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what:"
		printf '%s\n' "$out" | sed 's/^/  | /' | head -60
	fi
}

run "promtool check rules alerts.yml" promtool check rules "$dir/alerts.yml"
run "promtool check config prometheus.yml" sh -c "cd '$dir' && promtool check config prometheus.yml"
run "promtool test rules alerts_test.yml" sh -c "cd '$dir' && promtool test rules alerts_test.yml"

if ! "$PY" -c 'import yaml' 2>/dev/null; then
	skipped=$((skipped + 1))
	echo "skip structure and mutation checks: skipped: python3-yaml not installed"
	echo "check_prometheus: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
fi

# Structure: one line per finding, "ok ..." or "FAIL ...".
out=$("$PY" - "$dir" "$here/docs/DEPLOY.md" <<'EOF'
import sys, yaml
d, deploy = sys.argv[1], sys.argv[2]
rules = yaml.safe_load(open(d + "/alerts.yml"))
tests = yaml.safe_load(open(d + "/alerts_test.yml"))
runbook = open(deploy, encoding="utf-8").read()
tested = {t["alertname"] for g in tests["tests"] for t in g.get("alert_rule_test", [])
          if any(t.get("exp_alerts") or [])}
quiet = {t["alertname"] for g in tests["tests"] for t in g.get("alert_rule_test", [])
         if not t.get("exp_alerts")}
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
print(("ok  " if alerts else "FAIL") + " alerts.yml has %d alerts" % len(alerts))
for r in alerts:
    a, bad = r["alert"], []
    if not r.get("for"):
        bad.append("no for:")
    if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
        bad.append("no severity label (critical, warning or info)")
    ann = r.get("annotations", {})
    for k in ("summary", "description"):
        if "{{ $labels.instance }}" not in ann.get(k, ""):
            bad.append("%s does not name {{ $labels.instance }}" % k)
    if '"%s"' % a not in ann.get("description", ""):
        bad.append('description does not point to its runbook section "%s"' % a)
    if "### %s" % a not in runbook:
        bad.append("docs/DEPLOY.md has no runbook section '### %s'" % a)
    if a not in tested:
        bad.append("alerts_test.yml never expects it to fire")
    if a not in quiet:
        bad.append("alerts_test.yml never expects it to stay quiet")
    print(("FAIL %s: " % a + "; ".join(bad)) if bad else
          "ok   %s: for %s, severity %s, runbook, tested both ways" % (a, r["for"], r["labels"]["severity"]))
EOF
) || fail "structure check did not run"
while IFS= read -r line; do
	case "$line" in
	ok*) ok "${line#ok   }" ;;
	FAIL*) fail "${line#FAIL }" ;;
	esac
done <<<"$out"

# Mutations: each alert made to fire on every replica, then never; the
# rule tests must fail for each.  The mutants are written together, each
# in its own directory beside a copy of the tests, and loaded in one
# `promtool check rules` (a mutant that does not load would prove nothing).
"$PY" - "$dir/alerts.yml" "$dir/alerts_test.yml" "$tmp" <<'EOF' >/dev/null || fail "mutants not written"
import os, shutil, sys, yaml
src, tests, tmp = sys.argv[1:]
exprs = {"everywhere": 'count by (job, instance) ({job="sxgate"})', "never": "vector(1) < 0"}
names = [r["alert"] for g in yaml.safe_load(open(src))["groups"] for r in g["rules"] if "alert" in r]
for name in names:
    for mode, expr in exprs.items():
        doc = yaml.safe_load(open(src))
        for g in doc["groups"]:
            for r in g["rules"]:
                if r.get("alert") == name:
                    r["expr"] = expr
        d = os.path.join(tmp, "%s-%s" % (name, mode))
        os.mkdir(d)
        yaml.safe_dump(doc, open(os.path.join(d, "alerts.yml"), "w"), sort_keys=False, allow_unicode=True)
        shutil.copy(tests, os.path.join(d, "alerts_test.yml"))
        print(d)
EOF
mutants=$(ls -d "$tmp"/*-everywhere "$tmp"/*-never 2>/dev/null)
if [ -z "$mutants" ]; then
	fail "no mutants"
elif ! out=$(promtool check rules $(for m in $mutants; do echo "$m/alerts.yml"; done) 2>&1); then
	fail "the mutated rules do not load: the mutation check is void:"
	printf '%s\n' "$out" | sed 's/^/  | /' | head -20
else
	for m in $mutants; do
		what=$(basename "$m")
		if (cd "$m" && promtool test rules alerts_test.yml >/dev/null 2>&1); then
			fail "mutant ${what%-*} firing ${what##*-}: promtool test rules still passes (the test cannot catch it)"
		else
			ok "mutant ${what%-*} firing ${what##*-}: caught by promtool test rules"
		fi
	done
fi

echo "check_prometheus: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
