# dln-nuclear: two commands for a newcomer (see README.md)
#   make book   builds the book into _build/html
#   make test   runs every test: dlnlib tests, nbval on the notebooks, a strict book build
# Both create or refresh the virtual environment .venv from requirements.txt first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))

.PHONY: book test venv unit nbval build-strict execute lab bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

venv: $(STAMP)

## The book, rendered into _build/html (notebook outputs are the stored, nbval-checked ones)
book: $(STAMP)
	$(BIN)/jupyter-book build --path-output . -W -n --keep-going .

## Every test. Stops at the first failing stage.
test: unit nbval build-strict

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -q --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

build-strict: book

## Re-execute every notebook in place so the stored outputs match the code of today
execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

## Open the notebooks in JupyterLab with dlnlib importable
lab: $(STAMP)
	$(BIN)/jupyter lab chapters

## Speed figures (printed, never asserted)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf _build
