# The two commands of README.md: `make repro` and `make test`. Both install into .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0
# the venv's tools (papermill, dvc, jupyter) first on PATH, for dvc.yaml's commands too
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install repro test data data-check mutate smoke browser-deps browser-test profile bench recipe clean-venv export clean-nbs

$(STAMP): requirements.txt constraints.txt setup.py settings.ini
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --no-cache-dir -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

## Rebuild every result of the paper: the data (if missing), then the DVC pipeline of the active profile (params.yaml)
repro: install
	@test -f data/synth/meta.json || ! grep -q "root: data/synth" params.yaml || $(MAKE) --no-print-directory data
	$(BIN)/dvc repro

## Every test: the module notebooks' test cells (one pytest item per notebook), tests/, sync and cleanliness
test: install
	@test -f data/synth/meta.json || $(MAKE) --no-print-directory data   # the smoke pipeline and the dvc test need it
	$(BIN)/pytest

## Generate the embedded synthetic dataset into data/synth (deterministic, resumable; pinned by data/synth.dvc)
data: install
	$(BIN)/tiekd_synth --out data/synth

## Regenerate the dataset from scratch and fail unless its content is what data.fingerprint.json pins: every split
## file, meta.json and depth map exactly, every image within rounding (NumPy's SIMD paths differ across CPUs in the
## last bit: tiekd.synth.compare_fingerprint); then say whether the bytes are also what data/synth.dvc pins (PNG compression
## and rounding can differ between machines). The byte hash is recomputed by `dvc add` (a clean clone has no DVC cache)
## and data/synth.dvc is restored afterwards.
data-check: install
	rm -rf data/synth
	$(BIN)/tiekd_synth --out data/synth --no-progress
	$(BIN)/tiekd_synth --out data/synth --check data.fingerprint.json
	@cp data/synth.dvc .synth.dvc.pinned; $(BIN)/dvc add -q data/synth; \
	if cmp -s data/synth.dvc .synth.dvc.pinned; then echo "data/synth bytes match data/synth.dvc"; \
	else echo "data/synth bytes differ from data/synth.dvc (same content within rounding: PNG compression or rounding differs on this machine):"; \
	  diff .synth.dvc.pinned data/synth.dvc || true; fi; mv .synth.dvc.pinned data/synth.dvc

## Switch the active profile: make profile P=smoke (profiles/: default, smoke, paper-kitti, paper-nyu)
profile: install
	$(BIN)/tiekd_profile $(P)

## Every named mutation of the notebooks must fail the tests that guard it (tests/mutate.py; bench/mutations.md)
mutate: install
	$(PY) tests/mutate.py --control

## The smoke profile end to end in a temporary copy, checking every table and figure (part of `make test` too)
smoke: install
	$(BIN)/pytest -m pipeline tests/test_pipeline_smoke.py

## Debian's Chromium, which the explorer's browser test drives through Playwright (from requirements.txt): no browser
## download. Needs root (apt-get); without it, `make test` skips that one test and says why.
browser-deps:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@/usr/bin/chromium --version 2>/dev/null   # (its wrapper script complains about this machine on stderr)

## The DPM explorer as a user meets it: JupyterLab on 127.0.0.1, the notebook run in Chromium, the image slider moved,
## the figure seen to change (on a fresh smoke run, in a temporary copy; part of `make test` too)
browser-test: install browser-deps
	$(BIN)/pytest -m pipeline tests/test_pipeline_smoke.py -k "browser or every_table"

bench: install
	$(PY) bench/run.py

## Choose the active profile's training recipe on held-out training drives (GT baseline and teachers only):
## bench/recipe/table_<profile>.md and bench/recipe/<profile>.json
recipe: install
	$(BIN)/dvc repro prepare
	$(PY) bench/recipe.py

## Developer helpers: export the package from the notebooks, clean the notebooks
export: install
	$(BIN)/nbdev_export
clean-nbs: install
	$(BIN)/nbdev_clean

clean-venv:
	rm -rf $(VENV)
