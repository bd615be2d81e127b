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
from f1pipe.kafka.topics import live_topic, topic_for
from f1pipe.schemas import make_message
from f1pipe.sources import extract, session_ref
from f1pipe.sources.live_timing import live_payloads, read_session
from f1pipe.warehouse import load
from tests.warehouse.harness import run_cli
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

RACE = (2018, 4, "R")
SESSIONS = [("results", 2024, 2), ("results", 2024, 12), ("results", 2018, 4),
            ("laps", 2018, 4), ("track_status", 2018, 4)]
# Two minutes of the race's recorded TimingData stream, an hour after it starts, as
# `f1pipe replay` publishes it (one message per driver and update).
LIVE_WINDOW_MS = (3_600_000, 120_000)


def live_messages() -> list[dict]:
    ref = session_ref(*RACE)
    recorded = read_session(ref, ["TimingData"])
    start = recorded.updates[0].session_time_ms + LIVE_WINDOW_MS[0]
    return [make_message(payload, "replay")
            for update in recorded.window(start, LIVE_WINDOW_MS[1])
            for payload in live_payloads(ref, update, recorded.time_utc(update))]


@dataclass(frozen=True)
class MartsWarehouse:
    settings: Settings
    path: Path
    lake: Path
    built: str  # what `f1pipe transform` printed

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
    records = as_records(live_messages(), live_topic("TimingData", load_settings()))
    objects.update(lake_objects(records, "jsonl", 500))
    write_folder(root, objects)
    return root


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory, fastf1_offline) -> MartsWarehouse:
    """The recorded sessions loaded into DuckDB and the marts built on them by
    ``f1pipe transform`` (the command, in a subprocess)."""
    root = tmp_path_factory.mktemp("marts")
    settings = load_settings(state_dir=root / "state")
    lake = write_lake(root / "lake")
    path = root / "f1.duckdb"
    load(settings, f"file://{lake}", f"duckdb:///{path}")
    done = run_cli("transform", "--warehouse", f"duckdb:///{path}", cwd=root,
                   env={"F1PIPE_STATE_DIR": str(root / "state")})
    assert done.returncode == 0, done.stderr
    return MartsWarehouse(settings, path, lake, done.stdout)
