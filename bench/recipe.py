#!/usr/bin/env python
"""Choose the training recipe of a profile on a validation split: the GT baseline student and the teachers only.

The protocol (it never looks at the test split, nor at any distilled student, so it cannot favour a method):
1. hold out whole drives of the training split as a validation split (`--val-drives`, drawn with a fixed seed);
2. train the GT-supervised baseline student (the profile's student) for every candidate learning rate and schedule
   length, on the remaining training drives, for several seeds; and every teacher family for its candidates, one seed;
3. score each on the validation split (AbsRel, flip-averaged, the profile's crop) and write every candidate, its
   scores and its cost to `bench/recipe/<profile>.json` and `bench/recipe/table_<profile>.md` (not under paper_figures/tables/: the aggregate stage owns that folder and DVC
   empties it before each run);
4. choose per group: the lowest mean validation AbsRel, and among candidates within one standard deviation of it
   (students) or 2 % of it (teachers, one seed), the shortest schedule, then the smaller learning rate.
The chosen recipe then goes into the profile by hand, with the table as its justification. One recipe serves every
student and distiller. Runs are resumable (artifacts/recipe/) and run in the profile's pool of single-threaded workers.

    .venv/bin/dvc repro prepare && .venv/bin/python bench/recipe.py        # `make recipe`
    .venv/bin/python bench/recipe.py --student-lrs 1e-3 3e-3 --student-epochs 2 4 --seeds 70 --skip-teachers
"""
import argparse
import concurrent.futures
import copy
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TIEKD_ROOT", str(ROOT))


def drive_of(name: str) -> str:
    "The drive a sample comes from (KITTI names hold `..._drive_XXXX_sync`; otherwise the name's first folder)."
    m = re.search(r"\d{4}_\d\d_\d\d_drive_\d{4}", name)
    return m.group(0) if m else name.split("/")[0]


def subset(split, idx):
    "The samples `idx` of a PreparedSplit, as a new PreparedSplit."
    from tiekd.data import PreparedSplit
    i = torch.as_tensor(idx, dtype=torch.long)
    opt = lambda t: None if t is None else t[i]
    return PreparedSplit(split.image[i], split.depth[i], split.focal[i], [split.names[j] for j in idx],
                         teacher_depth=opt(split.teacher_depth), dense_depth=opt(split.dense_depth), meta=split.meta)


def split_by_drive(split, n_val: int, seed: int = 0):
    "(train, validation): `n_val` whole drives drawn with `seed` go to validation."
    drives = sorted({drive_of(n) for n in split.names})
    if not 0 < n_val < len(drives):
        raise SystemExit(f"--val-drives={n_val} is not allowed: expected 1 .. {len(drives) - 1} of the {len(drives)} drives")
    g = torch.Generator().manual_seed(seed)
    val = {drives[i] for i in torch.randperm(len(drives), generator=g)[:n_val].tolist()}
    tr = [i for i, n in enumerate(split.names) if drive_of(n) not in val]
    va = [i for i, n in enumerate(split.names) if drive_of(n) in val]
    return subset(split, tr), subset(split, va), sorted(val)


def candidates(p, a) -> list[dict]:
    from tiekd.pipeline import student_config, teacher_config
    out = []
    for lr in a.student_lrs:
        for ep in a.student_epochs:
            for seed in a.seeds:
                cfg = student_config(p, "gt", seed)
                cfg["train"].update(lr=lr, epochs=ep, progress=False)
                out.append({"id": f"student/lr{lr:g}-ep{ep}/s{seed}", "group": "student", "name": p["students"]["encoder"],
                            "lr": lr, "epochs": ep, "seed": seed, "config": cfg})
    if not a.skip_teachers:
        for fam in p["teachers"]["families"]:
            for lr in a.teacher_lrs:
                for ep in a.teacher_epochs:
                    cfg = teacher_config(p, fam)
                    cfg["train"].update(lr=lr, epochs=ep, progress=False)
                    out.append({"id": f"teacher-{fam}/lr{lr:g}-ep{ep}/s{cfg['train']['seed']}", "group": f"teacher-{fam}",
                                "name": fam, "lr": lr, "epochs": ep, "seed": cfg["train"]["seed"], "config": cfg})
    return out


_SPLITS = {}


def run_one(c: dict, p: dict, n_val: int, val_seed: int) -> dict:
    "Train candidate `c` on the training drives, score it on the validation drives (resumable; cached record)."
    from tiekd.evaluate import evaluate_model
    from tiekd.pipeline import load_prepared
    from tiekd.train import train_model
    out = ROOT / "artifacts" / "recipe" / p.get("profile", "default") / c["id"]
    rec = out / "record.json"
    if rec.exists(): return json.loads(rec.read_text())
    if "train" not in _SPLITS:
        _SPLITS["train"], _SPLITS["val"], _SPLITS["drives"] = split_by_drive(load_prepared(["train"])["train"], n_val, val_seed)
    cfg = copy.deepcopy(c["config"])
    cfg["train"]["threads"] = cfg["train"].get("threads") or 1
    t0 = time.time()
    res = train_model(cfg, out, splits={"train": _SPLITS["train"]}, log=False, progress=False)
    secs = time.time() - t0
    d = cfg["data"]
    ev = evaluate_model(res["model"], _SPLITS["val"], d_min=d["d_min"], d_max=d["d_max"], crop=d["eval_crop"],
                        flip=p["eval"]["flip"])
    r = {k: c[k] for k in ("id", "group", "name", "lr", "epochs", "seed")}
    r.update(val=ev["mean"], steps=res["global_step"], train_s=secs, n_train=len(_SPLITS["train"]),
             n_val=len(_SPLITS["val"]), val_drives=_SPLITS["drives"],
             last_epoch_loss=res["history"]["epochs"][-1]["loss"] if res["history"]["epochs"] else None)
    rec.write_text(json.dumps(r, indent=1))
    return r


def choose(rows: list[dict]) -> dict:
    "Lowest mean AbsRel; among those within one std (or 2 % with one seed), the shortest schedule, then the smaller lr."
    best = min(rows, key=lambda r: r["abs_rel"])
    tol = best["abs_rel_std"] if best["n"] > 1 else 0.02 * best["abs_rel"]
    near = [r for r in rows if r["abs_rel"] <= best["abs_rel"] + tol]
    return min(near, key=lambda r: (r["epochs"], r["lr"]))


def summarise(records: list[dict]) -> dict:
    groups = {}
    for r in records: groups.setdefault(r["group"], {}).setdefault((r["lr"], r["epochs"]), []).append(r)
    out = {}
    for g, cands in groups.items():
        rows = []
        for (lr, ep), rs in sorted(cands.items()):
            a = [r["val"]["abs_rel"] for r in rs]
            rows.append({"lr": lr, "epochs": ep, "steps": rs[0]["steps"], "n": len(rs), "abs_rel": statistics.mean(a),
                         "abs_rel_std": statistics.stdev(a) if len(a) > 1 else 0.0,
                         "rmse": statistics.mean(r["val"]["rmse"] for r in rs),
                         "train_s": statistics.mean(r["train_s"] for r in rs), "seeds": [r["seed"] for r in rs],
                         "per_seed": a})
        out[g] = {"candidates": rows, "chosen": choose(rows)}
    return out


def markdown(summary: dict, meta: dict) -> str:
    L = [f"# Training recipe of the `{meta['profile']}` profile, chosen on a validation split\n",
         f"Validation: {meta['n_val']} images from {len(meta['val_drives'])} whole training drives (drawn with seed "
         f"{meta['val_seed']}); the other {meta['n_train']} training images train each candidate. The test split and "
         "every distilled student are never looked at. Students: the profile's GT-supervised baseline student "
         "(mean +- std over seeds); teachers: one seed. Rule: lowest mean validation AbsRel; among candidates within "
         "one std of it (2 % with one seed), the shortest schedule, then the smaller learning rate. Made by "
         f"`{meta['command']}` ({meta['threads']} thread per run, {meta['workers']} workers).\n"]
    if meta.get("not_run"):
        L.append(f"\n**Not run** (the session's time ran out; `bench/recipe.py` without `--finished-only` runs them): "
                 + ", ".join(f"`{i}`" for i in meta["not_run"]) + ".\n")
    for g, s in summary.items():
        L += [f"\n## {g}\n", "| lr | epochs | steps | seeds | val AbsRel | val RMSE | train s / run | |",
              "|---:|---:|---:|---:|---:|---:|---:|:---|"]
        for r in s["candidates"]:
            mark = "**chosen**" if r is s["chosen"] or (r["lr"], r["epochs"]) == (s["chosen"]["lr"], s["chosen"]["epochs"]) else ""
            sd = f" +- {r['abs_rel_std']:.4f}" if r["n"] > 1 else ""
            L.append(f"| {r['lr']:g} | {r['epochs']} | {r['steps']} | {r['n']} | {r['abs_rel']:.4f}{sd} | {r['rmse']:.3f} | "
                     f"{r['train_s']:.0f} | {mark} |")
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--val-drives", type=int, default=12, help="training drives held out for validation")
    ap.add_argument("--val-seed", type=int, default=0)
    ap.add_argument("--student-lrs", type=float, nargs="+", default=[1e-3, 3e-3, 1e-2, 3e-2])
    ap.add_argument("--student-epochs", type=int, nargs="+", default=[2, 4, 6])
    ap.add_argument("--seeds", type=int, nargs="+", default=[70, 71])
    ap.add_argument("--teacher-lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    ap.add_argument("--teacher-epochs", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--skip-teachers", action="store_true")
    ap.add_argument("--workers", type=int, help="default: the profile's `workers`")
    ap.add_argument("--name", help="output name: bench/recipe/<name>.json and table_<name>.md (default: the profile's name)")
    ap.add_argument("--finished-only", action="store_true",
                    help="train nothing: tabulate the candidates whose runs are finished, list the others as not run")
    a = ap.parse_args(argv)
    from tiekd.pipeline import load_params
    p = load_params(a.params)
    workers = a.workers or int(p.get("workers", 1))
    cands = candidates(p, a)
    missing = []
    if a.finished_only:
        done = lambda c: (ROOT / "artifacts" / "recipe" / p.get("profile", "default") / c["id"] / "record.json").exists()
        missing = [c["id"] for c in cands if not done(c)]
        cands = [c for c in cands if done(c)]
    print(f"{len(cands)} candidate runs, {workers} workers", file=sys.stderr)
    ctx = multiprocessing.get_context("fork")
    records = []
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
        futs = {ex.submit(run_one, c, p, a.val_drives, a.val_seed): c for c in cands}
        for f in concurrent.futures.as_completed(futs):
            r = f.result(); records.append(r)
            print(f"[{len(records)}/{len(cands)}] {r['id']}: val AbsRel {r['val']['abs_rel']:.4f} ({r['train_s']:.0f} s)",
                  file=sys.stderr, flush=True)
    records.sort(key=lambda r: r["id"])
    summary = summarise(records)
    meta = {"profile": p.get("profile", "default"), "command": "bench/recipe.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "val_seed": a.val_seed, "val_drives": records[0]["val_drives"], "n_val": records[0]["n_val"],
            "n_train": records[0]["n_train"], "threads": 1, "workers": workers, "not_run": missing}
    (ROOT / "bench" / "recipe").mkdir(parents=True, exist_ok=True)       # not metrics/: those are the pipeline's run records
    name = a.name or meta["profile"]
    (ROOT / "bench" / "recipe" / f"{name}.json").write_text(json.dumps({"meta": meta, "summary": summary, "runs": records}, indent=1) + "\n")
    md = markdown(summary, meta)
    (ROOT / "bench" / "recipe" / f"table_{name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
