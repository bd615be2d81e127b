"""The seed-style consumer, the baseline f1pipe is compared with.

As the seed project does it: poll one message at a time, decode it, collect 10, then write
them as one indented JSON document per PUT (a file in the folder, or one S3 object), named
by the time; offsets are auto-committed. No validation, no batching per partition, no
durability (no fsync), no retries.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path

from confluent_kafka import Consumer

from f1pipe.config import Settings
from f1pipe.lake.s3 import s3_client
from f1pipe.lake.url import LakeUrl

MESSAGES_PER_DOCUMENT = 10
IDLE_LIMIT_S = 30.0  # give up if the topic runs dry before ``count`` messages


def _writer(settings: Settings, sink_url: str):
    url = LakeUrl.parse(sink_url)
    if url.scheme == "file":
        url.path.mkdir(parents=True, exist_ok=True)

        def write_file(name: str, body: str) -> None:
            with open(Path(url.path) / name, "w") as file:
                file.write(body)

        return write_file
    client = s3_client(settings)

    def put(name: str, body: str) -> None:
        client.put_object(Bucket=url.bucket, Key=f"{url.prefix}/{name}", Body=body)

    return put


def run_baseline(settings: Settings, topic: str, sink_url: str, count: int) -> dict:
    """Consume ``count`` messages of ``topic`` seed-style; returns records, documents, s/rate."""
    write = _writer(settings, sink_url)
    consumer = Consumer({"bootstrap.servers": settings.kafka_broker,
                         "group.id": f"seed-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    started = last = time.monotonic()
    records = documents = 0
    batch: list[dict] = []
    try:
        while records < count and time.monotonic() - last < IDLE_LIMIT_S:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            last = time.monotonic()
            batch.append(json.loads(message.value().decode("utf-8")))
            records += 1
            if len(batch) == MESSAGES_PER_DOCUMENT:
                stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
                write(f"f1_data_{stamp}_{documents}.json", json.dumps(batch, indent=4))
                documents += 1
                batch = []
    finally:
        consumer.close()
    seconds = time.monotonic() - started
    return {"records": records, "objects": documents, "seconds": seconds,
            "per_s": records / seconds}
