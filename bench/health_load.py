#!/usr/bin/env python3
"""bench/health_load.py - /health latency while many HTTP clients idle or trickle.

    bench/health_load.py PORT [--idle 1000] [--trickle 10] [--asks 200]

Opens IDLE connections to sxgated's HTTP port that send nothing, and
TRICKLE connections that send one byte of a request every 1.5 s (the
slow client that used to blind the old one-connection-at-a-time metrics
thread), then asks GET /health ASKS times, one fresh connection each, with
HAProxy's 1 s check timeout, and prints the latency distribution.  The
last line is JSON.  Exit 1 when any ask failed or took 1 s or more.
"""
import argparse, json, resource, socket, statistics, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--idle", type=int, default=1000)
ap.add_argument("--trickle", type=int, default=10)
ap.add_argument("--asks", type=int, default=200)
a = ap.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = a.idle + a.trickle + 64
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

held = []
for _ in range(a.idle):
    held.append(socket.create_connection((a.host, a.port), timeout=5))
trick = []
req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
for _ in range(a.trickle):
    s = socket.create_connection((a.host, a.port), timeout=5)
    s.setblocking(False)
    trick.append([s, 0])
next_trickle = time.monotonic()

def ask():
    t0 = time.monotonic()
    try:
        s = socket.create_connection((a.host, a.port), timeout=1.0)
        s.settimeout(max(0.001, 1.0 - (time.monotonic() - t0)))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"\n"):
            b = s.recv(4096)
            if not b:
                break
            data += b
        s.close()
        ok = data.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return ok, time.monotonic() - t0

lat, failed = [], 0
for i in range(a.asks):
    now = time.monotonic()
    if now >= next_trickle:
        for t in trick:
            if t[1] < len(req) - 4:     # never complete the request
                try:
                    t[0].send(req[t[1]:t[1] + 1])
                    t[1] += 1
                except OSError:
                    pass
        next_trickle = now + 1.5
    ok, dt = ask()
    lat.append(dt)
    failed += (not ok) or dt >= 1.0
    time.sleep(0.01)

lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3
res = {"idle": a.idle, "trickle": a.trickle, "asks": a.asks, "failed": failed,
       "p50_ms": round(q(0.5), 3), "p99_ms": round(q(0.99), 3), "max_ms": round(lat[-1] * 1e3, 3)}
print("/health with %d idle and %d trickling HTTP clients: %d asks, p50 %.2f ms, "
      "p99 %.2f ms, max %.2f ms, %d failed or >= 1 s" % (a.idle, a.trickle, a.asks,
      res["p50_ms"], res["p99_ms"], res["max_ms"], failed))
print(json.dumps(res))
for s in held:
    s.close()
for t in trick:
    t[0].close()
sys.exit(1 if failed else 0)
