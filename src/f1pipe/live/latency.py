"""Latency of the real-time path, measured end to end on a replay.

While a replay publishes, the same process runs the lake consumer (Kafka -> lake folder,
short flush interval), a loader loop (lake -> DuckDB, MERGE, then a look at which rows
became visible) and the tower. Two figures per published message:

* ``published -> DuckDB row``: from the message's ``produced_at`` to the end of the load
  after which its ``live_updates`` row is first seen;
* ``published -> tower state``: from ``produced_at`` to the moment the tower applied it.

Everything is scratch, so earlier runs do not count: the lake and DuckDB file live in a
temporary folder, and the topics get a prefix of their own (``<prefix>latency<time>.``,
deleted afterwards) on the configured broker.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka.admin import AdminClient

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.topics import ensure_topics, live_topic, snapshot_topic
from f1pipe.live.landing import LandingOptions, LoaderLoop, catching, lake_consumer, wait_for
from f1pipe.live.replay import ReplayRequest, replay
from f1pipe.live.tower import Tower, TowerOptions
from f1pipe.sources import configure_fastf1, session_ref
from f1pipe.sources.live_timing import read_session
from f1pipe.times import format_session_time
from f1pipe.warehouse.loader import LoadSummary

FLUSH_INTERVAL_S = 0.25  # lake consumer: max age of a batch
LOAD_PAUSE_S = 0.05  # loader loop: pause between loads
DRAIN_TIMEOUT_S = 60.0  # after the replay: wait this long for the last rows


@dataclass(frozen=True)
class Stats:
    """Percentiles of one path, in ms."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values_ms: list[float]) -> Stats:
        if not values_ms:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        if len(values_ms) == 1:
            return cls(1, *values_ms * 4)
        cuts = statistics.quantiles(values_ms, n=100, method="inclusive")
        return cls(len(values_ms), cuts[49], cuts[94], cuts[98], max(values_ms))


@dataclass
class LatencyReport:
    title: str
    paths: dict[str, Stats] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class SeenOffsets:
    """The Kafka offsets of the rows a watch has read, per topic and partition: a floor
    below which it saw every offset (a fresh topic's count from 0), and those seen above it.
    Its WHERE clause keeps only rows not seen yet, so a watch reading after every load
    reads the new rows, not the whole table."""

    def __init__(self) -> None:
        self._floor: dict[tuple[str, int], int] = {}  # every offset below it was seen
        self._above: dict[tuple[str, int], set[int]] = {}  # offsets seen above the floor

    def unseen(self) -> tuple[str, tuple]:
        """The WHERE clause (and its parameters) of the rows not seen yet ("" at first)."""
        if not self._floor:
            return "", ()
        tried = " OR ".join(["(kafka_topic = ? AND kafka_partition = ?)"] * len(self._floor))
        above = " OR ".join(["(kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ?)"]
                            * len(self._floor))
        params = tuple(v for (t, p) in self._floor for v in (t, p))
        params += tuple(v for (t, p), low in self._floor.items() for v in (t, p, low))
        return f" WHERE NOT ({tried}) OR {above}", params

    def saw(self, where: tuple[str, int], offset: int) -> None:
        low = self._floor.setdefault(where, 0)
        above = self._above.setdefault(where, set())
        if offset >= low:
            above.add(offset)
        while low in above:
            above.remove(low)
            low += 1
        self._floor[where] = low


class WarehouseWatch:
    """After each load of the loader loop: note when each row first became visible.

    It reads through the loop's own connection (no file to open between two loads), and
    only the rows it has not seen yet (:class:`SeenOffsets`)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.visible: dict[str, float] = {}  # event id -> latency in ms
        self.loop = LoaderLoop(settings, LOAD_PAUSE_S, self.after_load)
        self.seen = SeenOffsets()

    def after_load(self, summary: LoadSummary) -> None:
        if not summary.records.get("live_updates"):
            return
        seen_at = datetime.now(UTC)
        where, params = self.seen.unseen()
        _, rows = self.loop.held.fetch(
            "SELECT event_id, produced_at, kafka_topic, kafka_partition, kafka_offset "
            f"FROM live_updates{where}", params)
        for event_id, produced_at, topic, partition, offset in rows:
            if event_id not in self.visible:
                published = produced_at.replace(tzinfo=UTC)
                self.visible[event_id] = (seen_at - published).total_seconds() * 1000
            self.seen.saw((topic, partition), offset)


def measure_latency(settings: Settings, request: ReplayRequest,
                    log: Callable[[str], None] = print) -> LatencyReport:
    """Replay ``request`` with the consumer, loader and tower running; returns the figures."""
    prefix = f"{settings.topic_prefix}latency{time.time_ns() // 1_000_000}."
    with tempfile.TemporaryDirectory(prefix="f1pipe-latency-") as scratch:
        scratch_settings = settings.model_copy(update={
            "topic_prefix": prefix, "lake": f"file://{Path(scratch) / 'lake'}",
            "warehouse": f"duckdb:///{Path(scratch) / 'latency.duckdb'}"})
        try:
            return _measure(scratch_settings, request, log)
        finally:
            _delete_topics(scratch_settings, prefix)


def _delete_topics(settings: Settings, prefix: str) -> None:
    admin = AdminClient(settings.kafka_client_config())
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()


def _measure(settings: Settings, request: ReplayRequest,
             log: Callable[[str], None]) -> LatencyReport:
    configure_fastf1(settings)
    Path(settings.lake.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    recorded = read_session(session_ref(request.season, request.round, request.session),
                            request.topics)
    topics = [live_topic(t, settings) for t in recorded.counts] + [snapshot_topic(settings)]
    ensure_topics(settings, topics)
    watch = WarehouseWatch(settings)
    consumer = lake_consumer(settings, topics, LandingOptions(flush_interval_s=FLUSH_INTERVAL_S),
                             group=f"f1pipe-latency-{time.time_ns()}", on_stored=watch.loop.nudge)
    tower = Tower(settings, TowerOptions(snapshot_every_s=1.0))
    errors: list[str] = []
    workers = [threading.Thread(target=catching(w, n, errors), daemon=True, name=n)
               for w, n in ((consumer.run, "lake consumer"), (tower.run, "tower"),
                            (watch.loop.run, "loader"))]
    for worker in workers:
        worker.start()
    published: set[str] = set()
    try:
        summary = replay(settings, request,
                         on_message=lambda _t, m: published.add(m["event_id"]))
        log(f"replayed {summary.messages:,} messages in {summary.wall_s:.1f} s; waiting for "
            "the last rows")
        wait_for(lambda: bool(errors) or published <= watch.visible.keys(), DRAIN_TIMEOUT_S)
    finally:
        consumer.request_stop()
        tower.stop()
        watch.loop.stop()
        for worker in workers:
            worker.join(DRAIN_TIMEOUT_S)
    if errors:
        raise F1PipeError(errors[0])
    missing = len(published - watch.visible.keys())
    if not published:
        raise F1PipeError("nothing was replayed in that window: widen --from / --duration")
    return _report(request, summary, watch, tower, published, missing)


def _report(request: ReplayRequest, summary, watch: WarehouseWatch, tower: Tower,
            published: set[str], missing: int) -> LatencyReport:
    window = (f"{format_session_time(request.start_ms)} + "
              f"{'end' if request.duration_ms is None else f'{request.duration_ms / 1000:g} s'}")
    pace = "as fast as possible" if request.speed == 0 else f"{request.speed:g}x"
    report = LatencyReport(title=f"latency: {summary.ref.label}, {pace}, window {window}")
    report.paths["published -> DuckDB row"] = Stats.of(
        [watch.visible[e] for e in published if e in watch.visible])
    report.paths["published -> tower state"] = Stats.of(tower.stats.latencies_ms)
    report.notes.append(
        f"{summary.messages:,} messages ({summary.updates:,} feed updates) in "
        f"{summary.wall_s:.1f} s; lake flush every {FLUSH_INTERVAL_S:g} s; "
        f"{watch.loop.loads} loads")
    if missing:
        report.notes.append(f"{missing:,} published rows never became visible within "
                            f"{DRAIN_TIMEOUT_S:g} s")
    return report
