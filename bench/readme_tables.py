#!/usr/bin/env python
"""Copy README's result tables from the committed files they come from (tests/test_shipped_results.py checks the copy).

Every table in README (the results section, and the Spatial-KD and benchmark sections) is replaced by the table of a
committed Markdown file (under paper_figures/default/ or bench/) that has the same header row; a table with no such
file (e.g. a before/after table written from several), or with several, is reported and left as it is. Run after a full `dvc repro` and `python bench/targets.py`, before writing the prose.

    .venv/bin/python bench/readme_tables.py          # rewrites README.md in place; prints what it did
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tables(lines):
    "(start, end) line ranges of the Markdown tables in `lines` (a header row, a separator, then rows)."
    out, i = [], 0
    while i < len(lines) - 1:
        if lines[i].startswith("|") and re.fullmatch(r"\|[\s|:-]*\|", lines[i + 1].strip()):
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"): j += 1
            out.append((i, j)); i = j
        else: i += 1
    return out


def main():
    readme = (ROOT / "README.md").read_text().split("\n")
    sources = {}
    for f in sorted([*(ROOT / "paper_figures" / "default").rglob("*.md"), *(ROOT / "bench").rglob("*.md")]):
        L = f.read_text().split("\n")
        for a, b in tables(L): sources.setdefault(L[a].strip(), []).append((f, L[a:b]))
    done = 0
    for a, b in reversed(tables(readme)):   # from the end: a copy of another length leaves earlier ranges valid
        head = readme[a].strip()
        if re.fullmatch(r"\|(\s*!\[[^]]*\]\([^)]*\)\s*\|)+|\|\s*\|\s*\|", head): continue      # a layout of figures
        src = sources.get(head, [])
        if len(src) != 1:
            print(f"line {a + 1}: {len(src)} committed tables with this header, left as it is: {head[:80]}", file=sys.stderr)
            continue
        f, rows = src[0]
        readme[a:b] = rows; done += 1
        print(f"line {a + 1}: copied from {f.relative_to(ROOT)} ({len(rows) - 2} rows)", file=sys.stderr)
    (ROOT / "README.md").write_text("\n".join(readme))
    print(f"{done} tables copied", file=sys.stderr)


if __name__ == "__main__":
    main()
