#!/usr/bin/env python
"""The converged-results targets, read from the committed run of the active profile (metrics/<profile>/, plots/<profile>/) and the
pipeline's artifacts (the teachers' maps, for the uniform student's L_DPM): trained students (seed spread), DPMs that
left their uniform start, teachers worth distilling, convergence (bench/convergence.json, when it is there) and the
wall time of the last `dvc repro` (reports/<profile>/). Writes bench/targets_<profile>.md and .json.

    .venv/bin/python bench/targets.py
"""
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def uniform_dpm_loss(teacher: str, p: dict) -> float:
    "L_DPM of a student that predicts the uniform distribution: mean over the teacher's valid training pixels of log K - H(p_T)."
    import torch
    from tiekd.dpm import bin_edges, depth_to_dpm, dpm_entropy
    d, k = p["data"], p["distill"]
    maps = torch.load(ROOT / "artifacts" / "teacher_depth" / teacher / "train.pt", weights_only=True)["depth"].float()
    e = bin_edges(d["d_min"], d["d_max"], k["n_bins"])
    vals = []
    for b in range(0, len(maps), 32):
        x = maps[b:b + 32]
        h = dpm_entropy(depth_to_dpm(x, e, k["sigma"], k["mode"]))
        vals.append((np.log(k["n_bins"]) - h)[x > 0].double())
    return float(torch.cat(vals).mean())


def wall_minutes(profile: str) -> tuple[float, int]:
    st = [json.loads(nb.read_text()).get("metadata", {}).get("papermill", {}) for nb in (ROOT / "reports" / profile).rglob("*.ipynb")]
    st = [s for s in st if s.get("start_time") and s.get("end_time")]
    t = lambda x: datetime.fromisoformat(x).timestamp()
    return (max(t(s["end_time"]) for s in st) - min(t(s["start_time"]) for s in st)) / 60, len(st)


def main():
    from tiekd.pipeline import load_params
    from tiekd.results import load_runs, teacher_label, method_label
    p = load_params(ROOT / "params.yaml")
    df = load_runs(ROOT / "metrics" / p["profile"])
    enc = p["students"]["encoder"]
    main_ = df[(df.group == "main") & (df.encoder == enc)]
    rows = []
    def add(target, criterion, measured, ok):
        rows.append({"target": target, "criterion": criterion, "measured": measured, "verdict": "met" if ok else "NOT met"})
    b = main_[main_.method == "gt"].abs_rel
    cv = b.std(ddof=1) / b.mean()
    add("GT baseline trained", "AbsRel std over seeds <= 10 % of its mean",
        f"{b.mean():.4f} ± {b.std(ddof=1):.4f} ({100 * cv:.1f} %, {len(b)} seeds)", cv <= 0.10)
    g = main_.groupby(["teacher", "method"], dropna=False).abs_rel
    spread = (g.std(ddof=1) / g.mean()).sort_values(ascending=False)
    (t, m), worst = spread.index[0], spread.iloc[0]
    add("every student trained", "AbsRel std over seeds <= 15 % of its mean, every (teacher, method)",
        f"worst: {method_label(m)}{'' if pd.isna(t) else ', ' + teacher_label(t)} {100 * worst:.1f} %; "
        f"{int((spread > 0.15).sum())} of {len(spread)} above 15 %", worst <= 0.15)
    for t in p.get("main", {}).get("teachers") or p["teachers"]["families"]:   # the main comparison's teachers (unet: spatial only)
        plots = pd.read_csv(ROOT / "plots" / p["profile"] / "main" / f"{t}.csv")
        tie = plots[plots.run_id.str.contains("/tiekd-s")]
        last = tie.sort_values("epoch").groupby("run_id").tail(1)["dpm"]
        u = uniform_dpm_loss(t, p)
        drop = 1 - last.mean() / u
        add(f"TIE-KD DPM trained ({teacher_label(t)})", "last-epoch L_DPM >= 30 % below a uniform student's",
            f"{last.mean():.3f} ± {last.std(ddof=1):.3f} nats vs uniform {u:.3f} ({100 * drop:.0f} % below)", drop >= 0.30)
        tv = df[(df.group == "teachers") & (df.teacher == t)].abs_rel.iloc[0]
        add(f"teacher worth distilling ({teacher_label(t)})", "teacher AbsRel >= 15 % below the GT baseline's",
            f"{tv:.4f} vs {b.mean():.4f} ({100 * (1 - tv / b.mean()):.0f} % below)", tv <= 0.85 * b.mean())
    cj = ROOT / "bench" / "convergence.json"
    if cj.exists() and json.loads(cj.read_text()).get("profile") == p["profile"]:
        c = json.loads(cj.read_text())
        worst = max(c["runs"], key=lambda r: abs(r["rel_change"]))
        add("converged", f"{c['factor']}x the steps changes test AbsRel by < 5 %, every distiller (seed {c['seed']}, {c['teacher']})",
            f"worst: {method_label(worst['method'])} {100 * worst['rel_change']:+.1f} %; "
            f"{sum(not r['converged'] for r in c['runs'])} of {len(c['runs'])} not converged",
            all(r["converged"] for r in c["runs"]))
    else: add("converged", "2x the steps changes test AbsRel by < 5 %, every distiller", "not measured (bench/convergence.py)", False)
    if (ROOT / "reports" / p["profile"]).exists():
        w, n = wall_minutes(p["profile"])
        add("pipeline time", "`make repro` from a clean state <= 90 min wall on the 2-core machine",
            f"{w:.0f} min ({n} stages, first start to last end)", w <= 90)
    out = pd.DataFrame(rows)
    md = (f"# Targets of the converged default run, profile `{p['profile']}` (`bench/targets.py`)\n\n"
          "| target | criterion | measured | verdict |\n|---|---|---|---|\n"
          + "\n".join(f"| {r.target} | {r.criterion} | {r.measured} | {r.verdict} |" for r in out.itertuples()) + "\n")
    (ROOT / "bench" / f"targets_{p['profile']}.md").write_text(md)
    (ROOT / "bench" / f"targets_{p['profile']}.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(md)


if __name__ == "__main__":
    main()
