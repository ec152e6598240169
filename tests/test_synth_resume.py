"""Data generation killed mid-way resumes exactly: `kill -9` a `tiekd_synth` process while it writes frames, rerun the
same command, and compare the whole dataset folder with an uninterrupted run's, byte for byte (tiekd.synth)."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import tree_bytes_lost
from test_train_resume import _kill_when

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ARGS = ["--n-train", "32", "--n-test", "8", "--n-unlabeled", "8", "--height", "64", "--width", "208", "--workers", "1",
        "--no-progress"]


def _synth(out, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([str(BIN / "tiekd_synth"), "--out", str(out), *ARGS], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_data_generation_killed_then_rerun_is_identical(tmp_path, fault_ledger):
    full, killed = tmp_path / "full", tmp_path / "killed"
    ref = _synth(full)
    _, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err[-3000:]
    n_full = sum(1 for p in full.rglob("*") if p.is_file())
    b = _synth(killed)
    pngs = lambda: sum(1 for _ in killed.rglob("*.png")) if killed.exists() else 0
    _kill_when(b, lambda: pngs() >= 12, timeout=300)             # a few frames in, most of the set still to come
    fault_ledger.injected("kill -9")
    assert sum(1 for p in killed.rglob("*") if p.is_file()) < n_full
    r = _synth(killed)                                             # the same command again
    _, err = r.communicate(timeout=300)
    assert r.returncode == 0, err[-3000:]
    lost = tree_bytes_lost(full, killed)                           # every PNG, split file and meta.json
    fault_ledger.recovered(lost)
    assert lost == 0, f"{lost} bytes of the uninterrupted dataset are not reproduced"
