"""f1pipe serve: feed -> browser latency at replay speed 20, and the API's filtered-laps query.

Starts its own Kafka broker (free ports, temporary folder), builds a warehouse of the 2018
Azerbaijan GP (results, laps, race control, track status) through the project's pipeline
(FastF1 offline on the recorded cache), then runs `f1pipe serve` as its own process:

1. API: ``GET /v1/laps?season=2018&round=4&driver_number=44&lap_number>=10`` (``--requests``
   times, one keep-alive connection, after 20 warm-up requests); reference: the same SQL on
   an in-memory DuckDB copy in this process (the floor under HTTP, JSON and the server).
2. Latency: headless Chromium on ``/live`` while ``f1pipe replay --speed 20`` publishes a
   window of the race (``--from``, ``--duration``, with ``--catch-up``); the page records, per
   render, ``Date.now() - produced_at`` of the newest update applied (update published to
   Kafka -> DOM updated). The first 2 s after the first render (the catch-up burst) are left
   out. Benchmarks record figures; they never fail on a time.

    .venv/bin/python -m bench.serve [--requests 1000] [--from 3000s] [--duration 600s]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import requests

from bench.services import kafka_broker
from f1pipe.config import load_settings
from f1pipe.live.latency import Stats
from f1pipe.pipeline import PipelineRequest, run_pipeline
from f1pipe.stack.ports import free_ports

QUERY = "/v1/laps?season=2018&round=4&driver_number=44&lap_number>=10"
SQL = ("SELECT * FROM laps WHERE season = ? AND round = ? AND driver_number = ? AND "
       "lap_number >= ? ORDER BY season, round, session, driver_number, lap_number")
CHROMIUM = os.environ.get("F1PIPE_CHROMIUM", "/usr/bin/chromium")
RESULTS = Path(__file__).parent / "results"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def build_warehouse(settings) -> None:
    run_pipeline(settings, PipelineRequest(
        2018, 4, datasets=("results", "laps", "race_control", "track_status"),
        allow_missing=True))


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "f1pipe.cli", "serve", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return server
        except requests.ConnectionError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"f1pipe serve did not answer on port {port}: {server.stderr.read()}")


def bench_api(base: str, warehouse: Path, count: int) -> dict:
    session = requests.Session()
    rows = len(session.get(base + QUERY, timeout=10).json())
    for _ in range(20):
        session.get(base + QUERY, timeout=10)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(base + QUERY, timeout=10)
        response.raise_for_status()
        response.json()
        times.append((time.perf_counter() - started) * 1000)
    con = duckdb.connect(":memory:")
    con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
    con.execute("CREATE TABLE laps AS SELECT * FROM wh.laps")
    con.execute("DETACH wh")
    floor = []
    for _ in range(count):
        started = time.perf_counter()
        con.execute(SQL, [2018, 4, 44, 10]).fetchall()
        floor.append((time.perf_counter() - started) * 1000)
    return {"query": QUERY, "rows": rows, "http": vars(Stats.of(times)),
            "duckdb_in_memory": vars(Stats.of(floor))}


def bench_latency(base: str, env: dict, start: str, duration: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{base}/live")
        replay = subprocess.run(
            [sys.executable, "-m", "f1pipe.cli", "replay", "--season", "2018", "--round", "4",
             "--speed", "20", "--from", start, "--duration", duration, "--catch-up"],
            env=env, capture_output=True, text=True, timeout=1800)
        if replay.returncode != 0:
            raise SystemExit(f"replay failed: {replay.stderr.strip()}")
        page.wait_for_timeout(2000)
        samples = page.evaluate("window.__samples")
        renders = page.evaluate("window.__renders")
        browser.close()
    first = samples[0][0] if samples else 0
    kept = [latency for at, latency in samples if at >= first + 2000]
    return {"speed": 20, "from": start, "duration": duration, "renders": renders,
            "latency_ms": vars(Stats.of(kept)), "console_errors": errors,
            "replay": replay.stdout.strip().splitlines()[-1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--from", dest="start", default="3000s")
    parser.add_argument("--duration", default="600s")
    args = parser.parse_args()
    recorded = os.environ.get("F1PIPE_FASTF1_RECORDED") or str(
        Path(__file__).resolve().parents[2] / "shared" / "fastf1-cache")
    with tempfile.TemporaryDirectory(prefix="f1pipe-bench-serve-") as scratch, \
            kafka_broker(Path(scratch) / "kafka") as (bootstrap, _libs):
        root = Path(scratch)
        env = {**os.environ, "KAFKA_BROKER": bootstrap, "F1PIPE_FASTF1_RECORDED": recorded,
               "F1PIPE_OFFLINE": "true", "F1PIPE_FASTF1_CACHE": str(root / "fastf1"),
               "F1PIPE_LAKE": f"file://{root / 'lake'}",
               "F1PIPE_WAREHOUSE": f"duckdb:///{root / 'f1.duckdb'}",
               "F1PIPE_STATE_DIR": str(root / "state")}
        settings = load_settings(
            kafka_broker=bootstrap, fastf1_recorded_dir=recorded, offline=True,
            fastf1_cache_dir=root / "fastf1", lake=env["F1PIPE_LAKE"],
            warehouse=env["F1PIPE_WAREHOUSE"], state_dir=root / "state")
        say("building the 2018 Azerbaijan GP warehouse through the pipeline...")
        build_warehouse(settings)
        port = free_ports(1)[0]
        server = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            say(f"API: {args.requests} x {QUERY}")
            api = bench_api(base, root / "f1.duckdb", args.requests)
            say(f"live: replay --speed 20 --from {args.start} --duration {args.duration}")
            live = bench_latency(base, env, args.start, args.duration)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "api": api, "live": live}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"serve-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    http, floor, lat = api["http"], api["duckdb_in_memory"], live["latency_ms"]
    print(f"API {QUERY} ({api['rows']} rows): p50 {http['p50']:.1f} ms, p95 {http['p95']:.1f} "
          f"ms, p99 {http['p99']:.1f} ms (DuckDB alone: p95 {floor['p95']:.2f} ms)")
    print(f"feed -> browser at speed 20: {lat['count']} renders, p50 {lat['p50']:.0f} ms, "
          f"p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
