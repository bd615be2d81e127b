"""Replay a recorded session as the live feed: every update to Kafka at real speed x speed.

The session's recorded streams (:mod:`f1pipe.sources.live_timing`) are merged in session
time order and published, one Kafka topic per feed topic (``<prefix>live.<page>``, e.g.
``f1.live.timing_data``), as :class:`~f1pipe.schemas.LiveUpdateV1` envelope messages keyed
by driver (or ``session``), so one driver's updates stay in order in one partition.
Publishing uses the project producer's settings and keys (:mod:`f1pipe.stream.producer`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fastf1
from confluent_kafka import KafkaException, Producer

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.schemas import Payload, make_message
from f1pipe.sources import configure_fastf1, session_ref
from f1pipe.sources.live_timing import FeedUpdate, live_payloads, page_name, read_session
from f1pipe.sources.schedule import SessionRef
from f1pipe.stream.producer import FLUSH_TIMEOUT_S, DeliveryReport, producer_config
from f1pipe.stream.topics import ensure_topics

SOURCE = f"fastf1-livetiming/{fastf1.__version__}"
MAX_SLEEP_S = 0.05  # the producer's delivery callbacks are served between sleeps
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def live_topic(feed_topic: str, settings: Settings) -> str:
    """The Kafka topic of a feed topic: ``F1PIPE_TOPIC_PREFIX`` + ``live.`` + page name."""
    return f"{settings.topic_prefix}live.{page_name(feed_topic)}"


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


class LivePublisher:
    """Envelope messages to their topics with the project producer's settings (idempotent,
    acks=all) and keys; delivery is counted per topic. Unlike a batch send, nothing waits
    for acknowledgements until :meth:`flush`, so pacing is not held up."""

    def __init__(self, settings: Settings, source: str = SOURCE):
        self.source = source
        self.reports: dict[str, DeliveryReport] = {}
        self._producer = Producer(producer_config(settings))

    def publish(self, topic: str, payload: Payload) -> dict:
        """Queue one payload as an envelope message; returns the message sent."""
        message = make_message(payload, self.source, datetime.now(UTC))
        self.send(topic, payload.kafka_key(), message)
        return message

    def send(self, topic: str, key: str, message: dict) -> None:
        """Queue one envelope message (JSON) with its key and a ``schema`` header."""
        value = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
        schema = f"{message['schema']['name']}/{message['schema']['version']}".encode()
        self.send_raw(topic, value, key.encode(), [("schema", schema)])

    def send_raw(self, topic: str, value: bytes, key: bytes | None,
                 headers: list[tuple[str, bytes]]) -> None:
        """Queue one message as it is (e.g. a dead letter)."""
        report = self.reports.setdefault(topic, DeliveryReport(topic))
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers,
                                       on_delivery=report._on_delivery)
                break
            except BufferError:  # local queue full: serve callbacks until there is room
                self._producer.poll(0.1)
            except KafkaException as exc:
                raise F1PipeError(f"cannot produce to {topic}: {exc.args[0].str()}") from None
        report.sent += 1
        self._producer.poll(0)

    def wait_until(self, deadline: float) -> None:
        """Sleep until ``time.monotonic()`` reaches ``deadline``, serving callbacks."""
        while (left := deadline - time.monotonic()) > 0:
            self._producer.poll(min(left, MAX_SLEEP_S))

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Wait for every acknowledgement; raises F1PipeError if any message failed."""
        left = self._producer.flush(timeout_s)
        failed = [r for r in self.reports.values() if r.errors]
        if failed:
            raise F1PipeError(f"{sum(r.failed for r in failed)} message(s) not delivered to "
                              f"{failed[0].topic}: {failed[0].errors[0]}")
        if left:
            raise F1PipeError(f"{left} message(s) not acknowledged within {timeout_s:g} s")

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.reports.values())

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.reports.values())


@dataclass(frozen=True)
class ReplayRequest:
    """What to replay: one session, some feed topics (None: all), a session-time window."""

    season: int
    round: int
    session: str = "R"
    speed: float = 1.0  # x real time; 0 = as fast as possible
    topics: tuple[str, ...] | None = None
    start_ms: int = 0
    duration_ms: int | None = None  # None: to the end
    catch_up: bool = False  # first publish what came before start_ms, unpaced

    def check(self) -> None:
        if self.speed < 0:
            raise ConfigError(f"--speed {self.speed:g}: must be 0 (as fast as possible) or more")
        if self.duration_ms is not None and self.duration_ms <= 0:
            raise ConfigError("--duration must be more than zero")


@dataclass
class ReplaySummary:
    """What a replay did: counts, the session-time span published, wall time taken."""

    ref: SessionRef
    updates: int = 0  # feed updates replayed in the window
    messages: int = 0  # Kafka messages (updates split per driver), catch-up included
    topics: dict[str, int] = field(default_factory=dict)  # Kafka topic -> messages
    missing: list[str] = field(default_factory=list)  # feed topics not recorded
    first_ms: int | None = None
    last_ms: int | None = None
    wall_s: float = 0.0
    max_late_s: float = 0.0  # worst delay behind the paced schedule
    caught_up: int = 0  # updates before the window published first (--catch-up)


Progress = Callable[[ReplaySummary, int], None]  # (summary so far, session time in ms)


def replay(settings: Settings, request: ReplayRequest,
           on_message: Callable[[str, dict], None] | None = None,
           on_progress: Progress | None = None) -> ReplaySummary:
    """Publish the recorded session ``request`` names, paced; returns what was published.

    ``on_message(topic, message)`` is called as each message is queued. Raises F1PipeError
    when the session or its streams cannot be read, or a message is not delivered.
    """
    request.check()
    configure_fastf1(settings)
    ref = session_ref(request.season, request.round, request.session)
    recorded = read_session(ref, request.topics)
    updates = recorded.window(request.start_ms, request.duration_ms)
    summary = ReplaySummary(ref, missing=recorded.missing)
    topics = {t: live_topic(t, settings) for t in recorded.counts}
    ensure_topics(settings, list(topics.values()))
    publisher = LivePublisher(settings)
    if request.catch_up:  # the state so far (driver list, positions...) before the clock runs
        for update in recorded.window(0, request.start_ms):
            _publish_update(publisher, topics[update.feed_topic], ref, update,
                            recorded.time_utc(update), summary, on_message)
        summary.caught_up, summary.updates = summary.updates, 0
        summary.first_ms = summary.last_ms = None
    clock = PacedClock(request.speed, request.start_ms)
    for update in updates:
        summary.max_late_s = max(summary.max_late_s,
                                 clock.wait_for(update.session_time_ms, publisher))
        _publish_update(publisher, topics[update.feed_topic], ref, update,
                        recorded.time_utc(update), summary, on_message)
        if on_progress and clock.progress_due():
            on_progress(summary, update.session_time_ms)
    if request.duration_ms is not None:  # a window plays for its whole length
        clock.wait_for(request.start_ms + request.duration_ms, publisher)
    publisher.flush()
    summary.wall_s = clock.elapsed_s
    return summary


def _publish_update(publisher: LivePublisher, topic: str, ref: SessionRef,
                    update: FeedUpdate, time_utc: datetime | None, summary: ReplaySummary,
                    on_message: Callable[[str, dict], None] | None) -> None:
    for payload in live_payloads(ref, update, time_utc):
        message = publisher.publish(topic, payload)
        summary.messages += 1
        summary.topics[topic] = summary.topics.get(topic, 0) + 1
        if on_message:
            on_message(topic, message)
    summary.updates += 1
    summary.first_ms = update.session_time_ms if summary.first_ms is None else summary.first_ms
    summary.last_ms = update.session_time_ms


class PacedClock:
    """Maps session time to wall time: ``start_ms`` is now, then ``1 / speed`` s per s."""

    def __init__(self, speed: float, start_ms: int, progress_every_s: float = 1.0):
        self.speed = speed
        self.start_ms = start_ms
        self.started = time.monotonic()
        self._progress_every_s = progress_every_s
        self._next_progress = self.started + progress_every_s

    def due(self, session_time_ms: int) -> float:
        """The monotonic time at which ``session_time_ms`` is due."""
        return self.started + (session_time_ms - self.start_ms) / 1000 / self.speed

    def wait_for(self, session_time_ms: int, publisher: LivePublisher) -> float:
        """Wait until ``session_time_ms`` is due; returns how late it already was, in s."""
        if self.speed == 0:
            return 0.0
        due = self.due(session_time_ms)
        late = time.monotonic() - due
        publisher.wait_until(due)
        return max(late, 0.0)

    def progress_due(self) -> bool:
        now = time.monotonic()
        if now < self._next_progress:
            return False
        self._next_progress = now + self._progress_every_s
        return True

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started
