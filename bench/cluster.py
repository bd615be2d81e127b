"""The cluster step: a 3-node KRaft cluster of the bench's own, producer throughput with
RF=3 (min ISR 2) beside RF=1 on the same cluster, and consumer -> folder throughput with 1, 2
and 4 consumer processes of one group on a 6-partition topic.

Consumer processes start together: each imports, builds its consumer, then waits for one
shared start time before subscribing, so Python start-up is not measured but joining the
group (and its rebalances) is. Throughput = all records / (the last process's end, less its
idle wait, minus the start time): the same measure as the single consumer's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from f1pipe.config import Settings, load_settings
from f1pipe.stack.cluster import KafkaCluster
from f1pipe.stack.ports import free_port_range

BROKERS = 3
HEAP = "512m"
PARTITIONS = 6
WORKER_COUNTS = (1, 2, 4)
START_DELAY_S = 15.0  # enough for every consumer process to import and connect
LAKE_BATCH = 5_000
FLUSH_S = 5.0
IDLE_S = 2.0


@contextmanager
def cluster(scratch: Path) -> Iterator[KafkaCluster]:
    """Three nodes on free consecutive loopback ports, state under ``scratch``."""
    base = free_port_range(2 * BROKERS)
    settings = load_settings(kafka_broker=f"127.0.0.1:{base}", state_dir=scratch / "cluster",
                             kafka_heap=HEAP, stack_brokers=BROKERS)
    nodes = KafkaCluster(settings)
    try:
        nodes.up(timeout=300, log=lambda _: None)
        yield nodes
    finally:
        nodes.down()


def replicated(settings: Settings, factor: int) -> Settings:
    """Settings creating topics with ``factor`` replicas (min ISR: the default for it)."""
    return settings.model_copy(update={"topic_replication": factor})


def consumer_group_run(settings: Settings, topic: str, workers: int, sink: str,
                       scratch: Path) -> dict:
    """``workers`` consumer processes of one new group drain ``topic`` into ``sink``."""
    group = f"bench-scale-{workers}-{uuid.uuid4().hex[:6]}"
    start_at = time.time() + START_DELAY_S
    args = {"topic": topic, "group": group, "sink": sink, "batch_size": LAKE_BATCH,
            "flush_interval_s": FLUSH_S, "idle_s": IDLE_S, "start_at": start_at}
    env = {**os.environ, "KAFKA_BROKER": settings.kafka_bootstrap,
           "F1PIPE_STATE_DIR": str(scratch / "state"),
           "F1PIPE_ENV_FILE": str(scratch / "no.env")}
    procs = []
    for i in range(workers):
        out = (scratch / f"member-{workers}-{i}.out").open("w+")
        procs.append((subprocess.Popen(
            [sys.executable, "-m", "bench.workers", "consume_member", json.dumps(args)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
            cwd=Path(__file__).resolve().parent.parent), out))
    results = []
    for proc, out in procs:
        proc.wait()
        out.seek(0)
        text = out.read()
        out.close()
        if proc.returncode != 0:
            raise RuntimeError(f"consumer process failed: {text.strip()[-1500:]}")
        results.append(json.loads(text.strip().splitlines()[-1]))
    records = sum(r["records"] for r in results)
    seconds = max(r["end_wall"] for r in results) - start_at
    return {"records": records, "seconds": seconds, "per_s": records / seconds,
            "per_process": [r["records"] for r in results],
            "objects": sum(r["objects"] for r in results)}


def warm_up(settings: Settings, topic: str) -> None:
    """Join and commit once in a throwaway group, so the cluster creates its offsets topic
    before the first measured run, not during it."""
    from confluent_kafka import Consumer

    consumer = Consumer({**settings.kafka_client_config(), "group.id": "bench-warm-up",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                consumer.commit(message, asynchronous=False)
                return
    finally:
        consumer.close()


def cpu_count() -> int:
    return os.cpu_count() or 1
