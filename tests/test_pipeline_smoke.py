"""The whole pipeline, end to end, under the smoke profile, in a temporary copy of the project.

Runs `dvc repro` exactly as a user would (papermill stage notebooks, DVC graph), then checks that every table and
figure file is produced and non-trivial, that DVC sees the pipeline as up to date, and that changing the alpha sweep
re-runs only the sweep and what depends on it. Needs the synthetic data (`make data`): skipped without it.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.pipeline


def _run(args, cwd, **kw):
    env = {**os.environ, "TIEKD_ROOT": str(cwd), "PATH": f"{BIN}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def smoke_project(tmp_path_factory):
    if not (ROOT / "data" / "synth" / "meta.json").exists():
        pytest.skip("no synthetic data: run `make data` first")
    proj = tmp_path_factory.mktemp("smoke")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if not (ROOT / f).exists(): continue
        (proj / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, proj / f)
    # the committed default-profile results stay in the copy: the smoke run must leave them untouched (results per profile)
    shutil.copytree(ROOT / "data", proj / "data", dirs_exist_ok=True)
    git = ["git", "-c", "user.email=ci@tiekd", "-c", "user.name=ci"]
    subprocess.run(git + ["init", "-q"], cwd=proj, check=True)
    subprocess.run(git + ["add", "-A"], cwd=proj, check=True, capture_output=True)
    subprocess.run(git + ["commit", "-qm", "smoke"], cwd=proj, check=True, capture_output=True)   # DVCLive wants a commit
    r = _run([str(BIN / "tiekd_profile"), "smoke"], proj)
    assert r.returncode == 0, r.stderr
    r = _run([str(BIN / "dvc"), "repro"], proj, timeout=900)
    assert r.returncode == 0, f"dvc repro (smoke) failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
    return proj


def test_a_profile_switch_leaves_the_other_profiles_results_untouched(smoke_project):
    "After `tiekd_profile smoke && dvc repro`, git sees no change to the committed default results, only the smoke folders."
    r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=smoke_project, capture_output=True, text=True, check=True)
    changed = [l[3:] for l in r.stdout.splitlines()]
    results = [c for c in changed if c.split("/")[0] in ("metrics", "plots", "paper_figures", "reports")]
    assert results and all(c.split("/")[1] == "smoke" for c in results), [c for c in results if c.split("/")[1] != "smoke"][:5]
    assert not [c for c in changed if c.split("/")[0] in ("tiekd", "nbs", "README.md", "profiles")], changed[:5]


def test_every_table_and_figure_is_produced(smoke_project):
    out = smoke_project / "paper_figures" / "smoke"
    tables = ["table_main", "table_main_vs_paper", "table_ablation", "table_backbones", "table_mode", "table_aux",
              "table_teachers", "table_spatial", "claims", "claims_summary"]   # their content: test_tables_equal_the_records_...
    for t in tables:
        for ext, min_bytes in (("md", 200), ("csv", 100), ("tex", 200)):
            f = out / "tables" / f"{t}.{ext}"
            assert f.exists() and f.stat().st_size >= min_bytes, f"{f} missing or trivial"
    figs = ["fig1_qualitative", "fig2_overview", "fig3_comparison", "fig4_alpha", "fig5_sigma", "fig_dpm_explain"]
    for fig in figs:
        png, pdf = out / "figures" / f"{fig}.png", out / "figures" / f"{fig}.pdf"
        assert png.exists() and png.stat().st_size > 20_000, f"{png} missing or trivial"
        assert pdf.exists() and pdf.stat().st_size > 5_000, f"{pdf} missing or trivial"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_are_recorded_for_every_stage(smoke_project):
    recs = [r for f in (smoke_project / "metrics" / "smoke").rglob("*.json") for r in json.loads(f.read_text())["runs"]]
    assert {r["group"] for r in recs} >= {"teachers", "main", "backbones", "alpha", "sigma", "mode", "aux"}
    for r in recs:
        assert set(r["metrics"]) >= {"a1", "abs_rel", "rmse", "silog"}
        assert all(v == v for v in r["metrics"].values()), f"NaN metric in {r['run_id']}"


def test_up_to_date_and_alpha_change_reruns_only_the_sweep(smoke_project):
    r = _run([str(BIN / "dvc"), "status", "--json"], smoke_project)
    assert r.returncode == 0 and json.loads(r.stdout or "{}") == {}, r.stdout
    params = smoke_project / "params.yaml"
    text = params.read_text()
    params.write_text(text.replace("alpha_sweep: {teacher: adabins, values: [0.1, 0.6]", "alpha_sweep: {teacher: adabins, values: [0.1, 0.7]"))
    try:
        r = _run([str(BIN / "dvc"), "status", "--json"], smoke_project)
        changed = set(json.loads(r.stdout))
        assert changed == {"alpha_sweep"}, changed
    finally:
        params.write_text(text)


def test_tables_equal_the_records_and_claims_decide(smoke_project):
    "Each table is what the code computes from the run records; the claims are decided, not all 'inconclusive'."
    import pandas as pd
    from tiekd.results import load_runs, provenance
    from tiekd.tables import TABLES, stamped, table_markdown
    out = smoke_project / "paper_figures" / "smoke" / "tables"
    df = load_runs(smoke_project / "metrics" / "smoke")
    assert set(df.profile) == {"smoke"} and df.config_hash.str.fullmatch(r"[0-9a-f]{12}").all()   # provenance per record
    note = provenance(df)
    assert note.startswith(f"Profile `smoke`: {len(df)} runs, seeds ")
    for name, fn in TABLES.items():
        assert (out / f"{name}.md").read_text() == table_markdown(stamped(fn(df), note)), f"{name}.md is not what metrics/ gives"
    claims = pd.read_csv(out / "claims.csv")
    decided = claims[~claims.verdict.str.startswith("inconclusive")]
    assert len(decided) > 0, "every claim row is inconclusive: were the per-image metrics written?"


def test_uncertainty_stage_outputs(smoke_project):
    import pandas as pd
    out = smoke_project / "paper_figures" / "smoke" / "uncertainty"
    t = (out / "table_uncertainty.md").read_text()
    assert "Profile `smoke`" in t and "DPM entropy" in t and "flip disagreement" in t
    cl = pd.read_csv(out / "claims_uncertainty.csv")
    assert len(cl) == 2 * 3 and set(cl.teacher) == {"AdaBins"}            # 2 comparisons x 3 metrics, one teacher
    s = pd.read_csv(out / "summary.csv")
    assert s.aurg.notna().all() and ((s.cov50 >= 0) & (s.cov50 <= 1) | s.cov50.isna()).all()
    for fig in ("fig_sparsification", "fig_reliability"):
        assert (out / f"{fig}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _explorer(proj, out, index):
    """The explorer under papermill. Each cell may take 5 min (a stuck cell then fails, named, instead of the whole
    call hanging); a run whose kernel stalls is retried once, with a warning. Seen here: in 2 of 5 fresh-clone CI
    runs the call stalled with no cell output (5 and 15 min); it usually takes 20 s, and 6 reruns took 10-15 s."""
    import warnings
    cmd = [str(BIN / "papermill"), "-k", "python3", "--log-level", "INFO", "--no-progress-bar", "--execution-timeout",
           "300", "nbs/explore/dpm_explorer.ipynb", str(out), "-p", "image_index", str(index)]
    for attempt in (1, 2):
        try: r = _run(cmd, proj, timeout=420)
        except subprocess.TimeoutExpired as e: r, why = None, f"papermill did not return in {e.timeout} s"
        else: why = "a cell timed out" if "Cell execution timed out" in r.stderr + r.stdout else None
        if why is None or attempt == 2: break
        warnings.warn(f"the explorer's kernel stalled ({why}); running it once more")
    assert r is not None, why
    return r


def test_the_explorer_runs_on_the_smoke_outputs(smoke_project, tmp_path):
    r = _explorer(smoke_project, tmp_path / "explorer.ipynb", 1)
    assert r.returncode == 0, r.stderr[-4000:]
    nb = json.loads((tmp_path / "explorer.ipynb").read_text())
    pngs = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert pngs, "the explorer drew no figure"
    r = _explorer(smoke_project, tmp_path / "bad.ipynb", 999)
    assert r.returncode != 0 and "image_index=999 is not allowed: expected an integer from 0 to 7" in r.stderr + r.stdout


CHROMIUM = Path("/usr/bin/chromium")   # Debian's package (`make browser-deps`); Playwright drives it, downloads nothing
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_the_explorer_in_a_real_browser(smoke_project, tmp_path):
    """The explorer as a user meets it: JupyterLab served on 127.0.0.1, the notebook opened in Chromium and run,
    the image slider moved with the keyboard, and the figure seen to change; no cell writes to stderr."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: `make browser-test`")
    if not CHROMIUM.exists(): pytest.skip(f"{CHROMIUM} is missing: `make browser-test` installs Debian's chromium")
    import time, urllib.request
    port, token = _free_port(), "tiekd-browser-test"
    env = {**os.environ, "TIEKD_ROOT": str(smoke_project), "PATH": f"{BIN}:{os.environ['PATH']}",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "jset"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "jws"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrun")}
    env.pop("MPLBACKEND", None)
    news = tmp_path / "jset" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True); news.write_text('{"fetchNews": "false", "checkForUpdates": false}')   # no pop-up
    lab = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={smoke_project}",
                            "--allow-root", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
                            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                           cwd=smoke_project, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"))
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2); break
            except OSError:
                assert lab.poll() is None and time.time() - t0 < 90, (tmp_path / "lab.log").read_text()[-3000:]
                time.sleep(0.5)
        idle = """() => { const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;
            return k && k.status === 'idle'
                   && ![...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*')); }"""
        last_src = "() => [...document.querySelectorAll('.widget-output img')].pop()?.getAttribute('src') ?? null"
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"{base}/lab/tree/nbs/explore/dpm_explorer.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel", timeout=90_000)
            page.wait_for_function(idle, timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")     # Run > Run All Cells
            handle = page.locator(".widget-slider .noUi-handle").first                      # the `image` slider
            handle.wait_for(timeout=180_000)
            page.wait_for_function(f"() => ({last_src})() !== null", timeout=180_000)
            page.wait_for_function(idle, timeout=180_000)                                   # every cell has run
            figure = page.locator(".widget-output img").last
            before_src = page.evaluate(last_src)
            before = figure.screenshot(path=str(tmp_path / "before.png"))
            handle.focus(); page.keyboard.press("ArrowRight")                               # image 0 -> 1
            page.wait_for_function(f"s => {{ const x = ({last_src})(); return x !== null && x !== s; }}",
                                   arg=before_src, timeout=120_000)
            page.wait_for_function(idle, timeout=120_000)
            after_src = page.evaluate(last_src)
            after = page.locator(".widget-output img").last.screenshot(path=str(tmp_path / "after.png"))
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            errors = [stderr.nth(i).inner_text()[:500] for i in range(stderr.count())]
            readout = page.locator(".widget-slider .widget-readout").first.inner_text()
            browser.close()
        import base64, io
        import numpy as np
        from PIL import Image
        a, b = (np.asarray(Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[1]))).convert("RGB"), dtype=float)
                for s in (before_src, after_src))
        assert before[:8] == after[:8] == b"\x89PNG\r\n\x1a\n"
        changed = float((np.abs(a - b).sum(-1) > 30).mean()) if a.shape == b.shape else 1.0
        assert changed > 0.01, f"the figure did not change with the image ({changed:.2%} of its pixels did)"
        assert readout.strip() == "1", f"the image slider reads {readout!r} after one step right"
        assert not errors, f"cells wrote to stderr: {errors}"
    finally:
        lab.terminate()
        try: lab.wait(timeout=20)
        except subprocess.TimeoutExpired: lab.kill()
