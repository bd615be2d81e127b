"""Bounded chaos: kill -9 the consumer, the loader and the broker at seeded random moments
while a real race and synthetic laps flow Kafka -> lake -> DuckDB; afterwards the warehouse
holds exactly the expected rows, no duplicates, and every raw row comes from one lake record.

Sizes come from the environment: ``F1PIPE_CHAOS_KILLS`` (default 20), ``F1PIPE_CHAOS_LAPS``
(synthetic laps, default 3,000) and ``F1PIPE_CHAOS_SEED`` (default 11); ``make chaos`` runs
it bigger. It starts a broker of its own, so killing it disturbs no other test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import psutil
import pytest

from f1pipe.config import load_settings
from f1pipe.kafka.topics import topic_for
from f1pipe.produce import produce_messages
from f1pipe.schemas import BY_NAME, validate_message
from f1pipe.sources import extract
from f1pipe.stack.kafka import KafkaBroker
from f1pipe.stack.ports import free_ports
from tests.lake.harness import cli_env
from tests.lake.laps import lap_message

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

KILLS = int(os.environ.get("F1PIPE_CHAOS_KILLS", "20"))
SYNTHETIC_LAPS = int(os.environ.get("F1PIPE_CHAOS_LAPS", "3000"))
SEED = int(os.environ.get("F1PIPE_CHAOS_SEED", "11"))
RACE = [("results", 2018, 4), ("laps", 2018, 4), ("race_control", 2018, 4),
        ("track_status", 2018, 4)]


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own (killed and restarted by it)."""
    port, controller = free_ports(2)
    settings = load_settings(kafka_broker=f"127.0.0.1:{port}", kafka_controller_port=controller,
                             state_dir=tmp_path / "state")
    broker = KafkaBroker(settings)
    broker.up(timeout=120, log=lambda _: None)
    yield broker, settings
    broker.down()


def _messages(fastf1_offline) -> dict[str, list[dict]]:
    fastf1_offline.configure()
    messages = {dataset: extract(dataset, season, rnd, "R") for dataset, season, rnd in RACE}
    messages["laps"] += [lap_message(i, season=2099, round_=1) for i in range(SYNTHETIC_LAPS)]
    return messages


def _expected_rows(messages: dict[str, list[dict]]) -> dict[str, int]:
    """Distinct natural keys per model table: what MERGE must end with."""
    return {BY_NAME[d].model_table: len({validate_message(m).natural_key() for m in ms})
            for d, ms in messages.items()}


def _kill(process: subprocess.Popen | None) -> bool:
    if process is None or process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return True


def _lake_records(lake: Path) -> Counter:
    """Records per raw table's topic in the lake's objects (each object counted once)."""
    counts: Counter = Counter()
    for path in lake.rglob("*.jsonl"):
        counts[path.relative_to(lake).parts[0]] += sum(1 for _ in path.open())
    return counts


def test_kill_9_anywhere_loses_and_duplicates_nothing(own_broker, fastf1_offline, tmp_path):
    broker, base = own_broker
    prefix = "chaos."
    cfg = base.model_copy(update={
        "topic_prefix": prefix, "kafka_topic": f"{prefix}results",
        "dead_letter_topic": f"{prefix}dlq", "consumer_group": f"{prefix}lake",
        "lake": f"file://{tmp_path}/lake", "warehouse": f"duckdb:///{tmp_path}/f1.duckdb"})
    messages = _messages(fastf1_offline)
    topics = [topic_for(d, cfg) for d in messages]
    for dataset, topic in zip(messages, topics, strict=True):
        report = produce_messages(cfg, topic, messages[dataset], partitions=3)
        assert report.delivered == len(messages[dataset])
    env = cli_env(cfg, F1PIPE_TOPIC_PREFIX=prefix, KAFKA_TOPIC=cfg.kafka_topic,
                  F1PIPE_CONSUMER_GROUP=cfg.consumer_group, F1PIPE_LAKE=cfg.lake,
                  F1PIPE_WAREHOUSE=cfg.warehouse, PYTHONWARNINGS="ignore")
    log = open(tmp_path / "chaos.log", "ab")  # noqa: SIM115 - closed below

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "f1pipe.cli", *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT)

    def consumer() -> subprocess.Popen:
        return start("consume", "--topics", ",".join(topics), "--batch-size", "300",
                     "--flush-interval", "500ms")

    rng = random.Random(SEED)
    kills: Counter = Counter()
    running = {"consumer": consumer(), "loader": start("load")}
    try:
        while sum(kills.values()) < KILLS:
            time.sleep(rng.uniform(0.2, 2.0))
            victim = rng.choices(["consumer", "loader", "broker"], weights=[4, 4, 1])[0]
            if victim == "broker":
                process = psutil.Process(broker.status().pid)
                process.kill()  # SIGKILL
                process.wait(30)
                time.sleep(rng.uniform(0.5, 2.0))
                broker.up(timeout=120, log=lambda _: None)
                kills["broker"] += 1
            elif _kill(running[victim]):
                kills[victim] += 1
            for name in running:  # restart what was killed or finished
                if running[name].poll() is not None:
                    running[name] = consumer() if name == "consumer" else start("load")
    finally:
        for process in running.values():
            _kill(process)
    # Calm again: drain the topics, then load what the lake holds.
    drained = start("consume", "--topics", ",".join(topics), "--until-idle", "5s")
    assert drained.wait(300) == 0, (tmp_path / "chaos.log").read_text()[-3000:]
    loaded = start("load")
    assert loaded.wait(300) == 0, (tmp_path / "chaos.log").read_text()[-3000:]
    log.close()

    assert sum(kills.values()) >= KILLS and kills["broker"] >= 1, kills
    con = duckdb.connect(str(tmp_path / "f1.duckdb"), read_only=True)
    for table, rows in _expected_rows(messages).items():
        assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == rows, table
        keys = ", ".join(BY_NAME[next(d for d in messages if BY_NAME[d].model_table == table)]
                         .schema.key_fields)
        dupes = con.execute(f"SELECT COUNT(*) FROM (SELECT {keys} FROM {table} "
                            f"GROUP BY {keys} HAVING COUNT(*) > 1)").fetchone()[0]
        assert dupes == 0, table
    in_lake = _lake_records(tmp_path / "lake")
    for dataset, topic in zip(messages, topics, strict=True):
        raw = con.execute(f"SELECT COUNT(*) FROM {BY_NAME[dataset].raw_table}").fetchone()[0]
        # Each stored record once in raw (an object rewritten after its load replaced its rows).
        assert raw == in_lake[topic], (dataset, raw, in_lake[topic])
        assert raw >= len(messages[dataset])  # nothing lost on the way
    history = con.execute("SELECT COUNT(DISTINCT object_key) FROM load_history").fetchone()[0]
    assert history == sum(1 for _ in (tmp_path / "lake").rglob("*.jsonl"))
    print(json.dumps({"kills": dict(kills), "lake_records": dict(in_lake)}))
