#!/usr/bin/env python
"""What each DVC stage of a finished `dvc repro` spent outside its runs, read from the executed stage notebooks.

Every stage runs a papermill notebook whose executed copy lands in `reports/<profile>/` with papermill's start and end
times; a training stage's notebook also prints each run's wall time (`run_id: abs_rel ... (N s)`: training, evaluation
and record, inside its worker). For each stage this prints
- `gap`: seconds from the previous stage notebook's end to this one's start: DVC's own work (hashing, dvc.lock) and
  papermill's start (its imports, the kernel's start);
- `inside`: the notebook's duration less its runs' share (a lower bound of their makespan on the profile's workers:
  the larger of the sum of run times / workers and the longest run): imports, the prepared splits' load, the
  workers' start, the stage's outputs, and a worker idle at the end of the pool; none for a stage without runs
  (prepare, teacher predictions, aggregate, figures, uncertainty), whose notebook is all its work;
- `overhead` = gap + inside, the stage's cost beyond training and evaluating its runs.
The first stage has no gap. Stages that were run in another `dvc repro` (a gap over `--max-gap` s) get no gap.

    .venv/bin/python bench/stage_overhead.py                 # reports/<active profile>/
    .venv/bin/python bench/stage_overhead.py --profile smoke --md bench/stage_overhead.md
"""
import argparse
import datetime as dt
import json
import re
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RUN_LINE = re.compile(r"^(\S+): abs_rel [0-9.]+ rmse [0-9.]+ \((\d+) s\)$", re.M)


def _time(s: str) -> float:
    return dt.datetime.fromisoformat(s).timestamp()


def stage_times(nb_path: Path, reports: Path, workers: int) -> dict:
    "Start, end, duration and the runs' wall times of one executed stage notebook."
    nb = json.loads(nb_path.read_text())
    pm = nb["metadata"].get("papermill", {})
    if not pm.get("start_time") or not pm.get("end_time"): raise SystemExit(f"{nb_path}: no papermill start/end time")
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout")
    runs = [int(s) for _, s in RUN_LINE.findall(text)]
    return {"stage": str(nb_path.relative_to(reports).with_suffix("")),
            "start": _time(pm["start_time"]), "end": _time(pm["end_time"]), "duration": float(pm["duration"]),
            "runs": runs,
            "run_share": max(sum(runs) / min(workers, len(runs)), max(runs)) if runs else None}


def overheads(reports: Path, workers: int, max_gap: float = 120.0) -> list[dict]:
    "Every stage notebook under `reports`, in the order they ran, with its gap, inside and overhead seconds."
    rows = sorted((stage_times(p, reports, workers) for p in reports.rglob("*.ipynb")), key=lambda r: r["start"])
    for prev, r in zip([None] + rows[:-1], rows):
        gap = None if prev is None else r["start"] - prev["end"]
        r["gap"] = gap if gap is not None and 0 <= gap <= max_gap else None
        r["inside"] = None if r["run_share"] is None else r["duration"] - r["run_share"]
        r["overhead"] = (r["inside"] or 0.0) + (r["gap"] or 0.0)
    return rows


def markdown(rows: list[dict], profile: str) -> str:
    out = [f"# Stage overhead, profile `{profile}` (`bench/stage_overhead.py`)", "",
           "| stage | runs | notebook s | runs' share s | inside s | gap s | overhead s |", "|:---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        gap = "" if r["gap"] is None else f"{r['gap']:.1f}"
        share, inside = ("", "") if r["inside"] is None else (f"{r['run_share']:.1f}", f"{r['inside']:.1f}")
        out.append(f"| {r['stage']} | {len(r['runs'])} | {r['duration']:.1f} | {share} | {inside} | {gap} | {r['overhead']:.1f} |")
    train = [r["overhead"] for r in rows if r["gap"] is not None and r["inside"] is not None]
    gaps = [r["gap"] for r in rows if r["gap"] is not None]
    out += [""] + ([f"Training stages ({len(train)} with a gap): overhead median {statistics.median(train):.1f} s, max "
                    f"{max(train):.1f} s."] if train else []) + \
           ([f"Gap between stages (all {len(gaps)}): median {statistics.median(gaps):.1f} s."] if gaps else []) + \
           [f"{len(rows)} stages; overhead in all {sum(r['overhead'] for r in rows) / 60:.1f} min; wall from the first "
            f"start to the last end {(rows[-1]['end'] - rows[0]['start']) / 60:.1f} min."]
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", help="reports/<profile>/ (default: the active profile in params.yaml)")
    ap.add_argument("--workers", type=int, help="worker processes per stage (default: the profile's `workers`)")
    ap.add_argument("--max-gap", type=float, default=120.0, help="a longer gap means another `dvc repro`: not counted")
    ap.add_argument("--md", type=Path, help="also write the table to this Markdown file")
    a = ap.parse_args(argv)
    p = yaml.safe_load((ROOT / "params.yaml").read_text())
    profile = a.profile or p["profile"]
    if a.workers is None:
        prof = ROOT / "profiles" / f"{profile}.yaml"
        a.workers = int(yaml.safe_load(prof.read_text()).get("workers", 1)) if prof.is_file() else int(p.get("workers", 1))
    reports = ROOT / "reports" / profile
    if not any(reports.rglob("*.ipynb")): sys.exit(f"no executed stage notebooks under {reports}: run `dvc repro` first")
    text = markdown(overheads(reports, a.workers, a.max_gap), profile)
    print(text, end="")
    if a.md: a.md.write_text(text)


if __name__ == "__main__":
    main()
