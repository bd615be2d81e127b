"""FastF1 (pandas) values to JSON-ready values: NaN/NaT -> None, timedeltas -> int ms,
timestamps -> ISO 8601 UTC strings."""

from __future__ import annotations

from typing import Any

import pandas as pd


def missing(value: Any) -> bool:
    """True for None, NaN, NaT, pd.NA and empty strings."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other non-scalars
        return False


def text(value: Any) -> str | None:
    """A string, or None when missing."""
    return None if missing(value) else str(value)


def integer(value: Any) -> int | None:
    """An int (from FastF1's float columns such as ``Position``), or None when missing."""
    if missing(value):
        return None
    if isinstance(value, str):
        return int(value) if value.strip().lstrip("-").isdigit() else None
    return int(value)


def number(value: Any) -> float | None:
    """A float, or None when missing."""
    return None if missing(value) else float(value)


def boolean(value: Any) -> bool | None:
    """A bool, or None when missing."""
    return None if missing(value) else bool(value)


def ms(value: Any) -> int | None:
    """A timedelta as whole milliseconds (rounded), or None when missing."""
    if missing(value):
        return None
    return round(pd.Timedelta(value).value / 1_000_000)


def iso_utc(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC with milliseconds (``...T14:00:00.000Z``); naive = UTC."""
    if missing(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
