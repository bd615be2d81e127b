"""A loading loop's held warehouse connection (:class:`HeldWarehouse`): the loads of a hold
share one connection; nothing new is skipped without a query; while held, another process
cannot open the DuckDB file, and after ``hold_s`` it can; a failed load drops the connection
and the next one opens a fresh one and still loads everything."""

from __future__ import annotations

import subprocess
import sys

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.lake.records import LakeRecord
from f1pipe.schemas import ENVELOPE_FIELDS, CarDataV1, make_message, validate_message
from f1pipe.warehouse import load, query
from f1pipe.warehouse.held import HeldWarehouse
from f1pipe.warehouse.loader import LoadMemory
from tests.warehouse.conftest import duckdb_warehouse
from tests.warehouse.lakefiles import lake_objects, write_folder

READ_IN_ANOTHER_PROCESS = (
    "import sys, duckdb\n"
    "try:\n"
    "    con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "except duckdb.IOException as exc:\n"
    "    print('locked' if 'lock' in str(exc).lower() else exc); sys.exit(3)\n"
    "print(con.execute('SELECT COUNT(*) FROM car_data').fetchone()[0])\n")


def _car_records(count: int, first_offset: int = 0) -> list[LakeRecord]:
    records = []
    for i in range(count):
        message = make_message(CarDataV1(
            season=2018, round=4, session="R", driver_number=1 + i % 20,
            time_utc=f"2018-04-29T12:{i // 1200 % 60:02d}:{(i + first_offset) // 20 % 60:02d}"
                     ".000Z",
            speed_kmh=100 + i % 200, session_time_ms=i), "test")
        records.append(LakeRecord("f1.car_data", 0, first_offset + i, 1, validate_message(
            message), {k: message[k] for k in ENVELOPE_FIELDS}))
    return records


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _read_elsewhere(path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", READ_IN_ANOTHER_PROCESS, str(path)],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.strip()


def test_the_loads_of_a_hold_share_one_connection_and_readers_get_in_after_it(tmp_path):
    wh = duckdb_warehouse(tmp_path)
    lake = f"file://{tmp_path / 'lake'}"
    write_folder(tmp_path / "lake", lake_objects(_car_records(40), "parquet", batch=20))
    clock = Clock()
    held = HeldWarehouse(wh.settings, wh.url, hold_s=1.0, clock=clock)
    memory = LoadMemory()

    first = load(wh.settings, lake, wh.url, memory=memory, held=held)
    assert (first.objects_loaded, first.table_rows["car_data"]) == (2, 40)
    assert held.is_open and held.schema_ready
    assert _read_elsewhere(tmp_path / "f1.duckdb") == (3, "locked")  # one process at a time

    idle = load(wh.settings, lake, wh.url, memory=memory, held=held)
    assert (idle.objects_skipped, idle.table_rows) == (2, {})  # nothing new: no query at all

    write_folder(tmp_path / "lake", lake_objects(_car_records(20, 500), "parquet", batch=20))
    new = load(wh.settings, lake, wh.url, memory=memory, held=held)
    assert (new.objects_loaded, new.table_rows["car_data"]) == (1, 60)
    assert held.opened == 1  # three loads, one connection
    assert held.fetch("SELECT COUNT(*) FROM raw_car_data") == (["count_star()"], [(60,)])

    clock.now += 0.5
    assert not held.release_if_due() and held.is_open
    clock.now += 0.5
    assert held.release_if_due(then=lambda: memory.after_close(wh.url)) and not held.is_open
    held.wait_closed()  # it closes in a thread of its own (the loop pauses meanwhile)
    assert _read_elsewhere(tmp_path / "f1.duckdb") == (0, "60")  # checkpointed, readable

    after = load(wh.settings, lake, wh.url, memory=memory, held=held)
    assert (after.objects_skipped, after.table_rows) == (3, {})  # the file did not change
    held.close()


def test_a_failed_load_drops_the_connection_and_the_next_opens_a_fresh_one(tmp_path):
    wh = duckdb_warehouse(tmp_path)
    lake = f"file://{tmp_path / 'lake'}"
    write_folder(tmp_path / "lake", lake_objects(_car_records(40), "parquet", batch=20))
    held = HeldWarehouse(wh.settings, wh.url, hold_s=60.0)
    load(wh.settings, lake, wh.url, held=held)
    held.dest.execute("DROP TABLE load_history")  # the held session's tables, checked once

    with pytest.raises(F1PipeError, match="load_history"):
        load(wh.settings, lake, wh.url, held=held)
    assert not held.is_open

    again = load(wh.settings, lake, wh.url, held=held)  # tables checked again, all reloaded
    assert (held.opened, again.objects_loaded, again.table_rows["car_data"]) == (2, 2, 40)
    held.close()
    _, rows = query(wh.settings, wh.url, "SELECT COUNT(*) FROM load_history")
    assert rows == [(2,)]


def test_a_held_loop_looks_up_only_new_keys_and_still_replaces_a_rewritten_object(tmp_path):
    """On the connection it holds, a loop's memory stands for ``load_history``: a load reads
    the history rows of the new objects' keys only, and an object rewritten under its old
    name (a consumer killed before committing, other batch bounds) still replaces its raw
    rows instead of adding to them."""
    wh = duckdb_warehouse(tmp_path)
    lake = f"file://{tmp_path / 'lake'}"
    first_two = lake_objects(_car_records(40), "parquet", batch=20)
    write_folder(tmp_path / "lake", first_two)
    held = HeldWarehouse(wh.settings, wh.url, hold_s=60.0)
    memory = LoadMemory()
    load(wh.settings, lake, wh.url, memory=memory, held=held)

    history_reads: list[str] = []
    fetch = held.dest.fetch

    def spying(sql, params=()):
        if "FROM load_history" in sql:
            history_reads.append(sql)
        return fetch(sql, params)

    held.dest.fetch = spying
    rewritten = lake_objects(_car_records(10), "parquet", batch=10)  # same first key
    assert set(rewritten) <= set(first_two)
    write_folder(tmp_path / "lake", rewritten)
    again = load(wh.settings, lake, wh.url, memory=memory, held=held)
    assert again.objects_loaded == 1
    assert len(history_reads) == 1 and "WHERE object_key IN" in history_reads[0]
    assert held.fetch("SELECT COUNT(*) FROM raw_car_data") == (["count_star()"], [(30,)])
    held.close()


def test_a_release_closes_in_the_background_and_a_failed_close_is_reported_once():
    class Closing:
        def __init__(self, fails: bool):
            self.fails, self.closed = fails, False

        def close(self):
            self.closed = True
            if self.fails:
                raise RuntimeError("disk\nfull")

    clock = Clock()
    held = HeldWarehouse(None, "duckdb:///unused", hold_s=1.0, clock=clock)
    for fails in (False, True):
        held.dest, held.opened_at = Closing(fails), clock.now
        dest, noted = held.dest, []
        clock.now += 1.0
        assert held.release_if_due(then=lambda noted=noted: noted.append(True))
        assert held.dest is None
        if fails:
            with pytest.raises(F1PipeError, match="closing the warehouse failed: disk full"):
                held.wait_closed()
        else:
            held.wait_closed()
        assert dest.closed and noted == ([] if fails else [True])
        held.wait_closed()  # reported once
