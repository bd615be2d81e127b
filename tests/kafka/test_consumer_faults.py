"""The consumer as a process, under faults: SIGKILL and restart, SIGTERM, a second group
member joining, and the S3 endpoint going down."""

import re
import signal
import subprocess
import time
from collections import Counter

import pytest

from f1pipe.lake.s3 import s3_client
from tests.fixtures.s3 import s3_test_settings
from tests.lake.harness import (
    all_rows,
    assert_names_match_contents,
    committed,
    event_ids,
    folder_objects,
    lap_values,
    produce,
    produce_over,
    s3_objects,
    stable_members,
    start_consume,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(kafka_settings):
    return kafka_settings


def _wait_for(condition, timeout_s: float, what: str, process=None, every_s: float = 0.01,
              log=None):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process is not None and process.poll() is not None:
            tail = "\n".join(log.read_text().splitlines()[-15:]) if log else ""
            pytest.fail(f"the consumer exited (rc {process.returncode}) before {what}\n{tail}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(every_s)


def _object_count(root) -> int:
    return sum(1 for _ in root.rglob("*.jsonl")) if root.exists() else 0


def _finish(process, timeout_s=60) -> int:
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _consumed(log) -> list[int]:
    return [int(n) for n in re.findall(r"^consumed (\d+) records", log.read_text(), re.M)]


def test_killed_at_5_points_and_restarted_every_message_is_stored_once(settings, topic_name,
                                                                        tmp_path):
    topic = f"{topic_name}laps"
    values = lap_values(1500)
    produce(settings, topic, values)
    lake, log = tmp_path / "lake", tmp_path / "consume.log"
    args = ["--topics", topic, "--sink", f"file://{lake}", "--batch-size", "10",
            "--flush-interval", "60s", "--until-idle", "1s", "--group", f"{topic_name}g"]
    # Static membership: each restart takes the killed member's partitions back at once.
    member = {"F1PIPE_CONSUMER_INSTANCE_ID": f"{topic_name}member"}
    kill_points = [None, 1, 20, 50, 90]  # None: during start-up; else: objects in the lake
    for point in kill_points:
        process = start_consume(settings, args, log, **member)
        if point is None:
            time.sleep(0.3)
        else:
            _wait_for(lambda p=point: _object_count(lake) >= p, 60, f"{point} objects", process,
                      log=log)
        assert process.poll() is None, "the run ended before the kill point"
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert _object_count(lake) < 150
    assert _finish(start_consume(settings, args, log, **member)) == 0, log.read_text()

    objects = folder_objects(lake)
    rows = all_rows(objects)
    assert {r["event_id"] for r in rows} == event_ids(values)
    assert len(rows) == 1500  # batch boundaries never moved, so nothing was stored twice
    expected = {f"{topic}/season=2024/round=6/session=R/{topic}+{p}+{o:010d}.jsonl"
                for p in range(3) for o in range(0, 500, 10)}
    assert set(objects) == expected
    assert_names_match_contents(objects)
    assert committed(settings, f"{topic_name}g", topic) == {0: 500, 1: 500, 2: 500}


def test_sigterm_flushes_the_open_batches_commits_and_exits_cleanly(settings, topic_name,
                                                                     tmp_path):
    topic = f"{topic_name}laps"
    values = lap_values(1000)
    produce(settings, topic, values)
    lake, log = tmp_path / "lake", tmp_path / "consume.log"
    process = start_consume(settings, ["--topics", topic, "--sink", f"file://{lake}",
                                       "--batch-size", "300", "--flush-interval", "60s",
                                       "--group", f"{topic_name}g"], log)
    _wait_for(lambda: _object_count(lake) >= 3, 30, "the three full batches", process)
    time.sleep(0.5)  # the partial batches (33-34 records each) are now waiting in memory
    process.send_signal(signal.SIGTERM)
    assert _finish(process, 30) == 0, log.read_text()
    rows = all_rows(folder_objects(lake))
    assert sorted(r["event_id"] for r in rows) == sorted(event_ids(values))
    assert committed(settings, f"{topic_name}g", topic) == {0: 334, 1: 333, 2: 333}
    assert _consumed(log) == [1000]


def test_two_consumers_in_one_group_share_the_partitions_and_store_each_message_once(
        settings, topic_name, tmp_path):
    topic, group = f"{topic_name}laps", f"{topic_name}g"
    values = lap_values(3000)
    produce(settings, topic, values[:300])
    lake = tmp_path / "lake"
    args = ["--topics", topic, "--sink", f"file://{lake}", "--batch-size", "10",
            "--flush-interval", "60s", "--until-idle", "2s", "--group", group]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    first = start_consume(settings, args, logs[0])
    _wait_for(lambda: _object_count(lake) >= 1, 30, "the first object", first)
    second = start_consume(settings, args, logs[1])  # joins mid-run: the group rebalances
    sent = 300
    # A live stream keeps the first consumer busy until the group has settled with both...
    while stable_members(settings, group) != 2:
        assert sent < 2400, "the group never settled with two members"
        assert second.poll() is None, logs[1].read_text()
        produce(settings, topic, values[sent:sent + 30], first_index=sent)
        sent += 30
        time.sleep(0.1)
    # ... then goes on for both.
    produce_over(settings, topic, values[sent:sent + 600], seconds=1, first_index=sent)
    sent += 600
    assert [_finish(first), _finish(second)] == [0, 0], [log.read_text() for log in logs]

    rows = all_rows(folder_objects(lake))
    assert len(rows) == sent
    assert {r["event_id"] for r in rows} == event_ids(values[:sent])
    counts = [_consumed(log)[0] for log in logs]
    assert sum(counts) == sent
    assert min(counts) > 0, f"one consumer did all the work: {counts}"
    ends = committed(settings, group, topic)
    assert ends == {p: len(range(p, sent, 3)) for p in range(3)}


def test_s3_down_retries_then_exits_non_zero_without_committing_past_what_is_stored(
        settings, topic_name, tmp_path, moto_s3):
    settings = settings.model_copy(update=s3_test_settings(moto_s3, "lake").model_dump(
        include={"s3_endpoint_url", "aws_access_key_id", "aws_secret_access_key", "s3_bucket"}))
    s3_client(settings).create_bucket(Bucket="lake")
    topic = f"{topic_name}laps"
    produce(settings, topic, lap_values(600))
    log = tmp_path / "consume.log"
    process = start_consume(settings, ["--topics", topic, "--sink", "s3://lake/raw",
                                       "--batch-size", "100", "--flush-interval", "500ms",
                                       "--until-idle", "60s", "--group", f"{topic_name}g"], log)
    _wait_for(lambda: len(all_rows(s3_objects(settings, "lake", "raw"))) == 600, 30,
              "the first 600 records in S3", process, every_s=0.2)
    stored = s3_objects(settings, "lake", "raw")
    _wait_for(lambda: sum(committed(settings, f"{topic_name}g", topic).values()) == 600, 10,
              "the commit of the stored records", process, every_s=0.2)
    moto_s3.stop()
    produce(settings, topic, lap_values(300, first_index=600), first_index=600)
    rc = _finish(process, 60)
    output = log.read_text()
    assert rc == 1, output
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    assert re.match(r"error: cannot store s3://lake/raw/\S+ after 6 attempts: ", error), error
    # Flushes of several partitions write at once: each object is tried 6 times, 5 waits.
    retries = Counter(re.findall(r"storing (\S+) failed .*retrying in", output))
    assert retries and set(retries.values()) == {5}, retries

    moto_s3.start()
    assert s3_objects(settings, "lake", "raw") == stored
    ends = {}
    for row in all_rows(stored):
        ends[row["kafka_partition"]] = max(ends.get(row["kafka_partition"], 0),
                                           row["kafka_offset"] + 1)
    assert committed(settings, f"{topic_name}g", topic) == ends == {0: 200, 1: 200, 2: 200}
