"""The contract: event ids, envelope errors, the dataset registry, the codec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from f1pipe import codec
from f1pipe.schemas import (
    BY_NAME,
    BY_SCHEMA,
    DATASETS,
    LapV1,
    ResultV1,
    SchemaError,
    dataset_of,
    event_id,
    feed_page,
    make_message,
    validate_message,
)

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
