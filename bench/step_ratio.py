#!/usr/bin/env python
"""Step time of a TIE-KD student against a Res-KD (SSIM+SI) student, side by side in one process.

One training step = forward, loss, backward, gradient clipping and AdamW, on in-memory random data (speed does not
depend on content), with the pipeline's loss and model code. The methods are interleaved step by step, so both see
the same machine state; medians of wall and process-CPU time per step are reported with their ratio. `--ref DIR`
runs the same measurement on another checkout's `tiekd` (e.g. a `git worktree` of an older commit) in alternating
rounds, so a before/after pair comes from one run. `--memory` runs each method in its own process and reports the
peak resident memory of its steps above the memory before the first step.

    .venv/bin/python bench/step_ratio.py --size 32 104 --student tiny --batch 8 --steps 20
    .venv/bin/python bench/step_ratio.py --size 352 704 --student paper --batch 4 --steps 3 --memory
    .venv/bin/python bench/step_ratio.py --size 32 104 --ref /tmp/before --rounds 3
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("reskd-ssim-si", "tiekd")


def _setup(method, args, wrap=None, **loss_params):
    "(network, AdamW, loss) of one method: the student (DPM head for TIE-KD), in `wrap(student)` if given (bench/spatialkd_cost.py)."
    import torch
    from tiekd.losses import build_loss
    from tiekd.models import build_student
    torch.manual_seed(0)
    net = build_student(args.encoder, "dpm" if method.startswith("tiekd") else "regression", args.student,
                        n_bins=args.n_bins).to(args.device).train()
    if args.channels_last: net = net.to(memory_format=torch.channels_last)
    if wrap is not None: net = wrap(net)
    if method.startswith("tiekd"): loss_params = {"n_bins": args.n_bins, **loss_params}
    return net, torch.optim.AdamW(net.parameters(), 1e-3), build_loss(method, **loss_params)


def _data(args):
    import torch
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 3, *args.size, generator=g).to(args.device)
    if args.channels_last: x = x.contiguous(memory_format=torch.channels_last)
    return x, (2 + 70 * torch.rand(args.batch, 1, *args.size, generator=g)).to(args.device)


def _step(state, x, ref, device):
    import torch
    net, opt, loss_fn = state
    total, _ = loss_fn(net(x), ref, None)
    opt.zero_grad(set_to_none=True)
    total.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 35.0)
    opt.step()
    if device.startswith("cuda"): torch.cuda.synchronize()


def measure(args, setup=_setup) -> dict:
    "Interleaved steps of every method in this process: median wall and CPU seconds per step, and their ratio."
    import torch
    torch.set_num_threads(args.threads)
    x, ref = _data(args)
    states = {m: setup(m, args) for m in args.methods}
    for _ in range(args.warmup):                                                 # warm-up, interleaved too
        for m in args.methods: _step(states[m], x, ref, args.device)
    wall, cpu = {m: [] for m in args.methods}, {m: [] for m in args.methods}
    for _ in range(args.steps):
        for m in args.methods:
            t, c = time.perf_counter(), time.process_time()
            _step(states[m], x, ref, args.device)
            wall[m].append(time.perf_counter() - t); cpu[m].append(time.process_time() - c)
    out = {m: {"wall_ms": 1000 * statistics.median(wall[m]), "cpu_ms": 1000 * statistics.median(cpu[m]),
               "steps": args.steps} for m in args.methods}
    a, b = args.methods[-1], args.methods[0]
    out["ratio_wall"] = out[a]["wall_ms"] / out[b]["wall_ms"]
    out["ratio_cpu"] = out[a]["cpu_ms"] / out[b]["cpu_ms"]
    return out


def peak_memory(args, method) -> dict:
    "Peak resident memory of `args.steps` steps of one method, above the memory before its first step (this process)."
    import torch
    torch.set_num_threads(args.threads)
    x, ref = _data(args)
    state = _setup(method, args)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(args.steps): _step(state, x, ref, args.device)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"method": method, "rss_before_mb": before / 1024, "peak_rss_mb": peak / 1024, "step_peak_mb": (peak - before) / 1024}


def _child(args, extra, pythonpath=None):
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    if pythonpath: env["PYTHONPATH"] = str(pythonpath)
    cmd = [sys.executable, __file__, "--child", *sys.argv[1:], *extra]
    r = subprocess.run(cmd, env=env, cwd=pythonpath or ROOT, capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f"benchmark child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _commit(tree) -> str | None:
    "The git commit a checkout is at (None outside git); uncommitted changes are marked."
    r = subprocess.run(["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, nargs=2, default=[32, 104], metavar=("H", "W"))
    p.add_argument("--student", default="tiny", help="decoder size: tiny, small or paper")
    p.add_argument("--encoder", default="mobilenetv2_100")
    p.add_argument("--batch", type=int, default=8); p.add_argument("--n-bins", type=int, default=257)
    p.add_argument("--steps", type=int, default=20, help="timed steps per method (after the warm-up steps)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per method first")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the pipeline's workers use 1)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--methods", nargs="+", default=list(METHODS), help="the last is divided by the first")
    p.add_argument("--channels-last", action="store_true", help="model and input in channels_last memory format")
    p.add_argument("--memory", action="store_true", help="also the peak memory of each method, each in its own process")
    p.add_argument("--ref", help="another checkout whose tiekd to measure too, in alternating rounds (before/after)")
    p.add_argument("--rounds", type=int, default=1, help="alternating rounds with --ref")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-memory", help=argparse.SUPPRESS)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(peak_memory(args, args.child_memory) if args.child_memory else measure(args)))
        return
    import torch
    res = {"command": "bench/step_ratio.py " + " ".join(sys.argv[1:]), "torch": torch.__version__, "threads": args.threads,
           "size": args.size, "student": args.student, "batch": args.batch, "n_bins": args.n_bins,
           "channels_last": args.channels_last, "device": args.device}
    res["commit"] = _commit(ROOT)
    if args.ref: res["ref_commit"] = _commit(args.ref)
    runs = {"this": []} | ({"ref": []} if args.ref else {})
    for r in range(args.rounds):
        for k in runs:
            runs[k].append(_child(args, [], args.ref if k == "ref" else None))
            print(f"round {r + 1} {k}: " + ", ".join(f"{m} {runs[k][-1][m]['cpu_ms']:.1f} ms" for m in args.methods)
                  + f", ratio {runs[k][-1]['ratio_cpu']:.3f} (CPU)", file=sys.stderr)
    for k, rs in runs.items():
        res[k] = {m: {f: statistics.median(r_[m][f] for r_ in rs) for f in ("wall_ms", "cpu_ms")} for m in args.methods}
        res[k]["ratio_cpu"] = statistics.median(r_["ratio_cpu"] for r_ in rs)
        res[k]["ratio_wall"] = statistics.median(r_["ratio_wall"] for r_ in rs)
    if args.memory:
        res["memory"] = {m: _child(args, ["--child-memory", m]) for m in args.methods}
        a, b = args.methods[-1], args.methods[0]
        res["memory"]["ratio_step_peak"] = res["memory"][a]["step_peak_mb"] / res["memory"][b]["step_peak_mb"]
        res["memory"]["ratio_peak_rss"] = res["memory"][a]["peak_rss_mb"] / res["memory"][b]["peak_rss_mb"]
    text = json.dumps(res, indent=1)
    print(text)
    if args.out: Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
