# The two commands of README.md: `make repro` and `make test`. Both install into .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: install repro test data data-check bench clean-venv export clean-nbs

$(STAMP): requirements.txt constraints.txt setup.py settings.ini
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

## Rebuild every result of the paper (DVC pipeline; until it exists, the data and the notebooks' tests)
repro: install
	@if [ -f dvc.yaml ]; then $(BIN)/dvc repro; else $(MAKE) --no-print-directory data; fi

## Every test: the module notebooks' test cells (one pytest item per notebook), tests/, sync and cleanliness
test: install
	$(BIN)/pytest

## Regenerate the embedded synthetic dataset into data/ (pinned by data.dvc)
data: install
	$(BIN)/tiekd_synth --out data

bench: install
	$(PY) bench/run.py

## Developer helpers: export the package from the notebooks, clean the notebooks
export: install
	$(BIN)/nbdev_export
clean-nbs: install
	$(BIN)/nbdev_clean

clean-venv:
	rm -rf $(VENV)
