# stylegan_lit developer commands. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-fast lint format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package with its dev extra

demo: $(STAMP)  ## the main job: a short progressive training run on built-in synthetic faces
	$(VENV)/bin/stylegan-lit fit --config configs/demo.yaml

test: $(STAMP)  ## run the whole test suite
	$(PY) -m pytest

test-fast: $(STAMP)  ## the tests without the slow end-to-end ones
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)  ## ruff check, format check and the type checker (mypy, settings in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)  ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)  ## run the benchmark scripts (see benchmarks/README.md)
	$(PY) benchmarks/data_throughput.py

clean:  ## remove build artefacts (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
