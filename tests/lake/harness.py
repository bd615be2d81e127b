"""Helpers for tests that run the consumer against a real broker and read the lake back."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

from f1pipe.config import Settings
from f1pipe.kafka.topics import ensure_topics
from f1pipe.lake.s3 import s3_client
from tests.lake.laps import lap_message

PARTITIONS = 3


def produce(settings: Settings, topic: str, values: list[bytes], partitions: int = PARTITIONS,
            first_index: int = 0) -> None:
    """Create ``topic`` and send ``values``, message i to partition i % partitions."""
    ensure_topics(settings, [topic], partitions=partitions)
    producer = Producer({**settings.kafka_client_config(), "linger.ms": 20,
                         "enable.idempotence": True})
    for i, value in enumerate(values, start=first_index):
        producer.produce(topic, value=value, partition=i % partitions)
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0, "messages left undelivered"


def produce_over(settings: Settings, topic: str, values: list[bytes], seconds: float,
                 partitions: int = PARTITIONS, first_index: int = 0) -> None:
    """Send ``values`` (message i to partition i % partitions, i counted from
    ``first_index``) spread over ``seconds``, like a live stream; the topic must exist."""
    producer = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    chunks = 20
    size = -(-len(values) // chunks)
    for start in range(0, len(values), size):
        for i in range(start, min(start + size, len(values))):
            producer.produce(topic, value=values[i], partition=(first_index + i) % partitions)
        producer.flush(10)
        time.sleep(seconds / chunks)
    assert producer.flush(30) == 0, "messages left undelivered"


def lap_values(count: int, first_index: int = 0, **kwargs) -> list[bytes]:
    """``count`` valid lap messages as JSON bytes."""
    return [json.dumps(lap_message(i, **kwargs)).encode()
            for i in range(first_index, first_index + count)]


def event_ids(values: list[bytes]) -> set[str]:
    return {json.loads(v)["event_id"] for v in values}


def folder_objects(root: Path) -> dict[str, list[dict]]:
    """Every lake object under ``root`` (relative name -> its rows); temp files excluded."""
    objects = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            objects[str(path.relative_to(root))] = parse_object(path.name, path.read_bytes())
    return objects


def s3_objects(settings: Settings, bucket: str, prefix: str) -> dict[str, list[dict]]:
    """Every object under ``s3://bucket/prefix/`` (name relative to the prefix -> rows)."""
    client = s3_client(settings)
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                 Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            objects[item["Key"].removeprefix(f"{prefix}/")] = parse_object(item["Key"], body)
    return objects


def parse_object(name: str, data: bytes) -> list[dict]:
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data)).to_pylist()
    return [json.loads(line) for line in data.decode().splitlines()]


def all_rows(objects: dict[str, list[dict]]) -> list[dict]:
    return [row for rows in objects.values() for row in rows]


def assert_names_match_contents(objects: dict[str, list[dict]]) -> None:
    """Each object is named by its topic, partition and first offset, and holds one session."""
    for name, rows in objects.items():
        first = rows[0]
        stem = name.rsplit("/", 1)[1].rsplit(".", 1)[0]
        assert stem == (f"{first['kafka_topic']}+{first['kafka_partition']}+"
                        f"{first['kafka_offset']:010d}"), name
        assert f"session={first['session']}/" in name
        assert len({(r["season"], r["round"], r["session"]) for r in rows}) == 1


def committed(settings: Settings, group: str, topic: str,
              partitions: int = PARTITIONS) -> dict[int, int]:
    """The group's committed offset per partition (-1001 when nothing was committed)."""
    consumer = Consumer({**settings.kafka_client_config(), "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)],
                                 timeout=15)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        consumer.close()


def stable_members(settings: Settings, group: str) -> int:
    """How many members ``group`` has once it is stable with every partition assigned
    (0 while it is rebalancing)."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.kafka_client_config())
    description = admin.describe_consumer_groups([group])[group].result(timeout=15)
    if description.state != ConsumerGroupState.STABLE:
        return 0
    return sum(1 for m in description.members if m.assignment.topic_partitions)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for an ``f1pipe`` subprocess using ``settings``' broker, S3 and DLQ."""
    env = {**os.environ, "F1PIPE_ENV_FILE": "/nonexistent/.env",
           "KAFKA_BROKER": settings.kafka_broker, "F1PIPE_STATE_DIR": str(settings.state_dir),
           "F1PIPE_DLQ_TOPIC": settings.dead_letter_topic, "PYTHONUNBUFFERED": "1"}
    if settings.s3_endpoint_url:
        env.update(S3_ENDPOINT_URL=settings.s3_endpoint_url,
                   AWS_ACCESS_KEY_ID=settings.aws_access_key_id or "",
                   AWS_SECRET_ACCESS_KEY=settings.aws_secret_access_key.get_secret_value(),
                   AWS_REGION=settings.aws_region)
    env.update(extra)
    return env


def start_consume(settings: Settings, args: list[str], log: Path, **extra_env: str):
    """``python -m f1pipe.cli consume ARGS`` in the background; output goes to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "f1pipe.cli", "consume", *args],
                                stdout=out, stderr=subprocess.STDOUT,
                                env=cli_env(settings, **extra_env))


def read_messages(settings: Settings, topic: str, count: int,
                  timeout_s: float = 20.0) -> list:
    """The first ``count`` messages of ``topic`` (confluent ``Message`` objects), read from
    the beginning; fails the test if they do not all arrive."""
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"{topic}-reader",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        messages = []
        while len(messages) < count:
            batch = consumer.consume(count, timeout=timeout_s)
            assert batch, f"only {len(messages)} of {count} messages in {topic}"
            messages += [m for m in batch if not m.error()]
        return messages
    finally:
        consumer.close()
