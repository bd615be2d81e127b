"""``race_control``: one message per race control message (``Session.race_control_messages``)."""

from __future__ import annotations

import pandas as pd

from f1pipe.schemas import RaceControlMessageV1
from f1pipe.sources.convert import integer, iso_utc, text
from f1pipe.sources.loading import LoadedSession


def payloads(loaded: LoadedSession) -> list[RaceControlMessageV1]:
    """One payload per message; ``message_index`` is its row (0-based) in FastF1's table."""
    frame = loaded.frame("race_control_messages", "race_control").reset_index(drop=True)
    return [message(loaded, index, row) for index, row in frame.iterrows()]


def message(loaded: LoadedSession, index: int, row: pd.Series) -> RaceControlMessageV1:
    """One race control message (``time_utc`` ISO UTC; ``driver_number`` from RacingNumber)."""
    ref = loaded.ref
    return RaceControlMessageV1(
        season=ref.season, round=ref.round, session=ref.session,
        message_index=int(index),
        time_utc=iso_utc(row.get("Time")),
        lap=integer(row.get("Lap")),
        category=text(row.get("Category")),
        message=str(row.get("Message") or ""),
        status=text(row.get("Status")),
        flag=text(row.get("Flag")),
        scope=text(row.get("Scope")),
        sector=integer(row.get("Sector")),
        driver_number=integer(row.get("RacingNumber")),
    )
