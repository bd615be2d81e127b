"""The lake consumer against the real broker: exactly-once objects, dead letters, rewrites."""

import json
import os

import pytest
from confluent_kafka import TopicPartition

from f1pipe.kafka.consumer import ConsumeOptions, LakeConsumer, consume
from f1pipe.lake import open_sink
from tests.fixtures.s3 import S3_FIELDS
from tests.lake.harness import (
    all_rows,
    assert_names_match_contents,
    committed,
    event_ids,
    folder_objects,
    lap_values,
    produce,
    read_messages,
    s3_objects,
)
from tests.lake.laps import lap_message

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(kafka_settings):
    return kafka_settings


def _sessions_values(count):
    """``count`` lap messages spread over three sessions, interleaved."""
    sessions = ["FP1", "Q", "R"]
    return [json.dumps(lap_message(i, session=sessions[(i // 7) % 3])).encode()
            for i in range(count)]


def test_10000_messages_on_3_partitions_land_in_the_folder_exactly_once(settings, topic_name,
                                                                          tmp_path):
    topic = f"{topic_name}laps"
    values = _sessions_values(10_000)
    produce(settings, topic, values)
    summary = consume(settings, [topic], f"file://{tmp_path}/lake", batch_size=400,
                      flush_interval=30, until_idle=1.0, group=f"{topic_name}g")
    objects = folder_objects(tmp_path / "lake")
    rows = all_rows(objects)
    assert len(rows) == 10_000
    assert {r["event_id"] for r in rows} == event_ids(values)
    assert len({(r["kafka_partition"], r["kafka_offset"]) for r in rows}) == 10_000
    assert_names_match_contents(objects)
    assert (summary.records, summary.objects, summary.dead_letters) == (10_000, len(objects), 0)
    ends = {p: sum(1 for i in range(10_000) if i % 3 == p) for p in range(3)}
    assert committed(settings, f"{topic_name}g", topic) == ends


def test_10000_messages_land_in_s3_exactly_once_as_parquet(settings, s3_settings, topic_name):
    settings = settings.model_copy(update={f: getattr(s3_settings, f) for f in S3_FIELDS})
    topic = f"{topic_name}laps"
    values = _sessions_values(10_000)
    produce(settings, topic, values)
    summary = consume(settings, [topic], f"s3://{settings.s3_bucket}/lake", batch_size=1000,
                      flush_interval=30, fmt="parquet", until_idle=1.0, group=f"{topic_name}g")
    objects = s3_objects(settings, settings.s3_bucket, "lake")
    rows = all_rows(objects)
    assert len(rows) == 10_000
    assert {r["event_id"] for r in rows} == event_ids(values)
    assert all(name.endswith(".parquet") for name in objects)
    assert rows[0]["schema"] == {"name": "lap", "version": 1}
    assert_names_match_contents(objects)
    assert summary.records == 10_000


def test_a_rewrite_after_a_crash_replaces_the_same_objects(settings, topic_name, tmp_path):
    """A consumer that stored its batches but never committed (here: a second group that
    starts from the beginning, as the crashed one would) rewrites the very same keys."""
    topic = f"{topic_name}laps"
    produce(settings, topic, lap_values(900))
    lake = tmp_path / "lake"
    consume(settings, [topic], f"file://{lake}", batch_size=100, flush_interval=30,
            until_idle=1.0, group=f"{topic_name}first")
    before = {p.relative_to(lake): os.stat(p).st_ino for p in lake.rglob("*.jsonl")}
    summary = consume(settings, [topic], f"file://{lake}", batch_size=100, flush_interval=30,
                      until_idle=1.0, group=f"{topic_name}again")
    after = {p.relative_to(lake): os.stat(p).st_ino for p in lake.rglob("*.jsonl")}
    assert summary.objects == len(before) == 9
    assert set(after) == set(before)
    assert all(after[name] != before[name] for name in before)  # each one was rewritten
    assert len(all_rows(folder_objects(lake))) == 900


def _bad_values():
    lap = lap_message(5)
    return {
        b"{not json": "not valid JSON",
        json.dumps({**lap, "lap_number": "first"}).encode(): "schema violation: lap v1: "
                                                            "lap_number",
        json.dumps({**lap, "schema": {"name": "lap", "version": 9}}).encode():
            "schema violation: unknown schema lap v9",
        b"[1, 2]": "schema violation: message is a JSON list",
    }


def test_bad_messages_go_to_the_dead_letter_topic_and_the_good_ones_around_them_are_stored(
        settings, topic_name, tmp_path):
    settings = settings.model_copy(update={"dead_letter_topic": f"{topic_name}dlq"})
    topic = f"{topic_name}laps"
    good = lap_values(30)
    bad = _bad_values()
    values = good[:10] + list(bad)[:2] + good[10:20] + list(bad)[2:] + good[20:]
    produce(settings, topic, values, partitions=1)
    summary = consume(settings, [topic], f"file://{tmp_path}/lake", batch_size=7,
                      flush_interval=30, until_idle=1.0, group=f"{topic_name}g")
    rows = all_rows(folder_objects(tmp_path / "lake"))
    assert sorted(r["event_id"] for r in rows) == sorted(event_ids(good))
    assert (summary.records, summary.dead_letters) == (30, 4)
    assert committed(settings, f"{topic_name}g", topic, partitions=1) == {0: 34}
    letters = read_messages(settings, settings.dead_letter_topic, 4)
    by_value = {m.value(): dict(m.headers()) for m in letters}
    assert set(by_value) == set(bad)
    for value, reason in bad.items():
        headers = by_value[value]
        assert headers["dlq.reason"].decode().startswith(reason)
        assert headers["dlq.topic"].decode() == topic
        assert values[int(headers["dlq.offset"])] == value
        assert headers["dlq.partition"] == b"0"


def test_lag_right_after_an_assignment_is_asked_of_the_broker_not_taken_as_zero(
        settings, topic_name, tmp_path):
    """A restarted member gets its partitions before its first fetch: nothing is known
    locally then, and --until-idle must not take that for an empty partition."""
    topic = f"{topic_name}laps"
    produce(settings, topic, lap_values(30))
    sink = open_sink(f"file://{tmp_path}/lake", settings)
    run = LakeConsumer(settings, [topic], sink, ConsumeOptions(group=f"{topic_name}g"),
                       lambda _line: None)
    try:
        run.consumer.assign([TopicPartition(topic, p) for p in range(3)])
        run.assigned = {(topic, p) for p in range(3)}
        assert run.lag(fresh=True) == 30
    finally:
        run._close()
