#!/usr/bin/env python3
"""
tests/check_grafana.py - deploy/grafana/sxgate.json as Grafana would use it,
without Grafana (not a Debian 12 package), in make test.  Standard library
only (PyYAML, where installed, adds the alerts.yml checks).

Structure: valid JSON; title, uid, schemaVersion, time and templating;
every panel has a unique id, a known type, a title, a gridPos inside the
24-column grid not overlapping another panel, and targets with unique
refIds and an expr; every datasource reference resolves (to the
`datasource` variable of type datasource over prometheus, or Grafana's
built-in annotations); every variable a query uses is defined.

Against real programs: a redis-server feed (when installed), a real
bin/sxgated (a snapshot with an as-of a day old) following it, with
--tenants, --journal and --feedback, one update published, a RELOAD,
and a steady RESP lookup load (CHECK, MCHECK, invalid IDs) beside a
connection whose AUTH keeps failing,
and Debian's prometheus scraping it every second with alerts.yml loaded.
Then every panel's PromQL, with Grafana's variables substituted as
Grafana would ($__rate_interval: 4 scrape intervals, $job/$instance: the
regexes of "All"), runs as a range query over the last 30 s and must
return data; the throughput, latency and decision panels must show a
non-zero rate.  The variables' own label_values() queries must list the
test's job and replica.  Every sxgate_* series the dashboard or
alerts.yml names must be in the replica's /metrics, every alert rule
must evaluate with health "ok", the AUTH flood must make
SxgateAuthFailuresSpiking pending, and the alerts about things that are
fine here (up, health, feed, snapshot age, reloads, journal, feedback,
connections) must stay inactive.

Every process is started here on free loopback ports, in a temporary
directory, and stopped by its PID.  Without prometheus (or a built
bin/sxgated) the live part says "skipped: ..." and only the structure is
checked.  The last line is "check_grafana: N passed, N failed, N skipped";
exit 1 when any failed.

`tests/check_grafana.py --render docs/img/grafana-dashboard.svg` also
draws the dashboard as Grafana lays it out, with the data each panel got
in the run (the picture docs/DEPLOY.md shows); the check wants that
picture to show every panel of the JSON.
"""
import ctypes
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DASH = os.path.join(ROOT, "deploy", "grafana", "sxgate.json")
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
BIN = os.environ.get("SXGATE_BIN_DIR") or os.path.join(ROOT, "bin")
SCRAPE = 1                     # seconds between scrapes in the test
DENY_ID = "350304197806263293"
FREE_ID = "350304199509279511"
CASE2 = "（2025）闽0203执1002号"    # the sample list's second debtor, suspended by the feed
ID2 = "350203620915548"
SECRET = "check-grafana-secret"

PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text",
               "row", "barchart", "piechart", "state-timeline", "histogram"}
NONZERO = {"Throughput", "Command latency quantiles", "Decisions by outcome",
           "Decisions by channel"}

# alerts that must stay quiet on the test's healthy replica (not the
# latency one: a busy test machine may be slow)
QUIET = ["SxgateReplicaDown", "SxgateReplicaUnhealthy", "SxgateFeedDisconnected", "SxgateFeedLagging",
         "SxgateSnapshotStale", "SxgateReloadFailed", "SxgateJournalWriteErrors",
         "SxgateFeedbackWriteErrors", "SxgateClientsNearLimit"]

passed = failed = skipped = 0


def ok(what):
    global passed
    passed += 1
    print("ok   " + what)


def fail(what):
    global failed
    failed += 1
    print("FAIL " + what)


def skip(what):
    global skipped
    skipped += 1
    print("skip " + what)


def check(cond, what, why=""):
    if cond:
        ok(what)
    else:
        fail(what + (": " + why if why else ""))
    return cond


# ---- structure ----------------------------------------------------------------

def ds_refs(obj, path="dashboard"):
    """Every "datasource" value in the dashboard, with where it is."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "datasource":
                yield path, v
            else:
                yield from ds_refs(v, path + "." + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from ds_refs(v, "%s[%d]" % (path, i))


def structure(d):
    check(isinstance(d.get("title"), str) and d["title"], "dashboard has a title")
    check(isinstance(d.get("uid"), str) and 0 < len(d["uid"]) <= 40, "dashboard has a uid of 1-40 characters")
    check(isinstance(d.get("schemaVersion"), int) and 36 <= d["schemaVersion"] <= 41,
          "schemaVersion %s is one Grafana 10-11 reads" % d.get("schemaVersion"))
    check("from" in d.get("time", {}) and "to" in d.get("time", {}), "dashboard has a time range")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    dsvars = {n for n, v in variables.items() if v.get("type") == "datasource" and v.get("query") == "prometheus"}
    check(len(dsvars) == 1, "one datasource variable over prometheus", "found %s" % sorted(dsvars))

    # datasource references resolve
    bad = []
    for where, ref in ds_refs(d):
        uid = ref.get("uid") if isinstance(ref, dict) else ref
        typ = ref.get("type") if isinstance(ref, dict) else None
        if uid == "-- Grafana --" and typ == "grafana":
            continue
        m = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", uid or "")
        name = m and (m.group(1) or m.group(2))
        if not name or name not in dsvars or typ not in (None, "prometheus"):
            bad.append("%s: %r" % (where, ref))
    check(not bad, "every datasource reference resolves to the datasource variable", "; ".join(bad[:5]))

    panels = d.get("panels", [])
    check(len(panels) >= 6, "dashboard has %d panels" % len(panels))
    ids = [p.get("id") for p in panels]
    check(len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids), "panel ids are unique integers",
          str(ids))
    cells = {}
    for p in panels:
        t = p.get("title") or "(untitled)"
        probs = []
        if p.get("type") not in PANEL_TYPES:
            probs.append("type %r" % p.get("type"))
        if not p.get("title"):
            probs.append("no title")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] < 0 or g["w"] < 1 or \
                g["h"] < 1 or g["x"] + g["w"] > 24:
            probs.append("gridPos %r outside the 24-column grid" % g)
        else:
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        probs.append("overlaps panel %r" % cells[(x, y)])
                        break
                    cells[(x, y)] = t
                else:
                    continue
                break
        ts = p.get("targets") or []
        if p.get("type") not in ("row", "text") and not ts:
            probs.append("no targets")
        refs = [x.get("refId") for x in ts]
        if len(refs) != len(set(refs)) or not all(refs):
            probs.append("refIds %r not unique" % refs)
        for x in ts:
            if not (x.get("expr") or "").strip():
                probs.append("target %s has no expr" % x.get("refId"))
            for v in re.findall(r"\$\{?(\w+)", x.get("expr", "")):
                if v not in variables and not v.startswith("__"):
                    probs.append("target %s uses undefined variable $%s" % (x.get("refId"), v))
        check(not probs, "panel %d %r: type %s, title, gridPos, %d targets" % (p.get("id"), t, p.get("type"), len(ts)),
              "; ".join(probs))
    return variables, panels


# ---- processes ------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def wait_for(fn, timeout, what):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:          # not up yet
            last = e
        time.sleep(0.2)
    raise RuntimeError("%s not within %d s (%s)" % (what, timeout, last))


def die_with_parent():
    """In the child: SIGKILL when this script dies (PR_SET_PDEATHSIG), so
    a killed test leaves no server behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Procs:
    """Processes started here, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, work):
        self.work, self.procs = work, []

    def start(self, name, argv):
        log = open(os.path.join(self.work, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.work, preexec_fn=die_with_parent)
        self.procs.append((name, p))
        return p

    def log(self, name):
        try:
            with open(os.path.join(self.work, name + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait()
        self.procs = []


def resp(sock, *args):
    """Send one RESP command (not waiting for the reply)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)


def read_reply(f):
    line = f.readline()
    if not line:
        raise EOFError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-", b":"):
        return line[:-2].decode("utf-8", "replace")
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode("utf-8", "replace")
    if t == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    raise ValueError("unexpected reply %r" % line)


def ask(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        resp(s, *args)
        return read_reply(s.makefile("rb"))


class Load(threading.Thread):
    """Pipelined lookups (a DENY, a suspended case, a NOT_LISTED on three
    channels, an invalid ID) and an AUTH that fails, until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop_flag, self.sent, self.error = port, threading.Event(), 0, None
        self.unexpected = []   # error replies to the lookups that should succeed

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                f = s.makefile("rb")
                resp(s, "AUTH", "ops", SECRET)
                if read_reply(f) != "+OK":
                    raise RuntimeError("AUTH ops refused")
                while not self.stop_flag.is_set():
                    self.bad_auth()
                    batch = [("CHECK", DENY_ID, "air", "AT", "2026-01-10"),
                             ("CHECK", ID2, "rail", "G1234:second", "AT", "2026-01-10"),
                             ("CHECK", FREE_ID, "travel", "AT", "2026-01-10"),
                             ("CHECK", "123", "air"),
                             ("MCHECK", "hotel", "3", "AT", "2026-01-10", DENY_ID, FREE_ID)] * 25
                    for c in batch:
                        resp(s, *c)
                    for c in batch:
                        r = read_reply(f)
                        if isinstance(r, str) and r.startswith("-") and c[1] != "123":
                            self.unexpected.append("%s: %s" % (" ".join(c), r))
                    self.sent += len(batch)
                    time.sleep(0.02)
        except Exception as e:             # reported by the caller
            self.error = e

    def bad_auth(self):
        """One AUTH with a wrong secret (failed, then rate-limited; the
        server may close the connection after a few)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as bad:
            resp(bad, "AUTH", "ops", "not-the-secret")
            r = read_reply(bad.makefile("rb"))
            if not r.startswith("-"):
                self.unexpected.append("AUTH with a wrong secret: %s" % r)


def substitute(expr, variables):
    """Grafana's variables as Grafana would fill them for this test."""
    rate = "%ds" % (4 * SCRAPE)        # $__rate_interval: max(4 x scrape, interval + scrape)
    expr = expr.replace("$__rate_interval", rate).replace("${__rate_interval}", rate)
    expr = expr.replace("$__interval", "%ds" % SCRAPE).replace("$__range", "30s")
    for name, v in variables.items():
        if v.get("type") == "datasource":
            continue
        val = v.get("allValue") or ".*"        # "All" (or every value) selected
        expr = expr.replace("${%s}" % name, val).replace("$" + name, val)
    return expr


def prom_api(pport, path, **params):
    url = "http://127.0.0.1:%d/api/v1/%s?%s" % (pport, path, urllib.parse.urlencode(params, doseq=True))
    st, body = http_get(url, timeout=10)
    d = json.loads(body)
    if d.get("status") != "success":
        raise RuntimeError("%s: %s" % (path, body[:300]))
    return d["data"]


def series_names(exprs):
    names = set()
    for e in exprs:
        names |= set(re.findall(r"\b(sxgate_[a-z0-9_]+)", e))
    return names


def live(variables, panels, work):
    needed = ["prometheus"]
    missing = [p for p in needed if not shutil.which(p)]
    if missing:
        skip("live queries: skipped: prometheus not installed (apt-get install prometheus)")
        return
    for prog in ("sxgated", "sxgate-build", "sxgate"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            skip("live queries: skipped: %s/%s is not built (make)" % (BIN, prog))
            return
    data = os.path.join(ROOT, "..", "shared", "data")
    if not os.path.exists(os.path.join(data, "sample-list.csv")):
        data = os.path.join(ROOT, "tests", "data")
    snap = os.path.join(work, "sample.snap")
    subprocess.run([os.path.join(BIN, "sxgate-build"), "--input", os.path.join(data, "sample-list.csv"),
                    "--permits", os.path.join(data, "sample-permits.csv"), "--output", snap,
                    "--as-of", time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 86400))],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs = Procs(work)
    load = None
    try:
        feed = []
        url = None
        if shutil.which("redis-server"):
            rport = free_port()
            procs.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(rport), "--save", "",
                                  "--appendonly", "no", "--dir", work])
            wait_for(lambda: socket.create_connection(("127.0.0.1", rport), 1).close() or True, 10, "redis-server")
            url = "redis://127.0.0.1:%d/sxgate:updates" % rport
            feed = ["--updates-from", url]
        else:
            skip("the feed panels read a replica with no feed: skipped: redis-server not installed")
        # tenants, so that AUTH is counted: the load logs in as an admin
        # tenant and a second connection keeps failing its AUTH
        h = subprocess.run([os.path.join(BIN, "sxgate"), "tenant-hash"], input=SECRET,
                           capture_output=True, text=True, check=True).stdout.strip()
        tenants = os.path.join(work, "tenants")
        fd = os.open(tenants, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, ("ops:%s:*:admin,listed\n" % h).encode())
        os.close(fd)
        rp, bp, hp = free_port(), free_port(), free_port()
        procs.start("sxgated", [os.path.join(BIN, "sxgated"), "--snapshot", snap, "--bind", "127.0.0.1",
                                "--resp-port", str(rp), "--bin-port", str(bp), "--http-port", str(hp),
                                "--threads", "2", "--tenants", tenants,
                                "--journal", os.path.join(work, "journal"),
                                "--feedback", os.path.join(work, "feedback.log")] + feed)
        wait_for(lambda: http_get("http://127.0.0.1:%d/health" % hp)[0] == 200, 20,
                 "sxgated /health 200 (log: %s)" % procs.log("sxgated"))
        if url:
            out = subprocess.run([os.path.join(BIN, "sxgate"), "publish", "--by", "check_grafana", url,
                                  "LIST.SUSPEND", CASE2, "RIC", ID2],
                                 capture_output=True, text=True)
            check(out.returncode == 0, "sxgate publish of one update", out.stderr)
        with socket.create_connection(("127.0.0.1", rp), timeout=30) as c:
            f = c.makefile("rb")
            resp(c, "AUTH", "ops", SECRET)
            resp(c, "RELOAD")
            a, r = read_reply(f), read_reply(f)
        check(a == "+OK" and r.startswith("+OK"), "AUTH and RELOAD of the same snapshot (a reload to count)",
              "%s / %s" % (a, r))
        metrics = http_get("http://127.0.0.1:%d/metrics" % hp)[1]

        pport = free_port()
        rules = os.path.join(work, "alerts.yml")
        shutil.copy(ALERTS, rules)
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: %ds\n  scrape_timeout: %ds\n  evaluation_interval: %ds\n"
                    "rule_files:\n  - %s\n"
                    "scrape_configs:\n  - job_name: sxgate\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % (SCRAPE, SCRAPE, SCRAPE, rules, hp))
        procs.start("prometheus", ["prometheus", "--config.file=" + cfg,
                                   "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                                   "--web.listen-address=127.0.0.1:%d" % pport])
        load = Load(rp)
        load.start()
        # enough scrapes for the rates over 4 intervals and a range of 30 s
        wait_for(lambda: prom_api(pport, "query", query='count_over_time(sxgate_up{job="sxgate"}[1m]) >= 10')["result"],
                 60, "10 scrapes in Prometheus (log: %s)" % procs.log("prometheus"))
        check(load.error is None and load.sent > 0, "load: %d requests sent" % load.sent, str(load.error))
        check(not load.unexpected, "load: only the invalid ID got errors",
              "; ".join(load.unexpected[:3]))

        # every series named is exported
        exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
        exported = set(re.findall(r"^# TYPE (\w+) ", metrics, re.M))
        hist = {n + s for n in exported for s in ("_bucket", "_sum", "_count")
                if re.search(r"^# TYPE %s histogram" % n, metrics, re.M)}
        for n in sorted(series_names(exprs)):
            check(n in exported or n in hist, "dashboard series %s is in /metrics" % n)
        try:
            import yaml
            doc = yaml.safe_load(open(ALERTS))
            aexprs = [r["expr"] for g in doc["groups"] for r in g["rules"]]
            for n in sorted(series_names(aexprs)):
                check(n in exported or n in hist, "alerts.yml series %s is in /metrics" % n)
        except ImportError:
            skip("alerts.yml series names: skipped: python3-yaml not installed")

        # the variables' queries
        for name, v in variables.items():
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q or "")
            if v.get("type") != "query":
                continue
            if not check(m is not None, "variable $%s is a label_values() query" % name, repr(q)):
                continue
            values = prom_api(pport, "label/%s/values" % m.group(2), **{"match[]": substitute(m.group(1), variables)})
            want = "sxgate" if name == "job" else "127.0.0.1:%d" % hp
            check(want in values, "variable $%s lists %s" % (name, want), "got %r" % values)

        # every panel's queries, as Grafana asks them (a range query)
        now = time.time()
        for p in panels:
            for t in p.get("targets", []):
                q = substitute(t["expr"], variables)
                what = "panel %r %s: %s" % (p["title"], t["refId"], q)
                try:
                    r = prom_api(pport, "query_range", query=q, start="%.3f" % (now - 30), end="%.3f" % now,
                                 step="%d" % SCRAPE)["result"]
                except Exception as e:
                    fail(what + ": " + str(e))
                    continue
                vals = [float(v) for s in r for _, v in s["values"]]
                finite = [v for v in vals if math.isfinite(v)]
                if not r or not finite:
                    fail(what + ": no data" + (" (only NaN)" if r else ""))
                elif p["title"] in NONZERO and t["refId"] == "A" and not any(v > 0 for v in finite):
                    fail(what + ": all zero under load")
                else:
                    ok("%s: %d series, last %g" % (what, len(r), finite[-1]))
                    RESULTS[(p["id"], t["refId"])] = r

        # the alert rules evaluate on the real series: the AUTH flood makes
        # SxgateAuthFailuresSpiking pending; nothing else is wrong here
        def rule_states():
            rs = {r["name"]: r for g in prom_api(pport, "rules")["groups"] for r in g["rules"]}
            return rs if rs.get("SxgateAuthFailuresSpiking", {}).get("state") in ("pending", "firing") else None
        try:
            rs = wait_for(rule_states, 20, "SxgateAuthFailuresSpiking pending")
            ok("SxgateAuthFailuresSpiking is %s under the AUTH flood" % rs["SxgateAuthFailuresSpiking"]["state"])
        except RuntimeError as e:
            fail(str(e))
            rs = {r["name"]: r for g in prom_api(pport, "rules")["groups"] for r in g["rules"]}
        check(len(rs) >= 1, "Prometheus loaded %d alert rules from alerts.yml" % len(rs))
        for name, r in rs.items():
            check(r.get("health") == "ok", "rule %s evaluates (health %s)" % (name, r.get("health")),
                  r.get("lastError", ""))
        for name in QUIET:
            check(rs.get(name, {}).get("state") == "inactive", "rule %s is inactive on a healthy replica" % name,
                  "state %s" % rs.get(name, {}).get("state"))
    finally:
        if load:
            load.stop_flag.set()
            load.join(10)
        procs.stop()


# ---- a picture of the dashboard ------------------------------------------------

RESULTS = {}                   # (panel id, refId) -> Prometheus range result
COL, ROW = 40, 26              # pixels per grid column and row
PALETTE = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0"]


def esc(t):
    return str(t).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def fmt(v, unit):
    if not math.isfinite(v):
        return "-"
    if unit == "s":
        for lim, div, u in ((1e-3, 1e-6, " µs"), (1, 1e-3, " ms"), (3600, 1, " s"), (172800, 3600, " h")):
            if abs(v) < lim:
                return "%.3g%s" % (v / div, u)
        return "%.3g d" % (v / 86400)
    if unit == "bytes":
        for u in ("B", "KiB", "MiB", "GiB"):
            if abs(v) < 1024:
                return "%.3g %s" % (v, u)
            v /= 1024
        return "%.3g TiB" % v
    suffix = "/s" if unit == "ops" else ""
    for lim, div, u in ((1e3, 1, ""), (1e6, 1e3, "k"), (1e9, 1e6, "M")):
        if abs(v) < lim:
            return "%.4g%s%s" % (v / div, u, suffix)
    return "%.3g G%s" % (v / 1e9, suffix)


def legend(t, labels):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), t.get("legendFormat") or "") or \
        ",".join("%s=%s" % kv for kv in sorted(labels.items()))


def render(d, panels, out, note):
    """The dashboard drawn as Grafana lays it out, with the data each
    panel's queries returned in this run (for docs/img/)."""
    w = 24 * COL
    h = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW + 40
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="DejaVu Sans, Arial, sans-serif">' % (w, h, w, h),
         '<rect width="100%%" height="100%%" fill="#111217"/>',
         '<text x="8" y="22" fill="#d8d9da" font-size="15">%s</text>' % esc(d["title"] + " — " + note)]
    for p in panels:
        g, unit = p["gridPos"], p["fieldConfig"]["defaults"].get("unit", "")
        x0, y0, pw, ph = g["x"] * COL + 4, g["y"] * ROW + 36, g["w"] * COL - 8, g["h"] * ROW - 8
        o.append('<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="#181b1f" stroke="#2c3235"/>'
                 % (x0, y0, pw, ph))
        o.append('<text x="%d" y="%d" fill="#ccccdc" font-size="12" font-weight="bold">%s</text>'
                 % (x0 + 8, y0 + 17, esc(p["title"])))
        series = []
        for t in p["targets"]:
            for r in RESULTS.get((p["id"], t["refId"]), []):
                pts = [(float(ts), float(v)) for ts, v in r["values"] if math.isfinite(float(v))]
                if pts:
                    series.append((legend(t, r["metric"]), pts))
        units = {}             # a series' own unit, from the byRegexp overrides
        for name, _ in series:
            for ov in p["fieldConfig"].get("overrides", []):
                m = ov.get("matcher", {})
                if m.get("id") == "byRegexp" and re.fullmatch(m.get("options", ""), name):
                    for prop in ov.get("properties", []):
                        if prop.get("id") == "unit":
                            units[name] = prop["value"]
        if not series:
            o.append('<text x="%d" y="%d" fill="#8e8e8e" font-size="12">No data</text>' % (x0 + 8, y0 + ph // 2))
            continue
        if p["type"] == "stat":
            v = series[0][1][-1][1]
            o.append('<text x="%d" y="%d" fill="#73bf69" font-size="26" text-anchor="middle">%s</text>'
                     % (x0 + pw // 2, y0 + ph // 2 + 16, esc(fmt(v, unit))))
            continue
        series = sorted(series, key=lambda s: -s[1][-1][1])[:8]     # the busiest first
        lx, ly, lw, lh = x0 + 44, y0 + 26, pw - 52, ph - 36 - 14 * min(len(series), 4)
        t0 = min(pt[0] for _, pts in series for pt in pts)
        t1 = max(pt[0] for _, pts in series for pt in pts)
        vmax = max(pt[1] for _, pts in series for pt in pts)
        vmax = vmax if vmax > 0 else 1
        o.append('<text x="%d" y="%d" fill="#8e8e8e" font-size="9" text-anchor="end">%s</text>'
                 % (lx - 4, ly + 8, esc(fmt(vmax, unit))))
        o.append('<text x="%d" y="%d" fill="#8e8e8e" font-size="9" text-anchor="end">0</text>' % (lx - 4, ly + lh))
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#2c3235"/>' % (lx, ly + lh, lx + lw, ly + lh))
        for i, (name, pts) in enumerate(series):
            c = PALETTE[i % len(PALETTE)]
            xy = " ".join("%.1f,%.1f" % (lx + (ts - t0) / max(t1 - t0, 1e-9) * lw, ly + lh - v / vmax * lh)
                          for ts, v in pts)
            o.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>' % (xy, c))
            if i < 4:
                yy = ly + lh + 14 + 14 * i
                o.append('<rect x="%d" y="%d" width="10" height="3" fill="%s"/>' % (x0 + 8, yy - 4, c))
                o.append('<text x="%d" y="%d" fill="#ccccdc" font-size="10">%s  %s</text>'
                         % (x0 + 22, yy, esc(name[:60]), esc(fmt(pts[-1][1], units.get(name, unit)))))
    o.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def main():
    render_to = None
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        render_to = os.path.abspath(sys.argv[2])
    elif len(sys.argv) != 1:
        print("usage: tests/check_grafana.py [--render OUT.svg]", file=sys.stderr)
        return 2
    try:
        with open(DASH, encoding="utf-8") as f:
            d = json.load(f)
        ok("sxgate.json is valid JSON")
    except (OSError, ValueError) as e:
        fail("sxgate.json: %s" % e)
        print("check_grafana: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
        return 1
    variables, panels = structure(d)
    picture = os.path.join(ROOT, "docs", "img", "grafana-dashboard.svg")
    if os.path.exists(picture):
        with open(picture, encoding="utf-8") as f:
            text = f.read()
        stale = [p["title"] for p in panels if ">%s<" % esc(p["title"]) not in text]
        check(not stale, "docs/img/grafana-dashboard.svg shows every panel",
              "missing %s: tests/check_grafana.py --render docs/img/grafana-dashboard.svg" % stale)
    else:
        fail("docs/img/grafana-dashboard.svg is missing: tests/check_grafana.py --render it")
    work = tempfile.mkdtemp(prefix="sxgate-grafana-")
    try:
        live(variables, panels, work)
        if render_to and RESULTS:
            render(d, panels, render_to, "drawn by tests/check_grafana.py from its test Prometheus, "
                   "last 30 s, " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
            print("wrote " + render_to)
    except Exception as e:
        fail("live queries: %s" % e)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("check_grafana: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
