"""Benchmark of the transform: one race session's facts -> every mart (``f1pipe transform``).

``python -m bench.transform [--runs 5]``: loads the recorded 2018 Azerbaijan GP (results,
laps, race control, track status; FastF1 offline on the recorded cache) into a fresh DuckDB
file through the real loader, runs ``f1pipe transform`` once (it compiles the dbt project:
once per version of ``dbt/``), then times ``--runs`` rounds of four cases side by side, each
the whole command in a new process:

* ``race changed``: a new version of the race's laps was loaded (their Kafka offsets move),
  so the default engine rebuilds that session's marts: the figure of the 5 s goal;
* ``nothing changed``: the default engine finds no changed session;
* ``full refresh``: ``--full-refresh``, every mart for every session;
* ``dbt run``: ``--engine dbt``, dbt itself in ``.venv-dbt`` (start-up, parse check, models).

Prints the medians and writes ``bench/results/<date>-transform.json``. A benchmark never
fails on a time.
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


CASES = {
    "race changed": ("transform",),
    "nothing changed": ("transform",),
    "full refresh": ("transform", "--full-refresh"),
    "dbt run": ("transform", "--engine", "dbt"),
}


def new_version_of_the_race(path: Path) -> None:
    """As if the race's laps were loaded again from new messages (the loader keeps the
    newest version; its Kafka coordinates change)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE laps SET kafka_offset = kafka_offset + 1 WHERE season = 2018 "
                    "AND round = 4 AND session = 'R'")
    finally:
        con.close()


def timed_transform(url: str, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "f1pipe.cli", *args, "--warehouse", url],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"f1pipe {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {case: [] for case in CASES}
    said: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="f1pipe-bench-transform-") as tmp:
        root = Path(tmp)
        url = build_warehouse(root)
        env = {**os.environ, "F1PIPE_STATE_DIR": str(root / "state"),
               "F1PIPE_ENV_FILE": "/dev/null", "F1PIPE_DBT_COMPILED": str(root / "compiled")}
        first, _ = timed_transform(url, env, "transform")
        for _ in range(args.runs):
            for case, command in CASES.items():
                if case == "race changed":
                    new_version_of_the_race(root / "f1.duckdb")
                seconds, said[case] = timed_transform(url, env, *command)
                times[case].append(seconds)
    medians = {case: round(statistics.median(t), 2) for case, t in times.items()}
    result = {
        "benchmark": "transform of one race session (2018 R4: 848 laps, 20 results)",
        "command": "f1pipe transform, a new process each time (python -m bench.transform)",
        "first_run_s": round(first, 2),
        "median_s": medians,
        "runs_s": {case: [round(x, 2) for x in t] for case, t in times.items()},
        "said": said,
        "dbt_run_over_race_changed": round(medians["dbt run"] / medians["race changed"], 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine": f"{psutil.cpu_count()} cores, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for case, median in medians.items():
        print(f"{case:>16}: median {median} s over {args.runs} runs ({said[case]})")
    print(f"first run (dbt compile of the project, then every mart): {result['first_run_s']} s;"
          f" dbt run / race changed = {result['dbt_run_over_race_changed']}x; load average "
          f"{result['load_average_1m']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date()}-transform.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
