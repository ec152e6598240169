#!/usr/bin/env python
"""`make bench`: every benchmark of the compendium in one run, each figure a ratio measured side by side.

Writes bench/results.json (everything) and bench/results.md (the tables the README summarises). Sections:

1. hardware: the fp32 matmul peak of this machine (GFLOP/s, the reference for "how close to the hardware");
2. kl: `dpm_kl_loss` banded vs dense, time and peak memory, K = 64 and 257, at the default size and the paper's
   training crop (bench/kl_loss.py, each variant in its own process so peak memory is its own);
3. inference: every default-profile student and teacher, batch 1, at the default size and at 352x1216: parameters,
   FLOPs (torch's flop counter), median latency; each student / teacher pair as a speed ratio;
4. training: images/s of each student and teacher step at the default size, as a fraction of the matmul peak
   (achieved FLOP/s = 3 x forward FLOPs x images/s), and the profiler's top operators of the TIE-KD student step;
5. workers: the before/after of the optimisation the default profile uses: one process on both cores vs two
   single-threaded processes (the pipeline's `workers: 2`), images/s side by side;
6. data: generator images/s at 128x416; the training loader's images/s vs the training step's appetite;
7. pipeline: wall time per stage of the last `dvc repro` (from the executed notebooks in reports/) and the time of
   a no-op `dvc repro`;
8. step: the TIE-KD student's training step against Res-KD SSIM+SI's, side by side in one process
   (bench/step_ratio.py, 1 thread as the pipeline's workers, channels_last and 2 threads beside it, the paper-size
   student at 352x704 with peak memory); with `--ref DIR` (a checkout of an earlier commit, e.g. `git worktree add
   /tmp/before <commit>`) every case also runs on that code in alternating rounds: before/after from one run.

    .venv/bin/python bench/run.py            # everything (about 10 minutes on the 2-core machine)
    .venv/bin/python bench/run.py --quick    # fewer repeats, smaller paper-size cases
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DEFAULT_HW = (32, 104)        # the default profile's size
PAPER_CROP = (352, 704)       # the paper's KITTI training crop
PAPER_EVAL = (352, 1216)      # the KB crop, the paper's inference size
SECTIONS = ("hardware", "kl", "inference", "training", "workers", "data", "pipeline", "step")
# bench/step_ratio.py cases: (file name, arguments); with --ref the ones marked True also run on the reference tree
STEP_CASES = [("32x104_tiny_b8", "--size 32 104 --student tiny --batch 8 --steps 15 --rounds 2", True),
              ("64x208_tiny_b8", "--size 64 208 --student tiny --batch 8 --steps 6", True),
              ("32x104_tiny_b8_channels_last", "--size 32 104 --student tiny --batch 8 --steps 15 --channels-last", True),
              ("32x104_tiny_b8_2threads", "--size 32 104 --student tiny --batch 8 --steps 15 --threads 2", False),
              ("352x704_paper_b4", "--size 352 704 --student paper --batch 4 --steps 2 --memory", True)]


def log(*a): print(*a, file=sys.stderr, flush=True)


def _start(code: str, threads: int) -> subprocess.Popen:
    "Start `code` (which prints one JSON line last) in a fresh single-purpose interpreter with `threads` torch threads."
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "TIEKD_ROOT": str(ROOT)}
    return subprocess.Popen([PY, "-c", f"import torch; torch.set_num_threads({threads})\n" + code], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(p: subprocess.Popen) -> dict:
    "The JSON line a `_start`ed benchmark printed last."
    out, err = p.communicate()
    if p.returncode: raise RuntimeError(f"benchmark subprocess failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _sub(code: str, threads: int) -> dict:
    return _result(_start(code, threads))


# 1. hardware ---------------------------------------------------------------------------------------------------------
def matmul_peak(threads: int = 2, n: int = 2048, repeats: int = 10) -> dict:
    code = f"""
import time, json
a, b = torch.randn({n}, {n}), torch.randn({n}, {n})
for _ in range(3): a @ b
ts = []
for _ in range({repeats}):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
print(json.dumps({{"gflops": 2 * {n}**3 / min(ts) / 1e9, "median_gflops": 2 * {n}**3 / sorted(ts)[len(ts) // 2] / 1e9}}))
"""
    return {"threads": threads, "n": n, **_sub(code, threads)}


# 2. KL ---------------------------------------------------------------------------------------------------------------
def kl(quick: bool) -> list:
    rows = []
    for (h, w), batch in ((DEFAULT_HW, 8), (PAPER_CROP, 2 if quick else 4)):
        for K in (64, 257):
            with tempfile.NamedTemporaryFile(suffix=".json") as f:
                cmd = [PY, str(ROOT / "bench" / "kl_loss.py"), "--K", str(K), "--height", str(h), "--width", str(w),
                       "--batch", str(batch), "--repeats", "2" if quick else "4", "--modes", "integral", "--json", f.name]
                subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
                res = json.loads(Path(f.name).read_text())
            rows.append({"K": K, "height": h, "width": w, "batch": batch, "raw": res})
            log(f"kl K={K} {h}x{w}: done")
    return rows


# 3. inference --------------------------------------------------------------------------------------------------------
def _profile_models() -> dict:
    import yaml
    p = yaml.safe_load((ROOT / "profiles" / "default.yaml").read_text())
    return {"student_size": p["students"]["size"], "teacher_size": p["teachers"]["size"],
            "encoders": [p["students"]["encoder"], *p["backbones"]["encoders"]], "families": p["teachers"]["families"]}


def inference(quick: bool, threads: int = 2) -> list:
    pm = _profile_models()
    rows = []
    cases = [("default", pm["student_size"], pm["teacher_size"], *DEFAULT_HW, 10),
             ("default", pm["student_size"], pm["teacher_size"], *PAPER_EVAL, 3 if quick else 5),
             ("paper", "paper", "paper", *PAPER_EVAL, 1 if quick else 2)]
    for label, ssize, tsize, h, w, runs in cases:
        models = [("student", e, ssize) for e in pm["encoders"]] + [("teacher", f, tsize) for f in pm["families"]]
        if label == "paper": models = [("student", pm["encoders"][0], ssize)] + [("teacher", f, tsize) for f in pm["families"]]
        for kind, name, size in models:
            build = (f"from tiekd.models import build_student; m = build_student({name!r}, size={size!r})" if kind == "student"
                     else f"from tiekd.models import build_teacher; m = build_teacher({name!r}, size={size!r})")
            code = f"""
import json
{build}
from tiekd.evaluate import model_cost
c = model_cost(m, {h}, {w}, runs={runs}, warmup=1)
print(json.dumps({{k: c[k] for k in ("params", "flops", "latency_ms")}}))
"""
            r = _sub(code, threads)
            rows.append({"sizes": label, "kind": kind, "model": name, "size": size, "height": h, "width": w, **r})
            log(f"inference {label} {kind} {name} {size} {h}x{w}: {r['latency_ms']:.1f} ms")
    return rows


# 4. training ---------------------------------------------------------------------------------------------------------
TRAIN_CODE = """
import json, sys, time, tempfile
sys.path.insert(0, "bench")
from train_speed import _split          # the synthetic in-memory split of bench/train_speed.py
from tiekd.train import train_model
from tiekd.evaluate import model_cost
h, w, batch, steps = {h}, {w}, {batch}, {steps}
split = _split(batch * (steps + 2), h, w)
cfg = {cfg}
stamps = []
res = train_model(cfg, tempfile.mkdtemp(prefix="tiekd_bench_"), splits={{"train": split}}, resume=False,
                  callbacks=[lambda info: stamps.append(time.perf_counter())])
dt = sorted(b - a for a, b in zip(stamps[1:], stamps[2:]))
step = dt[len(dt) // 2]
c = model_cost(res["model"], h, w, runs=1, warmup=0)
prof = None
if {profile}:
    from torch.profiler import profile
    with profile() as pr:
        train_model(cfg, tempfile.mkdtemp(prefix="tiekd_bench_"), splits={{"train": split}}, resume=False)
    ev = sorted(pr.key_averages(), key=lambda e: -e.self_cpu_time_total)
    tot = sum(e.self_cpu_time_total for e in ev)
    prof = [{{"op": e.key, "self_cpu_pct": 100 * e.self_cpu_time_total / tot, "calls": e.count}} for e in ev[:10]]
print(json.dumps({{"step_s": step, "images_per_s": batch / step, "forward_flops_per_image": c["flops"],
                  "params": c["params"], "top_ops": prof}}))
"""


def _train_cfg(kind, name, size, method, batch, steps):
    model = {"kind": kind, "size": size, **({"encoder": name} if kind == "student" else {"family": name})}
    return {"train": {"epochs": 1, "batch_size": batch, "log": False, "progress": False, "threads": 0,
                      "augment": {"crop": None}}, "model": model, "data": {"d_max": 80.0},
            "distill": {"method": method, "n_bins": 257}}


def training(peak_gflops: float, quick: bool, threads: int = 2) -> list:
    pm = _profile_models()
    h, w = DEFAULT_HW
    batch, steps = 8, 4 if quick else 8
    cases = [("student", pm["encoders"][0], pm["student_size"], m) for m in ("gt", "reskd-ssim-si", "tiekd")]
    cases += [("student", e, pm["student_size"], "gt") for e in pm["encoders"][1:]]
    cases += [("teacher", f, pm["teacher_size"], "gt") for f in pm["families"]]
    rows = []
    for kind, name, size, method in cases:
        prof = kind == "student" and method == "tiekd"
        code = TRAIN_CODE.format(h=h, w=w, batch=batch, steps=steps, profile=prof,
                                 cfg=repr(_train_cfg(kind, name, size, method, batch, steps)))
        r = _sub(code, threads)
        achieved = 3 * r["forward_flops_per_image"] * r["images_per_s"] / 1e9
        rows.append({"kind": kind, "model": name, "size": size, "method": method, "height": h, "width": w,
                     "batch": batch, **r, "achieved_gflops": achieved, "fraction_of_peak": achieved / peak_gflops})
        log(f"training {kind} {name} {method}: {r['images_per_s']:.1f} images/s, {100 * achieved / peak_gflops:.1f} % of peak")
    return rows


# 5. workers ----------------------------------------------------------------------------------------------------------
def workers(quick: bool) -> list:
    "One process with 2 threads vs two concurrent single-threaded processes: total images/s, side by side."
    pm = _profile_models()
    h, w = DEFAULT_HW
    batch, steps = 8, 6 if quick else 12
    rows = []
    for method in ("reskd-ssim-si", "tiekd"):
        code = TRAIN_CODE.format(h=h, w=w, batch=batch, steps=steps, profile=False,
                                 cfg=repr(_train_cfg("student", pm["encoders"][0], pm["student_size"], method, batch, steps)))
        one = _sub(code, 2)["images_per_s"]
        procs = [_start(code, 1) for _ in range(2)]                  # concurrently, as the pipeline's pool runs them
        two = sum(_result(p)["images_per_s"] for p in procs)
        rows.append({"method": method, "one_process_2_threads_images_per_s": one,
                     "two_processes_1_thread_images_per_s": two, "speedup": two / one})
        log(f"workers {method}: {one:.1f} -> {two:.1f} images/s (x{two / one:.2f})")
    return rows


# 6. data -------------------------------------------------------------------------------------------------------------
def data(train_rows: list, quick: bool) -> dict:
    n = 96 if quick else 192
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([str(Path(PY).parent / "tiekd_synth"), "--out", d, "--n-train", str(n), "--n-test", "0",
                            "--n-unlabeled", "0", "--workers", "2", "--no-progress"], check=True, capture_output=True,
                           text=True, cwd=ROOT)
    # the generator's own rate (rendering and writing, without the interpreter's start-up): "..., 21.8 images/s; ..."
    m = re.search(r"([0-9.]+) images/s", r.stdout + r.stderr)
    if not m: raise RuntimeError(f"tiekd_synth printed no rate: {(r.stdout + r.stderr)[-300:]}")
    gen = float(m.group(1))
    h, w = DEFAULT_HW
    code = f"""
import json, sys, time
sys.path.insert(0, "bench")
from train_speed import _split
from tiekd.train import build_train_pool, _augment, step_generator, validate_config, DISTILLERS
n = 480
sp = _split(n, {h}, {w})
cfg = validate_config({{"distill": {{"method": "reskd-si"}}}})
pool = build_train_pool(sp, DISTILLERS.get("reskd-si"))
aug = cfg["train"]["augment"]
t = time.perf_counter(); k = 0
for s in range(60):
    idx = torch.randperm(n)[:8]
    _augment(pool.batch(idx), step_generator(0, 0, s), aug); k += 8
print(json.dumps({{"images_per_s": k / (time.perf_counter() - t)}}))
"""
    loader = _sub(code, 1)["images_per_s"]
    fastest = max(r["images_per_s"] for r in train_rows if r["kind"] == "student")
    return {"generator_images_per_s": gen, "generator_images": n, "generator_size": [128, 416],
            "loader_images_per_s": loader, "fastest_student_images_per_s": fastest, "loader_headroom": loader / fastest}


# 7. pipeline ---------------------------------------------------------------------------------------------------------
def pipeline() -> dict:
    stages = []
    for nb in sorted((ROOT / "reports" / "default").rglob("*.ipynb")):   # the default profile's last run
        meta = json.loads(nb.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None:
            stages.append({"notebook": str(nb.relative_to(ROOT)), "seconds": meta["duration"], "start": meta.get("start_time"),
                           "end": meta.get("end_time")})
    out = {"stages": stages, "stage_seconds_total": sum(s["seconds"] for s in stages)}
    if stages and all(s["start"] and s["end"] for s in stages):
        from datetime import datetime
        t = lambda x: datetime.fromisoformat(x).timestamp()
        out["wall_s"] = max(t(s["end"]) for s in stages) - min(t(s["start"]) for s in stages)
    env = {**os.environ, "PATH": f"{Path(PY).parent}:{os.environ['PATH']}"}
    st = subprocess.run([str(Path(PY).parent / "dvc"), "status", "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
    if st.returncode != 0 or st.stdout.strip() not in ("{}", ""):
        # a fresh clone (or a changed profile): `dvc repro` would rebuild the pipeline, which is not a benchmark
        log("pipeline: dvc status is not clean, no-op repro not measured (run `make repro` first)")
        return {**out, "noop_repro_s": None, "noop_repro_ok": False, "noop_repro_stdout_tail": "not measured: dvc status not clean"}
    t = time.perf_counter()
    r = subprocess.run([str(Path(PY).parent / "dvc"), "repro"], cwd=ROOT, env=env, capture_output=True, text=True)
    return {**out, "noop_repro_s": time.perf_counter() - t,
            "noop_repro_ok": r.returncode == 0 and "Running stage" not in r.stdout, "noop_repro_stdout_tail": r.stdout[-400:]}


# report --------------------------------------------------------------------------------------------------------------
def step(ref: str | None, quick: bool) -> list:
    "Every STEP_CASES case through bench/step_ratio.py (its JSON in bench/step_ratio/), optionally against --ref."
    out = []
    for name, args, with_ref in STEP_CASES:
        if quick and "paper" in name: continue
        f = ROOT / "bench" / "step_ratio" / f"{name}.json"
        f.parent.mkdir(exist_ok=True)
        cmd = [PY, str(ROOT / "bench" / "step_ratio.py"), *args.split(), "--out", str(f)]
        if ref and with_ref: cmd += ["--ref", ref]
        log(" ".join(cmd[1:]))
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        out.append({"name": name, **json.loads(f.read_text())})
    return out


def _step_md(rows: list) -> list:
    L = ["| case | threads | code | Res-KD SSIM+SI ms/step | TIE-KD ms/step | ratio (CPU time) | ratio (wall) | peak MB Res-KD / TIE-KD |",
         "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mem = r.get("memory")
        m = (f"{mem['reskd-ssim-si']['step_peak_mb']:.0f} / {mem['tiekd']['step_peak_mb']:.0f} (**{mem['ratio_step_peak']:.2f}x**)"
             if mem else "")
        case = f"{r['size'][0]}x{r['size'][1]}, {r['student']} student, batch {r['batch']}" + (", channels_last" if r["channels_last"] else "")
        for code in ("ref", "this"):
            if code not in r: continue
            v = r[code]
            L.append(f"| {case} | {r['threads']} | {r.get('ref_commit') or 'before (--ref)' if code == 'ref' else r.get('commit') or 'this commit'} | "
                     f"{v['reskd-ssim-si']['cpu_ms']:.0f} | {v['tiekd']['cpu_ms']:.0f} | **{v['ratio_cpu']:.2f}** | "
                     f"{v['ratio_wall']:.2f} | {m if code == 'this' else ''} |")
    L += ["", "Commands: " + "; ".join(f"`{r['command']}`" for r in rows) + "."]
    return L


def markdown(res: dict) -> str:
    L = [f"# Benchmarks\n", f"`{res['command']}` on {res['cpus']} cores ({res['machine']}), torch {res['torch']}, "
         f"{res['date']}; load average at start {res['load_avg_start'][0]:.2f}. Every ratio below is measured side by "
         "side in one run (a section from an earlier run says so).\n",
         f"## Hardware\n\nfp32 matmul peak ({res['hardware']['n']}² sgemm, {res['hardware']['threads']} threads): "
         f"**{res['hardware']['gflops']:.1f} GFLOP/s**.\n"]
    L += [f"## `dpm_kl_loss`: banded vs dense (forward + backward, integral mode){_from(res, 'kl')}\n",
          "| K | size | batch | banded s | dense s | time ratio | banded MB | dense MB | memory ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in res["kl"]:
        v = {x["variant"]: x for x in r["raw"]["results"] if x["mode"] == "integral"}
        b, d = v["banded"], v["dense"]
        L.append(f"| {r['K']} | {r['height']}x{r['width']} | {r['batch']} | {b['median_s']:.3f} | {d['median_s']:.3f} | "
                 f"**{d['median_s'] / b['median_s']:.1f}x** | {b['peak_mb']:.0f} | {d['peak_mb']:.0f} | "
                 f"**{d['peak_mb'] / b['peak_mb']:.1f}x** |")
    L += [f"\n## Inference (batch 1, median of timed runs){_from(res, 'inference')}\n",
          "| sizes | kind | model | params (M) | GFLOPs | HxW | ms |", "|---|---|---|---|---|---|---|"]
    for r in res["inference"]:
        L.append(f"| {r['sizes']} | {r['kind']} | {r['model']} ({r['size']}) | {r['params'] / 1e6:.2f} | {r['flops'] / 1e9:.2f} | "
                 f"{r['height']}x{r['width']} | {r['latency_ms']:.1f} |")
    L += ["\nStudent / teacher pairs (teacher ms / student ms: how much faster the student is):\n",
          "| sizes | HxW | student | teacher | speed-up |", "|---|---|---|---|---|"]
    for (sz, h, w), grp in _groups(res["inference"]):
        studs = [r for r in grp if r["kind"] == "student"]; teas = [r for r in grp if r["kind"] == "teacher"]
        for s in studs[:1]:
            for t in teas:
                L.append(f"| {sz} | {h}x{w} | {s['model']} | {t['model']} | **{t['latency_ms'] / s['latency_ms']:.1f}x** |")
    L += [f"\n## Training throughput at the default size (batch 8, 2 threads){_from(res, 'training')}\n",
          "| kind | model | method | images/s | s/step | achieved GFLOP/s | of matmul peak |", "|---|---|---|---|---|---|---|"]
    for r in res["training"]:
        L.append(f"| {r['kind']} | {r['model']} ({r['size']}) | {r['method']} | {r['images_per_s']:.1f} | {r['step_s']:.3f} | "
                 f"{r['achieved_gflops']:.2f} | {100 * r['fraction_of_peak']:.1f} % |")
    st = {r["method"]: r for r in res["training"] if r["kind"] == "student" and r["model"] == res["training"][0]["model"]}
    if "tiekd" in st and "reskd-ssim-si" in st:
        L.append(f"\nTIE-KD / Res-KD (SSIM+SI) step time: **{st['tiekd']['step_s'] / st['reskd-ssim-si']['step_s']:.2f}**.\n")
    top = next((r["top_ops"] for r in res["training"] if r.get("top_ops")), None)
    if top:
        L += ["Top operators of the TIE-KD student step (profiler, self CPU time):\n", "| operator | self CPU % | calls |", "|---|---|---|"]
        L += [f"| `{o['op']}` | {o['self_cpu_pct']:.1f} | {o['calls']} |" for o in top]
    L += [f"\n## Optimisation: two single-threaded workers instead of one process on both cores{_from(res, 'workers')}\n",
          "| method | 1 process x 2 threads (images/s) | 2 processes x 1 thread (images/s) | speed-up |", "|---|---|---|---|"]
    L += [f"| {r['method']} | {r['one_process_2_threads_images_per_s']:.1f} | {r['two_processes_1_thread_images_per_s']:.1f} | "
          f"**{r['speedup']:.2f}x** |" for r in res["workers"]]
    d = res["data"]
    L += [f"\n## Data{_from(res, 'data')}\n", f"- generator: **{d['generator_images_per_s']:.1f} images/s** at 128x416 ({d['generator_images']} images, 2 workers)",
          f"- training loader (in-memory batches + augmentation, 1 thread): **{d['loader_images_per_s']:.0f} images/s**, "
          f"{d['loader_headroom']:.0f}x the fastest student step ({d['fastest_student_images_per_s']:.1f} images/s): "
          + ("not the limit" if d["loader_headroom"] > 1 else "**the loader is the limit**")]
    p = res["pipeline"]
    noop = (f"**{p['noop_repro_s']:.1f} s** (nothing re-run: {p['noop_repro_ok']})" if p["noop_repro_s"] is not None
            else "not measured (dvc status was not clean: run `make repro` first)")
    L += [f"\n## Pipeline (the last `dvc repro` of the active profile){_from(res, 'pipeline')}\n",
          f"Sum of stage notebook times: **{p['stage_seconds_total'] / 60:.1f} min** over {len(p['stages'])} stages; "
          f"no-op `dvc repro`: {noop}.\n",
          ]
    if p.get("wall_s"):
        L += [f"Wall time from the first stage's start to the last stage's end (DVC's own work between stages included): "
              f"**{p['wall_s'] / 60:.1f} min**.\n"]
    groups = {}
    for st in p["stages"]:
        parts = Path(st["notebook"]).parts
        g = parts[1] if len(parts) > 2 else Path(parts[-1]).stem
        groups.setdefault(g, []).append(st["seconds"])
    L += ["| stage group | stages | minutes | per stage (s) |", "|---|---:|---:|---:|"]
    L += [f"| {g} | {len(v)} | {sum(v) / 60:.1f} | {min(v):.0f}-{max(v):.0f} |" for g, v in groups.items()]
    L += [f"| **all** | {len(p['stages'])} | **{p['stage_seconds_total'] / 60:.1f}** | |", "",
          "| stage notebook | s |", "|---|---|"]
    L += [f"| {s['notebook']} | {s['seconds']:.0f} |" for s in p["stages"]]
    if res.get("step"):
        L += [f"\n## A TIE-KD step at the cost of a Res-KD step? (forward, loss, backward, clipping, AdamW){_from(res, 'step')}\n",
              "Medians per step, both methods interleaved in one process on random data; `before` is the reference checkout "
              "run in alternating rounds by the same command; the memory column is the peak resident memory of the steps "
              "above the memory before them, each method in its own process.\n"] + _step_md(res["step"])
    return "\n".join(L) + "\n"


def _from(res: dict, section: str) -> str:
    "Where a section comes from an earlier run than the header's (`--only` keeps the other sections), say which."
    m = res.get("measured", {}).get(section)
    return "" if not m or (m["command"], m["date"]) == (res["command"], res["date"]) else f" (from `{m['command']}`, {m['date']})"


def _groups(rows):
    keys = []
    for r in rows:
        k = (r["sizes"], r["height"], r["width"])
        if k not in keys: keys.append(k)
    return [(k, [r for r in rows if (r["sizes"], r["height"], r["width"]) == k]) for k in keys]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller paper-size cases")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run these sections, keep the others from the last results")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--ref", help="step section: an earlier checkout to measure beside this one (before/after)")
    a = ap.parse_args(argv)
    want = lambda s: not a.only or s in a.only
    prev = json.loads(a.out.with_suffix(".json").read_text()) if a.only and a.out.with_suffix(".json").exists() else {}
    res = {**prev, "command": "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]), "cpus": os.cpu_count(),
           "machine": platform.machine(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_avg_start": os.getloadavg()}
    stamp = {"command": res["command"], "date": res["date"]}
    res["measured"] = {**{s: prev.get("measured", {}).get(s, {"command": prev.get("command"), "date": prev.get("date")})
                          for s in SECTIONS if s in prev}, **{s: stamp for s in SECTIONS if want(s)}}
    t0 = time.time()
    if want("hardware"): res["hardware"] = matmul_peak()
    if want("kl"): res["kl"] = kl(a.quick)
    if want("inference"): res["inference"] = inference(a.quick)
    if want("training"): res["training"] = training(res["hardware"]["gflops"], a.quick)
    if want("workers"): res["workers"] = workers(a.quick)
    if want("data"): res["data"] = data(res["training"], a.quick)
    if want("pipeline"): res["pipeline"] = pipeline()
    if want("step"): res["step"] = step(a.ref, a.quick)
    res["bench_seconds"] = time.time() - t0
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    a.out.with_suffix(".md").write_text(markdown(res))
    log(f"wrote {a.out.with_suffix('.json')} and {a.out.with_suffix('.md')} in {res['bench_seconds']:.0f} s")


if __name__ == "__main__":
    main()
