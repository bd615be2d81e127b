"""Hostile messages through the real consumer and broker: each ends in the dead-letter
topic with its reason, the good ones around them are stored, nothing is written outside the
lake (issue 13, items 1 and 3)."""

from __future__ import annotations

import json

import pytest

from f1pipe.kafka.consumer import consume
from tests.lake.harness import (
    all_rows,
    event_ids,
    folder_objects,
    lap_values,
    produce,
    read_messages,
)
from tests.lake.laps import lap_message

pytestmark = pytest.mark.integration


def _hostile(outside) -> dict[bytes, str]:
    """Schema-shaped messages that used to be stored (or crash the consumer) -> reason."""
    lap = lap_message(99)
    cases = {
        "session": ("../" * 12 + str(outside).lstrip("/") + "/x", "session"),
        "absolute": (str(outside / "abs"), "session"),
        "nul": ("R\x00", "session"),
    }
    values = {json.dumps({**lap, "session": v}).encode(): f"schema violation: lap v1: {f}"
              for v, f in cases.values()}
    values[json.dumps({**lap, "lap_number": 2**70}).encode()] = \
        "schema violation: lap v1: lap_number"
    values[json.dumps({**lap, "produced_at": "yesterday"}).encode()] = \
        "schema violation: bad envelope: produced_at"
    return values


def _files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def test_hostile_fields_are_dead_letters_and_nothing_leaves_the_lake(kafka_settings,
                                                                     topic_name, tmp_path):
    settings = kafka_settings.model_copy(update={"dead_letter_topic": f"{topic_name}dlq"})
    lake = tmp_path / "deep" / "er" / "lake"
    outside = tmp_path / "outside"
    topic = f"{topic_name}laps"
    good = lap_values(20)
    bad = _hostile(outside)
    produce(settings, topic, good[:10] + list(bad) + good[10:], partitions=1)

    summary = consume(settings, [topic], f"file://{lake}", batch_size=8, flush_interval=30,
                      until_idle=1.0, group=f"{topic_name}g")

    assert (summary.records, summary.dead_letters) == (20, len(bad))
    assert sorted(r["event_id"] for r in all_rows(folder_objects(lake))) == \
        sorted(event_ids(good))
    assert all(f.startswith("deep/er/lake/") for f in _files(tmp_path))  # nothing beside it
    assert not outside.exists()
    sessions = {f.split("/")[3] for f in _files(lake) if f.count("/") >= 3}
    assert sessions == {"session=R"}
    letters = read_messages(settings, settings.dead_letter_topic, len(bad))
    reasons = {m.value(): dict(m.headers())["dlq.reason"].decode() for m in letters}
    assert set(reasons) == set(bad)
    for value, reason in bad.items():
        assert reasons[value].startswith(reason), reasons[value]

