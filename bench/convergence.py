#!/usr/bin/env python
"""Converged or not: each distiller trained for twice the profile's steps, against the pipeline's own run.

For one seed and one teacher, every distiller of the active profile (the GT baseline, `main.methods` and
`ablation.methods`) is trained again with `students.train.epochs` multiplied by `--factor` (the whole one-cycle
schedule stretched, as a longer recipe would be; same data, teacher maps, config and seed as the pipeline), and its
test AbsRel is compared with the pipeline's committed record of the same run (metrics/<profile>/). A student counts as
converged when the longer schedule changes test AbsRel by less than `--tol` (relative). The test split is evaluated
every `--every` epochs of the long run for the curve (no flip); the final model as the pipeline evaluates it. Writes bench/convergence.json and bench/convergence.png.
Needs the pipeline's outputs (`make repro`): prepared data, teacher maps and the main/ablation records.

    .venv/bin/python bench/convergence.py            # 2 workers, one thread each
"""
import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pipeline_record(method, teacher, seed, encoder, profile="default"):
    "The pipeline's record of (method, teacher, seed, encoder) from metrics/<profile>/main and .../ablation."
    for f in sorted((ROOT / "metrics" / profile).glob("*/*.json")):
        if f.parent.name not in ("main", "ablation"): continue
        for r in json.loads(f.read_text())["runs"]:
            if (r["method"], r["seed"], r["encoder"]) == (method, seed, encoder) and \
                    (method == "gt" or r["teacher"] == teacher):
                return r
    raise SystemExit(f"no pipeline record for method={method!r} teacher={teacher!r} seed={seed} encoder={encoder!r} "
                     "under metrics/main or metrics/ablation: run `make repro` first")


def run(method, teacher, seed, epochs, every, out):
    os.environ["TIEKD_ROOT"] = str(ROOT)
    from tiekd.pipeline import load_params, student_config, load_prepared
    from tiekd.train import train_model
    p = load_params(ROOT / "params.yaml")
    cfg = student_config(p, method, seed, None if method == "gt" else teacher)
    cfg["train"].update(epochs=epochs, eval_every_epochs=every, threads=1, progress=False, log=False)
    sp = load_prepared()
    t0 = time.time()
    r = train_model(cfg, Path(out) / method, splits={"train": sp["train"]}, eval_split=sp["test"], resume=False)
    from tiekd.evaluate import evaluate_model     # the final model, evaluated exactly as the pipeline evaluates
    d = cfg["data"]
    final = evaluate_model(r["model"], sp["test"], d_min=d["d_min"], d_max=d["d_max"], crop=d["eval_crop"],
                           flip=p["eval"]["flip"])["mean"]
    spe = r["global_step"] // epochs
    curve = [{"epoch": e["epoch"], "step": e["epoch"] * spe, **{k: e["test"][k] for k in ("abs_rel", "rmse", "a1")}}
             for e in r["history"]["epochs"] if "test" in e]
    return {"method": method, "teacher": None if method == "gt" else teacher, "seed": seed, "epochs": epochs,
            "steps": r["global_step"], "seconds": time.time() - t0, "curve": curve,
            "final": {k: final[k] for k in ("abs_rel", "rmse", "a1")}}


def main(argv=None):
    sys.path.insert(0, str(ROOT))
    from tiekd.pipeline import load_params
    p = load_params(ROOT / "params.yaml")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=2, help="schedule length relative to the profile's (default 2)")
    ap.add_argument("--every", type=int, default=0, help="evaluate every N epochs (default: the profile's epochs)")
    ap.add_argument("--teacher", default=p["ablation"]["teachers"][0])
    ap.add_argument("--seed", type=int, default=p["seeds"][0])
    ap.add_argument("--methods", nargs="+", default=["gt", *p["main"]["methods"], *p["ablation"]["methods"]])
    ap.add_argument("--workers", type=int, default=p.get("workers", 2))
    ap.add_argument("--tol", type=float, default=0.05)
    a = ap.parse_args(argv)
    base_ep = int(p["students"]["train"]["epochs"]); ep = base_ep * a.factor; every = a.every or base_ep
    enc = p["students"]["encoder"]
    t0 = time.time()
    with tempfile.TemporaryDirectory() as out, ProcessPoolExecutor(a.workers, mp_context=get_context("spawn")) as ex:
        n = len(a.methods)
        res = list(ex.map(run, a.methods, [a.teacher] * n, [a.seed] * n, [ep] * n, [every] * n, [out] * n))
    refs = {m: pipeline_record(m, a.teacher, a.seed, enc, p["profile"]) for m in a.methods}   # read after training: the pipeline
    steps_per_epoch = res[0]["steps"] // ep                                        # may still be writing them
    for r in res:
        ref = refs[r["method"]]["metrics"]["abs_rel"]; long = r["final"]["abs_rel"]
        r.update(profile_epochs=base_ep, profile_steps=base_ep * steps_per_epoch, profile_abs_rel=ref, long_abs_rel=long,
                 rel_change=(long - ref) / ref, converged=abs(long - ref) / ref < a.tol)
    doc = {"command": "bench/convergence.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "profile": p["profile"], "teacher": a.teacher, "seed": a.seed, "factor": a.factor, "tol": a.tol,
           "threads_per_run": 1, "workers": a.workers, "wall_s": time.time() - t0, "runs": res}
    (ROOT / "bench" / "convergence.json").write_text(json.dumps(doc, indent=1) + "\n")
    plot(doc)
    print(f"profile {p['profile']}, teacher {a.teacher}, seed {a.seed}: {base_ep} vs {ep} epochs "
          f"({base_ep * steps_per_epoch} vs {ep * steps_per_epoch} steps); |change| < {a.tol:.0%} counts as converged")
    for r in res:
        print(f"  {r['method']:<16} AbsRel {r['profile_abs_rel']:.4f} -> {r['long_abs_rel']:.4f} "
              f"({r['rel_change']:+.1%}) {'converged' if r['converged'] else 'NOT converged'}  [{r['seconds']:.0f} s]")


def plot(doc):
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tiekd.results import METHOD_LABELS
    res = doc["runs"]
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.3, 1]})
    for k, r in enumerate(res):
        lab = METHOD_LABELS.get(r["method"], r["method"])
        ax[0].plot([c["step"] for c in r["curve"]], [c["abs_rel"] for c in r["curve"]], "o-", color=f"C{k}", ms=3, label=lab)
        ax[0].plot([r["profile_steps"]], [r["profile_abs_rel"]], "s", color=f"C{k}", ms=6, mfc="none")
    ax[0].set_xlabel("optimiser steps of the run (batch 8)"); ax[0].set_ylabel("test AbsRel ↓"); ax[0].grid(alpha=0.3)
    ax[0].set_title(f"{doc['factor']}x schedule, evaluated along the way (□: the pipeline's run)", fontsize=9)
    ax[0].legend(fontsize=7, ncol=2)
    y = range(len(res)); ch = [100 * r["rel_change"] for r in res]
    ax[1].barh(list(y), ch, color=["C2" if r["converged"] else "C3" for r in res])
    for lim in (-100 * doc["tol"], 100 * doc["tol"]): ax[1].axvline(lim, color="0.4", ls="--", lw=1)
    ax[1].set_yticks(list(y), [METHOD_LABELS.get(r["method"], r["method"]) for r in res], fontsize=8)
    ax[1].invert_yaxis(); ax[1].set_xlabel(f"change of test AbsRel, {doc['factor']}x steps (%)"); ax[1].grid(alpha=0.3, axis="x")
    fig.suptitle(f"Convergence, profile {doc['profile']}, teacher {doc['teacher']}, seed {doc['seed']} "
                 f"(green: |change| < {doc['tol']:.0%})", fontsize=10)
    fig.tight_layout(); fig.savefig(ROOT / "bench" / "convergence.png", dpi=130)


if __name__ == "__main__":
    main()
