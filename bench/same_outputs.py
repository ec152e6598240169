#!/usr/bin/env python
"""Are two pipeline runs' outputs the same? Compares two project trees after `dvc repro` (e.g. the smoke profile run
from two commits): every file under artifacts/, metrics/, plots/ and paper_figures/ (executed notebooks aside).

Files whose bytes are equal pass. Otherwise the content is compared: `.pt` files loaded and every tensor compared
exactly (`torch.equal`, dtype and shape included), JSON key by key, CSV/TSV/Markdown tables cell by cell (LaTeX tables too). Values that
measure time (`TIME_KEYS` by key, `TIME_COLUMNS` by table column), and an object's memory address inside a
string, are set aside, by name, and counted; anything else
that differs is listed and the exit status is 1. Figures (PNG, PDF) are compared by bytes only, and listed if they
differ (Matplotlib writes no timestamps into PNGs with the project's settings, so they should not).

    .venv/bin/python bench/same_outputs.py /tmp/run_before /tmp/run_after [--profile smoke]
"""
import argparse
import csv
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

TIME_KEYS = {"seconds", "images_per_s", "train_s", "infer_ms", "train_seconds"}
TIME_COLUMNS = TIME_KEYS | {"inference (ms)", "training (min)"}   # a table's column, also with " std" / " best" after it
ADDRESS = re.compile(r" at 0x[0-9a-f]+")
FOLDERS = ("artifacts", "metrics", "plots", "paper_figures")


class Compare:
    def __init__(self):
        self.set_aside, self.diffs = Counter(), []

    def value(self, a, b, where: str):
        import torch
        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype
                    and a.shape == b.shape and torch.equal(a, b)):
                self.diffs.append(f"{where}: tensors differ")
        elif isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                if k in TIME_KEYS: self.set_aside[k] += 1
                elif k not in a or k not in b: self.diffs.append(f"{where}/{k}: in one run only")
                else: self.value(a[k], b[k], f"{where}/{k}")
        elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            if len(a) != len(b): self.diffs.append(f"{where}: lengths {len(a)} vs {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)): self.value(x, y, f"{where}[{i}]")
        elif hasattr(a, "__dict__") and type(a) is type(b) and not isinstance(a, type):   # e.g. a Subset: its fields
            self.value({k: v for k, v in vars(a).items() if k != "dataset"}, {k: v for k, v in vars(b).items() if k != "dataset"},
                       f"{where}.{type(a).__name__}")          # (a Subset's dataset: the loader object, by identity)
        elif isinstance(a, str) and isinstance(b, str) and ADDRESS.sub("", a) == ADDRESS.sub("", b) != a:
            self.set_aside["an object's memory address"] += 1                  # a repr such as '<... object at 0x7f...>'
        elif a != b and not (a != a and b != b):                                           # NaN equals NaN here
            self.diffs.append(f"{where}: {str(a)[:60]!r} vs {str(b)[:60]!r}")

    def table(self, ta: str, tb: str, where: str, sep: str):
        if sep in "|&":      # Markdown (| a | b |) or LaTeX (a & b \\) rows, around a caption and markup compared as text
            is_row = (lambda l: l.startswith("|")) if sep == "|" else (lambda l: " & " in l)
            cells = lambda l: [c.strip() for c in l.strip().strip("|").removesuffix("\\\\").split(sep)]
            rows = [[cells(l) for l in t.splitlines() if is_row(l)] for t in (ta, tb)]
            if [l for l in ta.splitlines() if not is_row(l)] != [l for l in tb.splitlines() if not is_row(l)]:
                self.diffs.append(f"{where}: captions differ")
        else: rows = [list(csv.reader(io.StringIO(t), delimiter=sep)) for t in (ta, tb)]
        head = rows[0][0] if rows[0] else []
        timing = lambda h: h.removesuffix(" std").removesuffix(" best") in TIME_COLUMNS
        skip = {i for i, h in enumerate(head) if timing(h)}
        for h in head:
            if timing(h): self.set_aside[h] += 1
        drop = lambda rs: [[c for i, c in enumerate(r) if i not in skip] for r in rs]
        if drop(rows[0]) != drop(rows[1]): self.diffs.append(f"{where}: table cells differ")

    def file(self, a: Path, b: Path, where: str):
        if a.read_bytes() == b.read_bytes(): return
        suf = a.suffix
        if suf == ".pt":
            import torch
            self.value(torch.load(a, map_location="cpu", weights_only=False),
                       torch.load(b, map_location="cpu", weights_only=False), where)
        elif suf == ".json": self.value(json.loads(a.read_text()), json.loads(b.read_text()), where)
        elif suf == ".tex": self.table(a.read_text(), b.read_text(), where, "&")
        elif suf in (".csv", ".tsv", ".md"):
            self.table(a.read_text(), b.read_text(), where, {".csv": ",", ".tsv": "\t", ".md": "|"}[suf])
        else: self.diffs.append(f"{where}: bytes differ")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path); ap.add_argument("b", type=Path)
    a = ap.parse_args(argv)
    files = lambda root: {str(p.relative_to(root)) for f in FOLDERS for p in (root / f).rglob("*")
                          if p.is_file() and p.suffix != ".ipynb"}
    fa, fb = files(a.a), files(a.b)
    c = Compare()
    for f in sorted(fa ^ fb): c.diffs.append(f"{f}: in one run only")
    same = 0
    for f in sorted(fa & fb):
        n = len(c.diffs); c.file(a.a / f, a.b / f, f); same += len(c.diffs) == n
    print(f"{len(fa & fb)} files in both runs, {same} the same"
          + (f" (timing set aside: {', '.join(f'{k} x{v}' for k, v in sorted(c.set_aside.items()))})" if c.set_aside else ""))
    for d in c.diffs: print("DIFFERS", d)
    print("same outputs" if not c.diffs else f"{len(c.diffs)} differences")
    sys.exit(1 if c.diffs else 0)


if __name__ == "__main__":
    main()
