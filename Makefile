# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
# Each sets up what it needs (virtualenv, pinned packages, broker jars) and skips what is there.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: setup test test-unit lint demo stack-up stack-down bench bench-quick airflow clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,airflow]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check src tests dags bench

test: setup lint
	$(BIN)/f1pipe stack fetch
	$(BIN)/python -m pytest

test-unit: setup
	$(BIN)/python -m pytest -m "not integration"

stack-up: setup
	$(BIN)/f1pipe stack up

stack-down: setup
	$(BIN)/f1pipe stack down

clean:
	rm -rf .state lake f1.duckdb
