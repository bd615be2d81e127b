"""Recordings of the live SignalR feed, as FastF1's ``SignalRClient`` writes them.

Each line is Python's ``str()`` of one message, ``['TimingData', {...}, '2021-03-28T14:57Z']``
(feed topic, update, UTC time), or, for the subscription's initial state, ``['TimingData',
'<json>', '']``. Lines are read with :func:`ast.literal_eval` (the inverse of ``str()``; it
evaluates literals only). A line that is not such a message is kept with the reason, so it
can go to the dead-letter topic.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from f1pipe.errors import F1PipeError
from f1pipe.sources.live_timing import FeedUpdate, decode_z
from f1pipe.times import parse_utc


@dataclass(frozen=True)
class BadLine:
    """A recorded line that is not a feed message; ``reason`` is one line."""

    line_number: int  # 1-based
    text: str
    reason: str


@dataclass(frozen=True)
class Message:
    """One good line: feed topic, decoded update, UTC time (None for initial state)."""

    line_number: int
    feed_topic: str
    data: dict[str, Any]
    time_utc: datetime | None


@dataclass
class Recording:
    """A recording read: its updates (session time from the first time stamp) and bad lines."""

    updates: list[FeedUpdate] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # of each update
    bad: list[BadLine] = field(default_factory=list)
    start_utc: datetime | None = None


def parse_line(text: str) -> tuple[str, dict[str, Any], datetime | None]:
    """``(feed topic, update, UTC time)`` of one recorded line; ValueError says why not."""
    try:
        value = ast.literal_eval(text.strip())
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ValueError("not a Python literal (truncated or garbled line)") from None
    if not isinstance(value, list) or len(value) != 3:
        got = (f"a list of {len(value)} item(s)" if isinstance(value, list)
               else f"a {type(value).__name__}")
        raise ValueError(f"expected [topic, data, utc time], got {got}")
    return feed_message(*value)


def feed_message(topic: Any, data: Any, stamp: Any) -> tuple[str, dict[str, Any],
                                                              datetime | None]:
    """Check and decode one feed message (``.z`` data decoded; an empty ``stamp`` marks the
    subscription's initial state, whose data is JSON text); ValueError says what is wrong."""
    if not isinstance(topic, str) or not topic:
        raise ValueError("topic is not a name")
    when = None if stamp == "" else parse_utc(stamp, strict=True)
    return topic, _data(topic, data, initial=stamp == ""), when


def _data(topic: str, data: Any, initial: bool) -> dict[str, Any]:
    if isinstance(data, str) and topic.endswith(".z"):
        try:
            return decode_z(data)
        except ValueError as exc:
            raise ValueError(f"{topic} payload {exc}") from None
    if isinstance(data, str) and initial:  # initial state: JSON text
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ValueError(f"initial state is not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{topic} data is a {type(data).__name__}, expected an object")
    return data


def read_messages(path: Path) -> tuple[list[Message], list[BadLine]]:
    """Every line of a recording: the good ones as messages, the others with reasons."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise F1PipeError(f"cannot read recording {path}: {exc.strerror}") from None
    messages, bad = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            topic, data, when = parse_line(text)
        except ValueError as exc:
            bad.append(BadLine(number, text, str(exc)))
            continue
        messages.append(Message(number, topic, data, when))
    return messages, bad


class ArrivalIndex:
    """``stream_index`` of live messages: their UTC time in ms x 1000 + their order among
    the topic's messages of that same ms. Unlike a counter it stays unique and the same
    when ``f1pipe live`` restarts mid-session or a recording is published again, so
    warehouse keys neither collide nor change."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], int] = {}

    def next(self, feed_topic: str, when: datetime) -> int:
        base = round(when.timestamp() * 1000) * 1000
        order = self._seen.get((feed_topic, base), 0)
        self._seen[(feed_topic, base)] = order + 1
        return base + order


def read_recording(path: Path) -> Recording:
    """The recording as feed updates: session time 0 is its first time stamp; initial-state
    lines (no time stamp) take that time. ``stream_index``: see :class:`ArrivalIndex`."""
    messages, bad = read_messages(path)
    times = [m.time_utc for m in messages if m.time_utc is not None]
    start = min(times) if times else datetime.now(UTC)
    recording = Recording(bad=bad, start_utc=start)
    indexes = ArrivalIndex()
    for message in messages:
        when = message.time_utc or start
        index = indexes.next(message.feed_topic, when)
        recording.updates.append(FeedUpdate(
            message.feed_topic, index, round((when - start).total_seconds() * 1000),
            message.data, when))
        recording.line_numbers.append(message.line_number)
    return recording
