"""Replay a recorded session as the live feed: every update to Kafka at real speed x speed.

The session's recorded streams (:mod:`f1pipe.sources.live_timing`) are merged in session
time order and published, one Kafka topic per feed topic (``<prefix>live.<page>``, e.g.
``f1.live.timing_data``), as :class:`~f1pipe.schemas.LiveUpdateV1` envelope messages keyed
by driver (or ``session``), so one driver's updates stay in order in one partition.
Publishing goes through the project's producer (:class:`~f1pipe.kafka.producer.MessageProducer`):
nothing waits for acknowledgements until the end, so pacing is not held up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import fastf1

from f1pipe.config import Settings
from f1pipe.errors import ConfigError
from f1pipe.kafka.producer import MessageProducer
from f1pipe.kafka.topics import ensure_topics, live_topic
from f1pipe.sources import configure_fastf1, session_ref
from f1pipe.sources.live_timing import FeedUpdate, live_payloads, read_session
from f1pipe.sources.schedule import SessionRef

SOURCE = f"fastf1-livetiming/{fastf1.__version__}"


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
    publisher = MessageProducer(settings)
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
    publisher.flush_or_raise()
    publisher.close()
    summary.wall_s = clock.elapsed_s
    return summary


def _publish_update(publisher: MessageProducer, topic: str, ref: SessionRef,
                    update: FeedUpdate, time_utc: datetime | None, summary: ReplaySummary,
                    on_message: Callable[[str, dict], None] | None) -> None:
    for payload in live_payloads(ref, update, time_utc):
        message = publisher.publish(topic, payload, SOURCE)
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

    def wait_for(self, session_time_ms: int, publisher: MessageProducer) -> float:
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
