"""The streaming landing's loader loop: a write in the lake cuts its pause short (the
consumer wakes it), except right after it let the warehouse go, when readers get the whole
pause."""

from __future__ import annotations

import threading
import time

from f1pipe.config import load_settings
from f1pipe.live.landing import LoaderLoop, wait_for
from tests.warehouse.lakefiles import lake_objects, write_folder
from tests.warehouse.test_held import _car_records


def _loop(tmp_path, hold_s: float) -> tuple[LoaderLoop, list[float], threading.Thread]:
    settings = load_settings(lake=f"file://{tmp_path / 'lake'}",
                             warehouse=f"duckdb:///{tmp_path / 'f1.duckdb'}")
    loads: list[float] = []
    loop = LoaderLoop(settings, every_s=30.0, hold_s=hold_s, list_every_s=600.0,
                      on_load=lambda s: loads.append(s.rows_total))
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    assert wait_for(lambda: len(loads) == 1, 30)
    return loop, loads, thread


def test_a_nudge_starts_the_next_load_at_once(tmp_path):
    loop, loads, thread = _loop(tmp_path, hold_s=60.0)
    write_folder(tmp_path / "lake", lake_objects(_car_records(20), "parquet", batch=20))
    started = time.monotonic()
    loop.nudge()
    assert wait_for(lambda: len(loads) == 2, 10)  # not after the 30 s pause
    assert loads[1] == 20 and time.monotonic() - started < 10
    loop.stop()
    thread.join(30)
    assert not thread.is_alive() and loop.held.dest is None


def test_after_a_release_the_pause_is_kept_whole(tmp_path):
    loop, loads, thread = _loop(tmp_path, hold_s=0.0)  # every load lets the file go
    write_folder(tmp_path / "lake", lake_objects(_car_records(20), "parquet", batch=20))
    loop.nudge()
    time.sleep(1.5)
    assert len(loads) == 1  # still in the readers' pause
    loop.stop()  # stop still ends the pause, with a last load
    thread.join(30)
    assert loads == [0, 20]


def test_announced_objects_load_without_listing_the_lake_which_is_listed_in_time(tmp_path):
    """Between listings, a load looks at the objects announced to it alone; an object nobody
    announced waits for the next listing (every ``list_every_s``, and the last load)."""
    loop, loads, thread = _loop(tmp_path, hold_s=60.0)
    assert loop.listings == 1  # the first load lists
    announced = lake_objects(_car_records(20), "parquet", batch=20)
    unannounced = lake_objects(_car_records(20, 500), "parquet", batch=20)
    write_folder(tmp_path / "lake", {**announced, **unannounced})
    loop.nudge(next(iter(announced)))
    assert wait_for(lambda: len(loads) == 2, 10)
    assert (loads[1], loop.listings) == (20, 1)
    loop.nudge(next(iter(announced)))  # loaded already: a cheap look, nothing more
    assert wait_for(lambda: len(loads) == 3, 10) and loads[2] == 0
    loop.list_every_s = 0.0  # a listing is due
    loop.nudge(next(iter(announced)))
    assert wait_for(lambda: len(loads) == 4, 10)
    assert (loads[3], loop.listings) == (20, 2)  # the unannounced object, found by listing
    loop.stop()
    thread.join(30)
