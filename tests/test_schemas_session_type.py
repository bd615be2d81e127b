"""session_type: one canonical kind per FastF1 session code, stored next to the code."""

import pytest
from pydantic import ValidationError

from f1pipe.schemas import SESSION_TYPES, LapV1, ResultV1, session_type


@pytest.mark.parametrize(("code", "season", "expected"), [
    ("R", 2024, "race"), ("S", 2024, "sprint"), ("Q", 2019, "qualifying"),
    ("SQ", 2024, "sprint_qualifying"), ("SS", 2023, "sprint_qualifying"),
    ("SQ", 2021, "sprint"),  # FastF1's name of 2021's sprint races
    ("FP1", 2024, "practice"), ("FP3", 2020, "practice"), ("XX", 2024, None),
])
def test_session_type_of_each_code(code, season, expected):
    assert session_type(code, season) == expected


def test_payloads_fill_session_type_from_the_code():
    lap = LapV1(season=2023, round=5, session="SS", driver_number=1, lap_number=1)
    assert lap.session_type == "sprint_qualifying"
    result = ResultV1(season=2024, round=5, session="SQ", event_name="Chinese Grand Prix",
                      session_name="Sprint Qualifying", driver_number=4)
    assert result.model_dump()["session_type"] == "sprint_qualifying"
    assert set(SESSION_TYPES.values()) == {"race", "qualifying", "sprint",
                                           "sprint_qualifying", "practice"}


def test_a_session_type_contradicting_the_code_is_refused():
    with pytest.raises(ValidationError, match="does not match session 'R'"):
        LapV1(season=2024, round=1, session="R", session_type="practice", driver_number=1,
              lap_number=1)
