"""The contract: event ids, envelope errors, the dataset registry, the codec; every field
bounded to what its warehouse column holds; lake-name parts are safe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from f1pipe import codec
from f1pipe.schemas import (
    BY_NAME,
    BY_SCHEMA,
    DATASETS,
    SESSION_CODES,
    LapV1,
    LiveTimingSnapshotV1,
    ResultV1,
    SchemaError,
    dataset_of,
    event_id,
    feed_page,
    make_message,
    validate_message,
)
from f1pipe.sources.schedule import SESSION_NAMES
from tests.lake.laps import lap_message

WHEN = datetime(2024, 7, 7, 14, 0, tzinfo=UTC)


def lap(**changes) -> LapV1:
    return LapV1(**{"season": 2024, "round": 12, "session": "R", "driver_number": 44,
                    "lap_number": 3, "lap_time_ms": 91_234, **changes})


def test_event_ids_are_deterministic_and_change_with_any_value():
    assert event_id(lap()) == event_id(lap())
    assert event_id(lap()) != event_id(lap(lap_time_ms=91_235))
    assert event_id(lap()) != event_id(lap(lap_number=4))
    # the same values under another schema are another fact
    result = ResultV1(season=2024, round=12, session="R", driver_number=44,
                      event_name="British Grand Prix", session_name="Race")
    assert event_id(result) != event_id(lap())


def test_a_message_round_trips_through_the_codec():
    message = make_message(lap(), "test", WHEN)
    decoded = codec.decode(codec.encode(message))
    assert decoded == message
    assert validate_message(decoded) == lap()
    assert decoded["produced_at"] == "2024-07-07T14:00:00.000Z"
    assert codec.key_of(message) == lap().kafka_key() == "2024-12-R-44"
    assert codec.schema_header(message) == ("schema", b"lap/1")


@pytest.mark.parametrize(("message", "reason"), [
    ([1, 2], "message is a JSON list, expected an object"),
    ({"schema": {"name": "lap", "version": 1}}, "envelope field(s) missing: event_id, "
                                                "produced_at, source"),
    ({"schema": "lap", "event_id": "x", "produced_at": "x", "source": "x"}, "bad 'schema'"),
    ({"schema": {"name": "lap", "version": 9}, "event_id": "x", "produced_at": "x",
      "source": "x"}, "unknown schema lap v9"),
    ({**make_message(lap(), "test", WHEN), "lap_number": "three"}, "lap v1: lap_number"),
    ({**make_message(lap(), "test", WHEN), "surprise": 1}, "lap v1: surprise"),
])
def test_envelope_and_payload_errors_are_one_line(message, reason):
    with pytest.raises(SchemaError) as caught:
        validate_message(message)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_registry_names_each_fact_once():
    assert len({d.name for d in DATASETS}) == len(DATASETS)
    assert len({d.schema for d in DATASETS}) == len(DATASETS) == len(BY_SCHEMA)
    assert len({d.model_table for d in DATASETS}) == len({d.raw_table for d in DATASETS})
    assert BY_NAME["results"].topic is None  # KAFKA_TOPIC, the seed's name
    assert dataset_of(lap()).name == "laps" and dataset_of(ResultV1).model_table == "f1_results"


def test_feed_pages_are_fastf1s_page_names():
    from fastf1 import _api

    for page, file in _api.pages.items():
        if file.endswith(".jsonStream"):
            assert feed_page(file.removesuffix(".jsonStream")) == page


def _lap(**changes) -> dict:
    return {**lap_message(1), **changes}


@pytest.mark.parametrize(("changes", "reason"), [
    ({"session": "../../../../outside/x"}, "session: Value error, unknown session code"),
    ({"session": "/tmp/abs"}, "session: Value error, unknown session code"),
    ({"session": "R\x00"}, "session: Value error, unknown session code"),
    ({"season": 1949}, "season: Input should be greater than or equal to 1950"),
    ({"season": 10**6}, "season: Input should be less than or equal to 2100"),
    ({"round": 41}, "round: Input should be less than or equal to 40"),
    ({"round": -1}, "round: Input should be greater than or equal to 0"),
    ({"lap_number": 2**70}, "lap_number: Input should be less than or equal to 1000"),
    ({"lap_time_ms": 2**63}, r"\(message\): Value error, lap_time_ms: integer out of the 64"),
    ({"lap_time_ms": -(2**63) - 1}, r"\(message\): Value error, lap_time_ms: integer out of"),
    ({"driver_number": 1000}, "driver_number: Input should be less than or equal to 999"),
    ({"team_name": "Red\x00Bull"}, r"\(message\): Value error, team_name: string holds a NUL"),
    ({"team_name": "x" * 4097}, "team_name: String should have at most 4096 characters"),
    ({"speed_st_kmh": float("inf")}, "speed_st_kmh: Input should be a finite number"),
    ({"speed_st_kmh": float("nan")}, "speed_st_kmh: Input should be a finite number"),
    ({"lap_end_utc": "yesterday"}, "lap_end_utc: Value error, not an ISO 8601 UTC timestamp"),
    ({"lap_end_utc": "2024-05-05T14:00:00+02:00"}, "lap_end_utc: Value error, not an ISO"),
])
def test_a_value_its_column_cannot_hold_is_a_schema_violation(changes, reason):
    with pytest.raises(SchemaError, match=f"^lap v1: {reason}"):
        validate_message(_lap(**changes))


@pytest.mark.parametrize(("changes", "reason"), [
    ({"produced_at": "yesterday"}, "produced_at: not an ISO 8601 UTC timestamp like "),
    ({"produced_at": 1_714_917_600}, "produced_at: not a string"),
    ({"produced_at": "2024-02-30T10:00:00Z"}, "produced_at: not a valid date and time"),
    ({"source": "a\x00b"}, "source: not a string of at most 256 characters without NUL"),
    ({"event_id": "e" * 257}, "event_id: not a string of at most 256 characters"),
    ({"event_id": None}, "event_id: not a string"),
])
def test_a_bad_envelope_is_a_schema_violation(changes, reason):
    with pytest.raises(SchemaError, match=f"^bad envelope: {reason}"):
        validate_message(_lap(**changes))


@pytest.mark.parametrize("stamp", ["2024-05-05T14:00:00Z", "2024-05-05T14:00:00.123Z",
                                   "2024-05-05T14:00:00.123456+00:00"])
def test_iso_utc_timestamps_and_the_bounds_themselves_are_accepted(stamp):
    payload = validate_message(_lap(produced_at=stamp, lap_end_utc=stamp, season=2100,
                                    round=0, session="FP3", session_type="practice",
                                    lap_number=1000,
                                    lap_time_ms=2**63 - 1, sector1_ms=-(2**63)))
    assert (payload.season, payload.round, payload.lap_number) == (2100, 0, 1000)


def test_the_session_codes_are_the_schedules_sessions():
    assert set(SESSION_NAMES) == SESSION_CODES


def test_models_inheriting_the_tower_row_are_bounded_too():
    fields = dict(season=2018, round=4, session="R", driver_number=44, session_time_ms=1,
                  status="running")
    assert LiveTimingSnapshotV1(**fields).driver_number == 44
    with pytest.raises(ValueError, match="NUL"):
        LiveTimingSnapshotV1(**{**fields, "status": "run\x00"})
    with pytest.raises(ValueError, match="64-bit"):
        LiveTimingSnapshotV1(**{**fields, "last_lap_ms": 2**64})
