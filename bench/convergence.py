#!/usr/bin/env python
"""How many optimiser steps each student needs: test AbsRel during one longer run per method, side by side.

The default profile gives every student 2 epochs (120 steps of batch 8), the paper about 70,000. This trains the
default profile's student (same data, teacher predictions, config and seed as the pipeline's main comparison,
only `students.train.epochs` raised) for the baseline, the best Res-KD of the paper and TIE-KD, one process each
(single-threaded, concurrently), evaluates the test split every `--every` epochs, and writes
bench/convergence.json and bench/convergence.png. Needs the pipeline's `prepare` and `teacher_predict` outputs
(`make repro`).

    .venv/bin/python bench/convergence.py --epochs 16 --every 2
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


def run(method, teacher, seed, epochs, every, out):
    import torch
    os.environ["TIEKD_ROOT"] = str(ROOT)
    from tiekd.pipeline import load_params, student_config, load_prepared
    from tiekd.train import train_model
    p = load_params(ROOT / "params.yaml")
    cfg = student_config(p, method, seed, None if method == "gt" else teacher)
    cfg["train"].update(epochs=epochs, eval_every_epochs=every, threads=1, progress=False, log=False)
    sp = load_prepared()
    t0 = time.time()
    r = train_model(cfg, Path(out) / method, splits={"train": sp["train"]}, eval_split=sp["test"], resume=False)
    spe = r["global_step"] // epochs
    curve = [{"epoch": e["epoch"], "step": e["epoch"] * spe, **{k: e["test"][k] for k in ("abs_rel", "rmse", "a1")},
              **({"dpm": e["dpm"]} if "dpm" in e else {})} for e in r["history"]["epochs"] if "test" in e]
    return {"method": method, "teacher": teacher, "seed": seed, "epochs": epochs, "steps": r["global_step"],
            "seconds": time.time() - t0, "curve": curve}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--teacher", default="adabins")
    ap.add_argument("--seed", type=int, default=70)
    ap.add_argument("--methods", nargs="+", default=["gt", "reskd-ssim-si", "tiekd"])
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as out, ProcessPoolExecutor(len(a.methods), mp_context=get_context("spawn")) as ex:
        res = list(ex.map(run, a.methods, [a.teacher] * len(a.methods), [a.seed] * len(a.methods),
                          [a.epochs] * len(a.methods), [a.every] * len(a.methods), [out] * len(a.methods)))
    doc = {"command": "bench/convergence.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "profile": "params.yaml", "runs": res}
    (ROOT / "bench" / "convergence.json").write_text(json.dumps(doc, indent=1) + "\n")
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = {"gt": "Baseline (GT, SI)", "reskd-ssim-si": "Res-KD SSIM+SI", "tiekd": "TIE-KD"}
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in res:
        st = [c["step"] for c in r["curve"]]
        ax[0].plot(st, [c["abs_rel"] for c in r["curve"]], "o-", label=labels.get(r["method"], r["method"]))
        ax[1].plot(st, [c["rmse"] for c in r["curve"]], "o-", label=labels.get(r["method"], r["method"]))
    for x, m in zip(ax, ("AbsRel ↓", "RMSE (m) ↓")):
        x.axvline(120, color="grey", ls=":", lw=1); x.text(122, x.get_ylim()[1], " default profile", va="top", fontsize=8)
        x.set_xlabel("optimiser steps (batch 8)"); x.set_ylabel(m); x.set_yscale("log"); x.grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    fig.suptitle(f"Test error during training, teacher {a.teacher}, seed {a.seed} (one-cycle schedule over {a.epochs} epochs)",
                 fontsize=10)
    fig.tight_layout(); fig.savefig(ROOT / "bench" / "convergence.png", dpi=130)
    for r in res:
        print(r["method"], [(c["step"], round(c["abs_rel"], 4)) for c in r["curve"]], f"{r['seconds']:.0f} s")


if __name__ == "__main__":
    main()
