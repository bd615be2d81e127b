"""f1pipe's in-process runner of the compiled dbt project: the same marts as ``dbt run``,
rebuilt only for the sessions whose facts changed, in one transaction, and the dbt tests
judged on the sessions asked for."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from f1pipe.errors import F1PipeError
from f1pipe.transform import MARTS, dbt_tests, transform
from f1pipe.transform.compiled import compiled_project
from f1pipe.transform.incremental import STATE_TABLE, build_marts
from tests.warehouse.harness import run_cli

RACE = "2018/4/R"


def differences(path_a, path_b) -> dict[str, tuple[int, int]]:
    """Per mart, rows only in a and rows only in b (both 0: the same rows)."""
    con = duckdb.connect(str(path_a), read_only=True)
    con.execute(f"ATTACH '{path_b}' AS other (READ_ONLY)")
    try:
        result = {}
        for mart in MARTS:
            only_a = con.execute(f"SELECT COUNT(*) FROM (SELECT * FROM {mart} EXCEPT ALL "
                                 f"SELECT * FROM other.{mart})").fetchone()[0]
            only_b = con.execute(f"SELECT COUNT(*) FROM (SELECT * FROM other.{mart} EXCEPT "
                                 f"ALL SELECT * FROM {mart})").fetchone()[0]
            result[mart] = (only_a, only_b)
        return result
    finally:
        con.close()


def execute(path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def fetch(path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def copy(marts_warehouse, tmp_path):
    return marts_warehouse.copy(tmp_path / "copy.duckdb")


def test_the_compiled_runner_builds_what_dbt_run_builds(marts_warehouse, tmp_path):
    """The marts of the fixture (built by f1pipe transform's default, compiled engine) are
    row for row those of `dbt run` itself on the same facts."""
    assert "(compiled)" in marts_warehouse.built
    by_dbt = marts_warehouse.copy(tmp_path / "dbt.duckdb")
    done = run_cli("transform", "--engine", "dbt", "--warehouse", by_dbt.url, cwd=tmp_path,
                   env={"F1PIPE_STATE_DIR": str(tmp_path / "state")})
    assert done.returncode == 0, done.stderr
    assert "(dbt)" in done.stdout
    assert differences(marts_warehouse.path, by_dbt.path) == dict.fromkeys(MARTS, (0, 0))
    for mart in MARTS:
        assert fetch(by_dbt.path, f"SELECT COUNT(*) FROM {mart}")[0][0] > 0, mart


def test_nothing_changed_nothing_rebuilt(copy):
    summary = transform(copy.settings, copy.url)
    assert summary.engine == "compiled" and summary.sessions == []
    assert {n.status for n in summary.models} == {"skipped"}


def test_only_the_changed_session_is_rebuilt_and_equals_a_full_refresh(copy, tmp_path):
    before = dict(fetch(copy.path, f"SELECT season || '/' || round || '/' || session, "
                                   f"transformed_at FROM {STATE_TABLE}"))
    # A late correction of the race: HAM's last stint loses its last lap (a new version of
    # his laps and a penalty on his result) - the marts of 2018/4/R must follow.
    execute(copy.path,
            "DELETE FROM laps WHERE season = 2018 AND round = 4 AND session = 'R' AND "
            "driver_number = 44 AND lap_number = (SELECT MAX(lap_number) FROM laps WHERE "
            "season = 2018 AND round = 4 AND session = 'R' AND driver_number = 44)",
            "UPDATE f1_results SET points = points - 2, kafka_offset = kafka_offset + 1000 "
            "WHERE season = 2024 AND round = 12 AND abbreviation = 'VER'")
    summary = transform(copy.settings, copy.url)
    assert summary.sessions == ["2018/4/R", "2024/12/R"]
    assert {n.status for n in summary.models} == {"success"}
    after = dict(fetch(copy.path, f"SELECT season || '/' || round || '/' || session, "
                                  f"transformed_at FROM {STATE_TABLE}"))
    assert after["2024/2/R"] == before["2024/2/R"]  # untouched session: not rebuilt
    assert after[RACE] > before[RACE]
    # the rebuilt marts are exactly what a full refresh builds
    full = copy.copy(tmp_path / "full.duckdb")
    assert transform(full.settings, full.url, full_refresh=True).sessions is None
    assert differences(copy.path, full.path) == dict.fromkeys(MARTS, (0, 0))
    # and they show the change: HAM's last stint is one lap shorter, VER 2 points fewer
    ham = fetch(copy.path, "SELECT MAX(last_lap) FROM stints WHERE season = 2018 AND "
                           "round = 4 AND driver_number = 44")[0][0]
    ham_laps = fetch(copy.path, "SELECT MAX(lap_number) FROM laps WHERE season = 2018 AND "
                                "round = 4 AND driver_number = 44")[0][0]
    assert ham == ham_laps
    ver = fetch(copy.path, "SELECT points FROM driver_standings WHERE season = 2024 AND "
                           "after_round = 12 AND driver = 'VER'")[0][0]
    assert ver == 41.0  # 18 + 25 - 2


def test_a_failing_model_changes_nothing(copy, marts_warehouse):
    execute(copy.path, "UPDATE laps SET lap_time_ms = lap_time_ms + 1, kafka_offset = "
                       "kafka_offset + 1000 WHERE season = 2018 AND round = 4")
    project = compiled_project(copy.settings)
    broken = dataclasses.replace(project, models=tuple(
        dataclasses.replace(m, sql="SELECT no_such_column FROM laps")
        if m.name == "race_pace" else m for m in project.models))
    con = duckdb.connect(str(copy.path))
    try:
        with pytest.raises(F1PipeError, match="transform failed building race_pace: .*"
                                              "nothing was changed"):
            build_marts(con, broken)
    finally:
        con.close()
    assert differences(copy.path, marts_warehouse.path) == dict.fromkeys(MARTS, (0, 0))
    # the session is still due: the next transform rebuilds it
    assert transform(copy.settings, copy.url).sessions == [RACE]


def test_a_new_version_of_the_project_rebuilds_everything(copy):
    project = dataclasses.replace(compiled_project(copy.settings), version="another")
    con = duckdb.connect(str(copy.path))
    try:
        summary = build_marts(con, project)
    finally:
        con.close()
    assert summary.sessions is None
    assert {n.status for n in summary.models} == {"success"}


def test_a_dropped_mart_rebuilds_everything(copy):
    execute(copy.path, "DROP TABLE lap_gaps")
    summary = transform(copy.settings, copy.url)
    assert summary.sessions is None
    assert fetch(copy.path, "SELECT COUNT(*) FROM lap_gaps")[0][0] > 0


def test_the_dbt_tests_judge_the_sessions_asked_for(copy):
    execute(copy.path, "UPDATE lap_positions SET position = 1 WHERE season = 2018 AND "
                       "round = 4 AND lap_number = 10")
    failing = {r.name for r in dbt_tests(copy.settings, copy.url, sessions=[RACE])
               if not r.passed}
    assert "dbt:lap_positions_are_one_to_n" in failing
    assert any(name.startswith("dbt:unique_key_lap_positions") for name in failing)
    other = dbt_tests(copy.settings, copy.url, sessions=["2024/12/R"])
    assert len(other) >= 30 and all(r.passed for r in other), [
        r.name for r in other if not r.passed]
    whole = {r.name for r in dbt_tests(copy.settings, copy.url) if not r.passed}
    assert "dbt:lap_positions_are_one_to_n" in whole
    # the failing rows are shown, not only counted
    result = next(r for r in dbt_tests(copy.settings, copy.url, sessions=[RACE])
                  if r.name == "dbt:lap_positions_are_one_to_n")
    assert result.columns[:4] == ["season", "round", "session", "lap_number"]
    assert result.rows[0][:4] == (2018, 4, "R", 10)


def test_checks_never_write(copy):
    before = copy.path.read_bytes()
    dbt_tests(copy.settings, copy.url, sessions=[RACE])
    assert copy.path.read_bytes() == before
