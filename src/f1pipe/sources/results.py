"""``results``: one message per driver result (FastF1 ``Session.results``)."""

from __future__ import annotations

import pandas as pd
from fastf1.exceptions import DataNotLoadedError

from f1pipe.errors import F1PipeError
from f1pipe.schemas import CLASSIFIED_STATUS_LETTERS, ResultV1
from f1pipe.sources.convert import integer, ms, number, text
from f1pipe.sources.laps import completed_laps
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
    laps_done = _completed_laps_per_driver(loaded)
    return [result(loaded, row, laps_done) for _, row in results.iterrows()]


def classified_position(row: pd.Series) -> str | None:
    """One format for every session type: the position as whole-number text (``"1"``, never
    FastF1's ``"1.0"`` of qualifying-type sessions) or a status letter (R retired, D
    disqualified, E excluded, W withdrawn, F failed to qualify, N not classified). A
    practice driver without a timed lap, who has no position, is ``"N"``."""
    value = text(row.get("ClassifiedPosition"))
    if value is not None and value.strip().upper() in CLASSIFIED_STATUS_LETTERS:
        return value.strip().upper()
    try:
        if value is not None:
            return str(int(float(value)))
    except ValueError:
        pass
    position = integer(row.get("Position"))
    return str(position) if position is not None else "N"


def _completed_laps_per_driver(loaded: LoadedSession) -> dict[int, int]:
    """Laps completed per driver number from the session's laps, when they were loaded
    (qualifying and practice: Jolpica gives no lap count there); empty otherwise."""
    try:
        laps = loaded.session.laps
    except DataNotLoadedError:
        return {}
    if laps is None or laps.empty:
        return {}
    done = completed_laps(pd.DataFrame(laps))
    return {int(n): int(c) for n, c in
            pd.DataFrame(laps)[done].groupby("DriverNumber").size().items()}


def result(loaded: LoadedSession, row: pd.Series,
           laps_done: dict[int, int] | None = None) -> ResultV1:
    """One results row as a payload (times in ms, missing values None). ``laps`` is FastF1's
    (Jolpica's) lap count, else the laps completed in ``laps_done``."""
    ref = loaded.ref
    number_ = int(row["DriverNumber"])
    laps = integer(row.get("Laps"))
    if laps is None and laps_done:
        laps = laps_done.get(number_, 0)
    return ResultV1(
        season=ref.season, round=ref.round, session=ref.session,
        event_name=ref.event_name, country=ref.country, location=ref.location,
        session_name=ref.session_name, session_date=ref.session_date,
        driver_number=number_,
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
        classified_position=classified_position(row),
        grid_position=integer(row.get("GridPosition")),
        q1_ms=ms(row.get("Q1")),
        q2_ms=ms(row.get("Q2")),
        q3_ms=ms(row.get("Q3")),
        time_ms=ms(row.get("Time")),
        status=text(row.get("Status")),
        points=number(row.get("Points")),
        laps=laps,
    )
