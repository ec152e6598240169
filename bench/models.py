#!/usr/bin/env python
"""Parameter counts and CPU inference time of every student and teacher in `tiekd.models`, one run.

Students: encoders mobilenetv2_100, resnet18, resnet50 x decoder sizes (tiny, small, paper), regression head, and the
DPM head (K = --n-bins) for mobilenetv2_100. Teachers: adabins, bts, depthformer x sizes (tiny, small, base, paper).
Each model is built with `pretrained=False` (random weights: speed does not depend on them), put in eval mode, and
called on one random image (batch 1, --height x --width, default 128 x 416) under `torch.inference_mode()`.
All models are built first and warmed up (--warmup calls each); then the timed calls are **interleaved**: in each of
--repeats rounds every model is called once (paper-size teachers only in the first --paper-repeats rounds: they are
slow on CPU). Other processes on a shared machine then slow every model alike instead of whichever ran at a bad
moment. Reported per model: GFLOPs of one call (torch's FlopCounterMode: convolutions and matrix products,
2 FLOPs per multiply-add; independent of the machine's load), median and min wall time per call. On a busy machine the
min is the figure to read (torch's OpenMP threads spin while a sibling thread is descheduled, so contention inflates
wall and CPU time alike).
Torch uses --threads threads (default 2, the project's machines).

    python bench/models.py                                 # everything, Markdown table on stdout
    python bench/models.py --sizes tiny small --json /tmp/models.json
"""
import argparse, json, os, statistics, sys, time

STUDENT_ENCODERS = ("mobilenetv2_100", "resnet18", "resnet50")
STUDENT_SIZES = ("tiny", "small", "paper")
TEACHER_FAMILIES = ("adabins", "bts", "depthformer")
TEACHER_SIZES = ("tiny", "small", "base", "paper")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--width", type=int, default=416)
    p.add_argument("--repeats", type=int, default=10, help="timed calls per model (median reported)")
    p.add_argument("--paper-repeats", type=int, default=3, help="timed calls for paper-size teachers")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls per model before timing (>= 1)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-bins", type=int, default=257, help="K of the DPM student")
    p.add_argument("--sizes", nargs="+", default=None, help="only these sizes (tiny small base paper); default all")
    p.add_argument("--kinds", nargs="+", default=["student", "teacher"], choices=["student", "teacher"])
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    a = p.parse_args(argv)
    if a.warmup < 1: p.error("--warmup must be >= 1 (the first call also counts FLOPs)")

    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from tiekd.models import build_student, build_teacher, count_parameters
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.rand(1, 3, a.height, a.width)
    keep = lambda s: a.sizes is None or s in a.sizes

    jobs = []
    if "student" in a.kinds:
        for size in filter(keep, STUDENT_SIZES):
            for enc in STUDENT_ENCODERS:
                jobs.append(("student", f"{enc} regression", size, lambda e=enc, s=size: build_student(e, "regression", size=s)))
            jobs.append(("student", f"mobilenetv2_100 dpm (K={a.n_bins})", size,
                         lambda s=size: build_student("mobilenetv2_100", "dpm", size=s, n_bins=a.n_bins)))
    if "teacher" in a.kinds:
        for fam in TEACHER_FAMILIES:
            for size in filter(keep, TEACHER_SIZES):
                jobs.append(("teacher", fam, size, lambda f=fam, s=size: build_teacher(f, s)))

    models = []
    for kind, name, size, build in jobs:
        model = build().eval()
        reps = a.paper_repeats if (kind == "teacher" and size == "paper") else a.repeats
        with torch.inference_mode():
            with FlopCounterMode(display=False) as fc: model(x)
            for _ in range(a.warmup - 1): model(x)
        models.append(dict(kind=kind, model=name, size=size, params=count_parameters(model), gflops=fc.get_total_flops() / 1e9,
                           net=model, reps=reps, wall=[]))
        print(f"built {kind} {name} {size}: {models[-1]['params']:,} parameters", file=sys.stderr, flush=True)
    with torch.inference_mode():
        for r in range(max(m["reps"] for m in models)):
            for m in models:
                if r >= m["reps"]: continue
                t = time.perf_counter()
                m["net"](x)
                m["wall"].append(time.perf_counter() - t)
            print(f"round {r + 1} done", file=sys.stderr, flush=True)
    rows = [dict(kind=m["kind"], model=m["model"], size=m["size"], params=m["params"], gflops=m["gflops"], median_s=statistics.median(m["wall"]),
                 min_s=min(m["wall"]), repeats=m["reps"], times_s=m["wall"])
            for m in models]

    print(f"\nCPU inference, batch 1, {a.height}x{a.width}, torch {torch.__version__}, {a.threads} threads, "
          f"N interleaved timed calls per model after {a.warmup} warm-up calls; load average at the end "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (wall times include waiting for other processes; min is the least disturbed)\n")
    print("| kind | model | size | parameters | GFLOPs | median ms | min ms | N |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['kind']} | {r['model']} | {r['size']} | {r['params']:,} | {r['gflops']:.2f} | {r['median_s'] * 1000:.1f} | "
              f"{r['min_s'] * 1000:.1f} | {r['repeats']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(height=a.height, width=a.width, threads=a.threads, warmup=a.warmup, loadavg=os.getloadavg(),
                           torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
