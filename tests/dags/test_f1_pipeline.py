"""The Airflow 3 DAG, parsed and run end to end (dag.test) against the real local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.fixtures.fastf1 import recorded_dir

RUNNER = Path(__file__).with_name("dag_runner.py")
DAGS = Path(__file__).resolve().parents[2] / "dags"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return env


@pytest.fixture
def pipeline_env(airflow_env, kafka_bootstrap, tmp_path, topic_name):
    """The settings a deployment would give the DAG, as environment variables."""
    return {**airflow_env,
            "KAFKA_BROKER": kafka_bootstrap,
            "KAFKA_TOPIC": topic_name + "results",
            "F1PIPE_TOPIC_PREFIX": topic_name,
            "F1PIPE_DLQ_TOPIC": topic_name + "dlq",
            "F1PIPE_CONSUMER_GROUP": topic_name + "lake",
            "F1PIPE_LAKE": f"file://{tmp_path / 'lake'}",
            "F1PIPE_WAREHOUSE": f"duckdb:///{tmp_path / 'f1.duckdb'}",
            "F1PIPE_FASTF1_RECORDED": str(recorded_dir()),
            "F1PIPE_FASTF1_CACHE": str(tmp_path / "fastf1"),
            "F1PIPE_OFFLINE": "true",
            "F1PIPE_STATE_DIR": str(tmp_path / "state")}


def run_dag(env: dict[str, str], conf: dict) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run([sys.executable, str(RUNNER), "test", json.dumps(conf)], env=env,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    return done, json.loads(lines[-1][7:]) if lines else {}


def row_counts(warehouse_url: str) -> dict[str, int]:
    path = warehouse_url.removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        return {table: con.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("f1_results", "laps", "race_control_messages", "track_status")}


def test_dag_folder_imports_cleanly(airflow_env):
    done = subprocess.run([sys.executable, str(RUNNER), "parse"], env=airflow_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["import_errors"] == {}
    assert parsed["dag_ids"] == ["f1_pipeline"]


def describe(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(RUNNER), "describe"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_starts_paused_and_runs_on_race_weekends(airflow_env):
    env = {k: v for k, v in airflow_env.items() if k != "F1PIPE_DAG_SCHEDULE"}
    described = describe(env)
    assert described["paused_at_creation"] is True
    assert described["timetable"] == "CronTriggerTimetable"
    assert described["cron"] == "30 */3 * * 5,6,0"  # Friday to Sunday, every three hours
    assert described["max_active_runs"] == 1
    assert described["default_season"] == 2024  # manual runs: as before
    # a manual run loads its season; a scheduled one (or an empty season) its date's year
    assert described["seasons"] == {"manual": 2018, "manual_empty": 2025, "scheduled": 2025}


@pytest.mark.parametrize(("value", "timetable"), [("none", "NullTimetable"),
                                                  ("0 22 * * 0", "CronTriggerTimetable")])
def test_schedule_is_set_by_f1pipe_dag_schedule(airflow_env, value, timetable):
    described = describe({**airflow_env, "F1PIPE_DAG_SCHEDULE": value})
    assert described["timetable"] == timetable
    assert described["cron"] == (None if value == "none" else value)


@pytest.mark.integration
def test_dag_runs_end_to_end_and_reruns_change_nothing(pipeline_env):
    confs = [
        {"season": 2024, "round": 12, "sessions": ["R", "S"], "datasets": ["results"]},
        {"season": 2018, "round": 4, "sessions": ["R"],
         "datasets": ["results", "laps", "race_control", "track_status"]},
    ]
    for conf in confs:
        done, result = run_dag(pipeline_env, conf)
        assert result.get("state") == "success", (result, done.stderr[-3000:])
        assert set(result["tasks"]) == {"produce", "consume", "load", "transform", "check"}
    counts = row_counts(pipeline_env["F1PIPE_WAREHOUSE"])
    assert counts == {"f1_results": 40, "laps": 848, "race_control_messages": 109,
                      "track_status": 22}

    done, result = run_dag(pipeline_env, confs[1])
    assert result.get("state") == "success", (result, done.stderr[-3000:])
    assert row_counts(pipeline_env["F1PIPE_WAREHOUSE"]) == counts


@pytest.mark.integration
def test_bad_param_fails_with_validation_error(pipeline_env):
    done, result = run_dag(pipeline_env, {"season": 1900, "datasets": ["results"]})
    assert done.returncode != 0
    assert result.get("state") != "success"
    assert "ParamValidationError" in done.stdout + done.stderr


def test_the_dags_choices_match_f1pipes_own():
    """The DAG file keeps its dataset and session lists literal (it parses without f1pipe):
    they must not drift from the pipeline's."""
    import ast

    from f1pipe.pipeline import ALL_DATASETS
    from f1pipe.sources.schedule import SESSION_NAMES

    tree = ast.parse((DAGS / "f1_pipeline.py").read_text())
    lists = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
             if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
             and node.targets[0].id in ("DATASETS", "SESSIONS")}
    assert lists["DATASETS"] == list(ALL_DATASETS)
    assert sorted(lists["SESSIONS"]) == sorted(SESSION_NAMES)
