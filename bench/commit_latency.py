"""Latency of one synchronous offset commit on the project's broker (what the consumer pays
per flushed batch). ``python -m bench.commit_latency [--commits 200]``; prints p50 / p95."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.services import kafka_broker
from f1pipe.config import load_settings
from f1pipe.kafka.topics import ensure_topics


def commit_latencies_ms(bootstrap: str, commits: int) -> list[float]:
    """``commits`` synchronous commits of one partition, each timed; sorted, in ms."""
    topic = f"commit-latency-{int(time.time())}"
    ensure_topics(load_settings(kafka_broker=bootstrap), [topic], partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap})
    for _ in range(commits):
        producer.produce(topic, b"x")
    producer.flush()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0)])
    consumer.poll(5)
    timings = []
    try:
        for offset in range(1, commits + 1):
            started = time.perf_counter()
            consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        consumer.close()
    return sorted(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, kafka_broker(Path(scratch)) as (bootstrap, _):
        ms = commit_latencies_ms(bootstrap, args.commits)
    p50, p95 = ms[len(ms) // 2], ms[int(len(ms) * 0.95)]
    print(f"synchronous commit over {len(ms)} commits: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
