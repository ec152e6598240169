"""The console scripts as a user starts them, as processes: a tiny `tiekd_train` run with evaluation, and the same
command under `torchrun --nproc_per_node 2` (DistributedDataParallel, gloo on the CPU), on the synthetic data."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETS = ["data.root=data/synth", "data.size=[32,104]", "data.limit_train=16", "data.limit_test=8", "train.epochs=1",
        "train.batch_size=4", "model.size=tiny", "distill.method=gt", "train.threads=1"]
pytestmark = pytest.mark.skipif(not (ROOT / "data" / "synth" / "meta.json").exists(),
                                reason="no synthetic data: `make test` generates it first")


def _run(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TIEKD_ROOT": str(ROOT)}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, **kw)


def _sets():
    return [a for kv in SETS for a in ("--set", kv)]


def test_tiekd_train_trains_and_evaluates(tmp_path):
    r = _run([str(BIN / "tiekd_train"), "--role", "student", *_sets(), "--out", str(tmp_path), "--eval", "--no-progress", "--no-log"])
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["global_step"] == 4                                       # 16 images / batch 4, one epoch
    m = json.loads((tmp_path / "metrics.json").read_text())["test"]
    assert set(m) >= {"abs_rel", "rmse", "a1"} and m["n_images"] == 8 and 0 <= m["a1"] <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model.pt", "per_image.csv", "train_summary.json"]


def test_tiekd_train_under_torchrun(tmp_path):
    r = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
              str(BIN / "tiekd_train"), "--role", "student", *_sets(), "--out", str(tmp_path), "--no-progress", "--no-log"])
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((tmp_path / "train_summary.json").read_text())
    assert s["world_size"] == 2 and s["global_step"] == 4                   # the global batch of 4 split over 2 ranks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "train_summary.json"]   # rank 0 writes
    assert len([l for l in r.stdout.splitlines() if l.startswith("{")]) == 1  # one summary line: rank 0 prints
