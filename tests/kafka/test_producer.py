"""The producer against a real Kafka broker, FastF1 on the recorded data (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict

import fastf1
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from f1pipe.cli import main
from f1pipe.codec import key_of
from f1pipe.kafka.producer import PRODUCER_CONFIG, MessageProducer, producer_config
from f1pipe.produce import (
    ProduceFailed,
    ProduceInterrupted,
    produce_messages,
    produce_results,
    produce_session,
)
from f1pipe.schemas import validate_message
from f1pipe.sources import extract

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(kafka_settings, fastf1_offline, topic_name):
    """Broker settings with this test's own topics, FastF1 on the recorded cache."""
    return fastf1_offline.apply(kafka_settings).model_copy(
        update={"kafka_topic": f"{topic_name}f1_race_data", "topic_prefix": topic_name}
    )


def read_topic(settings, topic, timeout=30.0):
    """Every record of ``topic`` up to its high watermarks, as (partition, offset, key,
    decoded value) in partition then offset order."""
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"g-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records, deadline = [], time.monotonic() + timeout
        while len(records) < sum(ends.values()) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            records.append((message.partition(), message.offset(), message.key().decode(),
                            json.loads(message.value())))
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r[0], r[1]))


def topics_with_prefix(settings, prefix):
    admin = AdminClient(settings.kafka_client_config())
    return sorted(t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix))


def cli_env(settings, cwd):
    """The environment giving an ``f1pipe`` command the same settings."""
    return {"KAFKA_BROKER": settings.kafka_broker, "KAFKA_TOPIC": settings.kafka_topic,
            "F1PIPE_TOPIC_PREFIX": settings.topic_prefix,
            "F1PIPE_FASTF1_RECORDED": str(settings.fastf1_recorded_dir),
            "F1PIPE_FASTF1_CACHE": str(settings.fastf1_cache_dir), "F1PIPE_OFFLINE": "true",
            "F1PIPE_STATE_DIR": str(cwd / "state"), "COLUMNS": "200"}


def run_cli(settings, *args, cwd):
    """``f1pipe ARGS`` in a subprocess (the real entry point, exit status and streams)."""
    return subprocess.run([sys.executable, "-m", "f1pipe.cli", *args], cwd=cwd,
                          env={**os.environ, **cli_env(settings, cwd)},
                          capture_output=True, text=True, timeout=120)


def run_main(settings, args, cwd, monkeypatch, capsys):
    """``f1pipe ARGS`` in this process through ``f1pipe.cli.main``; returns (status, stderr)."""
    for name, value in cli_env(settings, cwd).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["f1pipe", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err


def test_producer_is_idempotent_with_acks_all_and_compression(kafka_settings):
    config = producer_config(kafka_settings)
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["compression.type"] != "none"
    assert config["bootstrap.servers"] == kafka_settings.kafka_broker
    assert PRODUCER_CONFIG["enable.idempotence"] is True


def test_results_rounds_2_and_12_equal_fastf1(settings):
    summary = produce_results(settings, 2024, rounds=[2, 12])
    assert [(i.ref.round, i.state, i.delivered) for i in summary.items] == [
        (2, "done", 20), (12, "done", 20),
    ]
    records = read_topic(settings, settings.kafka_topic)
    assert len(records) == 40
    for round_number in (2, 12):
        session = fastf1.get_session(2024, round_number, "R")
        session.load(laps=False, telemetry=False, weather=False, messages=False)
        got = {r[3]["driver_number"]: r for r in records if r[3]["round"] == round_number}
        assert len(got) == 20
        for _, row in session.results.iterrows():
            _, _, key, message = got[int(row["DriverNumber"])]
            validate_message(message)
            assert key == f"2024-{round_number}-R-{row['DriverNumber']}"
            assert message["abbreviation"] == row["Abbreviation"]
            assert message["position"] == int(row["Position"])
            assert message["classified_position"] == row["ClassifiedPosition"]
            assert message["points"] == row["Points"]
            assert message["status"] == row["Status"]
    british = {r[3]["abbreviation"]: r[3] for r in records if r[3]["round"] == 12}
    assert (british["HAM"]["position"], british["HAM"]["points"]) == (1, 25.0)
    assert british["VER"]["position"] == 2 and british["NOR"]["position"] == 3
    assert (british["RUS"]["classified_position"], british["RUS"]["status"]) == ("R", "Retired")
    assert british["GAS"]["status"] == "Did not start"


def test_whole_season_reports_missing_rounds_and_exit_status(settings, tmp_path):
    failed = run_cli(settings, "produce", "results", "--season", "2024", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    lines = failed.stderr.strip().splitlines()
    missing = [line for line in lines if ": missing: " in line]
    assert len(missing) == 22
    assert "2024 round 1 (Bahrain Grand Prix) R results: missing: no results data: not in the " \
           "offline FastF1 cache (https://api.jolpi.ca/ergast/f1/2024/1/results.json)" in missing
    assert not any("round 2 " in line or "round 12 " in line for line in missing)
    assert lines[-1].startswith("error: 22 of 24 not available (2024 round 1")
    assert "2 done, 22 failed, 40 message(s) delivered" in failed.stdout

    allowed = run_cli(settings, "produce", "results", "--season", "2024", "--allow-missing",
                      cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert len([line for line in allowed.stderr.splitlines() if ": missing: " in line]) == 22
    records = read_topic(settings, settings.kafka_topic)
    assert Counter(r[3]["round"] for r in records) == {2: 40, 12: 40}
    assert len({r[3]["event_id"] for r in records}) == 40  # the second run: same ids


def test_laps_2018_round_4_in_lap_order_per_driver_partition(settings):
    summary = produce_session(settings, 2018, 4, "R", ["laps"])
    assert summary.delivered == 848
    records = read_topic(settings, f"{settings.topic_prefix}laps")
    assert len(records) == 848
    laps_by_driver = defaultdict(list)
    partitions_by_driver = defaultdict(set)
    for partition, _offset, key, message in records:  # topic order within each partition
        assert key == f"2018-4-R-{message['driver_number']}"
        laps_by_driver[message["driver_number"]].append(message["lap_number"])
        partitions_by_driver[message["driver_number"]].add(partition)
    assert all(len(p) == 1 for p in partitions_by_driver.values())
    assert len({min(p) for p in partitions_by_driver.values()}) > 1  # drivers spread out
    for laps in laps_by_driver.values():
        assert laps == sorted(laps)
    assert sum(len(laps) for laps in laps_by_driver.values()) == 848


def test_same_race_twice_gives_same_event_ids(settings):
    produce_results(settings, 2024, rounds=[12])
    produce_results(settings, 2024, event="British Grand Prix")
    records = read_topic(settings, settings.kafka_topic)
    ids = Counter(r[3]["event_id"] for r in records)
    assert len(records) == 40 and len(ids) == 20 and set(ids.values()) == {2}
    assert set(ids) == {m["event_id"] for m in extract("results", 2024, 12)}


def test_session_datasets_missing_weather_is_reported_and_others_go_on(settings):
    datasets = ["race_control", "weather", "track_status"]
    with pytest.raises(ProduceFailed) as raised:
        produce_session(settings, 2018, 4, "R", datasets)
    summary = raised.value.summary
    assert [(i.dataset, i.state, i.delivered) for i in summary.items] == [
        ("race_control", "done", 109), ("weather", "missing", 0), ("track_status", "done", 22),
    ]
    assert "WeatherData.jsonStream" in summary.items[1].reason
    assert len(read_topic(settings, f"{settings.topic_prefix}race_control")) == 109
    assert len(read_topic(settings, f"{settings.topic_prefix}track_status")) == 22
    allowed = produce_session(settings, 2018, 4, "R", ["weather"], allow_missing=True)
    assert summary.failed_labels() == allowed.failed_labels() == [
        "2018 round 4 (Azerbaijan Grand Prix) R weather",
    ]
    assert allowed.delivered == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["results", "--season", "1900"], "error: unknown season 1900"),
        (["results", "--season", "2024", "--round", "30"], "error: season 2024 has no round 30"),
        (["results", "--season", "2024", "--round", "12", "--session", "XX"],
         "error: unknown session 'XX'"),
        (["session", "--season", "2018", "--round", "4", "--session", "SQ"],
         "error: 2018 round 4 (Azerbaijan Grand Prix) has no SQ session"),
        (["session", "--season", "2018", "--round", "4", "--datasets", "telemetry"],
         "error: unknown dataset 'telemetry'"),
    ],
)
def test_unknown_arguments_give_one_line_error_and_produce_nothing(settings, tmp_path,
                                                                   monkeypatch, capsys,
                                                                   args, error):
    status, stderr = run_main(settings, ["produce", *args], tmp_path, monkeypatch, capsys)
    assert status == 1
    assert stderr.endswith("\n") and stderr.count("\n") == 1
    assert stderr.startswith(error)
    assert topics_with_prefix(settings, settings.topic_prefix) == []


def test_ctrl_c_flushes_what_was_sent_and_reports_it(settings):
    messages = extract("results", 2024, 12)

    def interrupted_after_five():
        yield from ((key_of(m), m) for m in messages[:5])
        raise KeyboardInterrupt

    topic = settings.kafka_topic
    produce_messages(settings, topic, [])  # creates the topic
    with MessageProducer(settings) as producer:
        report = producer.send_all(topic, interrupted_after_five())
    assert (report.interrupted, report.sent, report.delivered, report.failed) == (True, 5, 5, 0)
    records = read_topic(settings, topic)
    assert sorted(r[3]["event_id"] for r in records) == sorted(
        m["event_id"] for m in messages[:5]
    )


def test_broker_rejections_are_counted_as_failed(settings, topic_name):
    topic = f"{topic_name}tiny"
    admin = AdminClient(settings.kafka_client_config())
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": "64"})])[
        topic].result()
    assert admin.describe_configs([ConfigResource("topic", topic)])
    report = produce_messages(settings, topic, extract("results", 2024, 12))
    assert (report.sent, report.delivered, report.failed) == (20, 0, 20)
    assert any("too large" in e.lower() for e in report.errors), report.errors


def test_ctrl_c_between_events_stops_the_run_and_reports_it(settings):
    class InterruptAfterFirstEvent:
        def begin(self, total):
            self.total = total

        def item_done(self, item):
            raise KeyboardInterrupt

    with pytest.raises(ProduceInterrupted) as raised:
        produce_results(settings, 2024, rounds=[12, 2], progress=InterruptAfterFirstEvent())
    summary = raised.value.summary
    assert raised.value.exit_code == 130 and summary.interrupted
    assert [(i.ref.round, i.state, i.delivered) for i in summary.items] == [
        (2, "done", 20), (12, "interrupted", 0),
    ]
    assert str(raised.value) == "interrupted: 20 message(s) delivered before Ctrl-C"
    assert len(read_topic(settings, settings.kafka_topic)) == 20


def test_undelivered_results_fail_the_run_even_with_allow_missing(settings):
    admin = AdminClient(settings.kafka_client_config())
    admin.create_topics([NewTopic(settings.kafka_topic, 1, 1,
                                  config={"max.message.bytes": "64"})])[
        settings.kafka_topic].result()
    with pytest.raises(ProduceFailed) as raised:
        produce_results(settings, 2024, rounds=[12], allow_missing=True)
    item = raised.value.summary.items[0]
    assert (item.state, item.delivered, item.failed) == ("undelivered", 0, 20)
    assert str(raised.value).startswith("20 message(s) not delivered to Kafka (2024 round 12")


def test_topics_are_created_with_the_partition_count_asked(settings):
    produce_session(settings, 2018, 4, "R", ["race_control"], partitions=5)
    topic = f"{settings.topic_prefix}race_control"
    admin = AdminClient(settings.kafka_client_config())
    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 5
    assert len(read_topic(settings, topic)) == 109
