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
--journal and --feedback, one update published, a RELOAD, and a steady
RESP lookup load (CHECK, MCHECK, invalid IDs, AUTH),
and Debian's prometheus scraping it every second with alerts.yml loaded.
Then every panel's PromQL, with Grafana's variables substituted as
Grafana would ($__rate_interval: 4 scrape intervals, $job/$instance: the
regexes of "All"), runs as a range query over the last 30 s and must
return data; the throughput, latency and decision panels must show a
non-zero rate.  The variables' own label_values() queries must list the
test's job and replica.  Every sxgate_* series the dashboard or
alerts.yml names must be in the replica's /metrics, and every alert rule
must evaluate with health "ok".

Every process is started here on free loopback ports, in a temporary
directory, and stopped by its PID.  Without prometheus (or a built
bin/sxgated) the live part says "skipped: ..." and only the structure is
checked.  The last line is "check_grafana: N passed, N failed, N skipped";
exit 1 when any failed.
"""
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
CASE = "（2023）闽05执1001号"

PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text",
               "row", "barchart", "piechart", "state-timeline", "histogram"}
NONZERO = {"Throughput", "Command latency quantiles", "Decisions by outcome",
           "Decisions by channel"}

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


class Procs:
    """Processes started here, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, work):
        self.work, self.procs = work, []

    def start(self, name, argv):
        log = open(os.path.join(self.work, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.work)
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
    """Pipelined CHECKs (a DENY, an ALLOW, an invalid ID), and now and then
    an AUTH that fails, until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop_flag, self.sent, self.error = port, threading.Event(), 0, None

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                f = s.makefile("rb")
                while not self.stop_flag.is_set():
                    batch = [("CHECK", DENY_ID, "air", "AT", "2026-01-10"),
                             ("CHECK", FREE_ID, "rail", "AT", "2026-01-10"),
                             ("CHECK", "123", "air"),
                             ("MCHECK", "hotel", "-", "AT", "2026-01-10", DENY_ID, FREE_ID)] * 25
                    batch.append(("AUTH", "nobody", "wrong"))
                    for c in batch:
                        resp(s, *c)
                    for _ in batch:
                        read_reply(f)
                    self.sent += len(batch)
                    time.sleep(0.02)
        except Exception as e:             # reported by the caller
            self.error = e


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
        rp, bp, hp = free_port(), free_port(), free_port()
        procs.start("sxgated", [os.path.join(BIN, "sxgated"), "--snapshot", snap, "--bind", "127.0.0.1",
                                "--resp-port", str(rp), "--bin-port", str(bp), "--http-port", str(hp),
                                "--threads", "2", "--journal", os.path.join(work, "journal"),
                                "--feedback", os.path.join(work, "feedback.log")] + feed)
        wait_for(lambda: http_get("http://127.0.0.1:%d/health" % hp)[0] == 200, 20,
                 "sxgated /health 200 (log: %s)" % procs.log("sxgated"))
        if url:
            out = subprocess.run([os.path.join(BIN, "sxgate"), "publish", "--by", "check_grafana", url,
                                  "LIST.SUSPEND", CASE, "RIC", DENY_ID],
                                 capture_output=True, text=True)
            check(out.returncode == 0, "sxgate publish of one update", out.stderr)
        check(ask(rp, "RELOAD").startswith("+OK"), "RELOAD of the same snapshot (a reload to count)")
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

        # the alert rules evaluate on the real series
        groups = prom_api(pport, "rules")["groups"]
        rules_seen = [r for g in groups for r in g["rules"]]
        check(len(rules_seen) >= 1, "Prometheus loaded %d alert rules from alerts.yml" % len(rules_seen))
        for r in rules_seen:
            check(r.get("health") == "ok", "rule %s evaluates (health %s)" % (r["name"], r.get("health")),
                  r.get("lastError", ""))
    finally:
        if load:
            load.stop_flag.set()
            load.join(10)
        procs.stop()


def main():
    try:
        with open(DASH, encoding="utf-8") as f:
            d = json.load(f)
        ok("sxgate.json is valid JSON")
    except (OSError, ValueError) as e:
        fail("sxgate.json: %s" % e)
        print("check_grafana: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
        return 1
    variables, panels = structure(d)
    work = tempfile.mkdtemp(prefix="sxgate-grafana-")
    try:
        live(variables, panels, work)
    except Exception as e:
        fail("live queries: %s" % e)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("check_grafana: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
