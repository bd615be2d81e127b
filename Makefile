# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
# Each sets up what it needs (virtualenv, pinned packages, broker jars) and skips what is there.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: setup browser test test-unit lint demo stack-up stack-down bench bench-quick bench-serve chaos airflow clean

# Offline (this machine, CI): FastF1 reads the recorded responses beside the project.
RECORDED ?= $(if $(wildcard ../shared/fastf1-cache/http_cache),$(abspath ../shared/fastf1-cache),)
ifneq ($(RECORDED),)
export F1PIPE_FASTF1_RECORDED ?= $(RECORDED)
export F1PIPE_OFFLINE ?= true
endif
DEMO_SEASON ?= 2024
BRITISH_GP := select position, classified_position as pos, abbreviation as driver, full_name, \
  team_name as team, grid_position as grid, laps, status, points from f1_results \
  where season = 2024 and round = 12 and session = 'R' order by position

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,airflow]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check src tests dags bench

# The browser tests drive Debian's Chromium with Playwright (Playwright's own download is never
# used): installed here when missing (needs root, as in CI).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

test: setup lint browser
	$(BIN)/f1pipe stack fetch
	$(BIN)/python -m pytest

test-unit: setup
	$(BIN)/python -m pytest -m "not integration"

demo: setup
	$(BIN)/f1pipe stack up
	$(BIN)/f1pipe run --season $(DEMO_SEASON) --allow-missing
	$(BIN)/f1pipe run --season 2018 --round 4 --datasets results,laps,race_control,weather,track_status --allow-missing
	@echo; echo "== $(DEMO_SEASON) standings over the rounds loaded"
	$(BIN)/f1pipe standings --season $(DEMO_SEASON)
	@$(BIN)/python -m f1pipe.reporting
	@echo "stop the stack with: make stack-down   (or .venv/bin/f1pipe stack down)"
	@echo; echo "== 2024 British Grand Prix (round 12), from the warehouse"
	$(BIN)/f1pipe query "$(BRITISH_GP)"

airflow: setup
	@scripts/airflow-standalone.sh

stack-up: setup
	$(BIN)/f1pipe stack up

stack-down: setup
	$(BIN)/f1pipe stack down

# Benchmarks (not tests: they record figures, never fail on a time). Each starts its own
# broker and S3 server on free ports; results in bench/results/<date>.json.
bench: setup
	$(BIN)/python -m bench.run

bench-quick: setup
	$(BIN)/python -m bench.run --quick

# f1pipe serve: feed -> browser latency at replay speed 20, and the API's filtered-laps query.
bench-serve: setup browser
	$(BIN)/python -m bench.serve

# Chaos at scale: kill -9 of consumer, loader and broker 60 times while 50k synthetic laps
# and a real race flow (make test runs the same test with 20 kills and 3k laps).
CHAOS_KILLS ?= 60
CHAOS_LAPS ?= 50000
chaos: setup
	$(BIN)/f1pipe stack fetch
	F1PIPE_CHAOS_KILLS=$(CHAOS_KILLS) F1PIPE_CHAOS_LAPS=$(CHAOS_LAPS) $(BIN)/python -m pytest -m chaos -s

clean:
	rm -rf .state lake f1.duckdb
