#!/usr/bin/env python
"""Training speed of the real loop (tiekd.train.train_model), measured per optimiser step.

Students (MobileNetV2 by default) for several distillers, interleaved round by round so that their ratio is measured
side by side in one run; each teacher family; and one complete student run at a proposed default-profile size
(training + flip-averaged evaluation). Data are synthetic in-memory tensors (speed does not depend on content).
Step times come from the loop's callback (time between consecutive steps, the first step of each run dropped as
warm-up) and include augmentation, loss, backward, clipping and the optimiser step. Both wall-clock and process CPU
time are recorded: on a machine shared with other jobs the wall time is inflated by waiting, while CPU time with
`--threads 1` stays close to the uncontended single-thread step time (report which one you quote).

    .venv/bin/python bench/train_speed.py                         # everything, JSON on stdout
    .venv/bin/python bench/train_speed.py --skip-teachers --skip-run --rounds 3 --out bench/train_speed.json
"""
import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch


def _split(n, h, w, seed=0):
    from tiekd.data import PreparedSplit
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)
    dense = 2 + 70 * torch.rand(n, 1, h, w, generator=g)
    sparse = torch.where(torch.rand(n, 1, h, w, generator=g) < 0.1, dense, torch.zeros(()))
    return PreparedSplit(img, sparse, torch.full((n,), 721.5), [f"im{i:05d}" for i in range(n)], teacher_depth=dense,
                         dense_depth=dense)


def _cfg(args, method="gt", kind="student", family="adabins", size=None, epochs=1, batch=None):
    return {"train": {"epochs": epochs, "batch_size": batch or args.batch, "log": False, "progress": False,
                      "threads": args.threads, "augment": {"crop": None}},
            "model": {"kind": kind, "encoder": args.encoder, "family": family, "size": size or args.size},
            "data": {"d_max": 80.0}, "distill": {"method": method, "n_bins": args.n_bins}}


def _step_times(cfg, split):
    "Wall and CPU seconds per optimiser step of one short run (the first step dropped)."
    from tiekd.train import train_model
    stamps = []
    train_model(cfg, tempfile.mkdtemp(prefix="tiekd_bench_"), splits={"train": split}, resume=False,
                callbacks=[lambda info: stamps.append((time.perf_counter(), time.process_time()))])
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(stamps, stamps[1:])]


def _summary(times, batch):
    wall, cpu = [t[0] for t in times], [t[1] for t in times]
    med, cmed = statistics.median(wall), statistics.median(cpu)
    return {"median_step_s": med, "images_per_s": batch / med, "min_step_s": min(wall), "max_step_s": max(wall),
            "median_cpu_step_s": cmed, "images_per_cpu_s": batch / cmed, "n_steps": len(times)}


def bench_students(args):
    split = _split(args.batch * (args.steps + 1), args.height, args.width)
    times = {m: [] for m in args.methods}
    for r in range(args.rounds):
        for m in args.methods:
            times[m] += _step_times(_cfg(args, m), split)
            s = _summary(times[m], args.batch)
            print(f"round {r + 1}/{args.rounds} {m}: median {s['median_step_s']:.3f} s/step wall, "
                  f"{s['median_cpu_step_s']:.3f} s/step CPU", file=sys.stderr)
    out = {m: _summary(t, args.batch) for m, t in times.items()}
    for a, b in (("tiekd", "reskd-ssim-si"), ("tiekd", "gt")):
        if a in times and b in times:
            key = f"{a}_over_{b}".replace("-", "_")
            out[f"ratio_{key}"] = out[a]["median_step_s"] / out[b]["median_step_s"]
            out[f"cpu_ratio_{key}"] = out[a]["median_cpu_step_s"] / out[b]["median_cpu_step_s"]
    return out


def bench_teachers(args):
    split = _split(args.batch * (args.teacher_steps + 1), args.height, args.width)
    out = {}
    for f in args.teachers:
        out[f] = _summary(_step_times(_cfg(args, "gt", "teacher", f, size=args.teacher_size), split), args.batch)
        print(f"teacher {f}: {out[f]['images_per_s']:.2f} images/s wall, {out[f]['images_per_cpu_s']:.2f} per CPU s",
              file=sys.stderr)
    return out


def bench_run(args):
    "One complete student run at the proposed default-profile size: training, then flip-averaged test evaluation."
    from tiekd.train import train_model
    from tiekd.evaluate import evaluate_model
    h, w = args.run_height, args.run_width
    train, test = _split(args.run_images, h, w, 1), _split(args.run_test_images, h, w, 2)
    cfg = _cfg(args, args.run_method, size=args.run_size, epochs=args.run_epochs, batch=args.run_batch)
    t0, c0 = time.perf_counter(), time.process_time()
    r = train_model(cfg, tempfile.mkdtemp(prefix="tiekd_bench_"), splits={"train": train}, resume=False)
    t1, c1 = time.perf_counter(), time.process_time()
    ev = evaluate_model(r["model"], test, crop="garg", batch_size=16)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"method": args.run_method, "size": args.run_size, "height": h, "width": w, "train_images": args.run_images,
            "epochs": args.run_epochs, "batch": args.run_batch, "steps": r["global_step"], "train_s": t1 - t0,
            "eval_images": args.run_test_images, "eval_s": t2 - t1, "total_s": t2 - t0, "train_cpu_s": c1 - c0,
            "eval_cpu_s": c2 - c1, "total_cpu_s": c2 - c0,
            "images_per_s": r["images_per_s"], "abs_rel_on_random_data": ev["mean"]["abs_rel"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--height", type=int, default=128); p.add_argument("--width", type=int, default=416)
    p.add_argument("--batch", type=int, default=8); p.add_argument("--n-bins", type=int, default=257)
    p.add_argument("--encoder", default="mobilenetv2_100"); p.add_argument("--size", default="small")
    p.add_argument("--methods", nargs="+", default=["gt", "reskd-ssim-si", "tiekd"])
    p.add_argument("--steps", type=int, default=4, help="timed steps per run and round (plus one warm-up step)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of the interleaved student measurement")
    p.add_argument("--teachers", nargs="+", default=["adabins", "bts", "depthformer"])
    p.add_argument("--teacher-size", default="small"); p.add_argument("--teacher-steps", type=int, default=3)
    p.add_argument("--run-method", default="tiekd"); p.add_argument("--run-size", default="small")
    p.add_argument("--run-height", type=int, default=64); p.add_argument("--run-width", type=int, default=208)
    p.add_argument("--run-images", type=int, default=512); p.add_argument("--run-epochs", type=int, default=4)
    p.add_argument("--run-batch", type=int, default=8); p.add_argument("--run-test-images", type=int, default=100)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (0: leave torch's default)")
    p.add_argument("--skip-students", action="store_true"); p.add_argument("--skip-teachers", action="store_true")
    p.add_argument("--skip-run", action="store_true")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    res = {"command": " ".join([Path(sys.argv[0]).name] + list(argv if argv is not None else sys.argv[1:])),
           "torch": torch.__version__, "threads": args.threads, "cpus": os.cpu_count(), "machine": platform.machine(),
           "load_avg_start": os.getloadavg(), "height": args.height, "width": args.width, "batch": args.batch,
           "n_bins": args.n_bins, "encoder": args.encoder, "size": args.size}
    if not args.skip_students: res["students"] = bench_students(args)
    if not args.skip_teachers: res["teachers"] = bench_teachers(args)
    if not args.skip_run: res["default_run"] = bench_run(args)
    res["load_avg_end"] = os.getloadavg()
    text = json.dumps(res, indent=1)
    print(text)
    if args.out: Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
