"""Turning Kafka messages into lake records, or into the reason they are dead letters."""

import json

import pytest
from confluent_kafka import Message

from f1pipe.errors import ConfigError
from f1pipe.kafka.consumer import ConsumeOptions, to_lake_record
from f1pipe.lake.records import LakeRecord
from tests.lake.laps import lap_message


def _message(value, offset=7):
    return Message(topic="f1.laps", partition=2, offset=offset, value=value,
                   timestamp=(1, 1_714_917_600_123))


def test_a_valid_message_becomes_a_record_at_its_kafka_position():
    message = lap_message(3, session="Q")
    record = to_lake_record(_message(json.dumps(message).encode()))
    assert isinstance(record, LakeRecord)
    assert (record.topic, record.partition, record.offset, record.timestamp_ms) == (
        "f1.laps", 2, 7, 1_714_917_600_123)
    assert record.group == (2024, 6, "Q")
    assert {k: record.row()[k] for k in message} == message


@pytest.mark.parametrize(("value", "reason"), [
    (b"{not json", "not valid JSON: JSON is malformed: object keys must be strings"),
    (b"\xff\xfe", "not valid JSON: "),
    (None, "empty message (no value)"),
    (b'"a string"', "schema violation: message is a JSON str, expected an object"),
    (json.dumps({**lap_message(1), "driver_number": None}).encode(),
     "schema violation: lap v1: driver_number: Input should be a valid integer"),
    (json.dumps({k: v for k, v in lap_message(1).items() if k != "event_id"}).encode(),
     "schema violation: envelope field(s) missing: event_id"),
])
def test_a_bad_message_gives_a_one_line_reason(value, reason):
    result = to_lake_record(_message(value))
    assert isinstance(result, str)
    assert result.startswith(reason)
    assert "\n" not in result


@pytest.mark.parametrize(("options", "message"), [
    (ConsumeOptions(batch_size=0), "--batch-size must be at least 1"),
    (ConsumeOptions(flush_interval_s=0), "--flush-interval must be positive"),
    (ConsumeOptions(until_idle_s=-1), "--until-idle must be positive"),
])
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        options.check()


def test_polls_are_short_enough_for_the_flush_interval_and_idle_time():
    assert ConsumeOptions(flush_interval_s=5.0).poll_timeout_s == 1.0
    assert ConsumeOptions().poll_timeout_s == 0.5  # the default: flush within 1 s
    assert ConsumeOptions(flush_interval_s=0.5).poll_timeout_s == 0.25
    assert ConsumeOptions(until_idle_s=1.0).poll_timeout_s == 0.25
