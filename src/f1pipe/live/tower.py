"""``f1pipe tower``: the live timing state as a stream processor.

Consumes every live feed topic (``<prefix>live.*``) from the beginning, applies each
update to the :class:`~f1pipe.live.timing_state.TimingState` of its session, and every
``snapshot_every_s`` publishes the rows that changed as
:class:`~f1pipe.schemas.LiveTimingSnapshotV1` messages to ``<prefix>live_timing`` (which the
lake consumer lands and the loader merges into the ``live_timing`` table). The state is not
stored: each run gets a consumer group of its own and rebuilds it from the topics.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, Message

from f1pipe import codec
from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.producer import MessageProducer
from f1pipe.kafka.signals import stop_on_signals
from f1pipe.kafka.topics import ensure_topics, live_topics_pattern, snapshot_topic
from f1pipe.live.timing_state import DriverRow, TimingState
from f1pipe.schemas import LiveTimingSnapshotV1, LiveUpdateV1, SchemaError, validate_message

log = logging.getLogger(__name__)

SOURCE = "f1pipe-tower"
SessionKey = tuple[int, int, str]  # (season, round, session)


@dataclass(frozen=True)
class TowerOptions:
    snapshot_every_s: float = 1.0
    until_idle_s: float | None = None  # stop after this long without a new update
    publish: bool = True  # publish snapshots
    join_timeout_s: float = 60.0


@dataclass
class TowerStats:
    """What a run did; ``latencies_ms``: update published -> applied to the state, in ms."""

    updates: int = 0
    skipped: int = 0  # messages that are not live updates
    snapshots: int = 0  # snapshot rows published
    latencies_ms: list[float] = field(default_factory=list)


def snapshot_payload(key: SessionKey, state: TimingState, row: DriverRow) -> LiveTimingSnapshotV1:
    """One tower row as a snapshot payload."""
    fields = row.model_dump(exclude={"knocked_out"})
    return LiveTimingSnapshotV1(season=key[0], round=key[1], session=key[2],
                                session_time_ms=state.session_time_ms, time_utc=state.time_utc,
                                status=row.status, **fields)


class Tower:
    """Consumes the live topics into per-session timing states; publishes snapshots."""

    def __init__(self, settings: Settings, options: TowerOptions | None = None,
                 on_change: Callable[[Tower], None] | None = None):
        self.settings = settings
        self.options = options or TowerOptions()
        self.on_change = on_change
        self.states: dict[SessionKey, TimingState] = {}
        self.current: SessionKey | None = None  # session of the newest update
        self.stats = TowerStats()
        self._stop = threading.Event()
        self._published: dict[tuple[SessionKey, int], DriverRow] = {}
        self._dirty: set[SessionKey] = set()
        self._publisher = MessageProducer(settings) if self.options.publish else None
        self._consumer = Consumer({
            **settings.kafka_client_config(),
            "group.id": f"f1pipe-tower-{uuid.uuid4().hex[:12]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "topic.metadata.refresh.interval.ms": 1000,  # pick up new feed topics quickly
        })

    def stop(self) -> None:
        """Ask :meth:`run` to publish a last snapshot and return."""
        self._stop.set()

    def run(self) -> TowerStats:
        """Consume until stopped (or idle); returns the run's figures."""
        if self._publisher:
            ensure_topics(self.settings, [snapshot_topic(self.settings)])
        self._consumer.subscribe([live_topics_pattern(self.settings)])
        started = last_update = time.monotonic()
        next_snapshot = started + self.options.snapshot_every_s
        try:
            with stop_on_signals(self.stop):
                while not self._stop.is_set():
                    if self._poll():
                        last_update = time.monotonic()
                    now = time.monotonic()
                    if now >= next_snapshot:
                        self.publish_snapshots()
                        next_snapshot = now + self.options.snapshot_every_s
                    if self._idle(started, last_update, now):
                        break
            self.publish_snapshots()
            if self._publisher:
                self._publisher.flush_or_raise()
        finally:
            self._consumer.close()
        return self.stats

    def _idle(self, started: float, last_update: float, now: float) -> bool:
        idle = self.options.until_idle_s
        if idle is None:
            return False
        if self.stats.updates == 0:
            if now - started > self.options.join_timeout_s:
                raise F1PipeError(f"no live-timing update within {self.options.join_timeout_s:g}"
                                  f" s on {live_topics_pattern(self.settings)}: replay first")
            return False
        return now - last_update >= idle

    def _poll(self) -> bool:
        # Wait for one message only, then take what has already arrived: a batch consume
        # would hold the first message back until the batch fills or the wait ends.
        first = self._consumer.poll(0.1)
        messages = [first, *self._consumer.consume(499, 0)] if first is not None else []
        for message in messages:
            self._handle(message)
        if messages and self.on_change:
            self.on_change(self)
        return bool(messages)

    def _handle(self, message: Message) -> None:
        if message.error():
            if message.error().code() != KafkaError._PARTITION_EOF:
                log.warning("kafka: %s", message.error().str())
            return
        try:
            decoded = codec.decode(message.value())
            update = validate_message(decoded)
        except (TypeError, ValueError, SchemaError) as exc:
            self.stats.skipped += 1
            log.warning("skipped %s@%d: %s", message.topic(), message.offset(), exc)
            return
        if not isinstance(update, LiveUpdateV1):
            self.stats.skipped += 1
            return
        self.apply(update, decoded["produced_at"])

    def apply(self, update: LiveUpdateV1, produced_at: str) -> None:
        """Apply one update to its session's state and record its latency."""
        key = (update.season, update.round, update.session)
        state = self.states.setdefault(key, TimingState())
        state.apply(update.feed_topic, update.data, update.session_time_ms, update.time_utc)
        self.current = key
        self._dirty.add(key)
        self.stats.updates += 1
        published = datetime.fromisoformat(produced_at.replace("Z", "+00:00"))
        self.stats.latencies_ms.append((datetime.now(UTC) - published).total_seconds() * 1000)

    def publish_snapshots(self) -> int:
        """Publish the rows changed since the last snapshot; returns how many."""
        count = 0
        for key in sorted(self._dirty):
            state = self.states[key]
            for row in state.rows():
                if self._published.get((key, row.driver_number)) == row:
                    continue
                self._published[(key, row.driver_number)] = row
                if self._publisher:
                    self._publisher.publish(snapshot_topic(self.settings),
                                            snapshot_payload(key, state, row), SOURCE)
                count += 1
        self._dirty.clear()
        self.stats.snapshots += count
        return count

