#!/usr/bin/env python3
"""Module import graph of each crate, and a check that it has no cycle.

Each source file under a crate's `src/` is one module. A file depends on
another module when it names it by path: `crate::a::b`, `super::x` or
`self::x`, in a `use` or inline. A module may name its own descendants (a
parent declares and re-exports its children), so those edges are not
counted; every other edge is, including a child naming its parent. The
check fails on any cycle in what is left, and prints it.

    scripts/module-graph.py --check     # exit 1 on any cycle (scripts/test.sh)
    scripts/module-graph.py --dot       # the graph, for ARCHITECTURE.md and notes
    scripts/module-graph.py --edges     # one `crate: a -> b` line per edge

Comments and string literals are stripped before matching. Test modules
(`#[cfg(test)] mod tests { ... }` at the end of a file) count too: a test
that needs a cycle is a design smell as much as production code.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = ["shared", "agent", "sync-server", "tests", "bench"]

PATH_RE = re.compile(r"\b(crate|super|self)((?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP_RE = re.compile(r"\b(crate|super|self)((?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*::\s*\{")


def strip(src: str) -> str:
    """Drop comments, string and char literals (keeps line structure)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', src[i:i + 10]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 4]) or (c == "'" and re.match(r"'\\u\{[0-9a-fA-F]+\}'", src[i:i + 12])):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            i += len(m.group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def modules(src_dir: str) -> dict:
    """Module path (tuple) -> file, for every .rs file under src/."""
    mods = {}
    for dirpath, _, files in os.walk(src_dir):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src_dir)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("lib", "main") and len(parts) == 1:
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            elif len(parts) == 1 and dirpath != src_dir:
                pass
            if parts and parts[0] == "bin":
                continue  # separate binaries are separate crates
            mods[tuple(parts)] = os.path.join(dirpath, f)
    return mods


def resolve(mods: dict, here: tuple, kind: str, segs: list):
    if kind == "crate":
        base = ()
    elif kind == "super":
        base = here[:-1]
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    else:
        base = here
    path = base + tuple(segs)
    # Longest prefix that is a module.
    for k in range(len(path), -1, -1):
        if path[:k] in mods:
            return path[:k]
    return None


def graph(crate: str) -> dict:
    src_dir = os.path.join(ROOT, crate, "src")
    mods = modules(src_dir)
    edges = {m: set() for m in mods}
    for here, file in mods.items():
        with open(file, encoding="utf-8") as fh:
            text = strip(fh.read())
        found = []
        for m in PATH_RE.finditer(text):
            segs = [s.strip() for s in m.group(2).split("::") if s.strip()]
            found.append((m.group(1), segs))
        for m in GROUP_RE.finditer(text):
            # `use crate::{a, b::c}`: each item names a module of its own.
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            prefix = [s.strip() for s in m.group(2).split("::") if s.strip()]
            body = text[m.end():i - 1]
            for item in re.findall(r"(?:^|[,{])\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)*)", body):
                segs = prefix + [s.strip() for s in item.split("::")]
                found.append((m.group(1), segs))
        for kind, segs in found:
            target = resolve(mods, here, kind, segs)
            if target is None or target == here:
                continue
            if target[:len(here)] == here:
                continue  # a parent naming its own descendant
            edges[here].add(target)
    return edges


def cycles(edges: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def name(m: tuple) -> str:
    return "::".join(m) or "(root)"


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "--check"
    bad = 0
    for crate in CRATES:
        if not os.path.isdir(os.path.join(ROOT, crate, "src")):
            continue
        edges = graph(crate)
        if mode == "--edges":
            for a in sorted(edges):
                for b in sorted(edges[a]):
                    print(f"{crate}: {name(a)} -> {name(b)}")
        elif mode == "--dot":
            print(f'digraph "{crate}" {{')
            for a in sorted(edges):
                for b in sorted(edges[a]):
                    if a and b:
                        print(f'  "{name(a)}" -> "{name(b)}";')
            print("}")
        for comp in cycles(edges):
            bad += 1
            print(f"{crate}: import cycle among {', '.join(name(m) for m in comp)}", file=sys.stderr)
    if mode == "--check":
        print("module graph: no import cycles" if not bad else f"module graph: {bad} cycle(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
