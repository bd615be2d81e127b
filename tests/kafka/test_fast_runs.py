"""The consumer's run path: a run of one partition's messages checked in one decoder call
(:func:`codec.fast_lake_lines`, :func:`fast_run`) is stored byte for byte as one message at a
time stores it; a run holding any message the Struct refuses, or bytes that could be read
across the boundary of two messages, is left to the one-by-one path, which gives each bad
message its own dead-letter reason."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Message

from f1pipe import codec
from f1pipe.kafka.consumer import fast_run, to_lake_record
from f1pipe.lake.sink import BatchingSink
from f1pipe.schemas import CarDataV1, LapV1, make_message
from tests.lake.laps import lap_message

TP = ("f1.laps", 2)
TIMESTAMP = 1_714_917_600_123


class MemorySink(BatchingSink):
    def check(self) -> None:
        pass

    def put_object(self, name: str, data: bytes) -> None:
        raise AssertionError("nothing is stored in these tests")

    def location(self, name: str) -> str:
        return f"memory://{name}"


def _messages(values: list[bytes], header: bytes | None = b"lap/1",
              first_offset: int = 100) -> list[Message]:
    headers = [("schema", header)] if header else None
    return [Message(topic=TP[0], partition=TP[1], offset=first_offset + i, value=value,
                    timestamp=(1, TIMESTAMP + i), headers=headers)
            for i, value in enumerate(values)]


def _one_by_one(messages: list[Message], expected, fmt: str = "jsonl"):
    """The objects and dead-letter reasons of ``messages`` handled one at a time."""
    sink, reasons = MemorySink(fmt), []
    for message in messages:
        record = to_lake_record(message, expected)
        if isinstance(record, str):
            reasons.append(record)
        else:
            sink.add(record)
    return sink.objects(TP), reasons


def _as_run(messages: list[Message], expected, fmt: str = "jsonl"):
    sink = MemorySink(fmt)
    taken = fast_run(messages, TP, expected, sink)
    return taken, sink.objects(TP), sink.pending(TP)


def _laps() -> list[bytes]:
    """Laps of several groups, interleaved, with the values a line must keep exactly."""
    laps = [lap_message(i) for i in range(12)]
    laps += [lap_message(20 + i, session="Q") for i in range(3)]
    laps += [lap_message(30, season=2021, session="SQ"), lap_message(31)]
    laps[1] = {**laps[1], "team_name": 'Red Bull "RB20" \\ – ñ🏎️', "compound": None}
    laps[2] = {**laps[2], "speed_st_kmh": 1e300, "lap_time_ms": None}
    laps[3] = {**laps[3], "speed_st_kmh": -0.0, "lap_end_utc": "2024-05-05T14:01:30.5+00:00"}
    values = [json.dumps(lap, ensure_ascii=False).encode() for lap in laps]
    values[4] = json.dumps(laps[4], indent=1).encode()  # newlines between tokens: valid JSON
    values[5] = json.dumps(laps[5]).encode()  # ASCII escapes for the same text
    return values


@pytest.mark.parametrize("expected", [LapV1, None])
def test_a_run_is_stored_byte_for_byte_as_one_message_at_a_time(expected):
    messages = _messages(_laps())
    taken, objects, pending = _as_run(messages, expected)
    assert taken and pending == len(messages)
    assert _one_by_one(messages, expected) == (objects, [])
    assert len(objects) == 3  # (2024, 6, R), (2024, 6, Q), (2021, 6, SQ)
    first = json.loads(objects[0][1].splitlines()[0])
    assert (first["kafka_topic"], first["kafka_partition"], first["kafka_offset"],
            first["kafka_timestamp"]) == (TP[0], TP[1], 100, TIMESTAMP)


def test_a_telemetry_run_is_stored_as_the_same_parquet_object():
    values = [json.dumps(make_message(CarDataV1(
        season=2018, round=4, session="R", driver_number=1 + i % 20,
        time_utc=f"2018-04-29T12:00:{i // 20:02d}.{i % 20:03d}Z", speed_kmh=100 + i,
        drs=None if i % 3 else 12), "test")).encode() for i in range(40)]
    messages = _messages(values, header=b"car_data/1")
    taken, objects, _ = _as_run(messages, CarDataV1)
    expected, reasons = _one_by_one(messages, CarDataV1)
    assert taken and not reasons and [n for n, _ in objects] == [n for n, _ in expected]
    assert objects[0][0].endswith(".parquet")
    run_table = pq.read_table(io.BytesIO(objects[0][1]))
    assert run_table.num_rows == 40
    assert run_table.equals(pq.read_table(io.BytesIO(expected[0][1])))


def _split_inside_a_string() -> list[bytes]:
    """Two halves of one valid lap, cut inside its event_id between ``}`` and ``{``, and
    two valid laps in one message: joined naively, three messages would read as three
    valid values, none of them a message that was sent."""
    whole = json.dumps({**lap_message(40), "event_id": "a}{b"}).encode()
    cut = whole.index(b"}{b") + 1
    pair = json.dumps(lap_message(41)).encode() + b" " + json.dumps(lap_message(42)).encode()
    return [whole[:cut], whole[cut:], pair]


@pytest.mark.parametrize("values", [
    _split_inside_a_string(),
    [json.dumps(lap_message(1)).encode(), json.dumps(lap_message(2)).encode() * 2],
    # two values in one message, none in the next: as many values as messages, misplaced
    [json.dumps(lap_message(1)).encode() + b" " + json.dumps(lap_message(2)).encode(), b" "],
    [json.dumps(lap_message(1)).encode(), b"not json", json.dumps(lap_message(2)).encode()],
    [json.dumps(lap_message(1)).encode(), b""],
    [json.dumps(lap_message(1)).encode(),
     json.dumps({**lap_message(2), "schema": {"name": "weather", "version": 1}}).encode()],
    [json.dumps(lap_message(1)).encode(),
     json.dumps({**lap_message(2), "abbreviation": "V\x00R"}).encode()],
    [json.dumps(lap_message(1)).encode(),
     json.dumps({**lap_message(2), "lap_end_utc": "2024-02-30T10:00:00Z"}).encode()],
    [json.dumps(lap_message(1)).encode(),
     json.dumps({**lap_message(2), "session": "../../x"}).encode()],
], ids=["split-in-a-string", "two-values", "two-and-none", "not-json", "empty",
        "other-schema", "nul", "impossible-date", "path-in-session"])
def test_a_run_with_a_message_the_struct_refuses_is_left_to_one_by_one(values):
    messages = _messages(values)
    assert codec.fast_lake_lines(values, LapV1, *TP, [m.offset() for m in messages],
                                 [m.timestamp()[1] for m in messages]) is None
    taken, objects, pending = _as_run(messages, LapV1)
    assert not taken and objects == [] and pending == 0  # nothing added
    stored, reasons = _one_by_one(messages, LapV1)
    assert reasons, "the one-by-one path gives the bad message its reason"


def test_a_valid_message_the_run_cannot_frame_is_stored_one_by_one():
    """Whitespace around a message is valid JSON, but the run path needs ``{`` and ``}`` at
    its ends: the run falls back, and the message is stored as before."""
    values = [json.dumps(lap_message(1)).encode() + b" ", json.dumps(lap_message(2)).encode()]
    messages = _messages(values)
    assert _as_run(messages, LapV1)[0] is False
    objects, reasons = _one_by_one(messages, LapV1)
    assert not reasons and objects[0][1].count(b"\n") == 2


def test_the_split_messages_are_each_a_dead_letter_one_by_one():
    _, reasons = _one_by_one(_messages(_split_inside_a_string()), LapV1)
    assert len(reasons) == 3
    assert all(r.startswith("not valid JSON") for r in reasons), reasons


def test_a_message_with_no_value_leaves_the_run_to_one_by_one():
    messages = _messages([json.dumps(lap_message(1)).encode()]) + [
        Message(topic=TP[0], partition=TP[1], offset=101, value=None, timestamp=(1, 0))]
    assert _as_run(messages, LapV1)[0] is False
    assert _one_by_one(messages, LapV1)[1] == ["empty message (no value)"]


def test_without_a_schema_header_or_a_topic_schema_the_run_is_left_to_one_by_one():
    messages = _messages([json.dumps(lap_message(i)).encode() for i in range(3)], header=None)
    assert _as_run(messages, None)[0] is False
    objects, reasons = _one_by_one(messages, None)  # the model still takes them
    assert not reasons and objects[0][1].count(b"\n") == 3
