# The two commands of README.md: `make repro` and `make test`. Both install into .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0
# the venv's tools (papermill, dvc, jupyter) first on PATH, for dvc.yaml's commands too
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install repro test data data-check smoke profile bench clean-venv export clean-nbs

$(STAMP): requirements.txt constraints.txt setup.py settings.ini
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
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
	$(BIN)/pytest

## Generate the embedded synthetic dataset into data/synth (deterministic, resumable; pinned by data.dvc)
data: install
	$(BIN)/tiekd_synth --out data/synth

## Regenerate the dataset from scratch and fail unless it is bit-for-bit what data.dvc pins. The hash is
## recomputed by `dvc add` (a clean clone has no DVC cache, so `dvc status` could only say "not in cache");
## a differing dataset shows up as a change to data.dvc, which is then restored.
data-check: install
	rm -rf data/synth
	$(BIN)/tiekd_synth --out data/synth --no-progress
	@cp data.dvc .data.dvc.pinned; $(BIN)/dvc add -q data; \
	if ! cmp -s data.dvc .data.dvc.pinned; then \
	  echo "data/ differs from data.dvc:"; diff .data.dvc.pinned data.dvc; mv .data.dvc.pinned data.dvc; exit 1; fi; \
	rm .data.dvc.pinned; echo "data/ matches data.dvc bit for bit"

## Switch the active profile: make profile P=smoke (profiles/: default, smoke, paper-kitti, paper-nyu)
profile: install
	$(BIN)/tiekd_profile $(P)

## The smoke profile end to end in a temporary copy, checking every table and figure (part of `make test` too)
smoke: install
	$(BIN)/pytest -m pipeline tests/test_pipeline_smoke.py

bench: install
	$(PY) bench/run.py

## Developer helpers: export the package from the notebooks, clean the notebooks
export: install
	$(BIN)/nbdev_export
clean-nbs: install
	$(BIN)/nbdev_clean

clean-venv:
	rm -rf $(VENV)
