"""The consumer's fast path (msgspec Structs generated from the pydantic schemas): a message
it takes is stored byte for byte as the model path stores it; anything it refuses goes to
the model, which stores it or gives the same dead-letter reason as before."""

import json

import pytest
from confluent_kafka import Message

from f1pipe import codec
from f1pipe.kafka.consumer import to_lake_record
from f1pipe.lake.records import LakeRecord, encode_jsonl
from f1pipe.schemas import (
    DATASETS,
    ENVELOPE_FIELDS,
    LapV1,
    ResultV1,
    WeatherV1,
    validate_message,
)
from tests.lake.laps import lap_message


def _message(value: bytes, offset: int = 7) -> Message:
    return Message(topic="f1.laps", partition=2, offset=offset, value=value,
                   timestamp=(1, 1_714_917_600_123))


def _model_line(message: dict, offset: int = 7) -> bytes:
    """The lake line as the model path makes it (validate, dump, encode)."""
    envelope = {name: message[name] for name in ENVELOPE_FIELDS}
    record = LakeRecord("f1.laps", 2, offset, 1_714_917_600_123, validate_message(message),
                        envelope)
    return encode_jsonl([record])


def _result(**fields) -> dict:
    body = {"season": 2021, "round": 10, "session": "SQ", "event_name": "British GP",
            "session_name": "Sprint Qualifying", "driver_number": 44, "points": 2,
            "session_date": "2021-07-17T14:30:00Z", **fields}
    return {"schema": {"name": "result", "version": 1}, "event_id": "e1",
            "produced_at": "2024-05-05T14:00:00.000Z", "source": "test", **body}


def test_every_schema_but_the_live_feed_has_a_generated_struct():
    covered = {d.name for d in DATASETS if codec.lake_struct(d.schema) is not None}
    assert covered == {d.name for d in DATASETS} - {"live_updates"}


@pytest.mark.parametrize("message", [
    lap_message(3), lap_message(4, session="SQ", season=2024),
    _result(),  # 2021's SQ was the sprint: session_type filled as "sprint"; points 2 -> 2.0
    _result(session="SS", season=2023, session_type="sprint_qualifying"),
    {**lap_message(5), "lap_time_ms": None, "speed_st_kmh": 300},
])
def test_a_message_the_struct_takes_is_stored_as_the_model_stores_it(message):
    model = type(validate_message(message))
    record = to_lake_record(_message(json.dumps(message).encode()), model)
    assert isinstance(record, LakeRecord) and record.line is not None  # the fast path
    assert encode_jsonl([record]) == _model_line(message)
    assert record.row() == json.loads(_model_line(message))


@pytest.mark.parametrize("message", [
    {**lap_message(1), "driver_number": "44"},  # lax: the model turns "44" into 44
    {**lap_message(1), "fresh_tyre": 1},
    {**lap_message(1), "lap_number": 3.0},
])
def test_a_message_only_the_model_takes_is_stored_as_before(message):
    record = to_lake_record(_message(json.dumps(message).encode()), LapV1)
    assert isinstance(record, LakeRecord) and record.line is None  # the model path
    assert encode_jsonl([record]) == _model_line(message)


@pytest.mark.parametrize(("message", "reason"), [
    ({**lap_message(1), "kafka_topic": "x"}, "schema violation: lap v1: kafka_topic: Extra"),
    ({**lap_message(1), "kafka_topic": ""}, "schema violation: lap v1: kafka_topic: Extra"),
    ({**lap_message(1), "kafka_offset": 0}, "schema violation: lap v1: kafka_offset: Extra"),
    ({**lap_message(1), "produced_at": "2024-05-01T14:03:07.123+01:00"},
     "schema violation: bad envelope: produced_at: not an ISO 8601 UTC"),
    ({**lap_message(1), "lap_end_utc": "2024-05-01 14:03:07Z"},
     "schema violation: lap v1: lap_end_utc: Value error, not an ISO 8601 UTC"),
    ({**lap_message(1), "abbreviation": "V\x00R"}, "schema violation: lap v1: "),
    ({**lap_message(1), "produced_at": "2024-02-31T10:00:00Z"},
     "schema violation: bad envelope: produced_at: not a valid date"),
    ({**lap_message(1), "lap_end_utc": "2024-02-30T10:00:00Z"},
     "schema violation: lap v1: lap_end_utc: Value error, not a valid date"),
    ({**lap_message(1), "driver_number": 1000}, "schema violation: lap v1: driver_number"),
    ({**lap_message(1), "session": "R\n"}, "schema violation: lap v1: session"),
    ({**lap_message(1), "team_name": "x" * 4097}, "schema violation: lap v1: team_name"),
    ({**lap_message(1), "lap_time_ms": 2**63}, "schema violation: lap v1: "),
    (_result(session_type="race"),
     "schema violation: result v1: (message): Value error, session_type"),
    ({**lap_message(1), "schema": {"name": "weather", "version": 1}},
     "schema violation: weather v1: "),
])
def test_a_message_the_struct_refuses_gets_the_models_reason(message, reason):
    model = LapV1 if message.get("season") != 2021 else ResultV1
    result = to_lake_record(_message(json.dumps(message).encode()), model)
    assert isinstance(result, str), result
    assert result.startswith(reason), result


def test_the_schema_header_picks_the_struct_when_the_topic_takes_any_schema():
    message = lap_message(2)
    value = json.dumps(message).encode()
    headered = Message(topic="mixed", partition=0, offset=1, value=value, timestamp=(1, 5),
                       headers=[("schema", b"lap/1")])
    record = to_lake_record(headered)
    assert isinstance(record, LakeRecord) and record.line is not None
    wrong = Message(topic="mixed", partition=0, offset=1, value=value, timestamp=(1, 5),
                    headers=[("schema", b"weather/1")])
    record = to_lake_record(wrong)  # a wrong hint: the model decides (and stores it)
    assert isinstance(record, LakeRecord) and record.line is None
    assert codec.fast_lake_line(value, WeatherV1, "mixed", 0, 1, 5) is None


@pytest.mark.parametrize("stamp", [
    "2024-05-01T14:03:07Z", "2024-05-01T14:03:07.1Z", "2024-05-01T14:03:07.123456+00:00",
    "2024-05-01T14:03:07.1234567Z", "2024-05-01T14:03:07+01:00", "2024-05-01T14:03Z",
    "2024-05-01", "20240501T140307Z", "2024-05-01T14:03:07,123Z", "2024-05-01t14:03:07Z",
    "2024-05-01T14:03:07.Z", "2024-13-01T14:03:07Z", "2024-05-01T24:00:00Z",
    "\u0662024-05-01T14:03:07Z", "2024-05-01T14:03:07.123Z ", " 2024-05-01T14:03:07Z",
    "2024-05-01T14:03:07.123\nZ", "+024-05-01T14:03:07Z", "2024-5-01T14:03:07Z",
])
def test_the_struct_takes_a_timestamp_only_when_the_model_does(stamp):
    """The Struct checks timestamps in its __post_init__ (ASCII pattern + fromisoformat): it
    must never take one the model refuses; one it refuses still gets the model's verdict."""
    message = {**lap_message(1), "lap_end_utc": stamp}
    value = json.dumps(message).encode()
    fast = codec.fast_lake_line(value, LapV1, "f1.laps", 2, 7, 5)
    try:
        validate_message(message)
        model_takes = True
    except Exception:  # noqa: BLE001 - any refusal
        model_takes = False
    if fast is not None:
        assert model_takes, stamp
    if stamp.isascii() and model_takes:  # ASCII digits: the fast path takes what the model does
        assert fast is not None, stamp
    record = to_lake_record(_message(value))
    assert isinstance(record, LakeRecord) == model_takes, (stamp, record)
