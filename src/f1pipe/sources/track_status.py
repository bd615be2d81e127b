"""``track_status``: one message per track status change (FastF1 ``Session.track_status``)."""

from __future__ import annotations

import pandas as pd

from f1pipe.schemas import TrackStatusV1
from f1pipe.sources.convert import ms, text
from f1pipe.sources.loading import LoadedSession


def payloads(loaded: LoadedSession) -> list[TrackStatusV1]:
    """One :class:`TrackStatusV1` per change, in session-time order."""
    frame = loaded.frame("track_status", "track_status")
    return [change(loaded, row) for _, row in frame.iterrows()]


def change(loaded: LoadedSession, row: pd.Series) -> TrackStatusV1:
    """One change: status code ("1" clear ... "7" VSC ending) at ``session_time_ms``."""
    ref = loaded.ref
    return TrackStatusV1(
        season=ref.season, round=ref.round, session=ref.session,
        session_time_ms=ms(row["Time"]),
        status=str(row["Status"]),
        message=text(row.get("Message")),
    )
