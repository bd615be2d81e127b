"""F1's live-timing feed as recorded in the static archive (``<Topic>.jsonStream`` files).

Every recorded stream of a session is read through FastF1's cached HTTP layer (so the
recorded ``../shared/fastf1-cache`` and a user's own FastF1 cache both work), decoded
(``.z`` topics are base64 + raw deflate JSON) and merged in session-time order. Updates
naming several drivers are split per driver (see :func:`split_update`) and become
:class:`~f1pipe.schemas.LiveUpdateV1` payloads.

FastF1's ``_api`` module is private: :func:`fetch_stream` is the one place that calls it.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import fastf1
from fastf1 import _api as fastf1_api

from f1pipe.errors import F1PipeError
from f1pipe.schemas import LiveUpdateV1, feed_page
from f1pipe.sources.fastf1_cache import captured_fastf1_warnings
from f1pipe.sources.schedule import SessionRef
from f1pipe.times import parse_utc, stamp_ms

STREAM_SUFFIX = ".jsonStream"
# FastF1 page name -> feed topic name, e.g. "timing_data" -> "TimingData", "car_data" ->
# "CarData.z": every stream page FastF1 knows.
FEED_TOPICS: dict[str, str] = {
    page: file.removesuffix(STREAM_SUFFIX)
    for page, file in fastf1_api.pages.items() if file.endswith(STREAM_SUFFIX)
}
PAGES: dict[str, str] = {topic: page for page, topic in FEED_TOPICS.items()}
# Order of topics whose updates carry the same session time: what names the drivers first.
TOPIC_ORDER = ("SessionInfo", "SessionData", "SessionStatus", "DriverList", "TimingData",
               "TimingAppData", "TimingStats", "LapCount", "TrackStatus",
               "RaceControlMessages")
# Topics whose updates hold one entry per driver: under "Lines", or at the top level.
LINES_TOPICS = frozenset({"TimingData", "TimingAppData", "TimingStats"})
TOP_LEVEL_DRIVER_TOPICS = frozenset({"DriverList"})
SESSION_SUBJECT = "session"
STAMP_LENGTH = len("00:00:00.000")


@dataclass(frozen=True)
class FeedUpdate:
    """One update of one feed topic, decoded; ``session_time_ms`` since the streams' start."""

    feed_topic: str
    stream_index: int  # position in its stream (0-based)
    session_time_ms: int
    data: dict[str, Any]
    time_utc: datetime | None = None  # known for live messages; recorded ones are derived


def decode_z(text: str) -> dict[str, Any]:
    """Decode a ``.z`` topic's payload (base64 of raw-deflate JSON) to its JSON object.

    Raises ValueError with a one-line reason when it is not valid base64 / deflate / JSON.
    """
    try:
        raw = zlib.decompress(base64.b64decode(text.strip('"'), validate=True), -zlib.MAX_WBITS)
        data = json.loads(raw.decode("utf-8-sig"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not base64 + raw-deflate JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"decoded to a JSON {type(data).__name__}, expected an object")
    return data


def page_name(feed_topic: str) -> str:
    """The snake-case name of a feed topic, as FastF1 names its page: ``"TimingData"`` ->
    ``"timing_data"``, ``"CarData.z"`` -> ``"car_data"``, ``"TopThree"`` -> ``"top_three"``."""
    return PAGES.get(feed_topic) or feed_page(feed_topic)


def resolve_topics(names: Iterable[str] | None) -> list[str]:
    """Feed topic names from names given as ``TimingData`` or ``timing_data`` (any case);
    None gives every stream topic. An unknown name raises F1PipeError."""
    if not names:
        return list(FEED_TOPICS.values())
    by_name = {**{t.casefold(): t for t in PAGES}, **{p: t for p, t in FEED_TOPICS.items()}}
    topics = []
    for name in names:
        topic = by_name.get(name.strip().casefold())
        if topic is None:
            raise F1PipeError(f"unknown live-timing topic {name!r}: use one of "
                              f"{', '.join(sorted(FEED_TOPICS))}")
        topics.append(topic)
    return list(dict.fromkeys(topics))


def fetch_stream(api_path: str, feed_topic: str) -> list[FeedUpdate] | None:
    """One recorded stream of a session, decoded; None when it is not available.

    Lines FastF1 cannot decode are dropped by FastF1 (it logs how many).
    """
    page = PAGES[feed_topic]
    raw = fastf1_api.fetch_page(api_path, page)
    if raw is None:
        return None
    updates = []
    for index, entry in enumerate(raw):
        if isinstance(entry, str):  # car_data / position come undecoded: stamp + base64
            stamp, data = entry[:STAMP_LENGTH], decode_z(entry[STAMP_LENGTH:])
        else:
            stamp, data = entry
        if not isinstance(data, dict):
            data = {"value": data}
        updates.append(FeedUpdate(feed_topic, index, stamp_ms(stamp), data))
    return updates


@dataclass
class RecordedSession:
    """The merged recorded streams of one session and which topics were not recorded."""

    ref: SessionRef
    updates: list[FeedUpdate]  # in session-time order
    start_utc: datetime | None  # UTC time of session time 0, when it can be told
    counts: dict[str, int]  # updates per feed topic read
    missing: list[str]  # feed topics asked for but not recorded

    def window(self, start_ms: int = 0, duration_ms: int | None = None) -> list[FeedUpdate]:
        """The updates with ``start_ms <= session_time_ms < start_ms + duration_ms``."""
        end = None if duration_ms is None else start_ms + duration_ms
        return [u for u in self.updates
                if u.session_time_ms >= start_ms and (end is None or u.session_time_ms < end)]

    def time_utc(self, update: FeedUpdate) -> datetime | None:
        if update.time_utc is not None:
            return update.time_utc
        if self.start_utc is None:
            return None
        return self.start_utc + timedelta(milliseconds=update.session_time_ms)


def read_session(ref: SessionRef, topics: Iterable[str] | None = None) -> RecordedSession:
    """Read and merge the recorded streams of ``ref`` (FastF1 must be configured).

    Raises F1PipeError when the session has no live-timing archive or none of the topics
    is recorded.
    """
    wanted = resolve_topics(topics)
    with captured_fastf1_warnings():
        try:
            api_path = fastf1.get_session(ref.season, ref.round, ref.session).api_path
        except Exception as exc:
            raise F1PipeError(f"{ref.label}: FastF1 cannot find it: {exc}") from None
        streams = {t: fetch_stream(api_path, t) for t in wanted}
    found = {t: s for t, s in streams.items() if s is not None}
    if not found:
        raise F1PipeError(f"{ref.label}: no live-timing stream recorded for "
                          f"{', '.join(wanted)} (not in the FastF1 cache, or offline)")
    updates = merge_streams(found.values())
    return RecordedSession(ref, updates, stream_start_utc(updates),
                           {t: len(s) for t, s in found.items()},
                           [t for t in wanted if t not in found])


def merge_streams(streams: Iterable[list[FeedUpdate]]) -> list[FeedUpdate]:
    """All updates in session-time order; ties keep :data:`TOPIC_ORDER`, then stream order."""
    rank = {t: i for i, t in enumerate(TOPIC_ORDER)}
    merged = [u for stream in streams for u in stream]
    merged.sort(key=lambda u: (u.session_time_ms, rank.get(u.feed_topic, len(rank)),
                               u.feed_topic, u.stream_index))
    return merged


def stream_start_utc(updates: Iterable[FeedUpdate]) -> datetime | None:
    """UTC time of session time 0, from race control messages (they carry their UTC time,
    to the second): the median of ``Utc - session time``. None without any."""
    offsets = []
    for update in updates:
        if update.feed_topic != "RaceControlMessages":
            continue
        messages = update.data.get("Messages")
        entries = messages.values() if isinstance(messages, dict) else messages or []
        for entry in entries:
            utc = parse_utc(entry.get("Utc")) if isinstance(entry, dict) else None
            if utc is not None:
                offsets.append(utc - timedelta(milliseconds=update.session_time_ms))
    if not offsets:
        return None
    return sorted(offsets)[len(offsets) // 2]


def split_update(feed_topic: str, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(subject, data)`` parts of one update: one per driver it names, then the rest.

    ``{"Lines": {"44": a, "5": b}, "Withheld": false}`` gives ``("44", {"Lines": {"44": a}})``,
    ``("5", {"Lines": {"5": b}})``, ``("session", {"Withheld": false})``. Merging the parts'
    dicts gives the update back. An update naming no driver is one ``"session"`` part.
    """
    if feed_topic in LINES_TOPICS and isinstance(data.get("Lines"), dict):
        drivers = data["Lines"]
        parts = [(str(n), {"Lines": {n: entry}}) for n, entry in drivers.items()]
        rest = {k: v for k, v in data.items() if k != "Lines"}
        if not drivers:
            rest = data
    elif feed_topic in TOP_LEVEL_DRIVER_TOPICS:
        parts = [(k, {k: v}) for k, v in data.items() if k.isdigit()]
        rest = {k: v for k, v in data.items() if not k.isdigit()}
    else:
        parts, rest = [], data
    if rest or not parts:
        parts.append((SESSION_SUBJECT, rest))
    return parts


def live_payloads(ref: SessionRef, update: FeedUpdate,
                  time_utc: datetime | None) -> list[LiveUpdateV1]:
    """The :class:`LiveUpdateV1` payloads of one update (one per part, see
    :func:`split_update`)."""
    parts = split_update(update.feed_topic, update.data)
    when = None if time_utc is None else time_utc.astimezone(UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    return [
        LiveUpdateV1(season=ref.season, round=ref.round, session=ref.session,
                     feed_topic=update.feed_topic, stream_index=update.stream_index,
                     subject=subject, part_count=len(parts),
                     driver_number=int(subject) if subject.isdigit() else None,
                     session_time_ms=update.session_time_ms, time_utc=when, data=data)
        for subject, data in parts
    ]


def merge_parts(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The update the ``data`` of its parts came from (inverse of :func:`split_update`)."""
    merged: dict[str, Any] = {}
    for data in parts:
        for key, value in data.items():
            if key == "Lines" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged
