"""Training under `torchrun --nproc_per_node 2` (DistributedDataParallel, gloo on CPU): the ranks end with identical
weights, and they match one process trained on the same global batch; each rank sees its own half of every batch.

The test can fail: plain SGD at a constant learning rate and no clipping (the toy script swaps
`tiekd.train.make_optimizer`), so a gradient summed instead of averaged over ranks, or a rank that trains on the
whole batch, changes the weights; and the network records a fingerprint (the pixel sum) of every image it is given,
so the ranks' images of each step must be disjoint and together the single process's batch.

The network has no BatchNorm: on CPU each rank's BatchNorm would keep its own batch statistics (PyTorch's
SyncBatchNorm runs only on GPUs), which is a legitimate difference from one process, not an error. The loss is Res-KD
MSE on the teacher's dense depth: a mean over equally many pixels on each rank, so the mean of the ranks' gradients
is the single-process gradient up to float rounding.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r'''
import sys
from pathlib import Path
import torch
import tiekd.train as tt
from tiekd.train import train_model
from tiekd.testing import TinyNet as _TinyNet, toy_split as _toy_split

def sgd(net, cfg, total_steps):   # plain SGD, constant lr: gradient scale shows in the weights (AdamW would hide it)
    opt = torch.optim.SGD(net.parameters(), lr=cfg["train"]["lr"])
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)

class TinyNet(_TinyNet):
    "The shared tiny network (tiekd.testing), recording what each training forward saw."
    def __init__(self):
        super().__init__(); self.seen = []   # per training forward: the pixel sums of the images given
    def forward(self, x):
        if self.training: self.seen.append(x.detach().double().sum((1, 2, 3)).tolist())
        return super().forward(x)

def toy_split(n, seed, h=16, w=32): return _toy_split(n, h, w, seed, gt=False)   # the teacher's depth only

CFG = {"train": {"epochs": 2, "batch_size": 4, "lr": 0.05, "grad_clip": 0, "log": False, "progress": False, "threads": 1,
                 "augment": {"crop": [12, 24]}}, "distill": {"method": "reskd-mse"}}

def run(out):
    # swapped for this run only: the pytest process imports this script, and its later tests train with the real one
    real, tt.make_optimizer = tt.make_optimizer, sgd
    try:
        torch.manual_seed(0)
        net = TinyNet()
        r = train_model(CFG, out, splits={"train": toy_split(12, 0)}, model=net)
    finally: tt.make_optimizer = real
    return {**r, "seen": net.seen}

if __name__ == "__main__":
    out = Path(sys.argv[1])
    r = run(out)
    torch.save({"weights": r["model"].state_dict(), "world_size": r["world_size"], "steps": r["global_step"],
                "step_loss": r["history"]["step_loss"], "seen": r["seen"]}, out / f"rank{r['rank']}.pt")
'''


def test_two_processes_match_one(tmp_path):
    script = tmp_path / "toy_ddp.py"
    script.write_text(SCRIPT)
    out = tmp_path / "ddp"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TIEKD_ROOT": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # meanwhile: the same run in one process, here
    spec = importlib.util.spec_from_file_location("toy_ddp", script)
    toy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toy)
    single = toy.run(tmp_path / "single")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-4000:]
    r0, r1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world_size"] == r1["world_size"] == 2 and r0["steps"] == r1["steps"] == single["global_step"] == 6
    for k, v in r0["weights"].items():
        assert torch.equal(v, r1["weights"][k]), f"ranks disagree on {k}"
        torch.testing.assert_close(v, single["model"].state_dict()[k], rtol=1e-4, atol=1e-5)
    # the loss rank 0 logs is the mean over ranks = the single process's loss (same global batch)
    torch.testing.assert_close(torch.tensor(r0["step_loss"]), torch.tensor(single["history"]["step_loss"]),
                               rtol=1e-4, atol=1e-6)
    # every step: each rank half of the global batch, the two halves disjoint, together the single process's batch
    assert len(r0["seen"]) == len(r1["seen"]) == len(single["seen"]) == 6
    for a, b, s in zip(r0["seen"], r1["seen"], single["seen"]):
        assert len(a) == len(b) == len(s) // 2 == 2, (a, b, s)
        assert not set(map(round, a)) & set(map(round, b)), (a, b)
        torch.testing.assert_close(sorted(a + b), sorted(s), rtol=1e-9, atol=1e-6)
    # SGD moved the weights: the comparison above is not of two untouched initialisations
    torch.manual_seed(0)
    init = toy.TinyNet().state_dict()
    assert max((v - init[k]).abs().max().item() for k, v in r0["weights"].items()) > 1e-3
    # only rank 0 writes: one checkpoint, one model file, one summary
    assert sorted(p.name for p in out.iterdir()) == ["model.pt", "rank0.pt", "rank1.pt", "train_summary.json"]
    # the optimiser swap did not outlive the run (the tests after this one, in this process, train with AdamW)
    assert toy.tt.make_optimizer is not toy.sgd and toy.tt.make_optimizer.__module__ == "tiekd.train"
