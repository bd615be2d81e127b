"""The live timing state: the feed's partial-update semantics, and a whole recorded race."""

from __future__ import annotations

import pytest

from f1pipe.live.timing_state import TimingState, deep_merge
from f1pipe.sources import session_ref
from f1pipe.sources.live_timing import live_payloads, read_session
from f1pipe.times import gap_ms, lap_time_ms
from tests.live.live_harness import CLASSIFIED_2018_R4


def test_dicts_merge_recursively_and_keep_what_the_delta_leaves_out():
    target = {"LastLapTime": {"Value": "1:46.000", "PersonalFastest": True}, "InPit": False}
    merged = deep_merge(target, {"LastLapTime": {"Value": "1:45.500"}})
    assert merged == {"LastLapTime": {"Value": "1:45.500", "PersonalFastest": True},
                      "InPit": False}


def test_a_dict_keyed_by_index_updates_a_list_in_place_and_can_append():
    sectors = [{"Value": "30.1"}, {"Value": "40.2"}, {"Value": ""}]
    merged = deep_merge(sectors, {"2": {"Value": "26.6"}, "3": {"Value": "x"}})
    assert merged == [{"Value": "30.1"}, {"Value": "40.2"}, {"Value": "26.6"}, {"Value": "x"}]


def test_a_whole_list_replaces_the_old_one():
    assert deep_merge({"Stints": [{"Compound": "SOFT"}, {"Compound": "HARD"}]},
                      {"Stints": [{"Compound": "MEDIUM"}]}) == {"Stints": [{"Compound": "MEDIUM"}]}


def test_times_and_gaps_are_parsed_to_ms_and_text_gaps_give_none():
    assert lap_time_ms("1:51.293") == 111293
    assert lap_time_ms("26.646") == 26646
    assert lap_time_ms("") is None
    assert gap_ms("+2.460") == 2460
    assert gap_ms("+1:02.5") == 62500
    assert gap_ms("1L") is None
    assert gap_ms("LAP 51") is None


def test_deltas_build_one_driver_row():
    state = TimingState()
    state.apply("DriverList", {"44": {"Tla": "HAM", "TeamName": "Mercedes"}}, 1000)
    state.apply("TimingData", {"Lines": {"44": {"Position": "2", "Sectors": [
        {"Value": ""}, {"Value": ""}, {"Value": ""}], "NumberOfPitStops": 0}}}, 2000)
    state.apply("TimingData", {"Lines": {"44": {"Sectors": {"0": {"Value": "37.412"}},
                                                "GapToLeader": "+0.404"}}}, 3000)
    state.apply("TimingAppData", {"Lines": {"44": {"Stints": [
        {"Compound": "SUPERSOFT", "TotalLaps": 3}]}}}, 4000)
    state.apply("TimingAppData", {"Lines": {"44": {"Stints": {"0": {"TotalLaps": 4}}}}}, 5000)
    state.apply("TimingData", {"Lines": {"44": {"InPit": True, "NumberOfPitStops": 1}}}, 6000)
    row = state.row("44")
    assert (row.abbreviation, row.team_name, row.position) == ("HAM", "Mercedes", 2)
    assert (row.sector1_ms, row.sector2_ms, row.gap_to_leader_ms) == (37412, None, 404)
    assert (row.compound, row.tyre_age_laps, row.pit_stops) == ("SUPERSOFT", 4, 1)
    assert row.status == "in pit"
    assert state.session_time_ms == 6000


@pytest.fixture(scope="module")
def final_state_2018_r4(fastf1_offline) -> TimingState:
    ref = session_ref(2018, 4, "R")
    recorded = read_session(ref)
    state = TimingState()
    for update in recorded.updates:
        for payload in live_payloads(ref, update, None):
            state.apply(payload.feed_topic, payload.data, payload.session_time_ms)
    return state


def test_recorded_2018_race_ends_in_fastf1s_classified_order(final_state_2018_r4):
    rows = final_state_2018_r4.rows()
    running = [r.abbreviation for r in rows if not r.retired]
    assert running == CLASSIFIED_2018_R4
    assert [r.position for r in rows[:13]] == list(range(1, 14))


def test_recorded_2018_race_marks_the_seven_others_retired(final_state_2018_r4):
    rows = final_state_2018_r4.rows()
    out = [r for r in rows if r.retired]
    assert len(rows) == 20
    assert sorted(r.abbreviation for r in out) == sorted(
        ["BOT", "GRO", "VER", "RIC", "HUL", "OCO", "SIR"])
    assert {r.status for r in out} == {"retired"}
    assert final_state_2018_r4.lap == (51, 51)


def test_car_data_gives_each_driver_his_newest_speed_and_drs():
    from rich.console import Console

    from f1pipe.live.tower_view import render_tower

    state = TimingState()
    state.apply("DriverList", {"44": {"Tla": "HAM"}, "7": {"Tla": "RAI"}}, 0)
    state.apply("CarData.z", {"Entries": [
        {"Utc": "2018-04-29T12:30:00Z", "Cars": {"44": {"Channels": {"2": 250, "45": 8}}}},
        {"Utc": "2018-04-29T12:30:00.25Z", "Cars": {"44": {"Channels": {"2": 262, "45": 12}},
                                                      "7": {"Channels": {"2": 199}}}}]}, 1000)

    rows = {r.abbreviation: r for r in state.rows()}
    assert (rows["HAM"].speed_kmh, rows["HAM"].drs) == (262, 12)
    assert (rows["RAI"].speed_kmh, rows["RAI"].drs) == (199, None)
    assert "CarData.z" not in state.session  # samples are per car, not session-wide
    console = Console(width=200, record=True)
    console.print(render_tower("2018 round 4 R", state, width=200))
    text = console.export_text()
    ham = next(line for line in text.splitlines() if "HAM" in line)
    assert "262" in ham and "open" in ham
