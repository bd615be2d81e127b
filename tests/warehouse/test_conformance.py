"""One set of assertions, run against DuckDB and Snowflake (fakesnow), on recorded F1 data."""

from __future__ import annotations

from collections import defaultdict

import pytest

from f1pipe.transform import run_all_checks
from f1pipe.warehouse import load, query, run_checks
from f1pipe.warehouse.standings import season_standings
from tests.warehouse.conftest import duckdb_warehouse, objects_of
from tests.warehouse.harness import IDENTICAL_QUERIES
from tests.warehouse.lakefiles import write_folder

# Recorded F1 data through both warehouses: seconds per test, not milliseconds.
pytestmark = pytest.mark.integration

COUNTS_2018_R4 = {"laps": 848, "race_control_messages": 109, "track_status": 22}
RESULT_FIELDS = ("round", "driver_number", "abbreviation", "team_name", "position",
                 "classified_position", "grid_position", "status", "points", "time_ms")


def _count(wh, table: str, where: str = "") -> int:
    return query(wh.settings, wh.url, f"SELECT COUNT(*) FROM {table} {where}")[1][0][0]


def test_results_laps_race_control_track_status(warehouse, recorded_lake, recorded_messages):
    summary = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)

    assert summary.failed == []
    assert _count(warehouse, "f1_results", "WHERE season = 2024") == 40
    points = query(warehouse.settings, warehouse.url,
                   "SELECT round, SUM(points) FROM f1_results WHERE season = 2024 "
                   "GROUP BY round ORDER BY round")[1]
    assert [(r, float(p)) for r, p in points] == [(2, 102.0), (12, 102.0)]
    for table, expected in COUNTS_2018_R4.items():
        where = "WHERE season = 2018 AND round = 4 AND session = 'R'"
        assert _count(warehouse, table, where) == expected
    columns = ", ".join(RESULT_FIELDS)
    _, rows = query(warehouse.settings, warehouse.url,
                    f"SELECT {columns} FROM f1_results WHERE season = 2024")
    fastf1 = {tuple(m[f] for f in RESULT_FIELDS) for m in recorded_messages["results"]
              if m["season"] == 2024}
    assert {tuple(row) for row in rows} == fastf1


def test_loading_twice_changes_nothing(warehouse, recorded_lake):
    first = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)
    second = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)

    assert first.objects_loaded > 0
    assert (second.objects_loaded, second.objects_skipped) == (0, first.objects_loaded)
    assert second.table_rows == first.table_rows


def test_duplicated_object_after_consumer_crash_adds_no_rows(warehouse, recorded_lake,
                                                             recorded_messages):
    first = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)
    # The same records again, cut at other batch boundaries: objects with other start offsets.
    rewritten = objects_of(recorded_messages, batch=150)
    new_keys = set(rewritten) - {p.relative_to(recorded_lake).as_posix()
                                 for p in recorded_lake.rglob("*.jsonl")}
    write_folder(recorded_lake, {k: rewritten[k] for k in new_keys})
    second = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)

    assert second.objects_loaded == len(new_keys) > 0
    assert sum(second.records.values()) > 0
    assert second.table_rows == first.table_rows


def test_standings_sum_the_rounds_points(warehouse, recorded_lake, recorded_messages):
    load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)
    result = season_standings(warehouse.settings, warehouse.url, 2024)

    drivers, teams = defaultdict(float), defaultdict(float)
    for m in recorded_messages["results"]:
        if m["season"] == 2024:
            drivers[m["abbreviation"]] += m["points"]
            teams[m["team_name"]] += m["points"]
    assert result.rounds == [2, 12]
    final = {s.name: s.points for s in result.drivers if s.after_round == 12}
    assert final == dict(drivers)
    assert {s.name: s.points for s in result.constructors if s.after_round == 12} == dict(teams)
    leader = max(drivers.items(), key=lambda item: item[1])
    assert [s.name for s in result.drivers if s.after_round == 12 and s.position == 1] \
        == [leader[0]]


def test_checks_pass_on_recorded_data(warehouse, recorded_lake):
    load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)
    # DuckDB: with dbt's tests of the facts, run in-process (dbt itself runs them on Snowflake:
    # tests/transform/test_snowflake.py, against a fakesnow server)
    on_duckdb = warehouse.name == "duckdb"
    report = (run_all_checks if on_duckdb else run_checks)(warehouse.settings, warehouse.url)

    assert report.failed_names() == []
    assert report.passed and report.passed_count == len(report.results) >= 10
    assert ("dbt:completed_laps_match_results" in {r.name for r in report.results}) == on_duckdb


CORRUPT = {
    "jsonl": b'{"schema": {"name": "lap", "version": 1}, "season": 20\n',  # cut mid-write
    "parquet": b"PAR1 not really parquet",
}


@pytest.mark.parametrize("fmt", sorted(CORRUPT))
def test_corrupt_object_is_reported_and_skipped(warehouse, recorded_lake, fmt):
    bad = recorded_lake / f"f1.laps/season=2018/round=4/session=R/f1.laps+9+0000000000.{fmt}"
    bad.write_bytes(CORRUPT[fmt])
    summary = load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)

    assert [key for key, _ in summary.failed] == [bad.relative_to(recorded_lake).as_posix()]
    assert "\n" not in summary.failed[0][1]
    assert summary.table_rows["laps"] == 848
    assert _count(warehouse, "f1_results") == 60


@pytest.mark.parametrize("fmt", ["parquet"])
def test_parquet_lake_loads_the_same(warehouse, tmp_path, recorded_messages, fmt):
    root = tmp_path / "lake-parquet"
    write_folder(root, objects_of(recorded_messages, fmt))
    summary = load(warehouse.settings, f"file://{root}", warehouse.url)

    assert summary.failed == []
    assert summary.table_rows["f1_results"] == 60
    assert {t: summary.table_rows[t] for t in COUNTS_2018_R4} == COUNTS_2018_R4


def test_duckdb_and_snowflake_answer_alike(recorded_lake, tmp_path, fakesnow_account):
    duck = duckdb_warehouse(tmp_path)
    load(duck.settings, f"file://{recorded_lake}", duck.url)
    load(fakesnow_account, f"file://{recorded_lake}", "snowflake")

    for sql in IDENTICAL_QUERIES:
        duck_columns, duck_rows = query(duck.settings, duck.url, sql)
        snow_columns, snow_rows = query(fakesnow_account, "snowflake", sql)
        assert snow_columns == duck_columns, sql
        assert len(duck_rows) > 0
        assert snow_rows == duck_rows, sql
