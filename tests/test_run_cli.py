"""``f1pipe run`` judges the sessions it loaded: a failing session fails its own run (exit 1,
the failing rows printed, the summary kept), and a later run of another session into the
same warehouse passes. Real broker, real FastF1 on the recorded cache, DuckDB."""

from __future__ import annotations

import pytest

from tests.warehouse.test_errors import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(kafka_bootstrap, fastf1_offline, tmp_path, topic_name):
    return {**fastf1_offline.env(), "KAFKA_BROKER": kafka_bootstrap,
            "KAFKA_TOPIC": f"{topic_name}results", "F1PIPE_TOPIC_PREFIX": topic_name,
            "F1PIPE_CONSUMER_GROUP": f"{topic_name}lake", "F1PIPE_STATE_DIR": str(tmp_path / "st"),
            "F1PIPE_LAKE": f"file://{tmp_path / 'lake'}",
            "F1PIPE_WAREHOUSE": f"duckdb:///{tmp_path / 'f1.duckdb'}"}


def test_a_failing_session_fails_its_own_run_only(env, tmp_path):
    # 2020 round 5 FP2: the timing data is recorded, the driver list is not, so FastF1
    # gives laps but no classification: every lapping driver lacks a result.
    failed = run_cli("run", "--season", "2020", "--round", "5", "--session", "FP2",
                     "--datasets", "results,laps", "--allow-missing", env=env, cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "not available (1): 2020 FP2 results: round 5" in failed.stdout
    assert "FAIL dbt:laps_drivers_in_results" in failed.stdout
    assert "│ 2020   │ 5     │ FP2     │ 44" in failed.stdout  # a failing row, in the table
    error = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert error == ["error: data-quality checks failed: dbt:laps_drivers_in_results (2020 round 5 "
                     "FP2: 20 rows); the failing rows are listed above (again: f1pipe check)"]

    passed = run_cli("run", "--season", "2024", "--round", "12", env=env, cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "checks passed:" in passed.stdout

    check = run_cli("check", env=env, cwd=tmp_path)
    assert check.returncode == 1
    assert "1 check(s) failed: dbt:laps_drivers_in_results (2020 round 5 FP2: 20 rows)" in \
        check.stderr.replace("\n", " ")
    only_2024 = run_cli("check", "--sessions", "2024/12/R", env=env, cwd=tmp_path)
    assert only_2024.returncode == 0, only_2024.stderr


def test_sq_and_ss_stand_for_each_other(env, tmp_path):
    done = run_cli("run", "--season", "2024", "--round", "5", "--session", "SS",
                   "--datasets", "results", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = run_cli("query", "select session, session_type, count(*) as n, count(q1_ms) as q1 "
                    "from f1_results group by all", "--format", "csv", env=env, cwd=tmp_path)
    assert table.stdout.splitlines()[1:] == ["SQ,sprint_qualifying,20,20"]
