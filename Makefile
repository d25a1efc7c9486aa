# dln-nuclear: two commands for a newcomer (see README.md)
#   make book   builds the book into _build/html
#   make test   runs every test: lint, dlnlib tests and doctests, nbval on the notebooks, every
#               chapter with a second parameter set, a strict book build, and a headless-Chromium
#               check of every page of the built book
# Both create or refresh the virtual environment .venv from requirements.txt first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))

# MathJax 3 is served from the built site (no CDN): the pinned npm package is installed into
# .cache/mathjax and its es5 directory copied to _vendor/mathjax (html_static_path in _config.yml).
MATHJAX_VERSION := 3.2.2
MATHJAX_STAMP   := _vendor/.mathjax-$(MATHJAX_VERSION)
JB_BUILD := $(BIN)/jupyter-book build --path-output . -W -n --keep-going

# Every stage that checks or stores notebook outputs runs the claims in strict mode: a failed claim
# raises ClaimError and stops the run (dlnlib.book.claims_mode). A reader's default, reader mode,
# shows a failed claim in a box, goes on, and marks it failed in the page's ledger.
nbval variants execute: export DLNLIB_CLAIMS := strict

# The same floating-point kernels on every x86-64 machine, so that the stored outputs (and nbval's
# comparison with them) do not depend on the processor: OpenBLAS picks its kernels per processor
# (an AVX-512 machine would round differently), and long label-noise runs amplify a last-bit
# difference to the third digit. Haswell's kernels (AVX2) run on any x86-64 processor of the last
# decade, and numpy's own AVX-512 loops are switched off. Set for every target, sweeps included.
ifeq ($(shell uname -m),x86_64)
export OPENBLAS_CORETYPE := Haswell
export NPY_DISABLE_CPU_FEATURES := AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR
endif

.PHONY: book test venv mathjax lint format unit nbval variants build-strict browser pdf texlive pdf-check execute launch-cells lab bench sweep clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

venv: $(STAMP)

$(MATHJAX_STAMP):
	rm -rf .cache/mathjax _vendor/mathjax _vendor/.mathjax-*
	npm install --prefix .cache/mathjax --no-save --no-package-lock --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	test "$$(node -p 'require("./.cache/mathjax/node_modules/mathjax/package.json").version')" = "$(MATHJAX_VERSION)"
	mkdir -p _vendor
	cp -R .cache/mathjax/node_modules/mathjax/es5 _vendor/mathjax
	touch $@

mathjax: $(MATHJAX_STAMP)

## The book, rendered into _build/html (notebook outputs are the stored, nbval-checked ones)
book: $(STAMP) $(MATHJAX_STAMP)
	$(JB_BUILD) .

## Every test. Stops at the first failing stage.
test: lint unit nbval variants build-strict browser pdf-check

## ruff (pyproject.toml): lints dlnlib/, tests/, benchmarks/ and the notebooks; formats all but the
## notebooks, which are laid out by hand (CONTRIBUTING.md)
LINTED := dlnlib tests benchmarks chapters _ext
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

## Apply the formatter (then re-run `make execute` only if code, not just layout, changed)
format: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

## dlnlib tests and the Examples sections of its docstrings
unit: $(STAMP)
	$(BIN)/python -m pytest -q tests --ignore=tests/browser --ignore=tests/pdf
	$(BIN)/python -m pytest -q --doctest-modules dlnlib

nbval: $(STAMP)
	$(BIN)/python -m pytest -q --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

## Every chapter again with the second parameter set in tests/variants/, then a strict build of
## those outputs (in a temporary copy; the committed notebooks are not touched)
variants: $(STAMP) $(MATHJAX_STAMP)
	$(BIN)/python tests/variants/run_variants.py

## From scratch, so every page's warnings are reported and no stale page survives
build-strict: $(STAMP) $(MATHJAX_STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(JB_BUILD) --all .

## Every page of _build/html in headless Chromium (installs Debian's chromium when missing)
browser: build-strict
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

## The whole book as one PDF, _build/latex/dln-nuclear.pdf (XeLaTeX; installs Debian's TeX Live)
# Debian's packages for the PDF: XeLaTeX with the LaTeX packages Sphinx and jupyter-book use
# (bbm.sty is in texlive-fonts-extra), latexmk and xindy to drive it, the FreeFont faces, and
# poppler-utils (pdftoppm, pdftotext) for the test.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended texlive-fonts-extra latexmk xindy fonts-freefont-otf poppler-utils
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
texlive:
	@if command -v xelatex >/dev/null && command -v latexmk >/dev/null \
	    && command -v xindy >/dev/null && command -v pdftoppm >/dev/null \
	    && kpsewhich bbm.sty >/dev/null; then echo "TeX Live: installed"; else \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) apt-get install -y -q --no-install-recommends $(TEX_PACKAGES); fi

pdf: $(STAMP) texlive
	rm -rf _build/latex
	$(BIN)/jupyter-book build --builder pdflatex --path-output . .
	test -s _build/latex/dln-nuclear.pdf

## The PDF rendered to PNG pages and checked: every chapter in it, no raw TeX, every figure
pdf-check: pdf
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/pdf

## Re-execute every notebook in place so the stored outputs match the code of today
execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

## Every chapter's install cell (its first code cell, for Colab) as committed (the Pages workflow
## writes the published ones: `python _ext/dln_launch.py --url ... --ref ...`)
launch-cells: $(STAMP)
	$(BIN)/python _ext/dln_launch.py

## Open the notebooks in JupyterLab with dlnlib importable
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) chapters

## One chapter over a grid or a random sample of parameter values, in parallel on Dask, every run
## recorded in sweeps/<CHAPTER>.parquet (resumable; `python -m dlnlib.sweep --help` lists ARGS):
##   make sweep CHAPTER=setup ARGS="--grid seed=0,1,2 --grid n=1,200"
sweep: $(STAMP)
	@test -n "$(CHAPTER)" || { echo 'usage: make sweep CHAPTER=<chapter> ARGS="--grid name=v1,v2 ..."' >&2; exit 2; }
	$(BIN)/python -m dlnlib.sweep $(CHAPTER) $(ARGS)

## Speed figures, and what the chapters' code is made of (printed, never asserted)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_symbolic.py
	$(BIN)/python benchmarks/bench_chapters.py
	$(BIN)/python benchmarks/code_share.py

clean:
	rm -rf _build
