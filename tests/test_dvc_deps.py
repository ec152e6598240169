"""Every pipeline stage depends on every tiekd module its notebook runs: the modules the notebook imports and,
transitively, the modules those import (read from the source with `ast`). A missing one means an edit to that module
would leave the stage's committed results standing as if they came from the new code."""
import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _tiekd_imports(source: str) -> set[str]:
    "Names of the tiekd modules a piece of Python source imports (absolute or relative)."
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:          # relative, inside the package: `from .x import` / `from . import x`
                found |= {mod.split(".")[0]} if mod else {a.name for a in node.names}
            elif mod == "tiekd": found |= {a.name for a in node.names if (ROOT / "tiekd" / f"{a.name}.py").exists()}
            elif mod.startswith("tiekd."): found.add(mod.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("tiekd.")}
    return {m for m in found if (ROOT / "tiekd" / f"{m}.py").exists()}


def _closure(mods: set[str]) -> set[str]:
    seen, todo = set(), list(mods)
    while todo:
        m = todo.pop()
        if m in seen: continue
        seen.add(m)
        todo += _tiekd_imports((ROOT / "tiekd" / f"{m}.py").read_text())
    return seen


def _notebook_source(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n".join("\n".join(l for l in c.splitlines() if not l.lstrip().startswith(("%", "!"))) for c in code)


def _stages():
    for name, st in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        body = st.get("do", st)
        nb = re.search(r"(nbs/pipeline/\w+\.ipynb)", body["cmd"])
        if nb: yield name, ROOT / nb.group(1), set(body.get("deps", []))


def test_closure_reads_imports():
    # the helper itself, on source written here: absolute, dotted, relative and package-level imports
    src = "import tiekd.dpm\nfrom tiekd.losses import x\nfrom tiekd import models, notamodule\nfrom .metrics import y\nimport os"
    assert _tiekd_imports(src) == {"dpm", "losses", "models", "metrics"}
    assert "core" in _closure({"dpm"})      # tiekd.dpm imports tiekd.core


@pytest.mark.parametrize("stage,notebook,deps", list(_stages()), ids=[s[0] for s in _stages()])
def test_stage_depends_on_the_code_it_runs(stage, notebook, deps):
    needed = {f"tiekd/{m}.py" for m in _closure(_tiekd_imports(_notebook_source(notebook)))} - {"tiekd/_modidx.py"}
    missing = sorted(needed - deps)
    assert not missing, f"dvc.yaml stage {stage!r} runs {notebook.name} but does not depend on {missing}: add them to its deps"
