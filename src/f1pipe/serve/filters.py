"""OpenF1-style filters: the query string -> a parameterised WHERE clause.

``?season=2024&round=12&driver_number=44&lap_number>=10`` keeps the rows matching every
condition; operators ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` (as OpenF1:
``lap_number>=10`` is sent as the parameter ``lap_number>`` with the value ``10``, and
``lap_number<10`` as the parameter ``lap_number<10`` with no value). A column named more than
once with ``=`` matches any of the values. ``format`` (json, csv), ``limit`` and ``offset``
are not filters. Column names are checked against the endpoint's columns and values are
converted to the column's type and passed as parameters: no request text ever becomes SQL.
A bad filter is a :class:`FilterError` (HTTP 400) naming the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

OPERATORS = ("!=", ">=", "<=", "=", ">", "<")
RESERVED = ("format", "limit", "offset")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_VALUE_CHARS = 200
MAX_CONDITIONS = 50
INT64 = (-(2**63), 2**63 - 1)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Text values never reach SQL (they are parameters), yet SQL's quoting and comment marks have
# no use in F1 names and are refused, so an injection attempt is a 400, not an empty answer.
TEXT_REFUSED = re.compile(r"['\";\\*\x00-\x1f\x7f]|--")
# The same rule as a JSON Schema pattern (ECMA 262) for the OpenAPI description.
TEXT_PATTERN = "^-?(?:[^'\";\\\\*\\-\\u0000-\\u001f\\u007f]+-?)*$"
_SPLIT = re.compile(r"^([^<>=!]*)(!=|>=|<=|=|>|<)(.*)$", re.S)


class FilterError(ValueError):
    """A filter the endpoint cannot take; ``str()`` is the one-line reason and fix."""


@dataclass
class Query:
    """A parsed request: conditions (column, operator, values), format and page."""

    conditions: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    format: str = "json"
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def where(self) -> tuple[str, list[Any]]:
        """``WHERE ...`` (or empty) and its parameters."""
        parts, params = [], []
        for column, op, values in self.conditions:
            cast = "CAST(? AS TIMESTAMP)" if isinstance(values[0], datetime) else "?"
            if op == "=" and len(values) > 1:
                parts.append(f'"{column}" IN ({", ".join([cast] * len(values))})')
            else:
                parts.append(f'"{column}" {op} {cast}')
            params.extend(values)
        return ("WHERE " + " AND ".join(parts) if parts else ""), params


def split_pairs(query_string: str) -> list[tuple[str, str, str]]:
    """``a=1&b>=2&c<3`` -> [(a, =, 1), (b, >=, 2), (c, <, 3)], decoded.

    As HTTP clients send them: ``b>=2`` is the key ``b>`` with the value ``2``; ``c<3`` is
    the key ``c<3`` with no value (or an empty one); a fully encoded ``b%3E%3D2`` is the key
    ``b>=2`` with no value.
    """
    pairs = []
    for raw in query_string.split("&"):
        if not raw:
            continue
        raw_key, sep, raw_value = raw.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        if sep and key.endswith(("<", ">", "!")):
            name, op = key[:-1], key[-1] + "="
        elif sep and not any(c in key for c in "<>=!"):
            name, op = key, "="
        else:  # the whole condition is in the key
            match = _SPLIT.match(key)
            if not match or (sep and value):
                raise FilterError(f"filter {(key + sep + value)[:60]!r} has no operator: write "
                                  "name=value, name>=value, name<value...")
            name, op, value = match.groups()
        pairs.append((name.strip(), op, value))
    return pairs


def parse(query_string: str, columns: dict[str, str], endpoint: str) -> Query:
    """The query of one request to ``endpoint``, whose columns and types are ``columns``."""
    query = Query()
    equal: dict[str, list[Any]] = {}
    pairs = split_pairs(query_string)
    if len(pairs) > MAX_CONDITIONS:
        raise FilterError(f"{len(pairs)} filters: at most {MAX_CONDITIONS} per request")
    for name, op, value in pairs:
        if name in RESERVED:
            _reserved(query, name, op, value)
            continue
        if not _NAME.match(name) or name not in columns or columns[name] == "json":
            usable = ", ".join(c for c, t in columns.items() if t != "json")
            raise FilterError(f"unknown filter {name[:60]!r} on /v1/{endpoint}: use one of "
                              f"{usable}, format, limit, offset")
        typed = convert(value, columns[name], name)
        if op == "=":
            equal.setdefault(name, []).append(typed)
        else:
            if columns[name] == "bool" and op != "!=":
                raise FilterError(f"{name} is true or false: compare it with = or !=")
            query.conditions.append((name, op, [typed]))
    query.conditions = [(n, "=", v) for n, v in equal.items()] + query.conditions
    return query


def _reserved(query: Query, name: str, op: str, value: str) -> None:
    if op != "=":
        raise FilterError(f"{name} takes '=': {name}={value[:20]}")
    if name == "format":
        if value not in ("json", "csv"):
            raise FilterError(f"format {value[:20]!r}: use format=json or format=csv")
        query.format = value
        return
    number = _integer(value, name)
    low = 1 if name == "limit" else 0
    high = MAX_LIMIT if name == "limit" else INT64[1]
    if not low <= number <= high:
        raise FilterError(f"{name}={value[:20]}: must be from {low} to {high}")
    setattr(query, name, number)


def _integer(value: str, name: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,19}", value.strip()):
        raise FilterError(f"{name}: {value[:40]!r} is not an integer")
    return int(value)


def convert(value: str, kind: str, name: str) -> Any:
    """``value`` as the column type ``kind``; FilterError when it is not one."""
    if len(value) > MAX_VALUE_CHARS:
        raise FilterError(f"{name}: value longer than {MAX_VALUE_CHARS} characters")
    if kind in ("string", "timestamp") and TEXT_REFUSED.search(value):
        raise FilterError(f"{name}: quotes, semicolons, backslashes, '*', '--' and control "
                          "characters are not allowed in filter values")
    if kind == "int":
        number = _integer(value, name)
        if not INT64[0] <= number <= INT64[1]:
            raise FilterError(f"{name}: {value[:40]} is out of the 64-bit integer range")
        return number
    if kind == "float":
        try:
            number = float(value)
        except ValueError:
            raise FilterError(f"{name}: {value[:40]!r} is not a number") from None
        if not math.isfinite(number):
            raise FilterError(f"{name}: {value[:40]!r} is not a finite number")
        return number
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            raise FilterError(f"{name}: {value[:40]!r} is not true or false")
        return value.lower() == "true"
    if kind == "timestamp":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise FilterError(f"{name}: {value[:40]!r} is not an ISO 8601 date or time, e.g. "
                              "2024-07-07T14:00:00") from None
        # the warehouse keeps UTC without a zone
        return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    return value
