"""Each batch's records are staged per model table, their JSON read once into typed columns
(issue 19): a value that does not convert is still a reject with its reason, and a batch
moves only its own rejects and raw rows, never those a batch before it staged. On DuckDB and
Snowflake (fakesnow)."""

from __future__ import annotations

import json

import duckdb
import pytest

from f1pipe.warehouse import load, query
from f1pipe.warehouse.duckdb.client import database_path
from tests.lake.laps import lap_message
from tests.warehouse.conftest import duckdb_warehouse
from tests.warehouse.lakefiles import write_folder

pytestmark = pytest.mark.integration

FIRST = "f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000000.jsonl"
SECOND = "f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000004.jsonl"


def _lines(offsets: range, changes: dict[int, dict]) -> bytes:
    rows = []
    for offset in offsets:
        row = {**lap_message(offset), "kafka_topic": "f1.laps", "kafka_partition": 0,
               "kafka_offset": offset, "kafka_timestamp": 1_714_917_600_000 + offset}
        row.update(changes.get(offset, {}))
        rows.append(json.dumps(row))
    return "".join(f"{r}\n" for r in rows).encode()


def test_each_batch_moves_only_its_own_rejects_and_raw_rows(warehouse, tmp_path):
    lake = tmp_path / "lake"
    # First batch: a lap whose time is text (typed read: NULL, so a reject with its reason)
    # and a numeric string that converts; second batch: a record of no known schema.
    write_folder(lake, {
        FIRST: _lines(range(4), {1: {"lap_time_ms": "1:31.2"}, 2: {"position": "7"}}),
        SECOND: _lines(range(4, 8), {6: {"schema": {"name": "tyre_blanket", "version": 1}}}),
    })
    one_object_a_batch = warehouse.settings.model_copy(update={"load_batch_objects": 1})

    summary = load(one_object_a_batch, f"file://{lake}", warehouse.url)

    _, rejects = query(warehouse.settings, warehouse.url,
                       "SELECT object_key, kafka_offset, reason FROM load_rejects "
                       "ORDER BY kafka_offset")
    assert rejects == [(FIRST, 1, "lap_time_ms: cannot convert 1:31.2 to " +
                        {"duckdb": "BIGINT", "snowflake": "NUMBER(38,0)"}[warehouse.name]),
                       (SECOND, 6, "no model table for schema tyre_blanket")]
    _, laps = query(warehouse.settings, warehouse.url,
                    "SELECT kafka_offset, position FROM laps ORDER BY kafka_offset")
    assert [r[0] for r in laps] == [0, 2, 3, 4, 5, 7]
    assert dict(laps)[2] == 7
    _, raw = query(warehouse.settings, warehouse.url,
                   "SELECT object_key, kafka_offset FROM raw_laps ORDER BY kafka_offset")
    assert raw == [(FIRST, 0), (FIRST, 2), (FIRST, 3), (SECOND, 4), (SECOND, 5), (SECOND, 7)]
    assert (summary.objects_loaded, summary.rejected_records, summary.unrouted_records,
            summary.records["laps"]) == (2, 2, 1, 6)


def test_duckdb_keeps_raw_records_compressed_with_zstd(tmp_path):
    settings, url = (duck := duckdb_warehouse(tmp_path)).settings, duck.url
    lake = tmp_path / "lake"
    write_folder(lake, {FIRST: _lines(range(4), {})})

    load(settings, f"file://{lake}", url)

    con = duckdb.connect(database_path(url), read_only=True)
    try:
        kinds = {r[0] for r in con.execute(
            "SELECT compression FROM pragma_storage_info('raw_laps') "
            "WHERE column_name = 'v' AND segment_type <> 'VALIDITY'").fetchall()}
        records = con.execute("SELECT COUNT(*) FROM raw_laps WHERE v->>'lap_number' IS NOT NULL"
                              ).fetchone()[0]
    finally:
        con.close()
    assert kinds == {"ZSTD"}
    assert records == 4

