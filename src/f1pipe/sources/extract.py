"""FastF1 data of one session as envelope messages, one dataset at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import fastf1

from f1pipe.codec import keyed
from f1pipe.errors import F1PipeError
from f1pipe.schemas import Payload
from f1pipe.sources import laps, race_control, results, track_status, weather
from f1pipe.sources.loading import LoadedSession, load_session
from f1pipe.sources.schedule import SessionRef, select_events

SOURCE = f"fastf1/{fastf1.__version__}"

BUILDERS: dict[str, Callable[[LoadedSession], list[Payload]]] = {
    "results": results.payloads,
    "laps": laps.payloads,
    "race_control": race_control.payloads,
    "weather": weather.payloads,
    "track_status": track_status.payloads,
}
DATASETS: tuple[str, ...] = tuple(BUILDERS)
SESSION_DATASETS: tuple[str, ...] = ("laps", "race_control", "weather", "track_status")


def check_datasets(datasets: list[str]) -> list[str]:
    """``datasets`` without repeats; an unknown name raises F1PipeError."""
    unknown = [d for d in datasets if d not in BUILDERS]
    if unknown or not datasets:
        raise F1PipeError(
            f"unknown dataset {unknown[0] if unknown else '(none)'!r}: "
            f"use one or more of {', '.join(DATASETS)}"
        )
    return list(dict.fromkeys(datasets))


def session_ref(season: int, round: int, session: str = "R") -> SessionRef:
    """The schedule's entry for one session; unknown season/round/session raise F1PipeError."""
    (event,) = select_events(season, rounds=[round])
    return event.session(session)


def messages_of(loaded: LoadedSession, dataset: str,
                produced_at: datetime | None = None) -> list[tuple[str, dict]]:
    """``(Kafka key, envelope message)`` of each fact of one dataset of a loaded session
    (F1PipeError when missing): built from the payloads, so nobody re-validates them."""
    produced_at = produced_at or datetime.now(UTC)
    return [keyed(p, SOURCE, produced_at) for p in BUILDERS[dataset](loaded)]


def extract(dataset: str, season: int, round: int, session: str = "R") -> list[dict]:
    """Envelope messages of ``dataset`` for one session (FastF1 must be configured first,
    see :func:`~f1pipe.sources.configure_fastf1`). Raises F1PipeError with a one-line
    reason when the data cannot be loaded."""
    (dataset,) = check_datasets([dataset])
    loaded = load_session(session_ref(season, round, session), [dataset])
    return [message for _key, message in messages_of(loaded, dataset)]
