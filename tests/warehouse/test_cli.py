"""The warehouse commands end to end on DuckDB: load, standings, query, check."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict

import duckdb
import pytest

from tests.warehouse.harness import run_cli

# Recorded F1 data through both warehouses: seconds per test, not milliseconds.
pytestmark = pytest.mark.integration


def _sums(messages, field: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for m in messages:
        if m["season"] == 2024:
            totals[m[field]] += m["points"]
    return dict(totals)


def test_load_standings_query_check(recorded_lake, recorded_messages, tmp_path):
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    loaded = run_cli("load", "--lake", f"file://{recorded_lake}", "--warehouse", url,
                     cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "objects 16 loaded, 0 already loaded, 0 skipped as unreadable" in loaded.stdout

    standings = run_cli("standings", "--season", "2024", "--warehouse", url, "--format", "json",
                        cwd=tmp_path)
    assert standings.returncode == 0, standings.stderr
    rows = json.loads(standings.stdout)
    final = {(r["championship"], r["name"]): r["points"] for r in rows if r["after_round"] == 12}
    results = recorded_messages["results"]
    assert {n: p for (c, n), p in final.items() if c == "drivers"} == _sums(results, "abbreviation")
    assert {n: p for (c, n), p in final.items() if c == "constructors"} \
        == _sums(results, "team_name")

    table = run_cli("standings", "--season", "2024", "--warehouse", url, cwd=tmp_path)
    assert "drivers' championship" in table.stdout and "after R12" in table.stdout

    counted = run_cli("query", "SELECT session, COUNT(*) AS n FROM laps GROUP BY session",
                      "--warehouse", url, "--format", "csv", cwd=tmp_path)
    assert list(csv.reader(io.StringIO(counted.stdout))) == [["session", "n"], ["R", "848"]]

    checked = run_cli("check", "--warehouse", url, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAIL" not in checked.stdout


def test_check_exits_non_zero_and_shows_failing_rows(recorded_lake, tmp_path):
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    run_cli("load", "--lake", f"file://{recorded_lake}", "--warehouse", url, cwd=tmp_path)
    with duckdb.connect(str(tmp_path / "f1.duckdb")) as con:  # f1pipe query cannot write
        con.execute("UPDATE f1_results SET position = 1 WHERE season = 2024 AND round = 12 "
                    "AND driver_number = 1")
    checked = run_cli("check", "--warehouse", url, cwd=tmp_path)

    assert checked.returncode == 1
    assert "FAIL dbt:one_winner_per_race" in checked.stdout
    assert "2024" in checked.stdout and "winners" in checked.stdout
    assert ("2 check(s) failed: dbt:one_winner_per_race (2024 round 12 R: 1 row); "
            "dbt:positions_1_to_n (2024 round 12 R: 1 row)") in checked.stderr
    as_json = json.loads(run_cli("check", "--warehouse", url, "--format", "json",
                                 cwd=tmp_path).stdout)
    failing = {c["check"]: c["failing_rows"] for c in as_json["checks"] if not c["passed"]}
    assert as_json["passed"] is False
    assert failing["dbt:one_winner_per_race"] == [
        {"season": 2024, "round": 12, "session": "R", "winners": 2}]
    assert set(failing) == {"dbt:one_winner_per_race", "dbt:positions_1_to_n"}
