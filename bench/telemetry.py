"""Car telemetry at race scale through the whole live path: SignalR feed -> ``f1pipe live``
(FastF1's client) -> Kafka -> lake (Parquet) -> DuckDB ``car_data`` / ``location`` rows.

The local SignalR server of the tests (:mod:`tests.fixtures.signalr`) sends synthetic
``CarData.z`` and ``Position.z`` in real time: 20 cars x 4 Hz x 2 streams (race scale, 160
samples/s), or ``scale`` times the rate. ``f1pipe live`` publishes them while the streaming
landing (:mod:`f1pipe.live.landing`: lake consumer flushing every 0.25 s, loader loop) lands
them. A sample's latency runs from the moment the server sent it to the end of the load after
which its warehouse row is seen; throughput is samples landed per second of the run.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.topics import ensure_topics, live_topic, topic_for
from f1pipe.live.feed import LiveOptions, run_live
from f1pipe.live.landing import LandingOptions, LoaderLoop, catching, lake_consumer, wait_for
from f1pipe.live.latency import FLUSH_INTERVAL_S, LOAD_PAUSE_S, SeenOffsets, Stats
from f1pipe.sources.schedule import SessionRef
from f1pipe.warehouse import query
from f1pipe.warehouse.loader import LoadSummary
from tests.fixtures.signalr import FeedServer, synthetic_telemetry

RACE_CARS, RACE_HZ = 20, 4.0
DRAIN_TIMEOUT_S = 60.0
REF = SessionRef(2018, 4, "Azerbaijan Grand Prix", "Azerbaijan", "Baku", "R", "Race", None)


class TelemetryWatch:
    """After each load: when each sample time of ``car_data`` / ``location`` became visible
    (``(table, time_utc)`` -> ``time.time()``)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.visible: dict[tuple[str, str], float] = {}
        self.loop = LoaderLoop(settings, LOAD_PAUSE_S, self.after_load)
        self.seen = SeenOffsets()

    def after_load(self, summary: LoadSummary) -> None:
        if not (summary.records.get("car_data") or summary.records.get("location")):
            return
        seen_at = time.time()
        # One query for both tables, through the loader loop's connection: the rows not
        # read yet (a sample time is visible from its first row on).
        where, params = self.seen.unseen()
        _, rows = self.loop.held.fetch(" UNION ALL ".join(
            f"SELECT '{table}', time_utc, kafka_topic, kafka_partition, kafka_offset "
            f"FROM {table}{where}" for table in ("car_data", "location")), params * 2)
        for table, when, topic, partition, offset in rows:
            self.visible.setdefault((table, _stamp(when)), seen_at)
            self.seen.saw((topic, partition), offset)


def _live_process(settings: Settings, options: LiveOptions, timeout_s: float) -> int:
    """``f1pipe live`` in a process of its own, as it runs beside ``f1pipe land`` on a race
    weekend (two commands, two processes): returns the messages it published."""
    context = multiprocessing.get_context("spawn")  # this process runs librdkafka threads
    results = context.Queue()
    process = context.Process(target=_run_live, args=(settings, options, results),
                              name="f1pipe live")
    process.start()
    try:
        outcome = results.get(timeout=timeout_s)
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
    if isinstance(outcome, str):
        raise F1PipeError(outcome)
    return outcome


def _run_live(settings: Settings, options: LiveOptions, results) -> None:
    try:
        results.put(run_live(settings, REF, options).messages)
    except Exception as exc:  # noqa: BLE001 - reported by the parent as one line
        results.put(f"live: {' '.join(str(exc).split())}")


def _stamp(when: datetime) -> str:
    return when.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def measure(settings: Settings, scale: float, seconds: float, scratch: str,
            flush_interval_s: float = FLUSH_INTERVAL_S) -> dict:
    """Send ``seconds`` of telemetry at ``scale`` x race rate; returns throughput (samples/s
    landed) and the sent -> DuckDB row latency (p50/p95/p99/max ms). The lake consumer
    flushes every ``flush_interval_s`` (fewer, larger objects for the loader when longer)."""
    root = Path(scratch)
    (root / "lake").mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={
        "lake": f"file://{root / 'lake'}", "warehouse": f"duckdb:///{root / 'telemetry.duckdb'}",
        "topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
    topics = [topic_for("car_data", settings), topic_for("location", settings),
              live_topic("CarData.z", settings), live_topic("Position.z", settings)]
    ensure_topics(settings, topics)
    start = datetime.now(UTC) + timedelta(seconds=1)
    messages = synthetic_telemetry(start, seconds, cars=RACE_CARS, hz=RACE_HZ * scale)
    server = FeedServer(messages, speed=1.0).start()
    watch = TelemetryWatch(settings)
    consumer = lake_consumer(settings, topics, LandingOptions(flush_interval_s=flush_interval_s),
                             group=f"bench-telemetry-{uuid.uuid4().hex[:8]}",
                             on_stored=watch.loop.nudge)
    errors: list[str] = []
    options = LiveOptions(no_auth=True, silence_timeout_s=2.0, url=server.url)
    live = {}
    workers = [threading.Thread(target=catching(work, name, errors), daemon=True)
               for work, name in ((consumer.run, "lake consumer"), (watch.loop.run, "loader"),
                                  (lambda: live.update(s=_live_process(settings, options,
                                                                       seconds + 120)),
                                   "live"))]
    try:
        workers[0].start()
        wait_for(lambda: consumer.joined_at is not None, 60)
        for worker in workers[1:]:
            worker.start()
        workers[2].join(seconds + 150)
        expected = {(t, utc) for t in ("car_data", "location")
                    for utc in {m.arguments()[2] for m in messages}}
        wait_for(lambda: bool(errors) or expected <= watch.visible.keys(), DRAIN_TIMEOUT_S)
    finally:
        consumer.request_stop()
        watch.loop.stop()
        server.stop()
        for worker in workers:
            worker.join(DRAIN_TIMEOUT_S)
    if errors:
        raise F1PipeError(errors[0])
    sent = {m.arguments()[2]: at for m, at in zip(messages, server.log.sent_at, strict=False)}
    latencies = [(seen - sent[utc]) * 1000 for (_, utc), seen in watch.visible.items()
                 if utc in sent]
    samples = len(messages) * RACE_CARS  # every car in every message
    span = max(watch.visible.values()) - server.log.sent_at[0]
    _, rows = query(settings, settings.warehouse,
                    "SELECT (SELECT COUNT(*) FROM car_data) + (SELECT COUNT(*) FROM location)")
    return {**vars(Stats.of(latencies)), "scale": scale, "offered_samples_per_s":
            RACE_CARS * RACE_HZ * scale * 2, "seconds": seconds, "samples": samples,
            "rows_landed": rows[0][0], "per_s": rows[0][0] / span,
            "missing_sample_times": len(expected - watch.visible.keys()),
            "live_messages": live.get("s"),
            "loads": watch.loop.loads, "flush_interval_s": flush_interval_s}
