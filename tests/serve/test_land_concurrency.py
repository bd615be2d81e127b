"""The API and pages keep answering while `f1pipe land` writes the same DuckDB file during a
replay (DuckDB: one writing process, no reader while it writes), and they show its rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import duckdb
import pytest
import requests

from f1pipe.kafka.topics import existing_topics, live_topic
from f1pipe.serve.app import ServeOptions, running
from tests.live.live_harness import live_settings

READS = ["/v1/laps?season=2018&round=4&driver_number=44&lap_number>=10",
         "/v1/results?season=2024&round=12", "/race/2018/4", "/v1/live_timing?limit=100"]


def newest(rows: list[dict]) -> int:
    return max((r["session_time_ms"] for r in rows), default=0)


@pytest.mark.integration
def test_reads_answer_while_land_writes_the_same_file(
        kafka_settings, fastf1_offline, topic_name, tmp_path, warehouse_file):
    wh = tmp_path / "f1.duckdb"
    shutil.copy(warehouse_file, wh)
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path).model_copy(
        update={"warehouse": f"duckdb:///{wh}"})
    env = {**os.environ, **fastf1_offline.env(), "KAFKA_BROKER": settings.kafka_broker,
           "F1PIPE_TOPIC_PREFIX": settings.topic_prefix,
           "F1PIPE_DLQ_TOPIC": settings.dead_letter_topic, "F1PIPE_LAKE": settings.lake,
           "F1PIPE_WAREHOUSE": settings.warehouse, "F1PIPE_STATE_DIR": str(tmp_path / "st")}

    with running(settings, ServeOptions(port=0, live=False, refresh_every_s=0.2)) as url:
        # each in its own process, as on a race day
        player = subprocess.Popen(
            [sys.executable, "-m", "f1pipe.cli", "replay", "--season", "2018", "--round", "4",
             "--speed", "20", "--from", "3600s", "--duration", "300s", "--catch-up"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        tower = subprocess.Popen(
            [sys.executable, "-m", "f1pipe.cli", "tower", "--no-display", "--snapshot-every",
             "500ms", "--until-idle", "5s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        feed = live_topic("TimingData", settings)
        deadline = time.monotonic() + 120
        while feed not in existing_topics(settings) and time.monotonic() < deadline:
            time.sleep(0.5)  # the replay has read the session and started publishing
        land = subprocess.Popen([sys.executable, "-m", "f1pipe.cli", "land", "--until-idle",
                                 "8s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        statuses: Counter = Counter()
        landed: list[int] = []
        slowest = 0.0
        session = requests.Session()
        while land.poll() is None:
            for path in READS:
                started = time.perf_counter()
                response = session.get(f"{url}{path}", timeout=10)
                slowest = max(slowest, time.perf_counter() - started)
                statuses[response.status_code] += 1
                if "live_timing" in path:
                    landed.append(newest(response.json()))
        for process in (player, tower):
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
        _, stderr = land.communicate(timeout=30)
        assert land.returncode == 0, stderr
        con = duckdb.connect(str(wh), read_only=True)
        in_file = con.execute("SELECT max(session_time_ms) FROM live_timing").fetchone()[0]
        con.close()
        deadline = time.monotonic() + 10
        while newest(session.get(f"{url}/v1/live_timing", timeout=10).json()) != in_file \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        served = newest(session.get(f"{url}/v1/live_timing", timeout=10).json())
        final = session.get(f"{url}/health", timeout=10).json()

    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) > 20
    assert in_file >= 3_600_000 + 300_000 - 5_000 and served == in_file
    # the server saw the tower rows move while land was writing them, not only at the end
    growing = sorted(set(landed) - {0})
    assert len(growing) >= 2 and growing[0] < in_file, growing
    assert final["error"] is None
    print(f"reads: {sum(statuses.values())}, slowest {slowest * 1000:.0f} ms, refreshes "
          f"{final['refreshes']}, lock waits {final['lock_waits']}")
