"""Benchmark of the transform: one race session's facts -> every mart (``f1pipe transform``).

``python -m bench.transform [--runs 5]``: loads the recorded 2018 Azerbaijan GP (results,
laps, race control, track status; FastF1 offline on the recorded cache) into a fresh DuckDB
file through the real loader, runs ``f1pipe transform`` once to warm dbt's parse cache (as
every run after the first in a pipeline is), then times ``--runs`` more, each the whole
command (a new process: dbt's start-up, parse check, every model). Prints the figures and
writes ``bench/results/<date>-transform.json``. A benchmark never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from f1pipe.config import load_settings
from f1pipe.kafka.topics import topic_for
from f1pipe.sources import configure_fastf1, extract
from f1pipe.warehouse import load
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder

RESULTS = Path(__file__).resolve().parent / "results"
SESSION = (2018, 4, "R")
DATASETS = ("results", "laps", "race_control", "track_status")


def build_warehouse(root: Path) -> str:
    settings = load_settings()
    configure_fastf1(settings)
    objects: dict[str, bytes] = {}
    for dataset in DATASETS:
        records = as_records(extract(dataset, *SESSION), topic_for(dataset, settings))
        objects.update(lake_objects(records, "jsonl", 500))
    write_folder(root / "lake", objects)
    url = f"duckdb:///{root / 'f1.duckdb'}"
    load(settings, f"file://{root / 'lake'}", url)
    return url


def timed_transform(url: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "f1pipe.cli", "transform", "--warehouse", url],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"f1pipe transform failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="f1pipe-bench-transform-") as tmp:
        root = Path(tmp)
        url = build_warehouse(root)
        env = {**os.environ, "F1PIPE_STATE_DIR": str(root / "state"),
               "F1PIPE_ENV_FILE": "/dev/null"}
        first = timed_transform(url, env)
        runs = [timed_transform(url, env) for _ in range(args.runs)]
    result = {
        "benchmark": "transform of one race session (2018 R4: 848 laps, 20 results)",
        "command": "f1pipe transform (dbt run, every mart, new process each time)",
        "first_run_s": round(first, 2),
        "runs_s": [round(r, 2) for r in runs],
        "median_s": round(statistics.median(runs), 2),
        "min_s": round(min(runs), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine": f"{psutil.cpu_count()} cores, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"transform of one race session: median {result['median_s']} s, min "
          f"{result['min_s']} s over {args.runs} runs (first run, parsing the project: "
          f"{result['first_run_s']} s); load average {result['load_average_1m']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date()}-transform.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
