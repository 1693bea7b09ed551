#!/usr/bin/env python3
"""browser.py - a real browser for the tests: Debian's headless Chromium.

The report for the courts and the status page are checked the way people
use them, in a browser.  One script owns how Chromium is started (flags,
a throw-away profile, a time limit) so each test only says what it wants:

  browser.py dom URL [--wait MS]           the DOM after scripts ran, on stdout
  browser.py shot URL OUT.png [--size WxH] [--wait MS]   a screenshot
  browser.py png-stats FILE.png            "WxH dominant=F": the share of the
                                           most common colour (1.0: blank)

dom and shot fail (exit 3) when the page logged a JavaScript error or an
uncaught exception, and print it; the console log is on stderr.  Without
Chromium every command prints "skipped: chromium not installed" and exits
77, which the C tests turn into a skip.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run(url, extra, wait_ms):
    exe = chromium()
    if not exe:
        print("skipped: chromium not installed (Debian package chromium)")
        sys.exit(SKIP)
    with tempfile.TemporaryDirectory(prefix="sxgate-chromium-") as prof:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--disable-extensions", "--hide-scrollbars",
               "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0",
               "--virtual-time-budget=%d" % wait_ms] + extra + [url]
        p = subprocess.run(cmd, capture_output=True, timeout=90)
    console = [l for l in p.stderr.decode("utf-8", "replace").splitlines()
               if ":CONSOLE" in l]
    for l in console:
        print(l, file=sys.stderr)
    errors = [l for l in console if "Uncaught" in l or "Error" in l
              or ":ERROR:CONSOLE" in l]
    return p, errors


def png_pixels(path):
    """(width, height, rows of raw pixel bytes, bytes per pixel) of an
    8-bit RGB or RGBA PNG, as Chromium writes them."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("%s: PNG colour type %d depth %d not handled"
                                 % (path, ctype, depth))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, None, []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        up = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = up[i], (up[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def main(argv):
    if len(argv) < 3 or argv[1] not in ("dom", "shot", "png-stats"):
        print(__doc__, file=sys.stderr)
        return 2
    opts = dict(zip(argv[3::2], argv[4::2])) if argv[1] == "dom" else \
        dict(zip(argv[4::2], argv[5::2]))
    wait = int(opts.get("--wait", "2000"))
    if argv[1] == "png-stats":
        w, h, rows, bpp = png_pixels(argv[2])
        counts = {}
        for r in rows:
            for i in range(0, len(r), bpp):
                px = r[i:i + 3]
                counts[px] = counts.get(px, 0) + 1
        print("%dx%d dominant=%.4f colours=%d" % (w, h, max(counts.values()) / (w * h),
                                                  len(counts)))
        return 0
    if argv[1] == "dom":
        p, errors = run(argv[2], ["--dump-dom"], wait)
        sys.stdout.write(p.stdout.decode("utf-8", "replace"))
    else:
        size = opts.get("--size", "1200x900").replace("x", ",")
        out = os.path.abspath(argv[3])
        p, errors = run(argv[2], ["--screenshot=" + out, "--window-size=" + size], wait)
        if not os.path.exists(out):
            print("no screenshot written to %s (chromium exit %d)" % (out, p.returncode),
                  file=sys.stderr)
            return 1
    if errors:
        print("JavaScript errors in the page:", *errors, sep="\n  ", file=sys.stderr)
        return 3
    return 0 if p.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
