# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv on first use and install the package with its extras.
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck docs docs-serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/itsm-core demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

test: lint typecheck docs
	$(BIN)/python -m pytest -n auto --durations=10 --cov --cov-branch --cov-fail-under=95 --cov-report=term

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
	ITSM_HYPOTHESIS_PROFILE=dev nice -n 19 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python .ci/mutation_scores.py

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache .coverage
