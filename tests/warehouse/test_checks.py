"""Each data-quality check fails on the rows that break it, on both warehouses."""

from __future__ import annotations

import pytest

from f1pipe.transform import run_all_checks
from f1pipe.warehouse import load, run_checks
from f1pipe.warehouse.destination import connect
from f1pipe.warehouse.standings import scoring_rules

TAMPERING = [
    # a second winner in 2024 round 12
    "UPDATE f1_results SET position = 1 WHERE season = 2024 AND round = 12 AND position = 2",
    # 40 points for the 2024 round 2 winner
    "UPDATE f1_results SET points = 40 WHERE season = 2024 AND round = 2 AND position = 1",
    # lap 10 of driver 44 missing in 2018 round 4
    "DELETE FROM laps WHERE season = 2018 AND driver_number = 44 AND lap_number = 10",
    # driver 5 has laps but no result in 2018 round 4
    "DELETE FROM f1_results WHERE season = 2018 AND driver_number = 5",
    # a second row for one result
    "INSERT INTO f1_results (season, round, session, driver_number, points) "
    "VALUES (2024, 2, 'R', 1, 0)",
    # a track status change without its time
    "INSERT INTO track_status (season, round, session, session_time_ms, status) "
    "VALUES (2018, 4, 'R', NULL, '1')",
]


def _tamper(warehouse) -> None:
    dest = connect(warehouse.settings, warehouse.url)
    try:
        for statement in TAMPERING:
            dest.execute(statement)
    finally:
        dest.close()


@pytest.mark.integration
def test_each_check_reports_its_failing_rows(warehouse, recorded_lake):
    load(warehouse.settings, f"file://{recorded_lake}", warehouse.url)
    _tamper(warehouse)
    # the contract's checks run on both; dbt's tests of the facts (dbt/tests/facts) run
    # in-process on DuckDB (on Snowflake dbt itself runs them: tests/transform/test_snowflake)
    on_duckdb = warehouse.name == "duckdb"
    report = (run_all_checks if on_duckdb else run_checks)(warehouse.settings, warehouse.url)

    assert not report.passed
    contract = {"points_within_rules", "unique_key:f1_results", "no_null_key:track_status"}
    facts = {"dbt:one_winner_per_race", "dbt:lap_numbers_without_gaps",
             "dbt:laps_drivers_in_results", "dbt:positions_1_to_n",
             "dbt:classified_position_format", "dbt:completed_laps_match_results"}
    assert set(report.failed_names()) == contract | (facts if on_duckdb else set())
    rows = {r.name: sorted(tuple(row) for row in r.rows) for r in report.results
            if r.name != "points_within_rules"}
    assert rows["unique_key:f1_results"] == [(2024, 2, "R", 1, 2)]
    assert [r[:4] for r in rows["no_null_key:track_status"]] == [(2018, 4, "R", None)]
    if on_duckdb:
        assert rows["dbt:one_winner_per_race"] == [(2024, 12, "R", 2)]
        assert rows["dbt:laps_drivers_in_results"] == [(2018, 4, "R", 5)]
        assert [r[:4] for r in rows["dbt:lap_numbers_without_gaps"]] == [(2018, 4, "R", 44)]
        # a second winner in 2024 round 12; 2018 round 4 lost its 4th (driver 5)
        assert [r[:3] for r in rows["dbt:positions_1_to_n"]] == [(2018, 4, "R"),
                                                                 (2024, 12, "R")]
        assert rows["dbt:classified_position_format"] == [(2024, 2, "R", 1, None)]
        assert rows["dbt:completed_laps_match_results"] == [(2018, 4, "R", 44, 51, 50)]
        assert "; dbt:one_winner_per_race (2024 round 12 R: 1 row); " in report.failure_line()
    rows["points_within_rules"] = [tuple(r) for r in report.get("points_within_rules").rows]
    limits = {(r[1], r[3], r[5]) for r in rows["points_within_rules"]}
    assert limits == {(2, 1, "driver max 26"), (2, None, "race max 102")}


def test_scoring_rules_per_season():
    assert scoring_rules(2024, "R").max_total == 102  # 101 + fastest lap
    assert scoring_rules(2018, "R").max_total == 101
    assert scoring_rules(2025, "R").max_driver == 25  # fastest-lap point dropped in 2025
    assert scoring_rules(2021, "S").max_total == 6
    assert scoring_rules(2023, "S").max_driver == 8
    assert scoring_rules(2024, "Q") is None
