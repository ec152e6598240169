#!/usr/bin/env python
"""What Spatial-KD needs that TIE-KD does not: which teachers it can use, and its step's time and memory beside
TIE-KD's and Res-KD's (SSIM+SI), measured side by side.

One training step = forward (for Spatial-KD: the teacher's forward without gradient, then the student's with
ReplaceBlock), loss, backward, gradient clipping and AdamW, on in-memory random data, with the pipeline's model and loss
code: bench/step_ratio.py's set-up, step and interleaved timing, with the student in Spatial-KD's network here. Time:
the methods interleaved step by step in one process, medians of wall time per step. Memory: each method in its own
process after one step: its resident memory, then the peak during the steps (Linux: VmHWM reset through clear_refs).

    .venv/bin/python bench/spatialkd_cost.py --threads 1 --out bench/spatialkd_cost.md
"""
import argparse, json, subprocess, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import step_ratio   # noqa: E402  (bench/step_ratio.py: _setup, _data, _step, measure)

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("reskd-ssim-si", "tiekd", "spatialkd")


def _setup(method, a):
    "step_ratio's (network, AdamW, loss); for Spatial-KD its student inside SpatialKDNet with the matched teacher."
    if method != "spatialkd": return step_ratio._setup(method, a)
    from tiekd.models import build_teacher
    from tiekd.spatialkd import SpatialKDNet, spatial_settings
    s = spatial_settings(method, {"blocks": a.blocks})
    def wrap(student):
        net = SpatialKDNet(student, build_teacher("unet", a.teacher).eval(), s["blocks"], s["p_max"], s["ramp"]).train()
        net.set_progress(1.0); return net   # the replacement at its full rate, as after the ramp
    return step_ratio._setup(method, a, wrap, spatial={"blocks": a.blocks})


def _status_mb(key):
    return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) / 1024

def _memory_one(method, a):
    "(RSS before the first step, peak RSS during the steps) in MB, of a fresh process running one method (Linux)."
    import torch
    torch.set_num_threads(a.threads)
    state, (x, ref) = _setup(method, a), step_ratio._data(a)
    step_ratio._step(state, x, ref, a.device)             # the first step allocates the optimiser's state
    before = _status_mb("VmRSS:")
    with open("/proc/self/clear_refs", "w") as f: f.write("5")   # reset the peak (VmHWM) to the current RSS
    for _ in range(a.steps): step_ratio._step(state, x, ref, a.device)
    return before, _status_mb("VmHWM:")


def teachers_usable(a) -> dict:
    "For each teacher family: can Spatial-KD distil from it (and why not)? TIE-KD and Res-KD use any, from its maps."
    from tiekd.core import ConfigError
    from tiekd.models import TEACHERS, build_student, build_teacher
    from tiekd.spatialkd import SpatialKDNet
    import torch
    out = {}
    for fam in TEACHERS:
        try:
            net = SpatialKDNet(build_student(a.encoder, "regression", a.student), build_teacher(fam, "tiny")).train()
            net.set_progress(1.0); net(torch.rand(2, 3, *a.size))   # its stages meet the student's: a forward pass runs
            out[fam] = "yes"
        except ConfigError: out[fam] = "no: its decoder does not have the student's 6 stages"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, nargs=2, default=[32, 104]); ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--student", default="tiny"); ap.add_argument("--teacher", default="small"); ap.add_argument("--encoder", default="mobilenetv2_100")
    ap.add_argument("--blocks", type=int, nargs=4, default=[1, 1, 1, 1]); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=15); ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--memory-one", help=argparse.SUPPRESS); ap.add_argument("--out", type=Path)
    ap.add_argument("--append", action="store_true", help="add to --out instead of replacing it (a second size)")
    ap.set_defaults(methods=list(METHODS), device="cpu", channels_last=False, n_bins=257)   # step_ratio's settings, fixed here
    a = ap.parse_args(argv)
    if a.memory_one: print(json.dumps(_memory_one(a.memory_one, a))); return 0
    from tiekd.models import build_teacher
    timed = step_ratio.measure(a, _setup)
    med = {m: timed[m]["wall_ms"] for m in METHODS}
    base = [sys.executable, __file__, "--size", *map(str, a.size), "--batch", str(a.batch), "--student", a.student, "--teacher", a.teacher,
            "--encoder", a.encoder, "--blocks", *map(str, a.blocks), "--threads", str(a.threads), "--steps", str(min(a.steps, 5))]
    mem = {m: json.loads(subprocess.run(base + ["--memory-one", m], capture_output=True, text=True, check=True).stdout) for m in METHODS}
    n_t = sum(p.numel() for p in build_teacher("unet", a.teacher).parameters()) / 1e6
    lines = [] if a.append else [f"# Spatial-KD's cost beside TIE-KD's and Res-KD's", ""]
    lines += [f"## {a.size[0]}x{a.size[1]}, batch {a.batch}", "",
             f"`{' '.join(['.venv/bin/python', 'bench/spatialkd_cost.py', *sys.argv[1:]])}`: {a.size[0]}x{a.size[1]}, batch {a.batch}, "
             f"`{a.encoder}` {a.student} student, matched teacher `unet` {a.teacher} ({n_t:.1f} M parameters), {a.threads} thread(s), "
             f"medians of {a.steps} interleaved steps after {a.warmup}; memory: each method in its own process.", "",
             "| method | what it needs from the teacher | ms / step | x TIE-KD | process memory before the steps (MB) | peak during the steps (MB) | peak - before (MB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    need = {"reskd-ssim-si": "its depth maps (stored once)", "tiekd": "its depth maps (stored once)",
            "spatialkd": "its network in every step, the decoder's 6 stages; and the ground truth"}
    for m in METHODS:
        b, pk = mem[m]
        lines.append(f"| {m} | {need[m]} | {med[m]:.0f} | {med[m] / med['tiekd']:.2f} | {b:.0f} | {pk:.0f} | {pk - b:.0f} |")
    if not a.append:
        lines += ["", "Which teachers each method can distil from (`tiekd.models.TEACHERS`; Spatial-KD: built and run once):", "",
                  "| teacher family | TIE-KD, Res-KD | Spatial-KD |", "|---|---|---|"]
        lines += [f"| {f} | yes (its maps; also maps made elsewhere) | {v} |" for f, v in teachers_usable(a).items()]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out: a.out.write_text((a.out.read_text() + "\n" if a.append and a.out.exists() else "") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
