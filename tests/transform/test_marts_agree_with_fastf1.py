"""The 2018 Azerbaijan GP's stints, pit stops and lap chart, as the marts give them, agree
row for row with what FastF1 itself computes from the same recorded data (its ``Stint``,
``Compound``, ``PitInTime`` / ``PitOutTime`` and ``Position`` columns)."""

from __future__ import annotations

import duckdb
import fastf1
import pandas as pd
import pytest

from f1pipe.sources.convert import ms
from tests.transform.conftest import RACE, live_messages


@pytest.fixture(scope="module")
def fastf1_laps(fastf1_offline) -> pd.DataFrame:
    session = fastf1.get_session(2018, 4, "R")
    session.load(telemetry=False, weather=False, messages=False)
    laps = pd.DataFrame(session.laps)
    laps["DriverNumber"] = laps["DriverNumber"].astype(int)
    laps["LapNumber"] = laps["LapNumber"].astype(int)
    assert len(laps) == 848
    return laps.sort_values(["DriverNumber", "LapNumber"]).reset_index(drop=True)


def mart(marts_warehouse, sql: str) -> list[tuple]:
    con = duckdb.connect(str(marts_warehouse.path), read_only=True)
    try:
        return con.execute(sql, list(RACE)).fetchall()
    finally:
        con.close()


def test_stints_agree_with_fastf1(marts_warehouse, fastf1_laps):
    ours = {(d, s): (compound, first, last) for d, s, compound, first, last in mart(
        marts_warehouse, "SELECT driver_number, stint_number, compound, first_lap, last_lap "
        "FROM stints WHERE season = ? AND round = ? AND session = ?")}
    known = fastf1_laps[fastf1_laps["Stint"].notna()]
    expected = {}
    for (driver, stint), laps in known.groupby(["DriverNumber", "Stint"]):
        compounds = laps["Compound"].dropna()
        compound = compounds.iloc[0] if len(compounds) else None
        expected[(driver, int(stint))] = (compound, laps["LapNumber"].min(),
                                          laps["LapNumber"].max())
    assert len(expected) == 56
    assert set(ours) == set(expected)
    for key, (compound, first, last) in expected.items():
        our_compound, our_first, our_last = ours[key]
        assert (our_compound, our_last) == (compound, last), key
        # laps before a driver's first known stint (FastF1: Stint NaN, mostly lap 1) belong
        # to that stint in the mart; every other stint starts where FastF1's does
        unknown = fastf1_laps[(fastf1_laps["DriverNumber"] == key[0])
                              & fastf1_laps["LapNumber"].between(our_first, first - 1)]
        assert our_first <= first, key
        assert unknown["Stint"].isna().all(), key


def test_pit_stops_agree_with_fastf1(marts_warehouse, fastf1_laps):
    ours = mart(marts_warehouse, "SELECT driver_number, lap_number, pit_in_time_ms, "
                "pit_out_time_ms, pit_lane_duration_ms FROM pit_stops WHERE season = ? AND "
                "round = ? AND session = ? ORDER BY driver_number, lap_number")
    expected = []
    for driver, laps in fastf1_laps.groupby("DriverNumber"):
        laps = laps.set_index("LapNumber")
        for lap, row in laps[laps["PitInTime"].notna()].iterrows():
            out = ms(laps.loc[lap + 1, "PitOutTime"]) if lap + 1 in laps.index else None
            pit_in = ms(row["PitInTime"])
            expected.append((driver, lap, pit_in, out, None if out is None else out - pit_in))
    assert len(expected) == 36
    assert ours == expected


def test_lap_positions_agree_with_fastf1(marts_warehouse, fastf1_laps):
    ours = mart(marts_warehouse, "SELECT driver_number, lap_number, position FROM "
                "lap_positions WHERE season = ? AND round = ? AND session = ? AND "
                "lap_number > 0 ORDER BY driver_number, lap_number")
    known = fastf1_laps[fastf1_laps["Position"].notna()]
    expected = [(d, n, int(p)) for d, n, p in
                zip(known["DriverNumber"], known["LapNumber"], known["Position"], strict=True)]
    assert len(expected) == 841
    assert ours == expected


def test_the_grid_is_lap_zero(marts_warehouse):
    grid = mart(marts_warehouse, "SELECT p.position, r.grid_position FROM lap_positions p "
                "JOIN f1_results r USING (season, round, session, driver_number) WHERE "
                "p.season = ? AND p.round = ? AND p.session = ? AND p.lap_number = 0 "
                "ORDER BY p.position")
    assert [p for p, _ in grid] == list(range(1, 21))
    on_grid = [g for _, g in grid if g and g > 0]
    assert on_grid == sorted(on_grid)


def test_gaps_and_the_lead_change(marts_warehouse):
    leaders = mart(marts_warehouse, "SELECT lap_number, abbreviation FROM lap_gaps WHERE "
                   "season = ? AND round = ? AND session = ? AND position = 1 ORDER BY 1")
    changes = [(lap, who) for (lap, who), (_, before) in zip(leaders[1:], leaders, strict=False)
               if who != before]
    # Vettel led from the start; Bottas after Vettel's stop (lap 30) until his puncture on
    # lap 48; Hamilton won.
    assert leaders[0][1] == "VET"
    assert changes == [(31, "BOT"), (49, "HAM")]
    gaps = mart(marts_warehouse, "SELECT MIN(gap_to_leader_ms), MIN(interval_to_ahead_ms), "
                "COUNT(*) FROM lap_gaps WHERE season = ? AND round = ? AND session = ?")
    assert gaps[0][0] == 0 and gaps[0][1] >= 0 and gaps[0][2] == 841


def test_interval_history_holds_every_value_the_stream_sent(marts_warehouse):
    expected = set()
    for message in live_messages():
        entry = message["data"].get("Lines", {}).get(message["subject"], {})
        gap = entry.get("GapToLeader") or None
        interval = entry.get("IntervalToPositionAhead")
        interval = (interval.get("Value") or None) if isinstance(interval, dict) else None
        if gap is not None or interval is not None:
            expected.add((message["driver_number"], message["stream_index"], gap, interval))
    ours = set(mart(marts_warehouse, "SELECT driver_number, stream_index, gap_to_leader, "
                    "interval_to_ahead FROM interval_history WHERE season = ? AND round = ? "
                    "AND session = ?"))
    assert len(expected) > 300
    assert ours == expected
    as_ms = mart(marts_warehouse, "SELECT interval_to_ahead, interval_to_ahead_ms FROM "
                 "interval_history WHERE season = ? AND round = ? AND session = ? AND "
                 "interval_to_ahead LIKE '+%' LIMIT 50")
    assert as_ms and all(ms_ == round(float(text) * 1000) for text, ms_ in as_ms)
