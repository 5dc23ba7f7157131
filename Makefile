# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv on first use and install the package with its extras.
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
# Each module is compiled once and its bytecode reused by every later process (test
# workers, the CLI tests' subprocesses, the tools): a shell that sets
# PYTHONDONTWRITEBYTECODE would have every process compile the library and its
# dependencies anew (about 28 CPU-seconds more over the tests that start subprocesses).
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Where `make docs-serve` listens (override: make docs-serve DOCS_ADDR=0.0.0.0:8080).
DOCS_ADDR ?= 127.0.0.1:8000

.PHONY: demo test pytest lint typecheck docs docs-serve soak dist wheel-check bench clean

# --no-compile: Python compiles a module when it is first imported; compiling all 600 MB
# of the development dependencies up front took about a third of the set-up's time.
# The venv starts without the pip it would copy in (five seconds of work, replaced at
# once): the current pip goes in first, installed by the interpreter's own pip (which
# needs pip 22.3 or later for --python; an older one falls back to ensurepip).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet --no-compile --upgrade pip \
		|| { $(BIN)/python -m ensurepip && $(BIN)/python -m pip install --quiet --upgrade pip; }
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/itsm-core demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples conftest.py
	$(BIN)/ruff format --check src tests bench examples conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy --strict

# The site is built into site/ (ignored by git); open site/index.html or run docs-serve.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	@echo "Serving the documentation at http://$(DOCS_ADDR)/ (rebuilt on every change; Ctrl+C stops)"
	$(BIN)/mkdocs serve --dev-addr $(DOCS_ADDR)

# The four checks run side by side (-O keeps each one's output together); the first
# to fail fails the whole. `make pytest` runs the tests alone.
test: $(STAMP)
	@$(MAKE) --no-print-directory -j4 -O lint typecheck docs pytest

pytest: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal --durations=10 --cov --cov-branch --cov-fail-under=95 --cov-report=term

# Every property with forty times the ci profile's examples, random draws (not in CI:
# run it before a release; it takes hours).
soak: $(STAMP)
	ITSM_HYPOTHESIS_PROFILE=soak $(BIN)/python -m pytest -n auto --dist worksteal --durations=20 -q

# The wheel and sdist in dist/, checked by twine.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The wheel installed into a fresh venv with pytest and without Hypothesis: the README
# example runs against it, and pytest still works there (a trivial test passes).
wheel-check: dist
	.ci/check-wheel dist

bench: $(STAMP)
	$(BIN)/python -m bench all

# Mutation testing of the calendar timeline, the SLA clocks and the permission engine
# (not in CI: minutes per module on two cores). Each mutant runs against the tests that
# reach the mutated function ([tool.mutmut] in pyproject.toml); results stay in mutants/
# and a second run only retests what changed. Narrow it to one module with, e.g.,
# make mutate MUTANTS='itsm_core.permissions._engine.*'
.PHONY: mutate
MUTANTS ?=
mutate: $(STAMP)
	ITSM_HYPOTHESIS_PROFILE=mutate nice -n 19 $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/python .ci/mutation_scores.py

clean:
	rm -rf $(VENV) site dist .mypy_cache .ruff_cache .coverage
