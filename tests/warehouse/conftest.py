"""Shared set-up of the warehouse tests: recorded FastF1 data as a lake, and both warehouses.

The lake holds what producer -> Kafka -> consumer would write for 2024 rounds 2 and 12
(results) and 2018 round 4 (results, laps, race control, track status), built from
``f1pipe.sources.extract`` on the recorded cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from f1pipe.config import Settings, load_settings
from f1pipe.kafka.topics import topic_for
from f1pipe.sources import extract
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

SESSIONS = [
    ("results", 2024, 2), ("results", 2024, 12), ("results", 2018, 4),
    ("laps", 2018, 4), ("race_control", 2018, 4), ("track_status", 2018, 4),
]
BATCH = 200  # records per object (per topic, partition and session)
# Results on a topic of another name: records are routed by their schema, not their topic.
TOPIC_SETTINGS = load_settings(kafka_topic="seed.results.custom")


@dataclass(frozen=True)
class Warehouse:
    name: str
    settings: Settings
    url: str


@pytest.fixture(scope="session")
def recorded_messages(fastf1_offline) -> dict[str, list[dict]]:
    """Envelope messages per dataset, from the recorded FastF1 data."""
    messages: dict[str, list[dict]] = {}
    for dataset, season, rnd in SESSIONS:
        messages.setdefault(dataset, []).extend(extract(dataset, season, rnd, "R"))
    return messages


def objects_of(messages: dict[str, list[dict]], fmt: str = "jsonl",
               batch: int = BATCH) -> dict[str, bytes]:
    """Lake objects of every dataset, each dataset on its own topic."""
    objects: dict[str, bytes] = {}
    for dataset, dataset_messages in messages.items():
        records = as_records(dataset_messages, topic_for(dataset, TOPIC_SETTINGS))
        objects.update(lake_objects(records, fmt, batch))
    return objects


@pytest.fixture
def recorded_lake(tmp_path, recorded_messages) -> Path:
    """A local lake folder holding the recorded sessions as JSON Lines objects."""
    root = tmp_path / "lake"
    write_folder(root, objects_of(recorded_messages))
    return root


def duckdb_warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse("duckdb", load_settings(), f"duckdb:///{tmp_path / 'f1.duckdb'}")


@pytest.fixture(params=["duckdb", "snowflake"])
def warehouse(request, tmp_path) -> Warehouse:
    """Each test using it runs on DuckDB and on Snowflake (fakesnow)."""
    if request.param == "duckdb":
        return duckdb_warehouse(tmp_path)
    return Warehouse("snowflake", request.getfixturevalue("fakesnow_account"), "snowflake")
