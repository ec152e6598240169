"""Run the test cells of every module notebook, one pytest item per notebook (so a failure names it).

Cells flagged `#| slow` are skipped unless TIEKD_TEST_FLAGS="slow". The traceback of a failing cell is
printed to stderr by nbdev and shown by pytest under the failing item.
"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "nbs").glob("*.ipynb"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb, monkeypatch):
    from nbdev.test import test_nb
    # test_nb sets IN_TEST=1 in os.environ and leaves it there; under it nbdev_export does nothing, which would make
    # later tests that export (test_sync) pass vacuously. monkeypatch restores the environment after this item.
    monkeypatch.setenv("IN_TEST", "1")
    force = os.environ.get("TIEKD_TEST_FLAGS", "").split()
    ok, secs = test_nb(nb, skip_flags=["slow"], force_flags=force, showerr=True)
    assert ok, f"a cell of {nb.relative_to(ROOT)} failed: see the traceback in the captured stderr"
