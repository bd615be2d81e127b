"""Test helper: write lake objects from envelope messages, in the consumer's exact layout.

Stands in for producer -> Kafka -> consumer where a test only needs a lake: each message
gets Kafka coordinates (partition from its Kafka key, offsets counting up per partition),
and the records are written as ``<topic>/season=Y/round=N/session=S/<topic>+<p>+<offset>``
objects of at most ``batch`` records, with the lake's own encoder.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from pathlib import Path

from f1pipe.lake.naming import object_name
from f1pipe.lake.records import LakeRecord, encode
from f1pipe.schemas import ENVELOPE_FIELDS, validate_message

KAFKA_TIMESTAMP_MS = 1_700_000_000_000


def as_records(messages: list[dict], topic: str, partitions: int = 3) -> list[LakeRecord]:
    """The messages as they would come out of ``topic``: with partitions and offsets."""
    next_offset: dict[int, int] = defaultdict(int)
    records = []
    for message in messages:
        payload = validate_message(message)
        partition = zlib.crc32(payload.kafka_key().encode()) % partitions
        offset = next_offset[partition]
        next_offset[partition] += 1
        envelope = {k: message[k] for k in ENVELOPE_FIELDS}
        records.append(LakeRecord(topic, partition, offset, KAFKA_TIMESTAMP_MS + offset,
                                  payload, envelope))
    return records


def lake_objects(records: list[LakeRecord], fmt: str = "jsonl",
                 batch: int = 500) -> dict[str, bytes]:
    """Object key -> content: per topic, partition and session, ``batch`` records each."""
    groups: dict[tuple, list[LakeRecord]] = defaultdict(list)
    for record in records:
        groups[(record.topic, record.partition, record.group)].append(record)
    objects = {}
    for (topic, partition, group), members in groups.items():
        for start in range(0, len(members), batch):
            chunk = members[start:start + batch]
            key = object_name(topic, partition, chunk[0].offset, group, fmt)
            objects[key] = encode(chunk, fmt)
    return objects


def write_folder(root: Path, objects: dict[str, bytes]) -> list[Path]:
    """Write the objects under a local lake folder; returns their paths."""
    paths = []
    for key, body in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    return paths


def write_bucket(client, bucket: str, prefix: str, objects: dict[str, bytes]) -> None:
    """Upload the objects under ``s3://bucket/prefix``."""
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key, Body=body)
