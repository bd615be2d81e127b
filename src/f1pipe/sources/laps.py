"""``laps``: one message per lap (FastF1 ``Session.laps``), lap order kept per driver."""

from __future__ import annotations

import pandas as pd

from f1pipe.schemas import LapV1
from f1pipe.sources.convert import boolean, integer, iso_utc, missing, ms, number, text
from f1pipe.sources.loading import LoadedSession


def payloads(loaded: LoadedSession) -> list[LapV1]:
    """One :class:`LapV1` per lap, ordered by lap number then session time, so every
    driver's laps come in lap order."""
    laps = pd.DataFrame(loaded.frame("laps", "laps"))
    laps["_completed"] = completed_laps(laps)
    ordered = laps.sort_values(["LapNumber", "Time"], kind="stable", na_position="last")
    return [lap(loaded, row) for _, row in ordered.iterrows()]


def completed_laps(laps: pd.DataFrame) -> pd.Series:
    """True for each lap the driver finished. FastF1 keeps the lap a driver retired on (or
    stopped on at the end of a session) as a last row with neither a lap time nor a
    position; every other lap was completed (a later lap exists, or it was timed)."""
    last = laps.groupby("DriverNumber")["LapNumber"].transform("max") == laps["LapNumber"]
    timed = laps["LapTime"].notna()
    if "Position" in laps:
        timed = timed | laps["Position"].notna()
    return ~last | timed


def lap(loaded: LoadedSession, row: pd.Series) -> LapV1:
    """One lap row as a payload (times in ms from session start, speeds in km/h)."""
    ref = loaded.ref
    return LapV1(
        season=ref.season, round=ref.round, session=ref.session,
        driver_number=int(row["DriverNumber"]),
        abbreviation=text(row.get("Driver")),
        team_name=text(row.get("Team")),
        lap_number=int(row["LapNumber"]),
        lap_time_ms=ms(row.get("LapTime")),
        sector1_ms=ms(row.get("Sector1Time")),
        sector2_ms=ms(row.get("Sector2Time")),
        sector3_ms=ms(row.get("Sector3Time")),
        speed_i1_kmh=number(row.get("SpeedI1")),
        speed_i2_kmh=number(row.get("SpeedI2")),
        speed_fl_kmh=number(row.get("SpeedFL")),
        speed_st_kmh=number(row.get("SpeedST")),
        compound=text(row.get("Compound")),
        tyre_life_laps=integer(row.get("TyreLife")),
        fresh_tyre=boolean(row.get("FreshTyre")),
        stint=integer(row.get("Stint")),
        pit_in_time_ms=ms(row.get("PitInTime")),
        pit_out_time_ms=ms(row.get("PitOutTime")),
        position=integer(row.get("Position")),
        track_status=text(row.get("TrackStatus")),
        is_personal_best=boolean(row.get("IsPersonalBest")),
        is_accurate=boolean(row.get("IsAccurate")),
        deleted=boolean(row.get("Deleted")),
        lap_start_time_ms=ms(row.get("LapStartTime")),
        session_time_ms=ms(row.get("Time")),
        lap_end_utc=lap_end_utc(row),
        is_completed=boolean(row.get("_completed")),
    )


def lap_end_utc(row: pd.Series) -> str | None:
    """UTC time of the lap's end: ``LapStartDate`` moved on by ``Time - LapStartTime``.

    FastF1 dates laps from the car data's start; without it ``LapStartDate`` is NaT and
    so is this.
    """
    start_date, start, end = row.get("LapStartDate"), row.get("LapStartTime"), row.get("Time")
    if missing(start_date) or missing(start) or missing(end):
        return None
    return iso_utc(pd.Timestamp(start_date) + (pd.Timedelta(end) - pd.Timedelta(start)))
