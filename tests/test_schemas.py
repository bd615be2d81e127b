"""Every field is bounded to what its warehouse column holds; lake-name parts are safe."""

from __future__ import annotations

import pytest

from f1pipe.schemas import (
    SESSION_CODES,
    LiveTimingSnapshotV1,
    SchemaError,
    validate_message,
)
from f1pipe.sources.schedule import SESSION_NAMES
from tests.lake.laps import lap_message


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
                                    round=0, session="FP3", lap_number=1000,
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
