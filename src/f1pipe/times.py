"""Every time format f1pipe reads or writes, parsed and formatted in one place.

* durations given on the command line (``5s``, ``500ms``, ``2m``) -> seconds;
* session times (``01:05:00``, ``5:00``, ``300s``, ``5m``) -> ms, and ms -> ``01:02:03.456``;
* the live-timing streams' stamps (``01:02:03.456``) -> ms since the session start;
* ISO 8601 instants (``2024-07-07T14:00:00.000Z``; naive = UTC) -> aware UTC datetimes;
* the feed's lap times and gaps (``1:51.293``, ``+1.234``) -> ms, and ms -> ``1:51.293``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from f1pipe.errors import ConfigError, F1PipeError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_STAMP = re.compile(r"^(\d+):(\d{2}):(\d{2})\.(\d{3})$")
_LAP_TIME = re.compile(r"^(?:(\d+):)?(\d+)\.(\d{1,3})$")
_GAP = re.compile(r"^\+?(?:(\d+):)?(\d+)\.(\d{1,3})$")
_DURATION_UNITS = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))


def parse_duration_s(value: str, option: str) -> float:
    """``"5s"``, ``"500ms"``, ``"2m"`` or ``"5"`` as seconds (> 0); bad input is a one-line
    F1PipeError naming ``option``."""
    text = value.strip().lower()
    unit, scale = next(((u, f) for u, f in _DURATION_UNITS if text.endswith(u)), ("", 1.0))
    try:
        seconds = float(text.removesuffix(unit)) * scale
    except ValueError:
        raise F1PipeError(f"{option} {value!r}: expected a duration like 5s, 500ms or 2m") from None
    if seconds <= 0:
        raise F1PipeError(f"{option} {value!r}: must be more than zero")
    return seconds


def parse_session_time(text: str, option: str) -> int:
    """``"01:05:00"``, ``"5:00"``, ``"300"``, ``"300s"``, ``"5m"`` -> ms (0 allowed)."""
    value = text.strip().lower()
    clock = _CLOCK.match(value)
    try:
        if clock:
            hours, minutes, seconds = clock.groups()
            total = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        elif value.endswith("ms"):
            total = float(value[:-2]) / 1000
        elif value[-1:] in "smh":
            total = float(value[:-1]) * {"s": 1, "m": 60, "h": 3600}[value[-1]]
        else:
            total = float(value)
    except (ValueError, IndexError, KeyError):
        raise ConfigError(f"{option} {text!r}: expected a session time like 01:05:00, 5:00, "
                          "300s or 5m") from None
    if total < 0:
        raise ConfigError(f"{option} {text!r}: must not be negative")
    return round(total * 1000)


def format_session_time(ms: int) -> str:
    """3723456 -> ``"01:02:03.456"``."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"


def stamp_ms(stamp: str) -> int:
    """``"01:02:03.456"`` (the recorded streams' time stamps) -> 3723456 ms; ValueError if
    it is not ``HH:MM:SS.mmm``."""
    match = _STAMP.match(stamp.strip())
    if not match:
        raise ValueError(f"bad stream time stamp {stamp!r}, expected HH:MM:SS.mmm")
    h, m, s, ms = (int(g) for g in match.groups())
    return ((h * 60 + m) * 60 + s) * 1000 + ms


def parse_utc(value: Any, strict: bool = False) -> datetime | None:
    """An ISO 8601 instant as an aware UTC datetime (naive means UTC).

    Not text, or not ISO 8601: None, or ValueError when ``strict``.
    """
    if not isinstance(value, str):
        if strict:
            raise ValueError("time stamp is not text")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        if strict:
            raise ValueError(f"bad time stamp {value!r}") from None
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def lap_time_ms(value: Any) -> int | None:
    """The feed's lap or sector time ``"1:51.293"`` / ``"26.646"`` -> ms; other -> None."""
    return _minutes_seconds_ms(_LAP_TIME, value)


def gap_ms(value: Any) -> int | None:
    """The feed's gap ``"+1.234"`` -> 1234 ms; ``"1L"``, ``"LAP 12"`` or blank -> None."""
    return _minutes_seconds_ms(_GAP, value)


def _minutes_seconds_ms(pattern: re.Pattern, value: Any) -> int | None:
    match = pattern.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    minutes, seconds, fraction = match.groups()
    return (int(minutes or 0) * 60 + int(seconds)) * 1000 + int(fraction.ljust(3, "0"))


def format_lap_time(ms: int | None) -> str:
    """105412 -> ``"1:45.412"``; None -> ``""``."""
    if ms is None:
        return ""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:06.3f}" if minutes else f"{rest / 1000:.3f}"
