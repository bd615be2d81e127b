"""Test messages built with the real schemas: LapV1 laps of made-up drivers."""

from __future__ import annotations

from datetime import UTC, datetime

from f1pipe.lake.records import LakeRecord
from f1pipe.schemas import ENVELOPE_FIELDS, LapV1, make_message, validate_message

PRODUCED_AT = datetime(2024, 5, 5, 14, 0, tzinfo=UTC)


def lap_message(index: int, *, season: int = 2024, round_: int = 6, session: str = "R") -> dict:
    """A valid lap message; ``index`` makes it unique (driver and lap number)."""
    payload = LapV1(
        season=season, round=round_, session=session, driver_number=1 + index % 20,
        abbreviation="TST", team_name="Test Team", lap_number=1 + index // 20,
        lap_time_ms=90_000 + index % 1000, sector1_ms=30_000, compound="SOFT",
        fresh_tyre=index % 2 == 0, speed_st_kmh=310.5, position=1 + index % 20,
    )
    return make_message(payload, source="test", produced_at=PRODUCED_AT)


def lake_record(message: dict, *, topic: str = "f1.laps", partition: int = 0,
                offset: int = 0, timestamp_ms: int = 1_714_917_600_000) -> LakeRecord:
    """``message`` validated and placed at a Kafka position."""
    envelope = {name: message[name] for name in ENVELOPE_FIELDS}
    return LakeRecord(topic, partition, offset, timestamp_ms, validate_message(message), envelope)
