"""Standings: countback on equal points, sprint points, partial-season titles (DuckDB)."""

from __future__ import annotations

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.warehouse.destination import connect
from f1pipe.warehouse.loader import ensure_schema
from f1pipe.warehouse.standings import scoring_rules, standings_from
from tests.warehouse.conftest import duckdb_warehouse

# A hand-built 2024 season of two rounds: (round, session, driver, team, classified, points).
TIES = [
    # AAA and BBB: 25 points each; BBB won a race, AAA did not -> BBB ahead (not by name).
    (1, "R", "AAA", "Alpha", "3", 15), (2, "R", "AAA", "Alpha", "5", 10),
    (1, "R", "BBB", "Bravo", "1", 25), (2, "R", "BBB", "Bravo", "R", 0),
    # CCC and DDD: 24 each; DDD has a 2nd, CCC two 4ths -> DDD ahead (best place first).
    (1, "R", "CCC", "Charlie", "4", 12), (2, "R", "CCC", "Charlie", "4", 12),
    (1, "R", "DDD", "Delta", "2", 18), (2, "R", "DDD", "Delta", "7", 6),
    # EEE: 8 sprint points and a sprint win; FFF: 8 race points -> FFF (sprints are not
    # counted back); GGG and HHH: no points, no finishes -> they share a position.
    (1, "S", "EEE", "Echo", "1", 8), (1, "R", "FFF", "Foxtrot", "6", 8),
    (2, "R", "GGG", "Golf", "R", 0), (2, "R", "HHH", "Hotel", "W", 0),
]


@pytest.fixture
def dest(tmp_path):
    wh = duckdb_warehouse(tmp_path)
    destination = connect(wh.settings, wh.url)
    ensure_schema(destination)
    yield destination
    destination.close()


def insert(dest, season: int, rows) -> None:
    for number, (rnd, session, name, team, classified, points) in enumerate(rows, start=1):
        kind = "race" if session == "R" else "sprint"
        dest.execute(
            "INSERT INTO f1_results (season, round, session, session_type, driver_number, "
            "abbreviation, team_name, classified_position, points) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (season, rnd, session, kind, number, name, team, classified, points))


def test_equal_points_are_separated_by_countback(dest):
    insert(dest, 2024, TIES)
    result = standings_from(dest, 2024, season_rounds=24)
    final = [(s.position, s.name, s.points) for s in result.drivers if s.after_round == 2]

    assert final == [
        (1, "BBB", 25), (2, "AAA", 25), (3, "DDD", 24), (4, "CCC", 24),
        (5, "FFF", 8), (6, "EEE", 8), (7, "GGG", 0), (7, "HHH", 0),
    ]
    teams = [(s.position, s.name) for s in result.constructors if s.after_round == 2]
    assert teams[:4] == [(1, "Bravo"), (2, "Alpha"), (3, "Delta"), (4, "Charlie")]
    assert result.title("drivers") == "2024 drivers' championship after rounds 1, 2 (2 of 24)"


def test_title_of_a_complete_season(dest):
    insert(dest, 2024, [(1, "R", "AAA", "Alpha", "1", 25)])
    result = standings_from(dest, 2024, season_rounds=1)

    assert result.title("constructors") == "2024 constructors' championship after all 1 rounds"
    assert standings_from(dest, 2024).title("drivers") == \
        "2024 drivers' championship after round 1"


def test_season_with_only_qualifying_says_what_it_has_and_what_to_run(dest):
    dest.execute("INSERT INTO f1_results (season, round, session, session_type, driver_number) "
                 "VALUES (2023, 8, 'Q', 'qualifying', 1)")
    with pytest.raises(F1PipeError) as raised:
        standings_from(dest, 2023)
    assert str(raised.value) == (
        "no race or sprint results of 2023 in the warehouse, only Q (1 round): run f1pipe run "
        "--season 2023 (it loads races and sprints)")


def test_2021_sprint_named_sq_scores_as_a_sprint():
    assert scoring_rules(2021, "SQ").positions == (3, 2, 1)
    assert scoring_rules(2024, "SQ") is None
    assert scoring_rules(2024, "sprint").max_driver == 8


def test_a_warehouse_from_before_session_type_is_upgraded(tmp_path):
    import duckdb

    wh = duckdb_warehouse(tmp_path)
    with duckdb.connect(wh.url.removeprefix("duckdb:///")) as con:  # the old f1_results
        con.execute("CREATE TABLE f1_results (season INTEGER, round INTEGER, session VARCHAR, "
                    "driver_number INTEGER, points DOUBLE)")
        con.execute("INSERT INTO f1_results VALUES (2021, 10, 'SQ', 33, 3), "
                    "(2023, 4, 'SS', 1, 0), (2024, 12, 'R', 44, 25)")
    destination = connect(wh.settings, wh.url)
    try:
        ensure_schema(destination)
        _, rows = destination.fetch("SELECT session, session_type, classified_position "
                                    "FROM f1_results ORDER BY season")
    finally:
        destination.close()
    assert rows == [("SQ", "sprint", None), ("SS", "sprint_qualifying", None),
                    ("R", "race", None)]
