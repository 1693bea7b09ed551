#!/usr/bin/env python3
"""results.py - the results file of `make bench` (DIR/results/results.jsonl).

One JSON object a line: {"id", "cmd", "rc", "r"} where r is sxgate-bench's
--json line (or, for redis-benchmark runs, the same fields converted from
its --csv line).  bench/run.sh calls this as a small command-line tool;
report.py and plot.py import load() and facts().

  results.py get FILE ID FIELD      print r[FIELD] of run ID
  results.py best FILE PREFIX       print the ID of the highest lookups/s
                                    among error-free runs whose ID starts
                                    with PREFIX
  results.py line FILE ID           print a one-line summary of run ID
  results.py add FILE ID CMD RC SERVER_CPU_S WALL_S JSON
                                    append an sxgate-bench run (JSON: its
                                    --json line, empty when it printed none)
                                    and print its summary
  results.py rb FILE ID CMD P RC QERR_BEFORE QERR_AFTER CSVLINE [CPU_S]
                                    append a redis-benchmark run
"""
import csv
import io
import json
import re
import sys


def load(path):
    """Runs by ID, in file order (a later run of one ID replaces it)."""
    runs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                o = json.loads(line)
                runs[o["id"]] = o
    return runs


def facts(path):
    """The key=value lines bench/run.sh wrote, as a dict of strings."""
    d = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                d[k] = v
    return d


def ok(o):
    r = o.get("r")
    return bool(r) and o.get("rc") == 0 and r.get("errors", 1) == 0


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def cpu_per_lookup_us(o):
    """Server CPU microseconds per lookup over the whole run (warmup and
    setup included in both the CPU time and the lookups), or None."""
    r = o.get("r")
    cpu = o.get("server_cpu_s")
    if not r or cpu is None or not r.get("lookups_per_s"):
        return None
    if r.get("client") == "redis-benchmark":
        m = re.search(r"-n (\d+)", o.get("cmd", ""))
        n = float(m.group(1)) if m else None
    else:
        n = r["lookups_per_s"] * (r.get("duration_s", 0) + r.get("warmup_s", 0))
    return cpu * 1e6 / n if n else None


def summary(o):
    r = o.get("r")
    if not r:
        return f"  {o['id']:<34} FAILED (exit {o.get('rc')})"
    c = cpu_per_lookup_us(o)
    cs = f"  server CPU {c:.2f} us/lookup" if c is not None else ""
    return (f"  {o['id']:<34} {fmt_rate(r['lookups_per_s']):>8} lookups/s"
            f"  p50 {r['p50_us']:>8.1f}  p99 {r['p99_us']:>8.1f} us"
            f"  errors {r['errors']}{cs}")


def add_record(path, rid, cmd, rc, cpu, wall, out):
    try:
        r = json.loads(out) if out.strip() else None
    except ValueError:
        r = None
    o = {"id": rid, "cmd": cmd, "rc": int(rc), "server_cpu_s": float(cpu),
         "wall_s": float(wall), "r": r}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(o) + "\n")
    print(summary(o), flush=True)


def rb_record(path, rid, cmd, pipe, rc, before, after, line, cpu=None):
    """redis-benchmark --csv: "test","rps","avg","min","p50","p95","p99","max" (ms)."""
    r = None
    try:
        row = next(csv.reader(io.StringIO(line)))
        rps = float(row[1])
        ms = [float(x) for x in row[2:8]]
        errors = 0
        if before and after:
            errors = int(after) - int(before)
        r = {"lookups_per_s": rps, "requests_per_s": rps, "mean_us": ms[0] * 1e3,
             "p50_us": ms[2] * 1e3, "p95_us": ms[3] * 1e3, "p99_us": ms[4] * 1e3,
             "max_us": ms[5] * 1e3, "errors": errors,
             "errors_checked": bool(before and after), "connections": 16,
             "depth": int(pipe), "batch": 1, "threads": 1, "mode": "closed",
             "protocol": "resp", "client": "redis-benchmark"}
    except (StopIteration, ValueError, IndexError):
        pass
    with open(path, "a", encoding="utf-8") as f:
        o = {"id": rid, "cmd": cmd, "rc": int(rc), "r": r}
        if cpu:
            o["server_cpu_s"] = float(cpu)
        f.write(json.dumps(o) + "\n")
    print(summary(o), flush=True)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    cmd, path = argv[1], argv[2]
    if cmd == "rb":
        rb_record(path, *argv[3:11])
        return 0
    if cmd == "add":
        add_record(path, *argv[3:9])
        return 0
    runs = load(path)
    if cmd == "get":
        v = runs[argv[3]]["r"][argv[4]]
        print(v)
    elif cmd == "best":
        cand = [o for i, o in runs.items() if i.startswith(argv[3]) and ok(o)]
        if not cand:
            print(f"results.py: no error-free run starting with {argv[3]}", file=sys.stderr)
            return 1
        print(max(cand, key=lambda o: o["r"]["lookups_per_s"])["id"])
    elif cmd == "line":
        print(summary(runs[argv[3]]), flush=True)
    else:
        print(__doc__, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
