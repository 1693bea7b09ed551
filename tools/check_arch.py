#!/usr/bin/env python3
"""
check_arch.py - the layer rules of docs/layers.txt, checked against the
objects the build really produced (make check-arch, issue 12).

The idea: what a file depends on is what its object leaves undefined and
another object defines, so `nm` on the built objects gives the dependency
graph of the code as it is, not as the #includes claim.  Each object is
mapped back to its source (build/server/conn.o -> server/conn.c), each
source to a layer by the first matching glob of the layer table, and then

  - an edge from a lower layer to a higher one is a violation, and
  - an edge that lies on a cycle (both ends in one strongly connected
    component) is a violation,

unless the pair is on the allow-list (docs/layers-allow.txt), which accepts
both directions of the pair, and so a cycle made only of allowed pairs.
A source that no glob matches is an error naming it: a new file must be
placed in a layer on purpose.

The trade-off: symbols, not headers.  A header-only dependency (a static
inline, a macro, a struct layout) is invisible here; a call through a
function pointer is invisible too.  What is seen is what the linker would
need, which is the dependency that makes a lower layer unusable without
the higher one.

Layer table: one rule a line, "<glob> <number> <name...>", '#' starts a
comment.  In a glob '*' and '?' stay inside one path component, '**'
crosses them.  Allow-list: "<a.c> <b.c> <reason...>", a reason required.

Exit status: 0 clean, 1 violations found, 2 the tables or nm failed.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

COMPONENTS = ("engine", "loader", "server", "client", "tools", "bench")
# nm types that define a symbol another object can link to
DEFINES = set("TDBRCWVGSIu")
# nm types of a reference (w/v: weak undefined)
REFERS = set("Uwv")
SHOW_SYMS = 4


class ConfigError(Exception):
    pass


def glob_re(glob):
    """A path glob as a regex: '*' and '?' stay in one component."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body + "]")
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def strip_comment(line):
    return line.split("#", 1)[0].strip()


def read_layers(path):
    rules = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise ConfigError("%s: %s" % (path, e.strerror))
    with f:
        for n, raw in enumerate(f, 1):
            line = strip_comment(raw)
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                raise ConfigError("%s:%d: want '<glob> <layer-number> <name>', "
                                  "got '%s'" % (path, n, line))
            glob, num, name = parts
            try:
                num = int(num)
            except ValueError:
                raise ConfigError("%s:%d: layer number '%s' is not an integer"
                                  % (path, n, parts[1]))
            rules.append((glob, glob_re(glob), num, name.strip(), n))
    if not rules:
        raise ConfigError("%s: no layer rules" % path)
    return rules


def read_allow(path):
    allow = {}
    if path is None or not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = strip_comment(raw)
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or not parts[2].strip():
                raise ConfigError("%s:%d: an allowed pair needs a reason: "
                                  "'<a.c> <b.c> <why they may depend on each "
                                  "other>', got '%s'" % (path, n, line))
            a, b, why = parts
            if a == b:
                raise ConfigError("%s:%d: '%s' paired with itself" % (path, n, a))
            allow[frozenset((a, b))] = (why.strip(), n)
    return allow


def find_objects(build, components):
    objs = []
    for comp in components:
        top = os.path.join(build, comp)
        for d, dirs, files in os.walk(top):
            dirs.sort()
            for fn in sorted(files):
                if fn.endswith(".o"):
                    objs.append(os.path.join(d, fn))
    return objs


def source_of(obj, build):
    rel = os.path.relpath(obj, build)
    return os.path.splitext(rel)[0].replace(os.sep, "/") + ".c"


def nm_symbols(nm, obj):
    try:
        p = subprocess.run([nm, "-P", obj], capture_output=True, text=True)
    except OSError as e:
        raise ConfigError("%s: %s" % (nm, e.strerror))
    if p.returncode != 0:
        raise ConfigError("%s %s: %s" % (nm, obj, p.stderr.strip()))
    defs, refs = set(), set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, typ = parts[0], parts[1]
        if typ in REFERS:
            refs.add(name)
        elif typ in DEFINES:
            defs.add(name)
    return defs, refs


def sccs(nodes, succ):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(succ[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


def path_within(succ, members, start, goal):
    """Shortest path start -> goal staying in members (BFS)."""
    prev = {start: None}
    q = collections.deque([start])
    while q:
        v = q.popleft()
        if v == goal:
            break
        for w in sorted(succ[v]):
            if w in members and w not in prev:
                prev[w] = v
                q.append(w)
    if goal not in prev:
        return None
    path, v = [], goal
    while v is not None:
        path.append(v)
        v = prev[v]
    return path[::-1]


def syms_text(syms):
    s = sorted(syms)
    more = len(s) - SHOW_SYMS
    return ", ".join(s[:SHOW_SYMS]) + (" (+%d more)" % more if more > 0 else "")


def write_dot(path, nodes, layer, edges, bad_edges, allowed_edges):
    by_layer = collections.defaultdict(list)
    for n in nodes:
        by_layer[layer.get(n, (None, "unmatched"))].append(n)
    with open(path, "w", encoding="utf-8") as f:
        f.write("digraph sxgate {\n  rankdir=BT;\n  node [shape=box, fontsize=10];\n")
        for i, (key, members) in enumerate(sorted(by_layer.items(),
                                                  key=lambda kv: (kv[0][0] is None,
                                                                  kv[0][0] or 0,
                                                                  kv[0][1]))):
            num, name = key
            f.write('  subgraph cluster_%d {\n    label="%s %s";\n' %
                    (i, "" if num is None else num, name))
            for n in sorted(members):
                f.write('    "%s";\n' % n)
            f.write("  }\n")
        for (a, b) in sorted(edges):
            attr = ""
            if (a, b) in bad_edges:
                attr = ' [color=red, penwidth=2]'
            elif (a, b) in allowed_edges:
                attr = ' [style=dashed]'
            f.write('  "%s" -> "%s"%s;\n' % (a, b, attr))
        f.write("}\n")


def main(argv):
    ap = argparse.ArgumentParser(description="Check the layer rules of the "
                                 "built objects (docs/layers.txt).")
    ap.add_argument("--root", default=".", help="repository root (sources)")
    ap.add_argument("--build", default=None, help="build directory (ROOT/build)")
    ap.add_argument("--layers", default=None, help="ROOT/docs/layers.txt")
    ap.add_argument("--allow", default=None, help="ROOT/docs/layers-allow.txt")
    ap.add_argument("--nm", default=os.environ.get("NM", "nm"))
    ap.add_argument("--dot", default=None, help="write the file graph here")
    ap.add_argument("objects", nargs="*", help="objects (default: every .o "
                    "under BUILD/{%s})" % ",".join(COMPONENTS))
    a = ap.parse_args(argv)
    root = a.root
    build = a.build or os.path.join(root, "build")
    layers_path = a.layers or os.path.join(root, "docs", "layers.txt")
    allow_path = a.allow or os.path.join(root, "docs", "layers-allow.txt")
    me = "check-arch"

    try:
        rules = read_layers(layers_path)
        allow = read_allow(allow_path)
        objs = a.objects or find_objects(build, COMPONENTS)
        if not objs:
            raise ConfigError("no objects under %s (make all first)" % build)
        defs_of, refs_of = {}, {}
        stale = []
        for o in objs:
            src = source_of(o, build)
            if not os.path.exists(os.path.join(root, src)):
                stale.append((o, src))
                continue
            if src in defs_of:
                raise ConfigError("%s: two objects for one source" % src)
            defs_of[src], refs_of[src] = nm_symbols(a.nm, o)
    except ConfigError as e:
        print("%s: %s" % (me, e), file=sys.stderr)
        return 2
    for o, src in stale:
        print("%s: note: skipped %s, its source %s is gone (stale object)"
              % (me, o, src), file=sys.stderr)

    nodes = sorted(defs_of)
    layer, unmatched = {}, []
    for n in nodes:
        for glob, rx, num, name, _ in rules:
            if rx.match(n):
                layer[n] = (num, name)
                break
        else:
            unmatched.append(n)

    definers = collections.defaultdict(list)
    for n in nodes:
        for s in defs_of[n]:
            definers[s].append(n)
    edge_syms = collections.defaultdict(set)
    for n in nodes:
        for s in refs_of[n]:
            for d in definers.get(s, ()):
                if d != n:
                    edge_syms[(n, d)].add(s)
    succ = {n: set() for n in nodes}
    for (x, y) in edge_syms:
        succ[x].add(y)

    def allowed(x, y):
        return frozenset((x, y)) in allow

    errors = []
    bad_edges = set()
    for n in unmatched:
        errors.append("%s: no rule in %s places it in a layer (add a glob)"
                      % (n, layers_path))

    up = 0
    for (x, y), syms in sorted(edge_syms.items()):
        if x not in layer or y not in layer or allowed(x, y):
            continue
        if layer[x][0] < layer[y][0]:
            up += 1
            bad_edges.add((x, y))
            errors.append("upward: %s (%d %s) -> %s (%d %s): %s" %
                          (x, layer[x][0], layer[x][1], y, layer[y][0],
                           layer[y][1], syms_text(syms)))

    ncycles = 0
    for comp in sccs(nodes, succ):
        if len(comp) < 2:
            continue
        members = set(comp)
        inner = [(x, y) for x in comp for y in sorted(succ[x])
                 if y in members and not allowed(x, y)]
        if not inner:
            continue        # a cycle made only of allowed pairs
        ncycles += 1
        bad_edges.update(inner)
        # a concrete cycle through one forbidden edge, as short as BFS finds
        best = None
        for (x, y) in inner:
            back = path_within(succ, members, y, x)
            cyc = [x] + back
            if best is None or len(cyc) < len(best):
                best = cyc
        errors.append("cycle: %d files in one cycle (%d forbidden edges among "
                      "them): %s" % (len(comp), len(inner), " ".join(comp)))
        errors.append("  e.g. %s" % " -> ".join(best))
        for x, y in zip(best, best[1:]):
            errors.append("    %s -> %s: %s%s" % (x, y, syms_text(edge_syms[(x, y)]),
                                                  "  (allowed pair)" if allowed(x, y) else ""))

    used = set(frozenset(e) for e in edge_syms)
    for pair, (why, n) in sorted(allow.items(), key=lambda kv: kv[1][1]):
        missing = [f for f in sorted(pair) if f not in defs_of]
        if missing:
            print("%s: note: %s:%d names %s, which has no object" %
                  (me, allow_path, n, " ".join(missing)), file=sys.stderr)
        elif pair not in used:
            print("%s: note: %s:%d allows %s, which do not depend on each other"
                  % (me, allow_path, n, " ".join(sorted(pair))), file=sys.stderr)

    if a.dot:
        allowed_edges = set(e for e in edge_syms if allowed(*e))
        write_dot(a.dot, nodes, layer, edge_syms, bad_edges, allowed_edges)

    nlayers = len(set(num for num, _ in layer.values()))
    summary = "%d objects, %d edges, %d layers, %d allowed pairs" % (
        len(nodes), len(edge_syms), nlayers, len(allow))
    if errors:
        for e in errors:
            print("%s: %s" % (me, e))
        print("%s: FAILED: %d upward edges, %d cycles, %d files without a layer "
              "(%s)" % (me, up, ncycles, len(unmatched), summary))
        return 1
    print("%s: ok: %s" % (me, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
