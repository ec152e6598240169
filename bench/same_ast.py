#!/usr/bin/env python
"""Which DVC stages changed only in their code's layout? For every stage `dvc status` reports changed, this checks
whether each changed dependency is a Python file whose syntax tree (`ast.dump`) equals the one at `BASE` (the commit
whose code made the stage's outputs): then only comments, blank lines or nbdev's `# %%` cell markers moved, the
program is the same, and the outputs still are what this code makes. Prints the stages of each kind; with
`--commit` it records the unchanged-program stages in dvc.lock (`dvc commit -f`), so that `dvc repro` reruns only the
stages whose program changed.

    .venv/bin/python bench/same_ast.py BASE [--commit]
"""
import argparse
import ast
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def same_program(path: str, base: str) -> bool:
    "Whether `path` (relative to the project) parses to the same syntax tree now as at commit `base`."
    if not path.endswith(".py") or not (ROOT / path).is_file(): return False
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:{path}"], capture_output=True, text=True)
    return old.returncode == 0 and ast.dump(ast.parse(old.stdout)) == ast.dump(ast.parse((ROOT / path).read_text()))


def classify(base: str) -> tuple[list[str], dict[str, list[str]]]:
    "(stages whose changed deps all keep their program, {stage: deps whose program changed or that are not code})."
    st = json.loads(subprocess.run(["dvc", "status", "--json"], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    same, changed = [], {}
    for stage, entries in st.items():
        deps = {d: s for e in entries if isinstance(e, dict) for d, s in e.get("changed deps", {}).items()}
        other = [e for e in entries if not isinstance(e, dict) or set(e) - {"changed deps"}]
        bad = [d for d in deps if not same_program(d, base)] + [str(e) for e in other]
        (changed.__setitem__(stage, bad) if bad or not deps else same.append(stage))
    return same, changed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="the commit whose code made the committed outputs")
    ap.add_argument("--commit", action="store_true", help="dvc commit -f the stages whose program did not change")
    a = ap.parse_args(argv)
    same, changed = classify(a.base)
    for s in same: print(f"same program: {s}")
    for s, why in changed.items(): print(f"changed:      {s}: {', '.join(why)[:300]}")
    if a.commit and same:
        subprocess.run(["dvc", "commit", "-f", "-q", *(s.split(":")[-1] for s in same)], cwd=ROOT, check=True)
        print(f"recorded {len(same)} stage(s) in dvc.lock; `dvc repro` reruns the {len(changed)} others")


if __name__ == "__main__":
    main()
