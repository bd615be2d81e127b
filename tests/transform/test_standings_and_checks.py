"""Standings marts against f1_results and the Python standings; `f1pipe check` reporting the
marts' dbt tests, passing and failing."""

from __future__ import annotations

import json

import duckdb

from f1pipe.transform import MARTS, run_all_checks
from f1pipe.warehouse.standings import season_standings
from tests.warehouse.harness import one_error_line, run_cli


def rows(path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_run_built_every_mart(marts_warehouse):
    assert "10 models built" in marts_warehouse.built
    for mart in MARTS:
        assert f"{mart} " in marts_warehouse.built
    for mart in MARTS:
        assert rows(marts_warehouse.path, f"SELECT COUNT(*) FROM {mart}")[0][0] > 0, mart


def test_2024_standings_are_the_sums_of_the_points(marts_warehouse):
    path = marts_warehouse.path
    assert rows(path, "SELECT DISTINCT after_round FROM driver_standings WHERE season = 2024 "
                      "ORDER BY 1") == [(2,), (12,)]
    for table, name in (("driver_standings", "driver"), ("constructor_standings", "team_name")):
        got = dict(rows(path, f"SELECT {name}, points FROM {table} "
                              "WHERE season = 2024 AND after_round = 12"))
        key = "abbreviation" if name == "driver" else "team_name"
        expected = dict(rows(path, f"SELECT {key}, SUM(points) FROM f1_results WHERE season = "
                                   "2024 AND session_type IN ('race', 'sprint') GROUP BY 1"))
        assert got == expected
    # After round 12: Verstappen 18 + 25, Hamilton 0 + 27 ... as the results give them
    leader = rows(path, "SELECT driver, team_name, points, position FROM driver_standings "
                        "WHERE season = 2024 AND after_round = 12 AND position = 1")
    assert leader == [("VER", "Red Bull", 43.0, 1)]


def test_standings_marts_agree_with_the_python_standings(marts_warehouse):
    python = season_standings(marts_warehouse.settings, marts_warehouse.url, 2024)
    marts = rows(marts_warehouse.path, "SELECT after_round, driver, position, team_name, "
                 "points FROM driver_standings WHERE season = 2024 ORDER BY after_round, driver")
    assert marts == sorted((s.after_round, s.name, s.position, s.team, s.points)
                           for s in python.drivers)
    teams = rows(marts_warehouse.path, "SELECT after_round, team_name, position, points FROM "
                 "constructor_standings WHERE season = 2024 ORDER BY after_round, team_name")
    assert teams == sorted((s.after_round, s.name, s.position, s.points)
                           for s in python.constructors)


def test_check_runs_the_dbt_tests(marts_warehouse):
    report = run_all_checks(marts_warehouse.settings, marts_warehouse.url)
    dbt = [r for r in report.results if r.name.startswith("dbt:")]
    assert len(dbt) >= 30
    assert {"dbt:stints_cover_every_lap", "dbt:lap_positions_are_one_to_n",
            "dbt:standings_add_up_to_the_results"} <= {r.name for r in dbt}
    assert report.passed, report.failed_names()


def test_a_broken_mart_fails_check_naming_the_dbt_test(marts_warehouse, tmp_path):
    broken = marts_warehouse.copy(tmp_path / "broken.duckdb")
    con = duckdb.connect(str(broken.path))
    con.execute("INSERT INTO stints SELECT * FROM stints WHERE driver_number = 44 "
                "AND stint_number = 2")
    con.execute("UPDATE lap_positions SET position = 1 WHERE lap_number = 10")
    con.close()
    env = {"F1PIPE_STATE_DIR": str(tmp_path / "state")}
    done = run_cli("check", "--warehouse", broken.url, "--format", "json", env=env,
                   cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    failing = {c["check"] for c in json.loads(done.stdout)["checks"] if not c["passed"]}
    assert "dbt:lap_positions_are_one_to_n" in failing
    assert "dbt:stints_cover_every_lap" in failing
    assert any(name.startswith("dbt:unique_key_stints") for name in failing)
    assert not any(name.startswith("dbt:unique_key_pit_stops") for name in failing)


def test_transform_without_dbt_says_how_to_get_it(tmp_path):
    done = run_cli("transform", "--warehouse", f"duckdb:///{tmp_path}/f1.duckdb",
                   env={"F1PIPE_DBT": str(tmp_path / "no-dbt")}, cwd=tmp_path)
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "dbt not found at" in line and "make setup" in line


def test_transform_of_an_empty_warehouse_is_one_line(tmp_path):
    done = run_cli("transform", "--warehouse", f"duckdb:///{tmp_path}/empty.duckdb",
                   env={"F1PIPE_STATE_DIR": str(tmp_path / "state")}, cwd=tmp_path)
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "no f1_results table" in line and "f1pipe load" in line, line


def test_standings_command_reads_the_marts_while_they_are_current(marts_warehouse, tmp_path):
    env = {"F1PIPE_STATE_DIR": str(tmp_path / "state")}
    from_marts = run_cli("standings", "--season", "2024", "--warehouse", marts_warehouse.url,
                         "--format", "json", env=env, cwd=tmp_path)
    assert from_marts.returncode == 0, from_marts.stderr
    assert "standings from the marts" in from_marts.stderr
    python = season_standings(marts_warehouse.settings, marts_warehouse.url, 2024)
    expected = [["drivers", s.after_round, s.position, s.name, s.team, s.points]
                for s in python.drivers]
    got = [list(r.values()) for r in json.loads(from_marts.stdout)
           if r["championship"] == "drivers"]
    assert got == expected

    stale = marts_warehouse.copy(tmp_path / "stale.duckdb")
    con = duckdb.connect(str(stale.path))
    con.execute("UPDATE f1_results SET points = points + 3 WHERE season = 2024 AND round = 12 "
                "AND abbreviation = 'NOR'")
    con.close()
    computed = run_cli("standings", "--season", "2024", "--warehouse", stale.url,
                       "--format", "json", env=env, cwd=tmp_path)
    assert computed.returncode == 0, computed.stderr
    assert "computed from f1_results" in computed.stderr
    nor = [r for r in json.loads(computed.stdout) if r["name"] == "NOR"
           and r["after_round"] == 12]
    assert nor[0]["points"] == 22
