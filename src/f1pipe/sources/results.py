"""``results``: one message per driver result (FastF1 ``Session.results``)."""

from __future__ import annotations

import pandas as pd

from f1pipe.errors import F1PipeError
from f1pipe.schemas import ResultV1
from f1pipe.sources.convert import integer, ms, number, text
from f1pipe.sources.loading import LoadedSession


def payloads(loaded: LoadedSession) -> list[ResultV1]:
    """One :class:`ResultV1` per row of ``session.results``, in FastF1's order.

    Raises F1PipeError when FastF1 has no classification (no driver has a position).
    """
    results = loaded.frame("results", "results")
    if results["Position"].isna().all():
        # FastF1 fills the driver list from live timing even when the classification
        # (Ergast, or laps for recent races) could not be loaded.
        raise F1PipeError(f"{loaded.ref.label}: no results data: driver list only, no "
                          f"classification: {loaded.missing_reason('results')}")
    return [result(loaded, row) for _, row in results.iterrows()]


def result(loaded: LoadedSession, row: pd.Series) -> ResultV1:
    """One results row as a payload (times in ms, missing values None)."""
    ref = loaded.ref
    return ResultV1(
        season=ref.season, round=ref.round, session=ref.session,
        event_name=ref.event_name, country=ref.country, location=ref.location,
        session_name=ref.session_name, session_date=ref.session_date,
        driver_number=int(row["DriverNumber"]),
        abbreviation=text(row.get("Abbreviation")),
        broadcast_name=text(row.get("BroadcastName")),
        full_name=text(row.get("FullName")),
        first_name=text(row.get("FirstName")),
        last_name=text(row.get("LastName")),
        driver_id=text(row.get("DriverId")),
        country_code=text(row.get("CountryCode")),
        team_name=text(row.get("TeamName")),
        team_id=text(row.get("TeamId")),
        team_colour=text(row.get("TeamColor")),
        position=integer(row.get("Position")),
        classified_position=text(row.get("ClassifiedPosition")),
        grid_position=integer(row.get("GridPosition")),
        q1_ms=ms(row.get("Q1")),
        q2_ms=ms(row.get("Q2")),
        q3_ms=ms(row.get("Q3")),
        time_ms=ms(row.get("Time")),
        status=text(row.get("Status")),
        points=number(row.get("Points")),
        laps=integer(row.get("Laps")),
    )
