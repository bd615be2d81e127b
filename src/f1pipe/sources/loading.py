"""Loading one FastF1 session for some datasets, keeping FastF1's warnings as reasons.

FastF1 does not raise when data is missing (offline cache miss, not published, rate
limited): it logs a warning and leaves the data empty or unloaded. The warnings logged
while loading are kept so that a missing dataset can be reported with FastF1's own reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import fastf1
import pandas as pd
from fastf1.core import Session
from fastf1.exceptions import DataNotLoadedError

from f1pipe.errors import F1PipeError
from f1pipe.schemas import POINTS_SESSION_TYPES, session_type
from f1pipe.sources.fastf1_cache import captured_fastf1_warnings
from f1pipe.sources.schedule import SessionRef

# What each dataset needs from Session.load (telemetry is never needed).
LOAD_FLAGS: dict[str, dict[str, bool]] = {
    "results": {},
    "laps": {"laps": True, "messages": True},  # race control marks deleted laps
    "race_control": {"messages": True},
    "weather": {"weather": True},
    "track_status": {"laps": True},
}

# Words that tie a FastF1 warning to a dataset (live-timing page names and log texts),
# most telling first.
WARNING_HINTS: dict[str, tuple[str, ...]] = {
    "results": ("results", "driverlist", "driver list", "driver info"),
    "laps": ("timingdata", "timing data", "timingappdata", "laps", "lap"),
    "race_control": ("racecontrolmessages", "race control"),
    "weather": ("weatherdata", "weather"),
    "track_status": ("trackstatus", "track status"),
}

# Every held session has results and laps; an empty table means FastF1 could not get them.
# Race control, weather and track status may legitimately be empty.
EMPTY_IS_MISSING = ("results", "laps")

CACHE_MISS = "Offline mode is enabled but no cached response is available for "


@dataclass
class LoadedSession:
    """A loaded FastF1 session and the warnings FastF1 logged while loading it."""

    ref: SessionRef
    session: Session
    warnings: list[str] = field(default_factory=list)

    def missing_reason(self, dataset: str) -> str:
        """Why ``dataset`` is missing, on one line, from FastF1's warnings when it gave one."""
        for hint in WARNING_HINTS[dataset]:  # most telling hint first
            for message in self.warnings:
                if hint in message.casefold():
                    return _shorten(message)
        return "FastF1 returned no data"

    def frame(self, attribute: str, dataset: str) -> pd.DataFrame:
        """``session.<attribute>`` (e.g. ``weather_data``); raises F1PipeError when FastF1
        has none, with the reason."""
        try:
            data = getattr(self.session, attribute)
        except DataNotLoadedError:
            data = None
        if data is None or (dataset in EMPTY_IS_MISSING and data.empty):
            raise F1PipeError(
                f"{self.ref.label}: no {dataset} data: {self.missing_reason(dataset)}"
            )
        return data


# Results of the sessions Jolpica/Ergast does not classify (sprint qualifying / shootout,
# practice) are computed by FastF1 from the lap times, deleted laps included: they need the
# laps and race control messages. Races and sprints are classified by Jolpica.
RESULTS_FROM_LAPS = {"laps": True, "messages": True}


def load_flags(datasets: Iterable[str], ref: SessionRef | None = None) -> dict[str, bool]:
    """Keyword arguments for ``Session.load`` covering all ``datasets`` of session ``ref``."""
    flags = {"laps": False, "telemetry": False, "weather": False, "messages": False}
    for dataset in datasets:
        flags.update(LOAD_FLAGS[dataset])
        if dataset == "results" and ref is not None and \
                session_type(ref.session, ref.season) not in POINTS_SESSION_TYPES:
            flags.update(RESULTS_FROM_LAPS)
    return flags


def load_session(ref: SessionRef, datasets: Iterable[str]) -> LoadedSession:
    """Load ``ref`` with what ``datasets`` need; raises F1PipeError when it cannot be loaded."""
    if not ref.has_happened():
        raise F1PipeError(f"{ref.label}: not held yet (scheduled {ref.session_date})")
    with captured_fastf1_warnings() as captured:
        try:
            session = fastf1.get_session(ref.season, ref.round, ref.session)
            session.load(**load_flags(datasets, ref))
        except Exception as exc:  # rate limits, HTTP errors, parser errors: one line each
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise F1PipeError(f"{ref.label}: FastF1 could not load it: {message}") from None
    return LoadedSession(ref, session, captured)


def _shorten(message: str) -> str:
    if message.startswith(CACHE_MISS):
        url = message.removeprefix(CACHE_MISS).strip("'")
        return f"not in the offline FastF1 cache ({url})"
    return message
