#!/usr/bin/env python
"""Banded vs dense L_DPM = KL(DPM_T || DPM_S): time and peak memory of forward + backward, both DPM modes, one run.

`tiekd.losses.dpm_kl_loss` (banded: the student's log-softmax normaliser over K once, the teacher's DPM only on the
2n + 1 bins around each pixel's depth) against `tiekd.losses.dpm_kl_loss_dense` (the teacher's dense (B, K, H, W) DPM
from `depth_to_dpm`, then the KL written plainly). Both are timed from the teacher's depth map and the student's logits
to the gradient of the logits.

The teacher depth is street-like by default (smooth ramp, boxes, noise): neighbouring pixels then read neighbouring
bins, which is what makes the band's gather/scatter fast; `--depth random` (iid uniform depth per pixel) is the worst
case for the band's memory access and costs it about 4x more in gather/scatter. The dense variant does not care.

Memory: each (variant, mode) runs in a fresh subprocess (the same script with --worker), so one run's allocations
cannot hide another's. Peak = the process's ru_maxrss (peak resident set) after the first forward + backward minus its
resident set just before it (/proc/self/statm); the inputs (logits, teacher depth) exist before, so the number is what
the loss adds: its intermediates, the saved tensors and the logits' gradient (B*K*H*W floats in both variants).
Times: another fresh subprocess per mode calls the two variants alternately (after one warm-up call each), so
both see the same machine load; median (and min) of --repeats calls each.

    python bench/kl_loss.py                      # K=257, 128x416, batch 8, 2 threads
    python bench/kl_loss.py --K 65 --height 32 --width 64 --batch 2 --json /tmp/kl.json
"""
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path

MODES = ("integral", "softmax")
VARIANTS = ("banded", "dense")


def _rss_mb():
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _setup(a):
    import torch
    from tiekd.dpm import bin_edges
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    edges = bin_edges(a.d_min, a.d_max, a.K)
    logits = torch.randn(a.batch, a.K, a.height, a.width).mul_(2.0).requires_grad_(True)  # in place: no temporary
    B, H, W = a.batch, a.height, a.width
    if a.depth == "random":   # iid uniform per pixel: the worst case for the band's memory access
        teacher = torch.rand(B, 1, H, W).mul_(a.d_max - 1.0).add_(1.0)
    else:                     # street-like: a ground ramp from d_max at the top to 3 m at the bottom, near boxes, noise
        teacher = torch.linspace(a.d_max, 3.0, H).view(1, 1, H, 1).repeat(B, 1, 1, W)
        for b in range(B):
            for _ in range(6):
                h0, w0 = int(torch.randint(H // 3, H, ())), int(torch.randint(0, W, ()))
                teacher[b, :, h0 - H // 4: h0, w0: w0 + W // 8] = float(torch.empty(()).uniform_(4.0, a.d_max / 2))
        teacher.add_(torch.randn(B, 1, H, W).mul_(0.3)).clamp_(1.0, a.d_max)
    teacher[:, :, : H // 10] = 0.0                                                         # some invalid pixels
    return edges, logits, teacher


def _step(fn, logits, teacher, edges, a):
    logits.grad = None
    loss = fn(logits, teacher, edges, a.sigma, a.mode)
    loss.backward()
    return loss.item()


def worker(a):
    from tiekd.losses import dpm_kl_loss, dpm_kl_loss_dense
    fns = dict(banded=dpm_kl_loss, dense=dpm_kl_loss_dense)
    edges, logits, teacher = _setup(a)
    if a.worker == "timing":   # both variants in one process, interleaved, so that both see the same machine load
        for v in VARIANTS: _step(fns[v], logits, teacher, edges, a)   # warm-up
        times = {v: [] for v in VARIANTS}
        for _ in range(a.repeats):
            for v in VARIANTS:
                t = time.perf_counter(); _step(fns[v], logits, teacher, edges, a); times[v].append(time.perf_counter() - t)
        print(json.dumps(dict(mode=a.mode, times_s=times, load_avg=os.getloadavg())))
        return
    rss0, peak_before = _rss_mb(), _maxrss_mb()
    t = time.perf_counter(); value = _step(fns[a.worker], logits, teacher, edges, a); first = time.perf_counter() - t
    peak = _maxrss_mb() - rss0
    print(json.dumps(dict(variant=a.worker, mode=a.mode, loss=value, first_s=first, peak_mb=peak, rss_before_mb=rss0,
                          maxrss_before_mb=peak_before, logits_mb=logits.numel() * 4 / 2**20)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--K", type=int, default=257, help="number of bins")
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--width", type=int, default=416)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3, help="timed calls of each variant (interleaved)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--sigma", type=float, default=0.5)
    p.add_argument("--d-min", type=float, default=1e-3)
    p.add_argument("--d-max", type=float, default=80.0)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--depth", choices=("street", "random"), default="street",
                   help="teacher depth: a street-like map (smooth, boxes, 0.3 m noise) or iid uniform per pixel")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    p.add_argument("--worker", choices=(*VARIANTS, "timing"), help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=MODES, default="integral", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker: return worker(a)

    common = ["--K", a.K, "--height", a.height, "--width", a.width, "--batch", a.batch, "--repeats", a.repeats,
              "--threads", a.threads, "--sigma", a.sigma, "--d-min", a.d_min, "--d-max", a.d_max, "--depth", a.depth]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    def run(worker, mode):
        cmd = [sys.executable, __file__, "--worker", worker, "--mode", mode, *map(str, common)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode: sys.exit(f"worker {worker}/{mode} failed:\n{r.stderr}")
        return json.loads(r.stdout.strip().splitlines()[-1])
    load0 = os.getloadavg()
    rows, timing = [], {}
    for mode in a.modes:
        rows += [run(v, mode) for v in VARIANTS]
        timing[mode] = run("timing", mode)
        for r in rows[-2:]:
            ts = timing[mode]["times_s"][r["variant"]]
            r.update(median_s=statistics.median(ts), min_s=min(ts), times_s=ts)
    print(f"dpm_kl_loss forward+backward: K={a.K}, {a.height}x{a.width}, batch {a.batch}, sigma {a.sigma}, "
          f"{a.depth} teacher depth, {a.threads} threads, median of {a.repeats} interleaved calls; load average before {load0[0]:.1f}, "
          f"after {os.getloadavg()[0]:.1f} (logits alone: {rows[0]['logits_mb']:.0f} MB)")
    print(f"{'mode':9} {'variant':7} {'median s':>9} {'min s':>7} {'peak MB':>8} {'loss':>12}")
    for r in rows:
        print(f"{r['mode']:9} {r['variant']:7} {r['median_s']:9.3f} {r['min_s']:7.3f} {r['peak_mb']:8.0f} {r['loss']:12.6f}")
    summary = {}
    for mode in a.modes:
        b, d = (next(r for r in rows if r["mode"] == mode and r["variant"] == v) for v in VARIANTS)
        summary[mode] = dict(time_ratio_dense_over_banded=d["median_s"] / b["median_s"],
                             peak_ratio_dense_over_banded=d["peak_mb"] / b["peak_mb"],
                             loss_rel_diff=abs(b["loss"] - d["loss"]) / abs(d["loss"]))
        s = summary[mode]
        print(f"{mode}: dense/banded time x{s['time_ratio_dense_over_banded']:.1f}, peak memory "
              f"x{s['peak_ratio_dense_over_banded']:.1f}, loss relative difference {s['loss_rel_diff']:.1e}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(dict(args={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()
                                                if k not in ("worker", "mode")},
                                          memory_method="fresh subprocess per variant; ru_maxrss after the first "
                                                        "forward+backward minus RSS just before it",
                                          timing_method="one subprocess per mode, variants interleaved, after "
                                                        "one warm-up call each; median of --repeats",
                                          load_avg_before=load0,
                                          results=rows, summary=summary), indent=2))


if __name__ == "__main__":
    main()
