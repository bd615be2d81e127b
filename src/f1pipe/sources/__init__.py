"""Sources: FastF1 data turned into schema messages (extract stage).

Call :func:`configure_fastf1` once with the settings, then :func:`extract` (one dataset of
one session as envelope messages) or :func:`season_events` (the season's rounds).
"""

from f1pipe.sources.extract import (
    DATASETS,
    SESSION_DATASETS,
    SOURCE,
    check_datasets,
    extract,
    messages_of,
    session_ref,
)
from f1pipe.sources.fastf1_cache import configure_fastf1
from f1pipe.sources.loading import LoadedSession, load_session
from f1pipe.sources.schedule import Event, SessionRef, season_events, select_events

__all__ = [
    "DATASETS",
    "SESSION_DATASETS",
    "SOURCE",
    "Event",
    "LoadedSession",
    "SessionRef",
    "check_datasets",
    "configure_fastf1",
    "extract",
    "load_session",
    "messages_of",
    "season_events",
    "select_events",
    "session_ref",
]
