"""``f1pipe live``: F1's live-timing feed (or a recording of it) to Kafka as it arrives.

Each feed message becomes :class:`~f1pipe.schemas.LiveUpdateV1` messages on the feed
topic's Kafka topic, exactly like a replay (:mod:`f1pipe.live.replay`); ``.z`` topics are
decoded. Session time counts from the first message received. A recorded line that is not
a feed message goes to the dead-letter topic with ``dlq.reason`` (as the lake consumer's
dead letters), ``dlq.source`` and ``dlq.line`` headers.

The live connection uses FastF1's SignalR client (:class:`_FeedClient` is the one place
that depends on its internals); it reconnects with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastf1

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.dead_letter import REASON_HEADER
from f1pipe.kafka.producer import MessageProducer
from f1pipe.kafka.topics import ensure_topics, live_topic
from f1pipe.sources import configure_fastf1, season_events, session_ref
from f1pipe.sources.live_recording import ArrivalIndex, feed_message, read_messages
from f1pipe.sources.live_timing import FeedUpdate, live_payloads
from f1pipe.sources.schedule import SessionRef

log = logging.getLogger(__name__)

SOURCE = f"fastf1-signalr/{fastf1.__version__}"
# A session counts as possibly live from this long before its scheduled start (the feed
# opens early) to this long after it.
BEFORE_START = timedelta(hours=1)
AFTER_START = timedelta(hours=4)
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


@dataclass
class LiveSummary:
    """What was published: feed updates, Kafka messages, dead letters (reason -> count)."""

    ref: SessionRef
    updates: int = 0
    messages: int = 0
    dead_letters: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


class LivePublishing:
    """Feed messages of one session -> Kafka, in arrival order; bad ones -> dead letters."""

    def __init__(self, settings: Settings, ref: SessionRef, publisher: MessageProducer):
        self.settings = settings
        self.publisher = publisher
        self.summary = LiveSummary(ref)
        self.start_utc: datetime | None = None
        self._indexes = ArrivalIndex()
        self._known_topics: set[str] = set()

    def publish(self, feed_topic: str, data: dict[str, Any], time_utc: datetime | None) -> None:
        """Publish one decoded message (``time_utc`` None: now)."""
        when = time_utc or datetime.now(UTC)
        self.start_utc = self.start_utc or when
        session_time_ms = round((when - self.start_utc) / timedelta(milliseconds=1))
        update = FeedUpdate(feed_topic, self._indexes.next(feed_topic, when), session_time_ms,
                            data, when)
        topic = self._topic(feed_topic)
        for payload in live_payloads(self.summary.ref, update, when):
            self.publisher.publish(topic, payload, SOURCE)
            self.summary.messages += 1
            self.summary.topics[topic] = self.summary.topics.get(topic, 0) + 1
        self.summary.updates += 1

    def dead_letter(self, raw: str, reason: str, source: str, line: int | None = None) -> None:
        """Send what could not be read to the dead-letter topic with the reason."""
        headers = [(REASON_HEADER, reason.encode()), ("dlq.source", source.encode())]
        if line is not None:
            headers.append(("dlq.line", str(line).encode()))
        if not self.summary.dead_letters:
            ensure_topics(self.settings, [self.settings.dead_letter_topic])
        self.publisher.produce(self.settings.dead_letter_topic, raw.encode(), None, headers)
        self.summary.dead_letters += 1
        self.summary.reasons[reason] = self.summary.reasons.get(reason, 0) + 1

    def _topic(self, feed_topic: str) -> str:
        topic = live_topic(feed_topic, self.settings)
        if topic not in self._known_topics:
            ensure_topics(self.settings, [topic])
            self._known_topics.add(topic)
        return topic


def publish_recording(settings: Settings, path: Path,
                      ref: SessionRef | None = None) -> LiveSummary:
    """Publish a FastF1 live recording (``SignalRClient`` output) as fast as possible.

    Good lines go to the live topics, malformed ones to the dead-letter topic. ``ref``
    defaults to the session the recording's first time stamp falls in (FastF1 schedule).
    """
    messages, bad = read_messages(path)
    if not messages:
        raise F1PipeError(f"{path}: no feed message in {len(bad)} line(s): is it a FastF1 "
                          "live recording?")
    if ref is None:
        configure_fastf1(settings)
        first = min((m.time_utc for m in messages if m.time_utc), default=None)
        ref = infer_session(first or datetime.now(UTC), str(path))
    publisher = MessageProducer(settings)
    publishing = LivePublishing(settings, ref, publisher)
    publishing.start_utc = min((m.time_utc for m in messages if m.time_utc), default=None)
    for message in messages:
        publishing.publish(message.feed_topic, message.data, message.time_utc)
    for line in bad:
        publishing.dead_letter(line.text, line.reason, f"file:{path}", line.line_number)
    publisher.flush_or_raise()
    return publishing.summary


def infer_session(when: datetime, what: str) -> SessionRef:
    """The session whose scheduled start is nearest ``when``, from :data:`BEFORE_START`
    before it to :data:`AFTER_START` after; F1PipeError naming the options to pass when
    there is none."""
    candidates = []
    for event in season_events(when.year):
        for ident, start in event.sessions:
            if start is None:
                continue
            start_utc = start.tz_localize("UTC").to_pydatetime()
            if start_utc - BEFORE_START <= when <= start_utc + AFTER_START:
                candidates.append((abs(when - start_utc), event.session(ident)))
    if not candidates:
        raise F1PipeError(f"{what}: no session was scheduled at {when:%Y-%m-%d %H:%M} UTC: "
                          "pass --season, --round and --session")
    return min(candidates, key=lambda c: c[0])[1]


def resolve_session(settings: Settings, season: int | None, round: int | None,
                    session: str | None) -> SessionRef | None:
    """The session named by options, None when none are given; a partial set raises."""
    given = [v is not None for v in (season, round)]
    if not any(given) and session is None:
        return None
    if not all(given):
        raise F1PipeError("pass both --season and --round (and optionally --session), or none")
    configure_fastf1(settings)
    return session_ref(season, round, session or "R")


# --- the live connection --------------------------------------------------------------------


@dataclass(frozen=True)
class LiveOptions:
    no_auth: bool = False  # connect without an F1 TV account (partial data at best)
    silence_timeout_s: float = 60.0  # no message this long: nothing is live
    connect_timeout_s: float = 30.0
    max_retries: int = 5  # reconnections after a failure before giving up
    backoff_s: float = 1.0  # first wait; doubles up to backoff_max_s
    backoff_max_s: float = 60.0
    url: str | None = None  # the feed's address (FastF1's default when None)


class FeedUnavailable(F1PipeError):
    """The feed cannot be reached or refused the connection."""


class NothingLive(FeedUnavailable):
    """Connected, but the feed sent nothing: no session is live (not retried)."""


def run_live(settings: Settings, ref: SessionRef | None, options: LiveOptions,
             on_event: Callable[[str], None] = log.info) -> LiveSummary:
    """Publish the live feed until it falls silent or Ctrl-C; reconnects with backoff.

    Raises :class:`FeedUnavailable` (one line) when it cannot connect after the retries,
    when the account is refused, or when nothing arrives (no session is live).
    """
    configure_fastf1(settings)
    ref = ref or infer_session(datetime.now(UTC), "live feed")
    publisher = MessageProducer(settings)
    publishing = LivePublishing(settings, ref, publisher)
    wait = options.backoff_s
    for attempt in range(options.max_retries + 1):
        try:
            _session_once(publishing, options, on_event)
            break
        except FeedUnavailable as exc:
            if attempt == options.max_retries or isinstance(exc, NothingLive):
                publisher.flush_or_raise()
                raise
            on_event(f"{exc}; reconnecting in {wait:g} s")
            time.sleep(wait)
            wait = min(wait * 2, options.backoff_max_s)
    publisher.flush_or_raise()
    return publishing.summary


def _session_once(publishing: LivePublishing, options: LiveOptions,
                  on_event: Callable[[str], None]) -> None:
    """One connection: returns when the feed falls silent after data; raises otherwise."""
    client = _FeedClient(publishing, options)
    errors: list[BaseException] = []
    thread = threading.Thread(target=client.run_catching, args=(errors,), daemon=True)
    thread.start()
    connected_by = time.monotonic() + options.connect_timeout_s
    while thread.is_alive():
        thread.join(0.2)
        if not client.connected and time.monotonic() > connected_by:
            client.abort()
            raise FeedUnavailable(f"no connection to the live feed within "
                                  f"{options.connect_timeout_s:g} s")
    if errors:
        raise FeedUnavailable(_why(errors[0]))
    if client.messages == 0 and client.signed_in is False:
        raise NothingLive(f"the live feed sent nothing for {options.silence_timeout_s:g} s "
                          "and FastF1 could not sign in to an F1 TV account: the feed needs "
                          "one (FastF1 asks for it on first use), or no session is live")
    if client.messages == 0:
        raise NothingLive(f"the live feed sent nothing for {options.silence_timeout_s:g} s:"
                          " no session is live right now (use `f1pipe replay` for a "
                          "recorded one, or --from-file)")
    on_event(f"live feed silent for {options.silence_timeout_s:g} s after "
             f"{client.messages} messages: session over")


def _why(exc: BaseException) -> str:
    from fastf1.exceptions import F1AuthError

    if isinstance(exc, F1AuthError):
        return (f"the live feed needs an F1 TV account and FastF1 could not sign in "
                f"({exc}); pass --no-auth to try without it (partial data at best)")
    text = " ".join(str(exc).split()) or type(exc).__name__
    errno = _ERRNO.search(text)
    return f"cannot connect to the live feed: {errno.group(0) if errno else text[:200]}"


class _FeedClient:
    """FastF1's SignalR client, forwarding messages instead of writing them to a file."""

    def __init__(self, publishing: LivePublishing, options: LiveOptions):
        from fastf1.livetiming.client import SignalRClient

        outer = self

        class Client(SignalRClient):
            def _on_message(self, msg: Any) -> None:  # FastF1's hook for each message
                self._t_last_message = time.time()
                outer.forward(msg)

            def _on_connect(self) -> None:
                super()._on_connect()
                outer.connected = True

            def _access_token_factory(self) -> Any:
                # FastF1 logs a failed sign-in and goes on without the account.
                factory = super()._access_token_factory()
                outer.signed_in = factory is not None
                return factory

        self.client = Client(os.devnull, timeout=int(options.silence_timeout_s),
                             logger=log, no_auth=options.no_auth)
        if options.url:
            self.client._connection_url = options.url.replace("http", "ws", 1)
            self.client._negotiate_url = options.url.rstrip("/") + "/negotiate"
        self.publishing = publishing
        self.connected = False
        self.signed_in: bool | None = None  # None: not tried (--no-auth)
        self.messages = 0

    def run_catching(self, errors: list[BaseException]) -> None:
        try:
            self.client.start()
        except Exception as exc:  # noqa: BLE001 - reported by the caller as one line
            errors.append(exc)

    def abort(self) -> None:
        connection = getattr(self.client, "_connection", None)
        if connection is not None:
            connection.stop()

    def forward(self, msg: Any) -> None:
        """One SignalR message (``[topic, data, utc]``, or the initial state) published."""
        from signalrcore.messages.completion_message import CompletionMessage

        if isinstance(msg, CompletionMessage):
            items = [(topic, data, "") for topic, data in (msg.result or {}).items()]
        else:
            items = [tuple(msg)] if isinstance(msg, list) and len(msg) == 3 else []
            if not items:
                self.publishing.dead_letter(str(msg), "expected [topic, data, utc time]",
                                            "live")
        for topic, data, stamp in items:
            self.messages += 1
            try:
                topic, decoded, when = feed_message(topic, data, stamp)
            except ValueError as exc:
                self.publishing.dead_letter(str([topic, data, stamp]), str(exc), "live")
                continue
            self.publishing.publish(topic, decoded, when)
