"""Property: whatever arrives on a topic ends exactly once landed (raw table, MERGEd into
the model), in the dead-letter topic or in ``load_rejects``, with a reason; nothing is
written outside the lake; consume and load never crash or stall. Hypothesis draws batches of
arbitrary bytes and schema-shaped JSON (huge ints, NUL, path characters, unicode, wrong-topic
schemas, a 5 MB value); each batch goes through the real broker, consumer, lake folder and
DuckDB loader."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import duckdb
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from f1pipe.kafka.consumer import consume
from f1pipe.kafka.topics import topic_for
from f1pipe.schemas import ResultV1, make_message
from f1pipe.warehouse import load
from tests.lake.laps import lap_message
from tests.live.live_harness import read_all

pytestmark = pytest.mark.integration

BIG = 5 * 1024 * 1024
HOSTILE_INTS = [2**70, -(2**63) - 1, 2**63, 10**12, -1, 2**31]
HOSTILE_TEXT = ["\x00", "R\x00", "../../../../outside/x", "/etc/passwd", "..", "a/b", "ñ🏎️",
                "", " ", "C:\\x", "yesterday", "2024-13-45T99:99:99Z", "x" * 5000]
FIELDS = ["season", "round", "session", "driver_number", "lap_number", "lap_time_ms",
          "abbreviation", "compound", "produced_at", "event_id", "source", "lap_end_utc",
          "speed_st_kmh", "tyre_life_laps", "fresh_tyre", "schema"]
hostile_value = st.one_of(
    st.sampled_from(HOSTILE_INTS), st.sampled_from(HOSTILE_TEXT), st.integers(),
    st.text(max_size=40), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=2))


@st.composite
def message(draw, index: int) -> bytes:
    """One message: raw bytes, a lap with hostile fields, a result (wrong topic) or a
    valid lap; every lap gets a natural key of its own."""
    kind = draw(st.sampled_from(["bytes", "mutated", "mutated", "wrong_topic", "valid"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "wrong_topic":
        result = ResultV1(season=2099, round=1, session="R", driver_number=index % 100,
                          event_name="Test Grand Prix", session_name="Race", position=1)
        return json.dumps(make_message(result, "test")).encode()
    lap = lap_message(index, season=2099, round_=1)
    lap["driver_number"], lap["lap_number"] = 1 + index % 99, 1 + index // 99
    if kind == "mutated":
        for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3)):
            lap[field] = draw(hostile_value)
    return json.dumps(lap).encode()


@st.composite
def batch(draw) -> list[bytes]:
    values = [draw(message(i)) for i in range(draw(st.integers(5, 40)))]
    if draw(st.booleans()):
        values.append(b"{" + b"x" * BIG)  # a 5 MB message that is not JSON
    return values


def _topic(cfg, topic: str) -> None:
    admin = AdminClient(cfg.kafka_client_config())
    admin.create_topics([NewTopic(topic, 2, 1, config={"max.message.bytes": str(BIG * 2)})])[
        topic].result(30)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def base(kafka_settings, tmp_path):
    return kafka_settings, tmp_path


@hsettings(max_examples=6, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture,
                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(values=batch())
def test_every_message_ends_exactly_once_somewhere_with_a_reason(base, values):
    kafka_settings, tmp_root = base
    run = f"p{uuid.uuid4().hex[:10]}-"
    root = tmp_root / run / "deep" / "down"
    cfg = kafka_settings.model_copy(update={
        "topic_prefix": run, "kafka_topic": f"{run}results", "dead_letter_topic": f"{run}dlq",
        "consumer_group": f"{run}lake", "lake": f"file://{root}/lake",
        "warehouse": f"duckdb:///{root}/f1.duckdb"})
    topic = topic_for("laps", cfg)
    _topic(cfg, topic)
    producer = Producer({**cfg.kafka_client_config(), "message.max.bytes": BIG * 2})
    for i, value in enumerate(values):
        producer.produce(topic, value=value, partition=i % 2)
    assert producer.flush(30) == 0
    before = _files(tmp_root)

    consumed = consume(cfg, [topic], cfg.lake, batch_size=50, flush_interval=1.0,
                       until_idle=2.0)
    (root / "lake").mkdir(parents=True, exist_ok=True)
    loaded = load(cfg, cfg.lake, cfg.warehouse)

    where: dict[tuple[int, int], list[str]] = {}
    letters = read_all(cfg, [cfg.dead_letter_topic], consumed.dead_letters) \
        if consumed.dead_letters else []
    for letter in letters:
        assert letter.headers["dlq.reason"], letter.headers
        key = (int(letter.headers["dlq.partition"]), int(letter.headers["dlq.offset"]))
        where.setdefault(key, []).append("dead letter")
    con = duckdb.connect(str(root / "f1.duckdb"), read_only=True)
    # Landed: in raw_laps once (the model keeps the newest version of each natural key).
    for part, offset in con.execute(
            "SELECT kafka_partition, kafka_offset FROM raw_laps").fetchall():
        where.setdefault((part, offset), []).append("landed")
    landed_keys = con.execute("SELECT COUNT(DISTINCT (v->>'season', v->>'round', "
                              "v->>'session', v->>'driver_number', v->>'lap_number')) "
                              "FROM raw_laps").fetchone()[0]
    assert con.execute("SELECT COUNT(*) FROM laps").fetchone()[0] == landed_keys
    for part, offset, reason in con.execute(
            "SELECT kafka_partition, kafka_offset, reason FROM load_rejects").fetchall():
        assert reason, (part, offset)
        where.setdefault((part, offset), []).append("load_rejects")
    con.close()

    produced = {(i % 2, i // 2) for i in range(len(values))}
    assert set(where) == produced, (sorted(produced - set(where)), loaded)
    assert {k: v for k, v in where.items() if len(v) != 1} == {}
    new_files = _files(tmp_root) - before
    outside = [f for f in new_files if not f.startswith(f"{run}/deep/down/")]
    assert outside == []
