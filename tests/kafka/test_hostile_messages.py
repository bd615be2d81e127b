"""A record's own fault ends as a dead letter with its reason, never as a crash loop; a
misconfigured connection is one line naming the real cause. Real broker throughout."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from f1pipe.errors import F1PipeError
from f1pipe.kafka.consumer import consume
from f1pipe.kafka.dead_letter import MAX_DEAD_LETTER_VALUE
from f1pipe.live.landing import LandingOptions, run_landing
from f1pipe.schemas import ResultV1, make_message
from tests.lake.harness import cli_env, committed, folder_objects, lap_values, produce
from tests.live.live_harness import read_all

pytestmark = pytest.mark.integration
BIG = 5 * 1024 * 1024


@pytest.fixture
def settings(kafka_settings, topic_name, tmp_path):
    return kafka_settings.model_copy(update={
        "topic_prefix": topic_name, "kafka_topic": f"{topic_name}results",
        "dead_letter_topic": f"{topic_name}dlq", "consumer_group": f"{topic_name}lake",
        "lake": f"file://{tmp_path}/lake", "warehouse": f"duckdb:///{tmp_path}/f1.duckdb"})


def _big_topic(settings, topic: str) -> None:
    admin = AdminClient(settings.kafka_client_config())
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": str(BIG * 2)})])[
        topic].result(30)


def test_a_5mb_malformed_message_is_dead_lettered_truncated_and_committed(settings, tmp_path):
    topic = f"{settings.topic_prefix}laps"
    _big_topic(settings, topic)
    producer = Producer({**settings.kafka_client_config(), "message.max.bytes": BIG * 2})
    good = lap_values(3)
    producer.produce(topic, value=good[0])
    producer.produce(topic, value=b"{" + b"x" * BIG)  # not JSON, 5 MB
    for value in good[1:]:
        producer.produce(topic, value=value)
    assert producer.flush(30) == 0

    for _ in range(2):  # a restart must not crash on it either
        summary = consume(settings, [topic], settings.lake, batch_size=10, flush_interval=1.0,
                          until_idle=2.0)
    assert summary.dead_letters == 0  # the second run had nothing left: all was committed
    assert committed(settings, settings.consumer_group, topic, partitions=1) == {0: 4}
    (letter,) = read_all(settings, [settings.dead_letter_topic], 1)
    assert len(letter.value) == MAX_DEAD_LETTER_VALUE
    assert letter.headers["dlq.truncated"] == "true"
    assert int(letter.headers["dlq.original.size"]) == BIG + 1
    assert letter.headers["dlq.offset"] == "1"
    assert letter.headers["dlq.reason"].startswith("not valid JSON")
    rows = [r for rs in folder_objects(tmp_path / "lake").values() for r in rs]
    assert len(rows) == 3


def test_a_message_of_another_topics_schema_is_dead_lettered(settings, tmp_path):
    laps_topic = f"{settings.topic_prefix}laps"
    result = make_message(ResultV1(season=2024, round=6, session="R", driver_number=44,
                                   event_name="Test Grand Prix", session_name="Race",
                                   position=1), "test")
    produce(settings, laps_topic, [*lap_values(2), json.dumps(result).encode()], partitions=1)

    summary = consume(settings, [laps_topic], settings.lake, batch_size=10,
                      flush_interval=1.0, until_idle=2.0)
    assert (summary.records, summary.dead_letters) == (2, 1)
    (letter,) = read_all(settings, [settings.dead_letter_topic], 1)
    assert letter.headers["dlq.reason"] == (
        f"wrong schema for topic {laps_topic}: result v1, the topic takes lap only")


def test_a_sasl_mismatch_is_one_line_naming_sasl(settings):
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "f1pipe.cli", "consume", "--topics", "x", "--until-idle", "2s"],
        capture_output=True, text=True, timeout=60,
        env=cli_env(settings, KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                    KAFKA_SASL_MECHANISM="PLAIN", KAFKA_SASL_USERNAME="u",
                    KAFKA_SASL_PASSWORD="p"))
    elapsed = time.monotonic() - started
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1
    assert len(lines) == 1, done.stderr
    assert "refused the connection: SASL" in lines[0]
    assert "KAFKA_SECURITY_PROTOCOL" in lines[0]
    assert elapsed < 15, elapsed  # the cause is local: no long wait before saying it


def test_a_bogus_security_protocol_is_a_setting_error(settings):
    done = subprocess.run([sys.executable, "-m", "f1pipe.cli", "consume", "--topics", "x"],
                          capture_output=True, text=True, timeout=60,
                          env=cli_env(settings, KAFKA_SECURITY_PROTOCOL="bogus"))
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: bad setting KAFKA_SECURITY_PROTOCOL: expected one "
                                   "of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got 'bogus'")


def test_landing_stops_at_once_when_the_loader_keeps_failing(settings, tmp_path):
    blocked = tmp_path / "not-a-file.duckdb"
    blocked.mkdir()  # DuckDB cannot open a directory: every load fails
    cfg = settings.model_copy(update={"warehouse": f"duckdb:///{blocked}"})
    started = time.monotonic()
    with pytest.raises(F1PipeError, match="loader failed"):
        run_landing(cfg, LandingOptions())  # no --until-idle: only the failure stops it
    assert time.monotonic() - started < 60
