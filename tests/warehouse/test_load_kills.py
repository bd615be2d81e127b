"""A killed load keeps the batches it committed and leaves no duplicate raw rows (issue 13,
item 4): ``f1pipe load`` is killed with SIGKILL at seeded random moments, then run to the
end; the raw tables hold each lake record once and the model each fact once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from tests.lake.laps import lap_message
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

pytestmark = pytest.mark.integration

LAPS = 4_500  # in 900 objects of 5
BATCH_OBJECTS = 25  # objects per load transaction: 36 of them
KILLS = 8
SEED = 13


def _load(lake, url, cwd) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "f1pipe.cli", "load", "--lake", f"file://{lake}",
         "--warehouse", url],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "F1PIPE_ENV_FILE": "/dev/null",
             "F1PIPE_LOAD_BATCH_OBJECTS": str(BATCH_OBJECTS)})


def _timed(lake, url, cwd) -> float:
    started = time.monotonic()
    process = _load(lake, url, cwd)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    return time.monotonic() - started


def test_load_killed_8_times_then_finished_holds_each_record_once(tmp_path):
    lake = tmp_path / "lake"
    write_folder(lake, lake_objects(as_records([lap_message(i) for i in range(LAPS)],
                                               "f1.laps"), batch=5))
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    # This machine's pace: a command's start-up (an empty lake), and the whole load (into a
    # scratch warehouse). Each kill comes after the start-up and within the first 30% of the
    # loading, so the first three runs are always killed mid-load, whatever the machine.
    (tmp_path / "empty").mkdir()
    startup = _timed(tmp_path / "empty", f"duckdb:///{tmp_path}/scratch0.duckdb", tmp_path)
    loading = max(0.5, _timed(lake, f"duckdb:///{tmp_path}/scratch.duckdb", tmp_path) - startup)
    rng = random.Random(SEED)
    killed_mid_load = 0
    for _ in range(KILLS):
        process = _load(lake, url, tmp_path)
        time.sleep(startup + rng.uniform(0.05, 0.3) * loading)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_load += 1
        process.wait()
        if process.returncode == 0:
            break  # finished before its kill: nothing left to interrupt
    final = _load(lake, url, tmp_path)
    assert final.wait(timeout=300) == 0, final.stderr.read()

    assert killed_mid_load >= 3
    with duckdb.connect(str(tmp_path / "f1.duckdb"), read_only=True) as con:
        def one(sql):
            return con.execute(sql).fetchone()

        assert one("SELECT COUNT(*), COUNT(DISTINCT (kafka_partition, kafka_offset)) "
                   "FROM raw_laps") == (LAPS, LAPS)
        assert one("SELECT COUNT(*), COUNT(DISTINCT (driver_number, lap_number)) "
                   "FROM laps") == (LAPS, LAPS)
        assert one("SELECT COUNT(*), COUNT(DISTINCT object_key) FROM load_history") == \
            (LAPS // 5, LAPS // 5)
        assert one("SELECT SUM(records) FROM load_history") == (LAPS,)
        assert one("SELECT COUNT(*) FROM load_rejects") == (0,)
