"""The transform tests' warehouse: the 2018 Azerbaijan GP (results, laps, track status) and
the 2024 rounds 2 and 12 (results) from the recorded FastF1 data, loaded into a DuckDB file
through the real loader, then the marts built by the real dbt (``.venv-dbt``), once per
test session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from f1pipe.config import Settings, load_settings
from f1pipe.kafka.topics import topic_for
from f1pipe.sources import extract
from f1pipe.transform import TransformSummary, transform
from f1pipe.warehouse import load
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

RACE = (2018, 4, "R")
SESSIONS = [("results", 2024, 2), ("results", 2024, 12), ("results", 2018, 4),
            ("laps", 2018, 4), ("track_status", 2018, 4)]


@dataclass(frozen=True)
class MartsWarehouse:
    settings: Settings
    path: Path
    lake: Path
    built: TransformSummary

    @property
    def url(self) -> str:
        return f"duckdb:///{self.path}"

    def copy(self, target: Path) -> MartsWarehouse:
        """A copy of the warehouse file, for a test that changes it."""
        shutil.copy(self.path, target)
        return MartsWarehouse(self.settings, target, self.lake, self.built)


def write_lake(root: Path, sessions=SESSIONS) -> Path:
    messages: dict[str, list[dict]] = {}
    for dataset, season, rnd in sessions:
        messages.setdefault(dataset, []).extend(extract(dataset, season, rnd, "R"))
    objects: dict[str, bytes] = {}
    for dataset, dataset_messages in messages.items():
        records = as_records(dataset_messages, topic_for(dataset, load_settings()))
        objects.update(lake_objects(records, "jsonl", 500))
    write_folder(root, objects)
    return root


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory, fastf1_offline) -> MartsWarehouse:
    """The recorded sessions loaded into DuckDB and the marts built on them."""
    root = tmp_path_factory.mktemp("marts")
    settings = load_settings(state_dir=root / "state")
    lake = write_lake(root / "lake")
    path = root / "f1.duckdb"
    load(settings, f"file://{lake}", f"duckdb:///{path}")
    built = transform(settings, f"duckdb:///{path}")
    return MartsWarehouse(settings, path, lake, built)
