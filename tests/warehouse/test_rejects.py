"""Rows the warehouse cannot convert go to ``load_rejects``; the rest of the object loads
(issue 13, item 3). On DuckDB and Snowflake (fakesnow)."""

from __future__ import annotations

import json

import pytest

from f1pipe.warehouse import load, query
from tests.lake.laps import lap_message
from tests.warehouse.lakefiles import write_folder

pytestmark = pytest.mark.integration

KEY = "f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000000.jsonl"
# Written by an older consumer (or by hand): the schemas refuse these today.
BAD = {
    1: ({"lap_number": "first"}, "lap_number: cannot convert first to "),
    2: ({"produced_at": "yesterday"}, "produced_at: cannot convert yesterday to TIMESTAMP"),
    3: ({"lap_time_ms": 10**40}, "lap_time_ms: cannot convert "),
    4: ({"driver_number": None}, "driver_number: missing (part of the natural key)"),
    5: ({"schema": {"name": "bogus", "version": 1}}, "no model table for schema bogus"),
}
# 2**70 fits Snowflake's NUMBER(38,0), not DuckDB's BIGINT; fakesnow (DuckDB underneath)
# rejects it too.
TOO_BIG_FOR_BIGINT = 6


def _object() -> bytes:
    rows = []
    for offset in range(10):
        row = {**lap_message(offset), "kafka_topic": "f1.laps", "kafka_partition": 0,
               "kafka_offset": offset, "kafka_timestamp": 1_714_917_600_000 + offset}
        row.update(BAD.get(offset, ({}, ""))[0])
        if offset == TOO_BIG_FOR_BIGINT:
            row["lap_number"] = 2**70
        rows.append(json.dumps(row))
    return "".join(f"{r}\n" for r in rows).encode()


def test_unconvertible_rows_are_quarantined_and_the_rest_loads(warehouse, tmp_path):
    lake = tmp_path / "lake"
    write_folder(lake, {KEY: _object()})

    first = load(warehouse.settings, f"file://{lake}", warehouse.url)
    again = load(warehouse.settings, f"file://{lake}", warehouse.url)

    expected = {offset: reason for offset, (_, reason) in BAD.items()}
    expected[TOO_BIG_FOR_BIGINT] = "lap_number: cannot convert 1180591620717411303424 to " + \
        {"duckdb": "BIGINT", "snowflake": "NUMBER(38,0)"}[warehouse.name]
    _, rejects = query(warehouse.settings, warehouse.url,
                       "SELECT object_key, kafka_topic, kafka_partition, kafka_offset, reason, "
                       "loaded_at FROM load_rejects ORDER BY kafka_offset")
    assert [(r[0], r[1], r[2], r[3]) for r in rejects] == \
        [(KEY, "f1.laps", 0, offset) for offset in sorted(expected)]
    for row in rejects:
        assert row[4].startswith(expected[row[3]]), row[4]
        assert row[5] is not None
    _, loaded = query(warehouse.settings, warehouse.url,
                      "SELECT kafka_offset FROM laps ORDER BY kafka_offset")
    assert [r[0] for r in loaded] == [o for o in range(10) if o not in expected]
    assert (first.failed, first.objects_loaded, first.rejected_records) == ([], 1, len(expected))
    assert first.unrouted_records == 1
    raw = query(warehouse.settings, warehouse.url, "SELECT COUNT(*) FROM raw_laps")[1][0][0]
    assert raw == 10 - len(expected)
    assert (again.objects_loaded, again.rejected_records) == (0, 0)
