"""Helpers of the real-time tests: settings for one test's topics, reading topics back."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from confluent_kafka import Consumer

from f1pipe.config import Settings

# The 2018 Azerbaijan GP's classified finishers, in order (the tower and the timing state).
CLASSIFIED_2018_R4 = ["HAM", "RAI", "PER", "VET", "SAI", "LEC", "ALO", "STR", "VAN", "HAR",
                      "ERI", "GAS", "MAG"]


def live_settings(kafka_settings: Settings, fastf1_offline, topic_name: str,
                  tmp_path) -> Settings:
    """Kafka + recorded FastF1 settings with this test's own topic prefix, DLQ, lake and
    warehouse."""
    return fastf1_offline.apply(kafka_settings).model_copy(update={
        "topic_prefix": topic_name, "dead_letter_topic": f"{topic_name}dlq",
        "lake": f"file://{tmp_path}/lake", "warehouse": f"duckdb:///{tmp_path}/f1.duckdb"})


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str]

    def json(self) -> dict:
        return json.loads(self.value)


def read_all(settings: Settings, topics: list[str], expected: int,
             timeout_s: float = 60.0) -> list[Record]:
    """Every record of ``topics`` from the beginning; waits for ``expected`` of them, then
    half a second more to catch any extra (duplicates)."""
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"read-{time.time_ns()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(topics)
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    quiet_until = None
    try:
        while time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.2):
                if m.error():
                    continue
                records.append(Record(m.topic(), m.partition(), m.offset(),
                                      m.key().decode() if m.key() else None, m.value(),
                                      {k: v.decode() for k, v in m.headers() or []}))
            if len(records) >= expected:
                quiet_until = quiet_until or time.monotonic() + 0.5
                if time.monotonic() >= quiet_until:
                    break
    finally:
        consumer.close()
    return records
