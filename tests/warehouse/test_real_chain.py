"""The conformance figures through the real chain: producer -> Kafka -> consumer -> lake ->
DuckDB and Snowflake (fakesnow)."""

from __future__ import annotations

import pytest

from f1pipe.kafka.consumer import consume
from f1pipe.kafka.topics import topic_for
from f1pipe.produce import produce_messages
from f1pipe.warehouse import load, query, run_checks
from tests.warehouse.conftest import duckdb_warehouse
from tests.warehouse.harness import IDENTICAL_QUERIES

pytestmark = pytest.mark.integration
EXPECTED = {"f1_results": 60, "laps": 848, "race_control_messages": 109, "track_status": 22}


def test_produced_and_consumed_sessions_load_alike(kafka_settings, topic_name, tmp_path,
                                                   recorded_messages, fakesnow_account):
    cfg = kafka_settings.model_copy(update={"kafka_topic": f"{topic_name}results",
                                            "topic_prefix": topic_name,
                                            "consumer_group": f"{topic_name}lake"})
    topics = []
    for dataset, messages in recorded_messages.items():
        topics.append(topic_for(dataset, cfg))
        produce_messages(cfg, topics[-1], messages)
    lake = f"file://{tmp_path / 'lake'}"
    consumed = consume(cfg, topics, lake, batch_size=200, flush_interval=1.0, until_idle=3.0)
    assert consumed.records == sum(len(m) for m in recorded_messages.values())

    duck = duckdb_warehouse(tmp_path)
    loaded = load(duck.settings, lake, duck.url)
    load(fakesnow_account, lake, "snowflake")

    assert {t: loaded.table_rows[t] for t in EXPECTED} == EXPECTED
    for sql in IDENTICAL_QUERIES:
        assert query(fakesnow_account, "snowflake", sql) == query(duck.settings, duck.url, sql)
    assert run_checks(duck.settings, duck.url).passed
    assert run_checks(fakesnow_account, "snowflake").passed
