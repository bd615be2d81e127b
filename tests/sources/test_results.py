import json

import fastf1
import pandas as pd
import pytest

from f1pipe.errors import F1PipeError
from f1pipe.schemas import ResultV1, validate_message
from f1pipe.sources import extract

# message field -> FastF1 results column
COLUMNS = {
    "abbreviation": "Abbreviation", "full_name": "FullName", "first_name": "FirstName",
    "last_name": "LastName", "driver_id": "DriverId", "team_name": "TeamName",
    "team_id": "TeamId", "team_colour": "TeamColor", "position": "Position",
    "classified_position": "ClassifiedPosition", "grid_position": "GridPosition",
    "time_ms": "Time", "status": "Status", "points": "Points", "laps": "Laps",
}


def fastf1_value(value):
    """FastF1's value as the message states it: missing -> None, timedelta -> ms."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    if isinstance(value, pd.Timedelta):
        return value.value // 1_000_000
    return value


@pytest.mark.parametrize("round_number", [2, 12])
def test_results_equal_fastf1_session_results(fastf1_offline, round_number):
    session = fastf1.get_session(2024, round_number, "R")
    session.load(laps=False, telemetry=False, weather=False, messages=False)
    expected = session.results
    messages = extract("results", 2024, round_number)
    assert len(messages) == len(expected) == 20
    for message, (_, row) in zip(messages, expected.iterrows(), strict=True):
        json.dumps(message, allow_nan=False)
        payload = validate_message(message)
        assert isinstance(payload, ResultV1)
        assert payload.natural_key() == f"2024-{round_number}-R-{row['DriverNumber']}"
        assert message["event_name"] == session.event["EventName"]
        for field, column in COLUMNS.items():
            assert message[field] == fastf1_value(row[column]), (field, row["Abbreviation"])


def test_british_gp_2024_classification(fastf1_offline):
    by_driver = {m["abbreviation"]: m for m in extract("results", 2024, 12)}
    assert (by_driver["HAM"]["position"], by_driver["HAM"]["points"]) == (1, 25.0)
    assert by_driver["VER"]["position"] == 2 and by_driver["NOR"]["position"] == 3
    russell, gasly = by_driver["RUS"], by_driver["GAS"]
    assert (russell["position"], russell["classified_position"], russell["status"]) == (
        19, "R", "Retired"
    )
    assert gasly["status"] == "Did not start" and gasly["time_ms"] is None
    assert by_driver["HAM"]["session_date"] == "2024-07-07T14:00:00.000Z"
    assert by_driver["HAM"]["time_ms"] == 4_947_059  # 1:22:27.059


def test_same_race_twice_gives_same_event_ids(fastf1_offline):
    first = [m["event_id"] for m in extract("results", 2024, 12)]
    assert first == [m["event_id"] for m in extract("results", 2024, 12)]
    assert len(set(first)) == 20


def test_round_not_recorded_fails_with_fastf1_reason(fastf1_offline):
    with pytest.raises(F1PipeError) as raised:
        extract("results", 2024, 1)
    assert str(raised.value) == (
        "2024 round 1 (Bahrain Grand Prix) R: no results data: not in the offline FastF1 "
        "cache (https://api.jolpi.ca/ergast/f1/2024/1/results.json)"
    )


def test_unknown_dataset_is_refused(fastf1_offline):
    with pytest.raises(F1PipeError, match="unknown dataset 'telemetry'"):
        extract("telemetry", 2024, 12)


def test_driver_list_without_classification_counts_as_missing(fastf1_offline):
    session = fastf1.get_session(2024, 10, "R")  # only the DriverList stream is recorded
    session.load(laps=False, telemetry=False, weather=False, messages=False)
    assert len(session.results) == 20 and session.results["Position"].isna().all()
    with pytest.raises(F1PipeError) as raised:
        extract("results", 2024, 10)
    assert "no results data: driver list only, no classification: not in the offline " \
           "FastF1 cache (https://api.jolpi.ca/ergast/f1/2024/10/results.json)" in str(raised.value)


@pytest.mark.parametrize(("classified", "position", "expected"), [
    ("1.0", 1.0, "1"), ("12", 12.0, "12"), ("R", 17.0, "R"), ("N", 20.0, "N"), ("w", None, "W"),
    ("", 3.0, "3"),  # practice: FastF1 gives the position only
    ("", None, "N"),  # practice driver without a timed lap
])
def test_classified_position_has_one_format(classified, position, expected):
    from f1pipe.sources.results import classified_position

    row = pd.Series({"ClassifiedPosition": classified, "Position": position})
    assert classified_position(row) == expected
