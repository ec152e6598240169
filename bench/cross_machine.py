"""Cross-machine reproducibility, measured: the same code and profile run on two machines of the same kind, compared
run by run. `python bench/cross_machine.py OLD_COMMIT` compares the run records committed at OLD_COMMIT (made on
another machine) with those in metrics/ now, and writes bench/cross_machine.md.

Only what the records hold is compared: each run's test AbsRel and RMSE. A difference is put beside the spread over
seeds of the same (group, teacher, method, setting): a cross-machine difference well inside the seed spread changes
no conclusion that the seeds allow."""
import io, json, subprocess, sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tiekd.results import flatten_run   # noqa: E402


def records(commit=None) -> pd.DataFrame:
    # the default profile's records: metrics/default/ since results are kept per profile, metrics/ in older commits
    files = (subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, "metrics/"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split() if commit
             else [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "metrics" / "default").rglob("*.json"))])
    files = [f for f in files if f.startswith("metrics/default/")] or files
    rows = []
    for f in files:
        if not f.endswith(".json"): continue
        text = (subprocess.run(["git", "show", f"{commit}:{f}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
                if commit else (ROOT / f).read_text())
        for r in json.loads(text).get("runs", []): rows.append(flatten_run(r, f))
    return pd.DataFrame(rows).set_index("run_id")


def main(old: str) -> None:
    a, b = records(old), records()
    common = a.index.intersection(b.index)
    keys = ["group", "teacher", "method", "encoder", "alpha", "sigma", "mode", "aux_unlabeled"]
    out = []
    for m in ("abs_rel", "rmse"):
        d = (b.loc[common, m] - a.loc[common, m])
        rel = (d / a.loc[common, m]).abs()
        g = b.loc[common].fillna({"teacher": "-", "alpha": -1, "sigma": -1, "mode": "-"}).groupby(
            [k for k in keys if k in b.columns], dropna=False)[m]
        spread = g.transform(lambda s: s.std(ddof=1) if len(s) > 1 else np.nan)
        ratio = (d.abs() / spread).dropna()
        out.append({"metric": m, "runs compared": len(common), "identical": int((d == 0).sum()),
                    "median abs. relative difference": f"{100 * rel.median():.2f} %",
                    "largest abs. relative difference": f"{100 * rel.max():.2f} % ({rel.idxmax()})",
                    "runs with a seed spread": len(ratio),
                    "median abs. difference / seed std": f"{ratio.median():.2f}",
                    "share above 1 seed std": f"{100 * (ratio > 1).mean():.0f} %"})
    t = pd.DataFrame(out)
    md = (f"# Cross-machine reproducibility (`python bench/cross_machine.py {old[:7]}`)\n\n"
          f"The default profile's run records committed at {old[:7]} (made on another machine of this kind) against "
          "those in `metrics/` now (this machine), run by run. The seed std is that of the run's own (group, teacher, "
          "method, setting) over its seeds in the new run.\n\n" + t.to_markdown(index=False) + "\n")
    (ROOT / "bench" / "cross_machine.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main(sys.argv[1])
