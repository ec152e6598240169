"""What the repository ships equals its sources: every committed table that the run records alone determine is
recomputed from the committed `metrics/default/` and compared with the file in `paper_figures/default/tables/`, and every row of a
table in README's results section is found, verbatim, in a committed table file (README's tables are copied, never
typed). The claims need the per-image metrics under `artifacts/` (not committed): the smoke pipeline test checks
them against a fresh run instead."""
import re
from pathlib import Path

import pytest

from tiekd.results import MissingResults, load_runs, provenance
from tiekd.tables import TABLES as TABLE_FNS, stamped, table_markdown
from tiekd.pipeline import load_params, stage_metric_files

ROOT = Path(__file__).resolve().parents[1]
METRICS, TABLES = ROOT / "metrics" / "default", ROOT / "paper_figures" / "default" / "tables"   # README: the default profile


@pytest.mark.parametrize("name", sorted(TABLE_FNS))
def test_committed_table_equals_what_the_records_give(name):
    p = load_params(ROOT / "profiles" / "default.yaml")   # README's results are the default profile's
    # every committed stage file (load_runs refuses a record of another profile); a stage the profile gained after the
    # committed run has no file yet, and its table is then reported as skipped, by name, until the next full run
    df = load_runs(METRICS, profile=p["profile"])
    missing = [f for f in stage_metric_files(p) if not (METRICS / f).is_file()]
    try: t = stamped(TABLE_FNS[name](df), provenance(df))
    except MissingResults as e:
        if missing and not (TABLES / f"{name}.md").exists():
            pytest.skip(f"{name}: the committed run predates stage file(s) {', '.join(missing)} ({e}); rerun `dvc repro`")
        pytest.fail(f"the committed records do not make {name}, but it is a table of the pipeline")
    assert (TABLES / f"{name}.md").read_text() == table_markdown(t), f"{name}.md differs from what metrics/default/ gives"
    assert "Profile `default`: " in t.caption


def _results_section() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^## Results.*?(?=^## )", text, flags=re.S | re.M)
    assert m, "README has no '## Results' section"
    return m.group(0)


def test_readme_result_tables_are_copied_from_committed_files():
    shipped = set()
    for f in [*(ROOT / "paper_figures" / "default").rglob("*.md"), *(ROOT / "bench").rglob("*.md")]:   # README: the default profile
        shipped |= {l.strip() for l in f.read_text().splitlines() if l.startswith("|")}
    rows = [l.strip() for l in _results_section().splitlines() if l.startswith("|") and not re.fullmatch(r"\|[\s|:-]*\|", l.strip())]
    assert rows, "README's results section has no table"
    rows = [r for r in rows if not re.fullmatch(r"\|(\s*!\[[^]]*\]\([^)]*\)\s*\|)+", r)]   # a layout of figures, not a table
    missing = [r for r in rows if r not in shipped]
    assert not missing, f"{len(missing)} README table rows are in no committed table file, e.g. {missing[:3]}"
