"""Killed runs resume exactly: `kill -9` a training subprocess mid-epoch, rerun it, and compare with an uninterrupted run;
`kill -9` a teacher-prediction export, rerun it, and compare with an uninterrupted export (tiekd.train)."""
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import bytes_lost, run_bytes_lost, tree_bytes_lost

ROOT = Path(__file__).resolve().parents[1]

# The shared tiny, BatchNorm-free network and in-memory split (tiekd.testing): the whole run takes a second or two.
SCRIPT = r'''
import json, sys, time
from pathlib import Path
import torch
from tiekd.train import train_model, export_teacher_predictions
from tiekd.testing import TinyNet as _TinyNet, toy_split as _toy_split

class TinyNet(_TinyNet):
    "The shared tiny network (tiekd.testing), optionally slowed down so that a kill lands mid-epoch."
    def __init__(self, slow=0.0): super().__init__(); self.slow = slow
    def forward(self, x):
        if self.slow: time.sleep(self.slow)
        return super().forward(x)

def toy_split(n, seed, h=16, w=32): return _toy_split(n, h, w, seed)

def run_train(out, slow=0.0):
    out = Path(out)
    cfg = {"train": {"epochs": 3, "batch_size": 4, "checkpoint_every_steps": 2, "log": True, "progress": False,
                     "threads": 1, "augment": {"crop": [12, 24]}}, "distill": {"method": "gt"}}
    def tick(info):
        tmp = out / "progress.tmp"; tmp.write_text(str(info["global_step"])); tmp.replace(out / "progress.txt")  # atomic
        time.sleep(slow)
    torch.manual_seed(0)
    return train_model(cfg, out, splits={"train": toy_split(12, 0)}, model=TinyNet(), callbacks=[tick])

def run_export(out, slow=0.0):
    torch.manual_seed(0)
    prev = torch.get_num_threads(); torch.set_num_threads(1)
    try: return export_teacher_predictions(TinyNet(slow), {"train": toy_split(24, 1), "test": toy_split(4, 2)}, out,
                                           batch_size=2, progress=False)
    finally: torch.set_num_threads(prev)

if __name__ == "__main__":
    torch.set_num_threads(1)
    (run_train if sys.argv[1] == "train" else run_export)(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
'''


def _toy(tmp_path):
    "The script written to tmp_path and imported here too (the uninterrupted reference runs in this process)."
    p = tmp_path / "toy.py"
    p.write_text(SCRIPT)
    spec = importlib.util.spec_from_file_location(f"toy_{tmp_path.name}", p)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return p, mod


def _start(script, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TIEKD_ROOT": str(ROOT)}
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _kill_when(proc, ready, timeout=90):
    "SIGKILL `proc` as soon as `ready()` is true; fail if it ends first."
    t0 = time.time()
    while not ready():
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[1][-2000:]}"
        assert time.time() - t0 < timeout, "timed out waiting for the run to make progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def test_training_killed_mid_epoch_resumes_exactly(tmp_path, fault_ledger):
    script, toy = _toy(tmp_path)
    killed = tmp_path / "killed"
    b = _start(script, "train", killed, 0.25)                     # slow steps, so the kill lands mid-epoch
    ra = toy.run_train(tmp_path / "full")                          # the uninterrupted run, meanwhile, in this process
    prog = killed / "progress.txt"
    def step():   # the last step the killed run reported (read once: the file is replaced, never half-written)
        try: return int(prog.read_text() or -1)
        except (FileNotFoundError, ValueError): return -1
    _kill_when(b, lambda: step() >= 5)   # epoch 2 of 3
    fault_ledger.injected("kill -9")
    ck = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)
    assert 2 <= ck["position"]["global_step"] < 9
    rb = toy.run_train(killed)                                     # resume
    assert ra["resumed_from"] is None and 2 <= rb["resumed_from"] < 9
    lost, aside = run_bytes_lost(tmp_path / "full", killed)     # the whole output folder: model.pt, summary, logs
    fault_ledger.recovered(lost, aside)
    assert lost == 0, f"{lost} bytes of the uninterrupted run's output are not reproduced"
    assert ra["history"]["step_loss"] == rb["history"]["step_loss"]
    wb = rb["model"].state_dict()
    for k, v in ra["model"].state_dict().items():
        assert torch.equal(v, wb[k]), f"weights {k} differ after resume"
    # the per-step log continues: every step appears (a step redone after the kill is logged twice)
    rows = (killed / "dvclive" / "plots" / "metrics" / "train" / "loss.tsv").read_text().strip().splitlines()[1:]
    assert sorted({int(r.split("\t")[0]) for r in rows}) == list(range(9))


def test_teacher_export_killed_then_rerun_completes(tmp_path, fault_ledger):
    script, toy = _toy(tmp_path)
    full, killed = tmp_path / "full", tmp_path / "killed"
    b = _start(script, "export", killed, 0.2)
    toy.run_export(full)
    pngs = lambda: list((killed / "train").glob("*.png")) if (killed / "train").exists() else []
    _kill_when(b, lambda: len(pngs()) >= 6)
    fault_ledger.injected("kill -9")
    assert not (killed / "train.pt").exists()                     # the split is not marked complete
    from PIL import Image
    for p in pngs():                                               # every PNG in place is whole
        with Image.open(p) as im: im.load()
    toy.run_export(killed)                                         # the rerun completes it
    lost = tree_bytes_lost(full, killed)                           # every PNG and in-memory file, byte for byte
    fault_ledger.recovered(lost)
    assert lost == 0, f"{lost} bytes of the uninterrupted export are not reproduced"
    for split in ("train", "test"):
        fa = torch.load(full / f"{split}.pt", weights_only=True)
        fb = torch.load(killed / f"{split}.pt", weights_only=True)
        assert fa["names"] == fb["names"] and torch.equal(fa["depth"], fb["depth"])
        assert sorted(p.name for p in (killed / split).iterdir()) == sorted(p.name for p in (full / split).iterdir())
