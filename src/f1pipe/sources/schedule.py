"""The season's events and their sessions, from FastF1's event schedule (testing left out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import fastf1
import pandas as pd

from f1pipe.errors import F1PipeError
from f1pipe.schemas import SESSION_CODE_ALIASES
from f1pipe.sources.convert import iso_utc, text
from f1pipe.sources.fastf1_cache import captured_fastf1_warnings

FIRST_SEASON = 1950

# FastF1 session identifiers and the names the schedule uses for them.
SESSION_NAMES: dict[str, str] = {
    "FP1": "Practice 1",
    "FP2": "Practice 2",
    "FP3": "Practice 3",
    "SQ": "Sprint Qualifying",
    "SS": "Sprint Shootout",
    "S": "Sprint",
    "Q": "Qualifying",
    "R": "Race",
}
_IDENTIFIERS = {name.casefold(): ident for ident, name in SESSION_NAMES.items()}


@dataclass(frozen=True)
class SessionRef:
    """One session of one event: the identity every message of it carries."""

    season: int
    round: int
    event_name: str
    country: str | None
    location: str | None
    session: str  # FastF1 identifier: R, Q, S, SQ, SS, FP1, FP2, FP3
    session_name: str  # e.g. "Race"
    date_utc: pd.Timestamp | None  # scheduled start, naive UTC

    @property
    def label(self) -> str:
        return f"{self.season} round {self.round} ({self.event_name}) {self.session}"

    @property
    def session_date(self) -> str | None:
        """Scheduled start as ISO 8601 UTC, e.g. ``2024-07-07T14:00:00.000Z``."""
        return iso_utc(self.date_utc)

    def has_happened(self, now: datetime | None = None) -> bool:
        """False when the session is scheduled after ``now`` (default: the current time)."""
        if self.date_utc is None:
            return True
        now = now or datetime.now(UTC)
        return self.date_utc.tz_localize("UTC") <= pd.Timestamp(now)


@dataclass(frozen=True)
class Event:
    """One round of a season: name, place and its sessions in schedule order."""

    season: int
    round: int
    name: str
    country: str | None
    location: str | None
    official_name: str | None
    sessions: tuple[tuple[str, pd.Timestamp | None], ...]  # (identifier, naive UTC start)

    def held(self, name: str) -> str | None:
        """The identifier under which the event holds session ``name``, or None: SQ and SS
        (sprint qualifying, 2024 on / sprint shootout, 2023) stand for each other."""
        ident = session_identifier(name)
        codes = [code for code, _ in self.sessions]
        if ident in codes:
            return ident
        alias = SESSION_CODE_ALIASES.get(ident)
        return alias if alias in codes else None

    def session(self, name: str) -> SessionRef:
        """The event's session ``name`` (identifier or full name, any case; SQ and SS are
        accepted for each other)."""
        ident = self.held(name) or session_identifier(name)
        for held, date_utc in self.sessions:
            if held == ident:
                return SessionRef(self.season, self.round, self.name, self.country,
                                  self.location, ident, SESSION_NAMES[ident], date_utc)
        have = ", ".join(s for s, _ in self.sessions)
        raise F1PipeError(
            f"{self.season} round {self.round} ({self.name}) has no {ident} session; "
            f"it has {have}"
        )


def session_identifier(name: str) -> str:
    """``name`` as FastF1's identifier (``"race"`` -> ``"R"``); unknown names raise."""
    ident = name.strip().upper()
    if ident in SESSION_NAMES:
        return ident
    if name.strip().casefold() in _IDENTIFIERS:
        return _IDENTIFIERS[name.strip().casefold()]
    raise F1PipeError(
        f"unknown session {name!r}: use one of {', '.join(SESSION_NAMES)} (or its full name)"
    )


def season_events(season: int) -> list[Event]:
    """The season's events in round order, testing left out (needs :func:`configure_fastf1`)."""
    if not FIRST_SEASON <= season <= datetime.now(UTC).year + 1:
        raise F1PipeError(
            f"unknown season {season}: use a year from {FIRST_SEASON} to "
            f"{datetime.now(UTC).year + 1}"
        )
    try:
        with captured_fastf1_warnings():
            schedule = fastf1.get_event_schedule(season, include_testing=False)
    except Exception as exc:  # FastF1 raises ValueError/HTTP errors when no backend answers
        raise F1PipeError(
            f"no event schedule for season {season}: {_one_line(exc)} (offline cache miss, "
            "no network, or a season FastF1 does not know)"
        ) from None
    events = [_event(season, row) for _, row in schedule.iterrows() if row["RoundNumber"] > 0]
    if not events:
        raise F1PipeError(f"no events in FastF1's schedule for season {season}")
    return events


def select_events(season: int, rounds: list[int] | None = None,
                  event: str | None = None) -> list[Event]:
    """The season's events in round order, or only ``rounds``, or only the one named
    ``event``."""
    events = season_events(season)
    if event is not None:
        return [_event_by_name(events, event)]
    if not rounds:
        return events
    by_round = {e.round: e for e in events}
    unknown = [r for r in rounds if r not in by_round]
    if unknown:
        raise F1PipeError(
            f"season {season} has no round {unknown[0]} (rounds "
            f"{events[0].round}-{events[-1].round})"
        )
    return [by_round[r] for r in sorted(set(rounds))]


def _event_by_name(events: list[Event], wanted: str) -> Event:
    key = wanted.strip().casefold()
    for event in events:
        names = (event.name, event.country, event.location, event.official_name)
        if key in {n.casefold() for n in names if n}:
            return event
    partial = [e for e in events if key and key in e.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    names = "; ".join(e.name for e in (partial or events))
    raise F1PipeError(f"no single event matches {wanted!r} in {events[0].season}: {names}")


def _event(season: int, row: pd.Series) -> Event:
    sessions = []
    for i in range(1, 6):
        name, date_utc = row.get(f"Session{i}"), row.get(f"Session{i}DateUtc")
        ident = _IDENTIFIERS.get(str(name).casefold()) if text(name) else None
        if ident:
            sessions.append((ident, None if pd.isna(date_utc) else pd.Timestamp(date_utc)))
    return Event(season=season, round=int(row["RoundNumber"]), name=str(row["EventName"]),
                 country=text(row.get("Country")), location=text(row.get("Location")),
                 official_name=text(row.get("OfficialEventName")), sessions=tuple(sessions))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
