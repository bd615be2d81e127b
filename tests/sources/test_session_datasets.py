"""laps, race control, track status and weather of the 2018 Azerbaijan GP against FastF1."""

import json

import fastf1
import pandas as pd
import pytest

from f1pipe.errors import F1PipeError
from f1pipe.schemas import validate_message
from f1pipe.sources import extract
from f1pipe.sources.laps import lap_end_utc


@pytest.fixture(scope="module")
def baku_2018(fastf1_offline):
    session = fastf1.get_session(2018, 4, "R")
    session.load(telemetry=False, weather=False)
    return session


@pytest.fixture(scope="module")
def baku_laps(fastf1_offline):
    """The laps messages of the 2018 Azerbaijan GP (extracted once: FastF1 takes seconds)."""
    return extract("laps", 2018, 4)


def ms(value):
    return None if pd.isna(value) else round(value.total_seconds() * 1000)


def test_laps_one_message_per_fastf1_lap(baku_2018, baku_laps):
    messages = baku_laps
    assert len(messages) == len(baku_2018.laps) == 848
    expected = {(int(r.DriverNumber), int(r.LapNumber)): r for r in baku_2018.laps.itertuples()}
    for message in messages:
        json.dumps(message, allow_nan=False)
        validate_message(message)
        lap = expected.pop((message["driver_number"], message["lap_number"]))
        assert message["abbreviation"] == lap.Driver
        assert message["lap_time_ms"] == ms(lap.LapTime)
        assert message["sector2_ms"] == ms(lap.Sector2Time)
        assert message["session_time_ms"] == ms(lap.Time)
        assert message["pit_in_time_ms"] == ms(lap.PitInTime)
        assert message["compound"] == (None if pd.isna(lap.Compound) else lap.Compound)
        assert message["position"] == (None if pd.isna(lap.Position) else int(lap.Position))
        assert message["track_status"] == lap.TrackStatus
    assert expected == {}


def test_laps_come_in_lap_order_per_driver(baku_2018, baku_laps):
    seen: dict[int, list[int]] = {}
    for message in baku_laps:
        seen.setdefault(message["driver_number"], []).append(message["lap_number"])
    assert len(seen) == 20
    for laps in seen.values():
        assert laps == sorted(laps) and len(set(laps)) == len(laps)
    winner = int(baku_2018.results.iloc[0]["DriverNumber"])
    assert seen[winner] == list(range(1, 52))


def test_race_control_one_message_per_fastf1_message(baku_2018):
    messages = extract("race_control", 2018, 4)
    expected = baku_2018.race_control_messages
    assert len(messages) == len(expected) == 109
    for message, (_, row) in zip(messages, expected.iterrows(), strict=True):
        validate_message(message)
        assert message["message"] == row["Message"]
        assert message["category"] == row["Category"]
        assert message["lap"] == row["Lap"]
        assert message["time_utc"] == row["Time"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert [m["message_index"] for m in messages] == list(range(109))


def test_track_status_one_message_per_change(baku_2018):
    messages = extract("track_status", 2018, 4)
    expected = baku_2018.track_status
    assert len(messages) == len(expected) == 22
    assert [(m["session_time_ms"], m["status"], m["message"]) for m in messages] == [
        (ms(r.Time), r.Status, r.Message) for r in expected.itertuples()
    ]
    assert messages[1]["message"] == "SCDeployed"


def test_weather_not_recorded_is_reported(fastf1_offline):
    with pytest.raises(F1PipeError) as raised:
        extract("weather", 2018, 4)
    assert "no weather data: not in the offline FastF1 cache" in str(raised.value)
    assert "WeatherData.jsonStream" in str(raised.value)


def test_weather_samples_equal_fastf1(fastf1_offline):
    session = fastf1.get_session(2019, 14, "Q")  # 2019 Italian GP qualifying has WeatherData
    session.load(laps=False, telemetry=False, messages=False)
    expected = session.weather_data
    messages = extract("weather", 2019, 14, "Q")
    assert len(messages) == len(expected) > 0
    for message, (_, row) in zip(messages, expected.iterrows(), strict=True):
        validate_message(message)
        assert message["session_time_ms"] == ms(row["Time"])
        assert message["air_temp_c"] == row["AirTemp"]
        assert message["rainfall"] == bool(row["Rainfall"])


def test_lap_end_utc_is_lap_start_date_plus_lap_duration():
    row = pd.Series({"LapStartDate": pd.Timestamp("2018-04-29 12:10:00"),
                     "LapStartTime": pd.Timedelta(minutes=10),
                     "Time": pd.Timedelta(minutes=11, seconds=45, milliseconds=250)})
    assert lap_end_utc(row) == "2018-04-29T12:11:45.250Z"
    assert lap_end_utc({**row, "LapStartDate": pd.NaT}) is None
