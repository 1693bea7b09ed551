#!/usr/bin/env python3
"""plot.py RESULTS_DIR OUT.svg - throughput against p99 latency, as SVG.

Reads the runs of `make bench` (results.jsonl, see results.py) and draws
lookups/s (x, log) against p99 latency in microseconds (y, log): the
open-loop curves of the binary protocol, the closed-loop sweep, RESP
(sxgated CHECK/LISTED and redis-server SISMEMBER at depths 1/16/64, same
client), redis-benchmark against both, and the 100 us target.  Standard
library only: the SVG is written by hand.
"""
import math
import os
import sys
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

W, H = 980, 600
L, T, PW, PH = 80, 50, 600, 480          # plot area
LEG_X = L + PW + 30


def series(runs):
    """(label, colour, marker, dashed line?, [(x, y, tag)])"""
    def pts(ids, tag=lambda o: ""):
        out = []
        for i in ids:
            o = runs.get(i)
            if o and o.get("r") and o["r"]["lookups_per_s"] > 0 and o["r"]["p99_us"] > 0:
                out.append((o["r"]["lookups_per_s"], o["r"]["p99_us"], tag(o)))
        return out

    pct = lambda o: o["id"].rsplit(".", 1)[1] + "%"
    dep = lambda o: "d" + str(o["r"]["depth"])
    sweep = [i for i in runs if i.startswith(("bin.sweep.", "bin.single.", "bin.epoll."))]
    return [
        ("binary, closed-loop sweep", "#b0b0b0", "dot", False,
         pts(sweep, lambda o: "")),
        ("binary, peak config, open loop", "#d62728", "circle", True,
         pts([f"bin.open.peak.{p}" for p in (10, 50, 90)], pct)),
        ("binary, batch 1 depth 1, open loop", "#ff7f0e", "circle", True,
         pts([f"bin.open.single.{p}" for p in (10, 50, 90)], pct)),
        ("binary, during RELOAD every 1 s", "#8c564b", "star", False,
         pts(["reload.live"], lambda o: "reload")),
        ("RESP CHECK, sxgated", "#1f77b4", "square", True,
         pts([f"resp.check.d{d}" for d in (1, 16, 64)], dep)),
        ("RESP LISTED, sxgated", "#17becf", "square", True,
         pts([f"resp.listed.d{d}" for d in (1, 16, 64)], dep)),
        ("SISMEMBER, redis-server", "#2ca02c", "triangle", True,
         pts([f"redis.sismember.d{d}" for d in (1, 16, 64)], dep)),
        ("redis-benchmark CHECK, sxgated", "#9467bd", "diamond", False,
         pts(["rb.sx.fixed.P1", "rb.sx.fixed.P64", "rb.sx.rand.P64"],
             lambda o: ("rand " if ".rand." in o["id"] else "") + "P" + o["id"].rsplit("P", 1)[1])),
        ("redis-benchmark SISMEMBER, redis", "#7f7f7f", "diamond", False,
         pts(["rb.redis.fixed.P1", "rb.redis.fixed.P64", "rb.redis.rand.P64"],
             lambda o: ("rand " if ".rand." in o["id"] else "") + "P" + o["id"].rsplit("P", 1)[1])),
    ]


def marker(kind, x, y, colour):
    if kind == "dot":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5.5:.1f} {x - 5:.1f},{y + 4:.1f} '
                f'{x + 5:.1f},{y + 4:.1f}" fill="{colour}"/>')
    if kind == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5.5:.1f} {x + 5.5:.1f},{y:.1f} '
                f'{x:.1f},{y + 5.5:.1f} {x - 5.5:.1f},{y:.1f}" fill="none" '
                f'stroke="{colour}" stroke-width="2"/>')
    # star
    p = []
    for k in range(10):
        r = 7 if k % 2 == 0 else 3
        a = math.pi / 2 + k * math.pi / 5
        p.append(f"{x + r * math.cos(a):.1f},{y - r * math.sin(a):.1f}")
    return f'<polygon points="{" ".join(p)}" fill="{colour}"/>'


def fmt_tick(v, unit=""):
    if v >= 1e6:
        s = f"{v / 1e6:g}M"
    elif v >= 1e3:
        s = f"{v / 1e3:g}k"
    else:
        s = f"{v:g}"
    return s + unit


def main(argv):
    if len(argv) != 3:
        print("usage: plot.py RESULTS_DIR OUT.svg", file=sys.stderr)
        return 1
    runs = results.load(os.path.join(argv[1], "results.jsonl"))
    ss = series(runs)
    xs = [p[0] for s in ss for p in s[4]]
    ys = [p[1] for s in ss for p in s[4]] + [100.0]
    if not xs:
        print("plot.py: no runs to plot", file=sys.stderr)
        return 1
    x0, x1 = math.floor(math.log10(min(xs) / 1.5)), math.ceil(math.log10(max(xs) * 1.5))
    y0, y1 = math.floor(math.log10(min(ys) / 1.5)), math.ceil(math.log10(max(ys)))
    if x1 == x0:
        x1 += 1
    if y1 == y0:
        y1 += 1
    X = lambda v: L + (math.log10(v) - x0) / (x1 - x0) * PW
    Y = lambda v: T + PH - (math.log10(v) - y0) / (y1 - y0) * PH

    o = []
    o.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">')
    o.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    o.append(f'<text x="{L + PW / 2}" y="28" text-anchor="middle" font-size="15" '
             f'font-weight="bold">sxgate: throughput vs p99 latency (loopback, one machine)</text>')
    # grid and ticks
    for e in range(x0, x1 + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if v > 10 ** x1:
                break
            x = X(v)
            o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + PH}" '
                     f'stroke="{"#cccccc" if m == 1 else "#eeeeee"}"/>')
            o.append(f'<text x="{x:.1f}" y="{T + PH + 18}" text-anchor="middle">{fmt_tick(v)}</text>')
    for e in range(y0, y1 + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if v > 10 ** y1:
                break
            y = Y(v)
            o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + PW}" y2="{y:.1f}" '
                     f'stroke="{"#cccccc" if m == 1 else "#eeeeee"}"/>')
            o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_tick(v)}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{PW}" height="{PH}" fill="none" stroke="black"/>')
    o.append(f'<text x="{L + PW / 2}" y="{T + PH + 42}" text-anchor="middle">'
             f'lookups per second (log)</text>')
    o.append(f'<text transform="translate(22,{T + PH / 2}) rotate(-90)" text-anchor="middle">'
             f'p99 latency, microseconds (log)</text>')
    # target
    y = Y(100)
    o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + PW}" y2="{y:.1f}" stroke="#d62728" '
             f'stroke-dasharray="6,4" stroke-width="1.5"/>')
    o.append(f'<text x="{L + PW - 4}" y="{y - 5:.1f}" text-anchor="end" fill="#d62728">'
             f'target: p99 100 us at 50% of peak</text>')
    # series
    for label, colour, kind, line, pts in ss:
        if not pts:
            continue
        if line and len(pts) > 1:
            path = " ".join(f"{X(px):.1f},{Y(py):.1f}" for px, py, _ in sorted(pts))
            o.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="1.5"/>')
        for px, py, tag in pts:
            o.append(marker(kind, X(px), Y(py), colour))
            if tag:
                o.append(f'<text x="{X(px) + 7:.1f}" y="{Y(py) - 6:.1f}" font-size="10" '
                         f'fill="{colour}">{escape(tag)}</text>')
    # legend
    ly = T + 10
    o.append(f'<text x="{LEG_X}" y="{ly}" font-weight="bold">series</text>')
    for label, colour, kind, line, pts in ss:
        if not pts:
            continue
        ly += 24
        if line:
            o.append(f'<line x1="{LEG_X - 2}" y1="{ly - 4}" x2="{LEG_X + 22}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="1.5"/>')
        o.append(marker(kind, LEG_X + 10, ly - 4, colour))
        o.append(f'<text x="{LEG_X + 30}" y="{ly}">{escape(label)}</text>')
    ly += 36
    notes = ["tags: open-loop % of the closed-loop peak;",
             "dN = requests in flight per connection;",
             "PN = redis-benchmark pipeline depth.",
             "Client and server share the same cores."]
    for n in notes:
        o.append(f'<text x="{LEG_X}" y="{ly}" font-size="11" fill="#555555">{escape(n)}</text>')
        ly += 16
    o.append("</svg>")
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
