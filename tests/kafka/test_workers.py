"""Consumers scaled out on the session's broker: ``f1pipe consume --workers N`` shares the
partitions of one group over N processes, each object written once; a failing worker stops
the command with a line naming it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.lake.harness import (
    all_rows,
    assert_names_match_contents,
    cli_env,
    event_ids,
    folder_objects,
    lap_values,
    produce,
)

pytestmark = pytest.mark.integration


def _consume(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "f1pipe.cli", "consume", *args],
                          capture_output=True, text=True, timeout=300,
                          env=cli_env(settings, PYTHONWARNINGS="ignore"))


def test_three_workers_share_six_partitions_and_write_each_record_once(kafka_settings,
                                                                        topic_name, tmp_path):
    topic = f"{topic_name}laps"
    values = lap_values(6_000)
    produce(kafka_settings, topic, values, partitions=6)
    done = _consume(kafka_settings, "--topics", topic, "--sink", f"file://{tmp_path}/lake",
                    "--batch-size", "200", "--until-idle", "3s", "--group", f"{topic_name}g",
                    "--workers", "3")
    assert done.returncode == 0, done.stderr
    assert "consumed 6000 records into" in done.stdout and "by 3 workers" in done.stdout
    per_worker = [int(line.split()[1]) for line in done.stdout.splitlines()
                  if line.startswith("consumed ") and " by " not in line]
    assert len(per_worker) == 3 and sum(per_worker) == 6_000
    # (whether the partitions were shared depends on how fast the processes start; the
    # cluster test waits for three members to own partitions, then checks the same)
    objects = folder_objects(tmp_path / "lake")
    rows = all_rows(objects)
    assert len(rows) == 6_000 and {r["event_id"] for r in rows} == event_ids(values)
    assert len({(r["kafka_partition"], r["kafka_offset"]) for r in rows}) == 6_000
    assert_names_match_contents(objects)


def test_a_failing_worker_fails_the_command_naming_it(kafka_settings, topic_name, tmp_path):
    done = _consume(kafka_settings, "--topics", f"{topic_name}missing", "--sink",
                    f"file://{tmp_path}/lake", "--until-idle", "2s", "--workers", "2")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: consumer worker ") and "exited with status 1" in last
    assert "do not exist" in done.stderr  # the worker's own line says why


def test_land_stops_when_one_of_its_workers_dies(kafka_settings, topic_name, tmp_path):
    """`f1pipe land --workers 2` runs until stopped: a worker killed under it ends the
    landing at once with a line naming it, not at the next Ctrl-C."""
    import time

    import psutil

    env = cli_env(kafka_settings, PYTHONWARNINGS="ignore", F1PIPE_TOPIC_PREFIX=f"{topic_name}.",
                  F1PIPE_CONSUMER_GROUP=f"{topic_name}land", F1PIPE_LAKE=f"file://{tmp_path}/lake",
                  F1PIPE_WAREHOUSE=f"duckdb:///{tmp_path}/f1.duckdb")
    land = subprocess.Popen([sys.executable, "-m", "f1pipe.cli", "land", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while not workers and time.monotonic() < deadline:
            workers = [p for p in psutil.Process(land.pid).children()
                       if "consume" in p.cmdline()]
            time.sleep(0.2)
        assert workers, "land started no worker"
        time.sleep(2)  # the worker is up and consuming
        workers[0].kill()
        _, stderr = land.communicate(timeout=90)
    finally:
        if land.poll() is None:
            land.kill()
    assert land.returncode == 1, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: consumer worker 2 exited with status -9"), last
