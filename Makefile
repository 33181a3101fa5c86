# mimo_nb: `make demo` writes a report for a generated clip; `make test` runs every check.
# Both create .venv with the Python found below and install what they need into it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
DEMO_DIR  := demo-output

.PHONY: help setup demo test test-fast notebooks bench clean

help:
	@echo "make demo   set up .venv, generate a sample clip and write an HTML report"
	@echo "make test   set up .venv and run the tests and the notebooks (nbval)"
	@echo "make notebooks  re-execute the notebooks with deterministic outputs"
	@echo "make bench  run the benchmarks (speed and memory, printed as ratios)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mimo-nb demo --output $(DEMO_DIR)

# The key is removed so the committed dry-run outputs of the notebooks compare under nbval.
test: $(STAMP)
	$(PY) -m mypy mimo_nb
	env -u MIMO_API_KEY -u MIMO_NB_OFFLINE $(PY) -m pytest tests $(if $(NOTEBOOKS),--nbval $(NOTEBOOKS) --nbval-sanitize-with notebooks/sanitize.cfg)

test-fast: $(STAMP)
	$(PY) -m pytest tests -x -q

notebooks: $(STAMP)
	env -u MIMO_API_KEY $(PY) scripts/execute_notebooks.py

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build *.egg-info
