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

import contextlib
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
from f1pipe.kafka.topics import ensure_topics, live_topic, topic_for
from f1pipe.live.timing_state import deep_merge
from f1pipe.schemas import dataset_of
from f1pipe.sources import configure_fastf1, season_events, session_ref
from f1pipe.sources.live_recording import ArrivalIndex, feed_message, read_messages
from f1pipe.sources.live_timing import FeedUpdate, live_payloads
from f1pipe.sources.schedule import SessionRef
from f1pipe.sources.telemetry import telemetry_messages

log = logging.getLogger(__name__)
# FastF1's client logs here; its supervisor's "Timeout - received no data" is how
# :meth:`_FeedClient.abort` ends it, not news for the user.
fastf1_log = logging.getLogger(f"{__name__}.fastf1")
fastf1_log.addFilter(lambda record: not record.getMessage().startswith("Timeout - "))

SOURCE = f"fastf1-signalr/{fastf1.__version__}"
# A session counts as possibly live from this long before its scheduled start (the feed
# opens early) to this long after it.
BEFORE_START = timedelta(hours=1)
AFTER_START = timedelta(hours=4)
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")
_UNAUTHORIZED = re.compile(r"\b401\b|Unauthorized")


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
        self._model_topics: dict[type, str] = {}  # payload model -> its dataset's topic
        # Every topic's state as published so far (updates merged): what a reconnection's
        # initial state is reconciled with.
        self.state: dict[str, Any] = {}
        self.last_utc: datetime | None = None  # the newest feed time published

    def publish(self, feed_topic: str, data: dict[str, Any], time_utc: datetime | None) -> None:
        """Publish one decoded message (``time_utc`` None: now)."""
        when = time_utc or datetime.now(UTC)
        self.start_utc = self.start_utc or when
        self.last_utc = max(self.last_utc or when, when)
        session_time_ms = round((when - self.start_utc) / timedelta(milliseconds=1))
        update = FeedUpdate(feed_topic, self._indexes.next(feed_topic, when), session_time_ms,
                            data, when)
        topic = self._topic(feed_topic)
        for payload in live_payloads(self.summary.ref, update, when):
            self.publisher.publish(topic, payload, SOURCE)
            self.summary.messages += 1
            self.summary.topics[topic] = self.summary.topics.get(topic, 0) + 1
        self.summary.updates += 1
        self.state[feed_topic] = deep_merge(self.state.get(feed_topic), data)
        self._publish_telemetry(update)

    def _publish_telemetry(self, update: FeedUpdate) -> None:
        """``CarData.z`` / ``Position.z``: every car's sample to ``car_data`` / ``location``
        (messages built without a model per sample: :func:`telemetry_messages`); a sample
        that is not valid to the dead letters."""
        samples, bad = telemetry_messages(self.summary.ref, update, SOURCE)
        topics = self.summary.topics
        for model, key, message in samples:
            topic = self._model_topics.get(model) or self._model_topic(model)
            self.publisher.send(topic, key, message)
            topics[topic] = topics.get(topic, 0) + 1
        self.summary.messages += len(samples)
        for raw, reason in bad:
            self.dead_letter(raw, reason, "live")

    def _model_topic(self, model: type) -> str:
        topic = self._model_topics[model] = self._dataset_topic(dataset_of(model).name)
        return topic

    def _dataset_topic(self, dataset: str) -> str:
        topic = topic_for(dataset, self.settings)
        if topic not in self._known_topics:
            ensure_topics(self.settings, [topic])
            self._known_topics.add(topic)
        return topic

    def publish_initial(self, feed_topic: str, data: dict[str, Any]) -> bool:
        """Publish a (re)subscription's initial state of ``feed_topic`` reconciled with what
        was already published: only what differs, as one update (nothing when it is all
        known: no duplicate after a reconnection; what was missed while away: no gap).
        Returns whether anything was published."""
        missed = state_diff(data, self.state.get(feed_topic) or {})
        if not missed:
            return False
        self.publish(feed_topic, missed, self.last_utc)  # next in the feed's own order
        return True

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


def state_diff(new: Any, old: Any) -> dict[str, Any]:
    """What of feed state ``new`` is not already in ``old``: nested objects compared key by
    key, anything else as a whole (merging the result into ``old`` gives ``new``)."""
    if not isinstance(new, dict):
        return {}
    old = old if isinstance(old, dict) else {}
    diff: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(before, dict):
            inner = state_diff(value, before)
            if inner:
                diff[key] = inner
        elif value != before:
            diff[key] = value
    return diff


_MISSING = object()


@dataclass(frozen=True)
class LiveOptions:
    no_auth: bool = False  # connect without an F1 TV account (partial data at best)
    silence_timeout_s: float = 60.0  # no feed message this long: nothing is live
    heartbeat_timeout_s: float = 30.0  # no message nor ping this long: connection stalled
    connect_timeout_s: float = 30.0
    max_retries: int = 5  # reconnections in a row without data before giving up
    backoff_s: float = 1.0  # first wait; doubles up to backoff_max_s
    backoff_max_s: float = 60.0
    url: str | None = None  # the feed's address (FastF1's default when None)


class FeedUnavailable(F1PipeError):
    """The feed cannot be reached or the connection was lost (retried with backoff)."""


class NothingLive(FeedUnavailable):
    """Connected, but the feed sent nothing: no session is live (not retried)."""


class FeedRefused(FeedUnavailable):
    """No F1 TV account, or the feed refused it (not retried: retrying cannot help)."""


def run_live(settings: Settings, ref: SessionRef | None, options: LiveOptions,
             on_event: Callable[[str], None] = log.info) -> LiveSummary:
    """Publish the live feed until it falls silent or Ctrl-C; reconnects with backoff.

    A connection lost (closed, or stalled: nothing for ``heartbeat_timeout_s``) is opened
    again and subscribed again; the new initial state is reconciled with what was published
    (:meth:`LivePublishing.publish_initial`). Raises :class:`FeedUnavailable` (one line)
    after ``max_retries`` failed reconnections in a row, :class:`FeedRefused` when there is
    no F1 TV account or it is refused, :class:`NothingLive` when nothing arrives.
    """
    configure_fastf1(settings)
    ref = ref or infer_session(datetime.now(UTC), "live feed")
    publisher = MessageProducer(settings)
    publishing = LivePublishing(settings, ref, publisher)
    wait, failures = options.backoff_s, 0
    try:
        while True:
            client = _FeedClient(publishing, options)
            try:
                _session_once(client, options, on_event)
                break
            except FeedUnavailable as exc:
                if client.subscribed:  # it worked for a while: a new series of retries
                    wait, failures = options.backoff_s, 0
                if failures == options.max_retries or isinstance(exc, NothingLive | FeedRefused):
                    raise
                failures += 1
                on_event(f"{exc}; reconnecting in {wait:g} s")
                time.sleep(wait)
                wait = min(wait * 2, options.backoff_max_s)
    finally:
        publisher.flush_or_raise()
    return publishing.summary


def _session_once(client: _FeedClient, options: LiveOptions,
                  on_event: Callable[[str], None]) -> None:
    """One connection: returns when the feed falls silent after data; raises when it cannot
    connect, is refused, closes or stalls."""
    errors: list[BaseException] = []
    thread = threading.Thread(target=client.run_catching, args=(errors,), daemon=True)
    thread.start()
    connected_by = time.monotonic() + options.connect_timeout_s
    while thread.is_alive():
        thread.join(0.1)
        if errors:
            break
        if not client.connected:
            if time.monotonic() > connected_by:
                client.abort()
                raise FeedUnavailable(f"no connection to the live feed within "
                                      f"{options.connect_timeout_s:g} s")
            continue
        if client.closed:
            client.abort()
            raise FeedUnavailable(f"the live feed closed the connection after "
                                  f"{client.messages} messages")
        if client.busy:  # publishing what arrived: not the feed's silence
            continue
        now = time.monotonic()
        if now - client.last_frame > options.heartbeat_timeout_s:
            client.abort()
            raise FeedUnavailable(f"the live feed sent nothing, not even a ping, for "
                                  f"{options.heartbeat_timeout_s:g} s: connection stalled")
        if client.subscribed and now - client.last_message > options.silence_timeout_s:
            client.abort()
            break
    if errors:
        raise _failure(errors[0], client)
    if client.messages == 0:
        raise NothingLive(f"the live feed sent nothing for {options.silence_timeout_s:g} s:"
                          " no session is live right now (use `f1pipe replay` for a "
                          "recorded one, or --from-file)")
    on_event(f"live feed silent for {options.silence_timeout_s:g} s after "
             f"{client.messages} messages: session over")


def _failure(exc: BaseException, client: _FeedClient) -> FeedUnavailable:
    """The one-line error of a failed connection; refusals are :class:`FeedRefused`."""
    from signalrcore.hub.errors import UnAuthorizedHubError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, UnAuthorizedHubError) or _UNAUTHORIZED.search(text):
        if client.sign_in_error is not None:
            return FeedRefused(f"the live feed needs an F1 TV account and FastF1 could not "
                               f"sign in ({client.sign_in_error}): set F1_USERNAME and "
                               "F1_PASSWORD (or sign in once interactively)")
        return FeedRefused("the live feed refused the F1 TV account's token (401 "
                           "Unauthorized): sign in again (remove FastF1's stored token "
                           "f1auth_token.json) or check the F1 TV subscription")
    errno = _ERRNO.search(text)
    return FeedUnavailable(f"cannot connect to the live feed: "
                           f"{errno.group(0) if errno else text[:200]}")


class _FeedClient:
    """FastF1's SignalR client, forwarding messages instead of writing them to a file.

    The one place that knows FastF1's and signalrcore's internals: FastF1's hooks
    (``_on_message``, ``_on_connect``, ``_on_close``, ``_access_token_factory``), its
    supervision clock (``_t_last_message``), and the connection's JSON protocol, wrapped so
    that a frame that is not JSON goes to the dead letters instead of ending the connection,
    and every frame (pings too) counts as a sign of life.
    """

    def __init__(self, publishing: LivePublishing, options: LiveOptions):
        from fastf1.livetiming.client import SignalRClient

        outer = self

        class Client(SignalRClient):
            def _on_message(self, msg: Any) -> None:  # FastF1's hook for each message
                outer.busy = True
                try:
                    outer.forward(msg)
                finally:
                    outer.last_frame = outer.last_message = time.monotonic()
                    outer.busy = False

            def _on_connect(self) -> None:
                outer.watch(self._connection)
                super()._on_connect()
                outer.connected = True

            def _on_close(self) -> None:
                super()._on_close()
                outer.closed = True

            def _access_token_factory(self) -> Any:
                return outer.token_factory(self._no_auth)

        # FastF1's own supervisor (which ends its client after ``timeout`` s without data)
        # is off: publishing a message can take longer than the feed's silence (a new Kafka
        # topic...), so silence is told by :func:`_session_once`, not by FastF1.
        self.client = Client(os.devnull, timeout=0, logger=fastf1_log, no_auth=options.no_auth)
        if options.url:
            self.client._connection_url = options.url.replace("http", "ws", 1)
            self.client._negotiate_url = options.url.rstrip("/") + "/negotiate"
        self.publishing = publishing
        self.connected = False
        self.subscribed = False
        self.closed = False
        self.busy = False
        self.last_message = time.monotonic()  # end of the newest message published
        self.sign_in_error: str | None = None
        self.last_frame = time.monotonic()
        self.messages = 0

    def token_factory(self, no_auth: bool) -> Callable[[], str]:
        """FastF1's sign-in (its stored token, else F1_USERNAME / F1_PASSWORD) as the
        connection's bearer token factory; without an account (``--no-auth``, or signing in
        failed) a factory of an empty token, which signalrcore requires."""
        from fastf1.exceptions import F1AuthError
        from fastf1.internals.f1account import get_token

        if not no_auth:
            try:
                get_token()
                return lambda: get_token().value  # renewed when needed on reconnection
            except F1AuthError as exc:
                self.sign_in_error = " ".join(str(exc).split()) or type(exc).__name__
                log.warning("F1 TV sign-in failed (%s); trying without an account",
                            self.sign_in_error)
        return lambda: ""

    def watch(self, connection: Any) -> None:
        """Wrap the connection's JSON protocol: non-JSON frames to dead letters, and the
        time of every frame kept (the heartbeat)."""
        import json

        self.last_frame = time.monotonic()
        protocol = connection.transport.protocol
        parse = protocol.parse_messages
        separator = protocol.record_separator

        def parse_messages(raw: Any) -> list:
            self.last_frame = time.monotonic()
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            messages = []
            for record in text.split(separator):
                if not record:
                    continue
                try:
                    json.loads(record)
                    messages.extend(parse(record + separator))
                except (ValueError, KeyError, TypeError) as exc:
                    reason = f"not a SignalR JSON message ({type(exc).__name__}: " \
                             f"{' '.join(str(exc).split())[:120]})"
                    self.publishing.dead_letter(record, reason, "live")
            return messages

        protocol.parse_messages = parse_messages

    def run_catching(self, errors: list[BaseException]) -> None:
        try:
            self.client.start()
        except Exception as exc:  # noqa: BLE001 - reported by the caller as one line
            errors.append(exc)

    def abort(self) -> None:
        """Close the connection now (even a stalled one) and end FastF1's supervision."""
        import socket

        connection = getattr(self.client, "_connection", None)
        transport = getattr(connection, "transport", None)
        sock = getattr(getattr(transport, "_client", None), "sock", None)
        if sock is not None:  # a blocked receive returns at once
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if connection is not None:
            threading.Thread(target=connection.stop, daemon=True).start()
        self.client.timeout = 1  # FastF1's supervisor exits within a second
        self.client._t_last_message = 0

    def forward(self, msg: Any) -> None:
        """One SignalR message (``[topic, data, utc]``, or the initial state) published."""
        from signalrcore.messages.completion_message import CompletionMessage

        if isinstance(msg, CompletionMessage):
            self.subscribed = True
            self.last_message = time.monotonic()
            for topic, data in (msg.result or {}).items():
                try:
                    topic, decoded, _ = feed_message(topic, data, "")
                except ValueError as exc:
                    self.publishing.dead_letter(str([topic, data, ""]), str(exc), "live")
                    continue
                self.messages += self.publishing.publish_initial(topic, decoded)
            return
        if not (isinstance(msg, list) and len(msg) == 3):
            self.publishing.dead_letter(str(msg), "expected [topic, data, utc time]", "live")
            return
        self.messages += 1
        try:
            topic, decoded, when = feed_message(*msg)
        except ValueError as exc:
            self.publishing.dead_letter(str(msg), str(exc), "live")
            return
        self.publishing.publish(topic, decoded, when)
