from datetime import UTC, datetime, timedelta

import fastf1
import pandas as pd
import pytest

from f1pipe.errors import F1PipeError
from f1pipe.sources import season_events, select_events
from f1pipe.sources.loading import load_session
from f1pipe.sources.schedule import SessionRef, session_identifier


def test_season_events_follow_fastf1_schedule_without_testing(fastf1_offline):
    schedule = fastf1.get_event_schedule(2024, include_testing=True)
    races = schedule[schedule["RoundNumber"] > 0]
    events = season_events(2024)
    assert [(e.round, e.name) for e in events] == list(
        zip(races["RoundNumber"].astype(int), races["EventName"], strict=True)
    )
    assert len(events) == 24
    assert len(schedule) > len(events)  # pre-season testing was in the schedule


def test_event_sessions_come_from_the_schedule(fastf1_offline):
    british = select_events(2024, event="silverstone")[0]
    assert british.round == 12 and british.name == "British Grand Prix"
    race = british.session("race")
    assert race.session == "R" and race.session_date == "2024-07-07T14:00:00.000Z"
    assert [s for s, _ in select_events(2024, rounds=[5])[0].sessions] == [
        "FP1", "SQ", "S", "Q", "R",
    ]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: season_events(1900), "unknown season 1900"),
        (lambda: season_events(2017), "no event schedule for season 2017"),
        (lambda: select_events(2024, rounds=[30]), "season 2024 has no round 30"),
        (lambda: select_events(2024, event="Nowhere"), "no single event matches 'Nowhere'"),
        (lambda: session_identifier("XX"), "unknown session 'XX'"),
        (lambda: select_events(2024, rounds=[12])[0].session("SQ"), "has no SQ session"),
    ],
)
def test_bad_arguments_give_one_line_errors(fastf1_offline, call, expected):
    with pytest.raises(F1PipeError) as raised:
        call()
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_session_not_held_yet_is_refused_before_loading():
    start = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=30))
    future = SessionRef(2030, 1, "Future Grand Prix", None, None, "R", "Race", start)
    assert not future.has_happened()
    assert future.has_happened(now=datetime.now(UTC) + timedelta(days=31))
    with pytest.raises(F1PipeError) as raised:
        load_session(future, ["results"])
    assert str(raised.value) == (
        f"2030 round 1 (Future Grand Prix) R: not held yet (scheduled "
        f"{future.session_date})"
    )


def test_sq_and_ss_stand_for_each_other(fastf1_offline):
    baku_2023 = select_events(2023, rounds=[4])[0]  # 2023: sprint shootout (SS)
    china_2024 = select_events(2024, rounds=[5])[0]  # 2024: sprint qualifying (SQ)
    assert baku_2023.session("SQ").session == "SS"
    assert china_2024.session("SS").session == "SQ"
    assert china_2024.session("sprint shootout").session_name == "Sprint Qualifying"
    assert select_events(2024, rounds=[12])[0].held("SS") is None
