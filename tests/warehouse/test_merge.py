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


def _raw(warehouse) -> list[tuple]:
    sql = "SELECT object_key, kafka_offset FROM raw_results ORDER BY object_key, kafka_offset"
    return [tuple(r) for r in query(warehouse.settings, warehouse.url, sql)[1]]


def test_an_object_rewritten_after_its_load_replaces_its_raw_rows(warehouse, tmp_path):
    """A consumer killed after writing, before committing, rewrites its objects with other
    batch bounds: the next load replaces the object's raw rows (no record twice in raw)."""
    lake = tmp_path / "lake"
    drivers = [_result(25 - d, T0, driver=d) for d in (1, 4, 16, 44, 63)]
    records = as_records(drivers, "results-a", partitions=1)
    [(key, first)] = lake_objects(records, "jsonl", batch=10).items()
    write_folder(lake, {key: first})
    load(warehouse.settings, f"file://{lake}", warehouse.url)
    assert len(_raw(warehouse)) == 5
    # The rewrite: the same first offset (same name) with 3 records, the other 2 in a new one.
    rewritten = lake_objects(records[:3], "jsonl", batch=10)
    rest = lake_objects(records[3:], "jsonl", batch=10)
    assert list(rewritten) == [key] and key not in rest
    write_folder(lake, {**rewritten, **rest})
    summary = load(warehouse.settings, f"file://{lake}", warehouse.url)

    assert summary.objects_loaded == 2
    raw = _raw(warehouse)
    assert sorted(o for _, o in raw) == [0, 1, 2, 3, 4]  # each record once
    assert [o for k, o in raw if k == key] == [0, 1, 2]
    history = "SELECT COUNT(*), COUNT(DISTINCT object_key) FROM load_history"
    assert tuple(query(warehouse.settings, warehouse.url, history)[1][0]) == (3, 2)
    assert len(_points(warehouse)) == 5
