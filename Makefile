# Two commands for a fresh machine (see README):
#   make lab    install into .venv and start JupyterLab on notebooks/ (127.0.0.1, random token)
#   make test   install into .venv and run the whole suite (lint, library, notebooks, browser)
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lilib-installed
PHASE  := scripts/phase.sh
RESULTS := build/test-results

export LILIB_QUICK ?= 1

.PHONY: help install lab test lint test-lib test-notebooks test-browser lock nb-clean clean

help:
	@echo "make lab    - install (.venv) and start JupyterLab on notebooks/"
	@echo "make test   - install (.venv) and run lint, library tests, notebooks, browser test"
	@echo "make lock   - re-resolve the environment and rewrite constraints.txt"
	@echo "make nb-clean - strip notebook outputs except NBVAL_CHECK_OUTPUT cells"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the project metadata or the lock changes.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@$(PHASE) install bash -c '$(BIN)/python -m pip install -q --upgrade pip && \
	  $(BIN)/python -m pip install -q -c constraints.txt -e ".[all]"'
	touch $(STAMP)

install: $(STAMP)

lab: install
	@$(BIN)/python scripts/lab.py

test: install
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	status=0
	$(PHASE) lint $(MAKE) --no-print-directory lint || status=1
	$(PHASE) library $(MAKE) --no-print-directory test-lib || status=1
	$(PHASE) notebooks $(MAKE) --no-print-directory test-notebooks || status=1
	$(PHASE) browser $(MAKE) --no-print-directory test-browser || status=1
	$(BIN)/python scripts/test_summary.py $(RESULTS) build/phase-times.txt || status=1
	rm -f build/phase-times.txt
	exit $$status

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One BLAS/OpenMP thread per process: phonopy's symmetrisation and PySCF oversubscribe 2 cores
# otherwise (numba's own threads are not affected).
test-lib:
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -m "not browser" --junitxml=$(RESULTS)/library.xml

test-notebooks:
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  --junitxml=$(RESULTS)/notebooks.xml notebooks/

test-browser:
	$(BIN)/python -m pytest -m browser --junitxml=$(RESULTS)/browser.xml tests/browser

# Resolve with the OLDEST supported interpreter (Debian 12's python3.11 is 3.11.2): some wheels
# require a newer patch release (soupsieve 4.1.2 needs >=3.11.5) and would break installs there.
LOCK_PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || echo $(PYTHON))

lock:
	rm -rf build/lock-venv
	$(LOCK_PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q --upgrade pip
	build/lock-venv/bin/python -m pip install -q ".[all]"
	( echo "# Full environment of 'pip install .[all]' resolved on $$(date -u +%F) with $$(build/lock-venv/bin/python -V)."; \
	  echo "# Regenerate with 'make lock'; 'make install' uses it as pip constraints."; \
	  build/lock-venv/bin/python -m pip freeze --all --exclude-editable --exclude lilib --exclude pip \
	  | sed -E 's/^(torch==[0-9.]+)\+cpu$$/\1/' ) > constraints.txt
	rm -rf build/lock-venv

nb-clean: $(STAMP)
	$(BIN)/python scripts/clean_notebooks.py notebooks/*.ipynb

clean:
	rm -rf build .pytest_cache .ruff_cache
