"""End-to-end latency at a fixed offered load: produce -> Kafka -> lake -> DuckDB row.

Reuses the streaming landing (:mod:`f1pipe.live.landing`) the way
:mod:`f1pipe.live.latency` runs it: a continuously running lake consumer (flush every
0.25 s) and the loader loop (:class:`WarehouseWatch`: load, then note when each row first
became visible), both as threads, while this process produces
``LiveUpdateV1`` messages at ``rate`` per second through the f1pipe producer. A message's
latency runs from its ``produced_at`` (set as it is handed to the producer) to the end of the
load after which its ``live_updates`` row is seen.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from bench.synthetic import live_update_message
from f1pipe.codec import key_of
from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.producer import MessageProducer
from f1pipe.kafka.topics import ensure_topics
from f1pipe.live.landing import LandingOptions, catching, lake_consumer, wait_for
from f1pipe.live.latency import FLUSH_INTERVAL_S, LOAD_PAUSE_S, Stats, WarehouseWatch

DRAIN_TIMEOUT_S = 60.0


def paced(rate: float, seconds: float) -> Iterator[dict]:
    """``rate * seconds`` live updates, each made when its turn comes (``produced_at`` = now)."""
    rng = random.Random(7)
    started = time.monotonic()
    for index in range(int(rate * seconds)):
        wait = started + index / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        yield live_update_message(index, rng)


def measure(settings: Settings, topic: str, rate: float, seconds: float, scratch: str,
            flush_interval_s: float = FLUSH_INTERVAL_S) -> dict:
    """Offer ``rate`` msgs/s for ``seconds``, the lake consumer flushing every
    ``flush_interval_s``; returns p50/p95/p99/max in ms and counts."""
    root = Path(scratch)
    (root / "lake").mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={"lake": f"file://{root / 'lake'}",
                                           "warehouse": f"duckdb:///{root / 'latency.duckdb'}"})
    ensure_topics(settings, [topic])
    watch = WarehouseWatch(settings)
    consumer = lake_consumer(settings, [topic], LandingOptions(flush_interval_s=flush_interval_s),
                             group=f"bench-latency-{uuid.uuid4().hex[:8]}",
                             on_stored=watch.loop.nudge)
    errors: list[str] = []
    workers = [threading.Thread(target=catching(work, name, errors), daemon=True)
               for work, name in ((consumer.run, "lake consumer"), (watch.loop.run, "loader"))]
    for worker in workers:
        worker.start()
    wait_for(lambda: consumer.joined_at is not None, 60)
    published: list[str] = []
    with MessageProducer(settings) as producer:
        report = producer.send_all(topic, _noting(paced(rate, seconds), published))
    wait_for(lambda: bool(errors) or set(published) <= watch.visible.keys(), DRAIN_TIMEOUT_S)
    consumer.request_stop()
    watch.loop.stop()
    for worker in workers:
        worker.join(DRAIN_TIMEOUT_S)
    if errors:
        raise F1PipeError(errors[0])
    stats = Stats.of([watch.visible[e] for e in published if e in watch.visible])
    return {**asdict(stats), "offered_per_s": rate, "seconds": seconds,
            "published": len(published), "delivered": report.delivered, "loads": watch.loop.loads,
            "flush_interval_s": flush_interval_s, "load_pause_s": LOAD_PAUSE_S}


def _noting(messages: Iterator[dict], event_ids: list[str]) -> Iterator[tuple[str, dict]]:
    for message in messages:
        event_ids.append(message["event_id"])
        yield key_of(message), message
