#!/usr/bin/env python
"""Mutations that must fail the suite (`make mutate`): each named change to a notebook's source is applied in a clean
copy of the project, the package is re-exported from the notebooks, and the tests that guard that code are run; the
mutation is *killed* when they fail and *survives* when they pass. Every mutation must be killed.

The mutations are real mistakes the method invites (a halved DPM band, a flipped loss weight, a wrong crop, a rank
that trains on the whole batch, a resume that drops the optimiser state, a one-sided bootstrap interval, ...), one
place each, written out below with the exact text they change; a text that no longer occurs exactly once is an error,
not a silent pass. Writes bench/mutations.json and bench/mutations.md (the kill rate, every mutation and its result).

    .venv/bin/python tests/mutate.py                 # all (about 10 minutes on 2 cores)
    .venv/bin/python tests/mutate.py --only dpm-band-halved si-lambda-flipped
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# (name, notebook, exact source text, replacement, what must catch it: notebooks under nbs/ and/or tests/ files)
MUTATIONS = [
    ("dpm-band-halved", "01_dpm.ipynb", "else: radius = 9.0 * sigma", "else: radius = 4.5 * sigma", ["01_dpm.ipynb"]),
    ("dpm-centres-at-left-edges", "01_dpm.ipynb", "return 0.5 * (edges[:-1] + edges[1:])", "return edges[:-1] + 0.0",
     ["01_dpm.ipynb"]),
    ("dpm-softmax-cutoff", "01_dpm.ipynb", "SOFTMAX_CUTOFF = 1e-16", "SOFTMAX_CUTOFF = 1e-8", ["01_dpm.ipynb"]),
    ("dpm-head-logsumexp", "01_dpm.ipynb", "lse = z.amax(-1) - q.amax(-1).log()", "lse = z.amax(-1)", ["01_dpm.ipynb"]),
    ("kernel-lse-drops-log-sum", "01_dpm.ipynb", "const float lse = m + logf(s);", "const float lse = m;", ["01_dpm.ipynb"]),
    ("kernel-depth-gradient-sign", "01_dpm.ipynb", "u = (g * sw - a * d[r]) / s", "u = (g * sw + a * d[r]) / s", ["01_dpm.ipynb"]),
    ("si-lambda-flipped", "02_losses.ipynb", "return torch.sqrt((var + (1 - lam) * g.mean() ** 2).clamp_min(1e-12))",
     "return torch.sqrt((var + lam * g.mean() ** 2).clamp_min(1e-12))", ["02_losses.ipynb"]),
    ("ssim-abs-removed", "02_losses.ipynb", 'if impl == "released": s11, s22, s12 = s11.abs(), s22.abs(), s12.abs()',
     'if impl == "released": pass', ["02_losses.ipynb"]),
    ("tiekd-alpha-swapped", "02_losses.ipynb", "total = (1 - alpha) * l_depth if alpha < 1 else _zero(pred)",
     "total = alpha * l_depth if alpha < 1 else _zero(pred)", ["02_losses.ipynb"]),
    ("absrel-over-prediction", "03_metrics.ipynb", "np.mean(np.abs(diff) / g), np.mean(diff ** 2 / g)",
     "np.mean(np.abs(diff) / p), np.mean(diff ** 2 / g)", ["03_metrics.ipynb"]),
    ("delta-threshold-1.2", "03_metrics.ipynb", "return [(thresh < 1.25).mean()", "return [(thresh < 1.2).mean()",
     ["03_metrics.ipynb"]),
    ("garg-crop-rows", "03_metrics.ipynb", '_KITTI_FRACTIONS = {"garg": (0.40810811,', '_KITTI_FRACTIONS = {"garg": (0.5,',
     ["03_metrics.ipynb"]),
    ("flip-not-mirrored-back", "08_evaluate.ipynb", 'if flip: d = 0.5 * (d + model(x.flip(-1))["depth"].flip(-1))',
     'if flip: d = 0.5 * (d + model(x.flip(-1))["depth"])', ["08_evaluate.ipynb"]),
    ("epoch-order-ignores-epoch", "07e_pool.ipynb", "generator=torch.Generator().manual_seed(_mix_seed(seed, epoch, 0)))",
     "generator=torch.Generator().manual_seed(_mix_seed(seed, 0, 0)))", ["07e_pool.ipynb"]),
    ("ddp-ranks-see-whole-batch", "07_train.ipynb",
     "if world > 1: batch = {key: v[rank * lb:(rank + 1) * lb] for key, v in batch.items()}", "if world > 1: pass",
     ["tests/test_train_ddp.py"]),
    ("resume-drops-optimiser", "07_train.ipynb", 'tr.opt.load_state_dict(ck["optimizer"]); ', "",
     ["tests/test_train_resume.py", "tests/test_faults.py"]),
    ("bootstrap-one-sided", "09c_claims.ipynb", "q = (1 - ci) / 2", "q = 1 - ci", ["09c_claims.ipynb"]),
    ("best-reskd-is-worst", "09c_claims.ipynb", "return (max if metric in HIGHER_IS_BETTER else min)(means, key=means.get)",
     "return (min if metric in HIGHER_IS_BETTER else max)(means, key=means.get)", ["09c_claims.ipynb"]),
    ("aurg-sign", "11_uncertainty.ipynb", '"ause": area(curve - oracle), "aurg": area(random - curve)}',
     '"ause": area(curve - oracle), "aurg": area(curve - random)}', ["11_uncertainty.ipynb"]),
    ("pit-bin-offset", "11_uncertainty.ipynb", "return below + probs.gather(1, j) * (g - e[j]) / (e[j + 1] - e[j])",
     "return below + probs.gather(1, j) * 0.5", ["11_uncertainty.ipynb"]),
]


def _copy_project(dst: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if f.startswith(("metrics/", "plots/", "paper_figures/", "reports/", "bench/")) or not (ROOT / f).exists(): continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dst / f)


def apply(nb_path: Path, old: str, new: str) -> None:
    "Replace `old` (exactly one occurrence in the notebook's code cells) by `new`."
    nb = json.loads(nb_path.read_text())
    hits = [c for c in nb["cells"] if c["cell_type"] == "code" and old in "".join(c["source"])]
    n = sum("".join(c["source"]).count(old) for c in hits)
    if n != 1: raise SystemExit(f"{nb_path.name}: the mutation's text occurs {n} times (expected once): {old!r}")
    src = "".join(hits[0]["source"]).replace(old, new)
    lines = src.split("\n")
    hits[0]["source"] = [l + "\n" for l in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def run_one(m) -> dict:
    name, nb, old, new, guards = m
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix=f"mut-{name}-") as d:
        proj = Path(d)
        _copy_project(proj)
        if old: apply(proj / "nbs" / nb, old, new)
        env = {**os.environ, "TIEKD_ROOT": str(proj), "PYTHONPATH": str(proj), "OMP_NUM_THREADS": "1",
               "PATH": f"{BIN}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
        ex = subprocess.run([str(BIN / "nbdev_export")], cwd=proj, env=env, capture_output=True, text=True)
        if ex.returncode != 0: return {"name": name, "result": "error", "detail": ex.stderr[-500:]}
        failed = []
        for g in guards:
            cmd = ([str(BIN / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", g] if g.startswith("tests/")
                   else [str(BIN / "nbdev_test"), "--path", f"nbs/{g}", "--do_print"])
            r = subprocess.run(cmd, cwd=proj, env=env, capture_output=True, text=True, timeout=900)
            if r.returncode != 0: failed.append(g); why = (r.stdout + r.stderr).strip().splitlines()
    return {"name": name, "notebook": nb, "guards": guards, "result": "killed" if failed else "SURVIVED",
            "failed": failed, "why": [l for l in why if "Error" in l][-1:] if failed else [],
            "seconds": round(time.time() - t0, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", help="mutation names")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--control", action="store_true", help="also run every guard on the unmutated copy (must pass)")
    a = ap.parse_args(argv)
    todo = [m for m in MUTATIONS if not a.only or m[0] in a.only]
    if a.only and len(todo) != len(a.only): raise SystemExit(f"unknown mutation among {a.only}")
    if a.control:   # the harness itself: with nothing changed, every guard passes in the copy
        guards = sorted({g for m in todo for g in m[4]})
        c = run_one(("control (no change)", todo[0][1], "", "", guards))
        print(f"control: {'every guard passes' if c['result'] == 'SURVIVED' else 'FAILED: ' + ', '.join(c['failed'])}")
        if c["result"] != "SURVIVED": return 2
    with ThreadPoolExecutor(a.workers) as ex:
        res = []
        for r in ex.map(run_one, todo):
            print(f"{r['name']:<28} {r['result']:<9} {r.get('seconds', '')} s  {', '.join(r.get('failed', []))}  "
                  f"{' '.join(r.get('why', []))[:120]}", flush=True)
            res.append(r)
    for r in res: r["date"] = time.strftime("%Y-%m-%d %H:%M")
    killed = sum(r["result"] == "killed" for r in res)
    out = ROOT / "bench" / "mutations.json"
    table = res
    if a.only and out.exists():     # a rerun of some: they replace their own entries of the last full run
        new = {r["name"]: r for r in res}
        table = [new.pop(r["name"], r) for r in json.loads(out.read_text())["runs"]] + list(new.values())   # new ones last
    if not a.only or out.exists():
        kall = sum(r["result"] == "killed" for r in table)
        out.write_text(json.dumps({"command": "tests/mutate.py", "runs": table}, indent=1) + "\n")
        rows = "\n".join(f"| {r['name']} | {r['notebook']} | {', '.join(r['guards'])} | {r['result']} | {r.get('date', '')} |"
                         for r in table)
        (ROOT / "bench" / "mutations.md").write_text(
            f"# Mutations (`make mutate`)\n\nKill rate: **{kall}/{len(table)}**. Each mutation is one change to a notebook's "
            f"source (tests/mutate.py lists the exact text), applied in a clean copy of the project, re-exported, with the "
            f"tests that guard it run; killed = they fail. A control run first checks that every guard passes unmutated.\n\n"
            f"| mutation | notebook | guarding tests | result | run |\n|---|---|---|---|---|\n{rows}\n")
    print(f"mutations killed: {killed}/{len(res)}")
    return 0 if killed == len(res) else 1


if __name__ == "__main__":
    sys.exit(main())
