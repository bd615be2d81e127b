"""MERGE keeps the newest version of a fact, whatever order the objects arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from f1pipe.schemas import ResultV1, make_message
from f1pipe.warehouse import load, query
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

T0 = datetime(2024, 7, 7, 16, 0, tzinfo=UTC)


def _result(points: float, produced_at: datetime, driver: int = 44) -> dict:
    payload = ResultV1(season=2024, round=12, session="R", event_name="British Grand Prix",
                       session_name="Race", driver_number=driver, position=1, points=points)
    return make_message(payload, "test", produced_at)


def _write(root, messages, topic):
    write_folder(root, lake_objects(as_records(messages, topic), "jsonl", batch=10))


def _points(warehouse) -> list[tuple]:
    sql = "SELECT driver_number, points, produced_at FROM f1_results ORDER BY driver_number"
    return [tuple(r) for r in query(warehouse.settings, warehouse.url, sql)[1]]


def test_newer_version_replaces_older_never_the_reverse(warehouse, tmp_path):
    lake = tmp_path / "lake"
    _write(lake, [_result(18, T0), _result(10, T0, driver=1)], "results-a")
    load(warehouse.settings, f"file://{lake}", warehouse.url)
    # A correction in the next load, then an older version arriving late, in a load of its own.
    _write(lake, [_result(25, T0 + timedelta(minutes=5))], "results-b")
    corrected = load(warehouse.settings, f"file://{lake}", warehouse.url)
    _write(lake, [_result(12, T0 - timedelta(minutes=5))], "results-c")
    late = load(warehouse.settings, f"file://{lake}", warehouse.url)

    assert (corrected.objects_loaded, late.objects_loaded) == (1, 1)
    assert _points(warehouse) == [(1, 10.0, T0.replace(tzinfo=None)),
                                  (44, 25.0, (T0 + timedelta(minutes=5)).replace(tzinfo=None))]


def test_within_one_load_the_newest_version_wins(warehouse, tmp_path):
    lake = tmp_path / "lake"
    _write(lake, [_result(25, T0 + timedelta(minutes=5))], "results-a")
    _write(lake, [_result(18, T0), _result(12, T0 - timedelta(minutes=5))], "results-b")
    load(warehouse.settings, f"file://{lake}", warehouse.url)

    assert _points(warehouse) == [(44, 25.0, (T0 + timedelta(minutes=5)).replace(tzinfo=None))]


def test_duplicates_within_one_load_make_one_row(warehouse, tmp_path):
    lake = tmp_path / "lake"
    same = _result(25, T0)
    # The same message twice in one topic (new offsets, same event id) and once in another.
    _write(lake, [same, same], "results-a")
    _write(lake, [same], "results-b")
    summary = load(warehouse.settings, f"file://{lake}", warehouse.url)

    assert summary.records["f1_results"] == 3
    assert summary.table_rows["f1_results"] == 1
