"""The producer's fast path (:class:`f1pipe.codec.MessageBuilder`): a message it builds is
exactly the one ``keyed(model(**values))`` builds; values the model would coerce or refuse
are left to the model (None)."""

import uuid
from datetime import UTC, datetime

import pytest

from f1pipe import codec
from f1pipe.schemas import (
    DATASETS,
    EVENT_ID_NAMESPACE,
    CarDataV1,
    LocationV1,
    ResultV1,
    WeatherV1,
)

WHEN = datetime(2024, 5, 5, 14, 0, 0, 123456, tzinfo=UTC)
STAMP = "2024-05-05T14:00:00.123Z"
CAR = dict(season=2018, round=4, session="R", driver_number=44, session_time_ms=1234,
           time_utc="2018-04-29T12:30:00.123Z", speed_kmh=301, rpm=11_000, n_gear=7,
           throttle_pct=100, brake=0, drs=12)
WEATHER = dict(season=2024, round=6, session="R", session_time_ms=0)
PLACE = dict(season=2018, round=4, session="R", driver_number=5, session_time_ms=None,
             time_utc="2018-04-29T12:30:00Z", x_dm=-1234, y_dm=0, z_dm=7, status="OnTrack")


def _both(model, values):
    fast = codec.MessageBuilder(model, "test").build(values, STAMP)
    return fast, codec.keyed(model(**values), "test", WHEN)


@pytest.mark.parametrize(("model", "values"), [
    (CarDataV1, CAR),
    (CarDataV1, {**CAR, "rpm": None, "drs": None, "speed_kmh": 0, "n_gear": 9}),  # bounds
    (CarDataV1, {**CAR, "rpm": 25_000, "throttle_pct": 255, "driver_number": 0}),
    (CarDataV1, {k: v for k, v in CAR.items() if k not in ("brake", "drs")}),  # defaults
    (CarDataV1, {**CAR, "time_utc": "2018-04-29T12:30:00.123456+00:00"}),
    (LocationV1, PLACE),
    (LocationV1, {**PLACE, "status": "Off \"track\" \\ é ✓"}),  # escapes, non-ASCII
    (LocationV1, {**PLACE, "status": "tab\there\x7f", "x_dm": 2**63 - 1, "y_dm": -(2**63)}),
    (LocationV1, {**PLACE, "status": "", "session": "SQ", "season": 2024}),
    (WeatherV1, {**WEATHER, "air_temp_c": 0.1, "track_temp_c": 1e16, "humidity_pct": 1e-7,
                 "pressure_mbar": -0.0, "rainfall": True, "wind_direction_deg": 360}),
])
def test_a_message_it_builds_is_the_models_message(model, values):
    fast, model_built = _both(model, values)
    assert fast is not None
    assert fast == model_built
    assert list(fast[1]) == list(model_built[1])  # the same field order too


@pytest.mark.parametrize("change", [
    {"speed_kmh": 501}, {"speed_kmh": -1}, {"n_gear": 10}, {"driver_number": 1000},
    {"speed_kmh": True}, {"speed_kmh": 300.0}, {"speed_kmh": "300"},  # coerced by the model
    {"time_utc": "2018-02-30T12:00:00Z"}, {"time_utc": "2018-04-29 12:30:00"},
    {"time_utc": "2018-04-29T12:30:00.123+02:00"}, {"time_utc": "٢٠١٨-04-29T12:30:00Z"},
    {"session": "X"}, {"season": 1949}, {"round": 41}, {"surprise": 1},
])
def test_what_the_model_would_coerce_or_refuse_is_left_to_it(change):
    assert codec.MessageBuilder(CarDataV1, "test").build({**CAR, **change}, STAMP) is None


def test_strings_with_nul_or_over_the_limit_are_left_to_the_model():
    builder = codec.MessageBuilder(LocationV1, "test")
    assert builder.build({**PLACE, "status": "On\x00Track"}, STAMP) is None
    assert builder.build({**PLACE, "status": "x" * 4097}, STAMP) is None
    assert builder.build({**PLACE, "status": "x" * 4096}, STAMP) == \
        codec.keyed(LocationV1(**{**PLACE, "status": "x" * 4096}), "test", WHEN)


def test_nan_and_infinity_are_left_to_the_model():
    builder = codec.MessageBuilder(WeatherV1, "test")
    for bad in (float("nan"), float("inf"), float("-inf")):
        assert builder.build({**WEATHER, "air_temp_c": bad}, STAMP) is None
    assert builder.build({**WEATHER, "air_temp_c": 21}, STAMP) is None  # model: 21 -> 21.0


def test_models_that_fill_fields_themselves_have_no_builder():
    assert codec.MessageBuilder(ResultV1, "test").build({"season": 2024}, STAMP) is None
    covered = {d.name for d in DATASETS if codec.payload_struct(d.schema) is not None}
    assert {"car_data", "location", "weather"} <= covered


@pytest.mark.parametrize("name", ["", "car_data/1/2018-4-R-44/ab", "é✓/x" * 50])
def test_uuid5_text_is_uuid5(name):
    assert codec.uuid5_text(EVENT_ID_NAMESPACE.bytes, name) == \
        str(uuid.uuid5(EVENT_ID_NAMESPACE, name))
