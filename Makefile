# mimo_nb: `make demo` writes a report for a generated clip; `make test` runs every check.
# Both create a venv ($(VENV), default .venv) with $(PYTHON) and install what they need into it.
#
#   make test                                  the default Python (3.11 when present), in .venv
#   make test PYTHON_VERSION=3.13              Python 3.13 (found on PATH or in pyenv), in .venv-3.13
#   make test PYTHON=/path/to/python VENV=.v   any interpreter, in any venv
#   make test-lowest                           Python 3.10, every direct dependency at its lower bound

ifdef PYTHON_VERSION
PYTHON ?= $(shell scripts/find-python $(PYTHON_VERSION))
VENV   ?= .venv-$(PYTHON_VERSION)
endif
PYTHON ?= $(shell scripts/find-python 3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
# LOWEST=1: install with every direct dependency pinned to the lower bound pyproject.toml declares.
LOWEST ?=
LOWEST_PYTHON_VERSION ?= 3.10
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
DEMO_DIR  := demo-output
# The documentation site (docs/conf.py): offline, warnings as errors, always from scratch.
DOCS_HTML := docs/_build/html
SPHINX    = rm -rf docs/_build && $(PY) -m sphinx -W --keep-going -q -b html docs $(DOCS_HTML)

.PHONY: help setup demo docs test test-lowest test-fast test-dist dist notebooks bench clean

help:
	@echo "make demo   set up .venv, generate a sample clip and write an HTML report"
	@echo "make test   set up .venv; run ruff, mypy, the tests, the doctests and the notebooks (nbval)"
	@echo "make test PYTHON_VERSION=3.13   the same on another Python, in .venv-3.13"
	@echo "make test-lowest   the same on Python 3.10 with every direct dependency at its lower bound"
	@echo "make docs   build the documentation site into docs/_build/html (offline, warnings as errors)"
	@echo "make dist   build the wheel and sdist into dist/ and check them (check-wheel-contents, twine)"
	@echo "make test-dist  install the wheel in a fresh venv and run the CLI, doctests, quickstart"
	@echo "make notebooks  re-execute the notebooks with deterministic outputs"
	@echo "make bench  run the benchmarks (speed and memory, printed as ratios)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "no Python found (set PYTHON= or PYTHON_VERSION=)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
ifeq ($(LOWEST),)
	$(PY) -m pip install --quiet -e '.[dev]'
else
	$(PY) scripts/lowest_constraints.py > $(VENV)/lowest-constraints.txt
	$(PY) -m pip install --quiet -e '.[dev]' -c $(VENV)/lowest-constraints.txt
	$(PY) scripts/lowest_constraints.py --check
endif
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mimo-nb demo --output $(DEMO_DIR)

docs: $(STAMP)
	$(SPHINX)

# Lint and formatting first (quickest to fail), then types, the layer contracts (import-linter,
# contracts in pyproject.toml), the documentation site (tests/test_docs.py opens it), then the
# tests, the >>> examples in mimo_nb's docstrings (set up by ./conftest.py) and the notebooks.
# The key is removed so the committed dry-run outputs of the notebooks compare under nbval.
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy mimo_nb
	$(VENV)/bin/lint-imports --no-cache
	$(SPHINX)
	env -u MIMO_API_KEY -u MIMO_NB_OFFLINE $(PY) -m pytest tests --doctest-modules mimo_nb $(if $(NOTEBOOKS),--nbval $(NOTEBOOKS) --nbval-sanitize-with notebooks/sanitize.cfg)

# The oldest Python we support, each direct dependency (runtime and dev) at its declared lower
# bound and everything else at the newest release that fits: proves the ">=" in pyproject.toml.
test-lowest:
	$(MAKE) test PYTHON_VERSION=$(LOWEST_PYTHON_VERSION) VENV=.venv-lowest LOWEST=1

# The release artefacts: a wheel and an sdist, checked as PyPI would (twine) and for what commonly
# goes wrong in a wheel (check-wheel-contents: missing or stray files, duplicates).
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(VENV)/bin/check-wheel-contents dist/*.whl
	$(VENV)/bin/twine check --strict dist/*

# The wheel installed in a fresh venv, away from the checkout (scripts/check_dist.sh says what runs).
test-dist: dist
	scripts/check_dist.sh $(PYTHON) dist

test-fast: $(STAMP)
	$(PY) -m pytest tests -x -q

notebooks: $(STAMP)
	env -u MIMO_API_KEY $(PY) scripts/execute_notebooks.py

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .venv .venv-* $(DEMO_DIR) .pytest_cache build *.egg-info docs/_build docs/_generated
