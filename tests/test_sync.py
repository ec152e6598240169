"""The notebooks are the source: `tiekd/` must be exactly what `nbdev_export` makes, and every notebook clean."""
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _copy_project(tmp_path, package=True):
    shutil.copy(ROOT / "settings.ini", tmp_path / "settings.ini")
    shutil.copytree(ROOT / "nbs", tmp_path / "nbs")
    if package: shutil.copytree(ROOT / "tiekd", tmp_path / "tiekd", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _env():
    "The environment without IN_TEST (set by nbdev's test runner), under which nbdev_export silently does nothing."
    return {k: v for k, v in os.environ.items() if k != "IN_TEST"}


def _tree(p):
    return sorted(str(q.relative_to(p)) for q in p.rglob("*") if q.is_file() and "__pycache__" not in q.parts)


def test_package_matches_notebooks(tmp_path):
    proj = _copy_project(tmp_path, package=False)        # exported from scratch: a no-op export cannot pass
    subprocess.run([str(BIN / "nbdev_export")], cwd=proj, check=True, capture_output=True, env=_env())
    theirs, ours = proj / "tiekd", ROOT / "tiekd"
    assert _tree(theirs) == _tree(ours), "tiekd/ has different files from what nbdev_export makes: run `nbdev_export`"
    differ = [f for f in _tree(ours) if not filecmp.cmp(ours / f, theirs / f, shallow=False)]
    assert not differ, f"tiekd/ is out of sync with the notebooks in {differ}: run `nbdev_export` and commit"


def test_notebooks_are_clean(tmp_path):
    proj = _copy_project(tmp_path)
    subprocess.run([str(BIN / "nbdev_clean")], cwd=proj, check=True, capture_output=True, env=_env())
    nbs = sorted(p.relative_to(ROOT) for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    dirty = [str(p) for p in nbs if (ROOT / p).read_bytes() != (proj / p).read_bytes()]
    assert not dirty, f"notebooks not clean: {dirty}: run `nbdev_clean` and commit"
