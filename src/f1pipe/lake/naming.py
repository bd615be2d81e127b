"""Object names in the lake (the Kafka Connect S3 sink's layout).

Every part of a name comes from a validated value (schemas bound season and round and allow
only known session codes); :func:`object_name` checks again and refuses anything that is
not a plain token, so no record can name an object outside its topic's folder.
"""

from __future__ import annotations

import re

from f1pipe.errors import F1PipeError

OFFSET_DIGITS = 10
# Kafka's own topic-name characters; a token never starts with a dot ("..", ".hidden").
SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,248}")


class UnsafeNameError(F1PipeError):
    """A key part that is not a plain token (path separator, '..', NUL, empty...)."""


def object_name(topic: str, partition: int, start_offset: int,
                group: tuple[int, int, str], fmt: str) -> str:
    """The object's path under the lake, e.g.
    ``f1.laps/season=2024/round=5/session=R/f1.laps+0+0000000500.jsonl``.

    ``start_offset`` is the Kafka offset of the object's first record: rewriting the same
    records after a crash produces the same name, so the object is replaced, not copied.
    Raises :class:`UnsafeNameError` if a part is not a plain token.
    """
    season, round_, session = group
    for what, value in (("topic", topic), ("session", session), ("format", fmt)):
        safe_token(what, value)
    for what, number in (("partition", partition), ("offset", start_offset),
                         ("season", season), ("round", round_)):
        safe_number(what, number)
    return (
        f"{topic}/season={season}/round={round_}/session={session}/"
        f"{topic}+{partition}+{start_offset:0{OFFSET_DIGITS}d}.{fmt}"
    )


def safe_token(what: str, value: object) -> str:
    """``value`` if it is a plain name token, else :class:`UnsafeNameError`."""
    if not isinstance(value, str) or not SAFE_TOKEN.fullmatch(value):
        raise UnsafeNameError(f"refusing lake object name: {what} {value!r} is not a plain "
                              "token (letters, digits, '.', '_', '-'; not starting with '.')")
    return value


def safe_number(what: str, value: object) -> int:
    """``value`` if it is a non-negative int, else :class:`UnsafeNameError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsafeNameError(f"refusing lake object name: {what} {value!r} is not a "
                              "non-negative integer")
    return value
