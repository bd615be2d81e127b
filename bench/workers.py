"""The measured programs, each run as its own process so its peak RSS is its own.

``python -m bench.workers <kind> '<json args>'`` prints one JSON line of figures (the runner
samples the process's RSS: ``getrusage`` would report the forking parent's peak too). Kafka
and S3 settings come from the environment (``KAFKA_BROKER``, ``S3_ENDPOINT_URL``, ``AWS_*``),
as for the f1pipe CLI.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable

from f1pipe.config import load_settings


def consume(args: dict) -> dict:
    """f1pipe's lake consumer on one topic until idle; records/s exclude the idle wait."""
    from f1pipe.kafka.consumer import consume as run

    settings = load_settings()
    summary = run(settings, [args["topic"]], args["sink"], batch_size=args["batch_size"],
                  flush_interval=args["flush_interval_s"], fmt=args.get("format", "jsonl"),
                  until_idle=args["idle_s"], group=f"bench-{uuid.uuid4().hex[:8]}",
                  on_progress=lambda _: None)
    busy_s = summary.elapsed_s - args["idle_s"]
    return {"records": summary.records, "objects": summary.objects, "seconds": busy_s,
            "per_s": summary.records / busy_s}


def produce(args: dict) -> dict:
    """f1pipe's producer sending ``count`` laps of the cached lap file to ``topic`` in one
    ``send_all`` (one wait for acknowledgements at the end), as the peers send theirs; only
    the sending is timed. In its own process: ``input_rss_mb`` is the process's RSS once the
    laps are decoded, before sending (the runner reports the peak above it as the producer's
    own)."""
    from pathlib import Path

    from bench.run import produce_f1pipe_whole

    return produce_f1pipe_whole(load_settings(), Path(args["laps"]), args["topic"],
                                args["count"])


def consume_member(args: dict) -> dict:
    """One consumer process of a scaled-out group (see :mod:`bench.cluster`): builds its
    consumer, waits for the shared start time, drains until idle; reports when it ended
    (wall clock, less the idle wait)."""
    from f1pipe.kafka.consumer import ConsumeOptions, LakeConsumer
    from f1pipe.lake import open_sink

    settings = load_settings()
    options = ConsumeOptions(batch_size=args["batch_size"],
                             flush_interval_s=args["flush_interval_s"],
                             until_idle_s=args["idle_s"], group=args["group"])
    member = LakeConsumer(settings, [args["topic"]], open_sink(args["sink"], settings), options,
                          on_progress=lambda _: None)
    time.sleep(max(0.0, args["start_at"] - time.time()))
    summary = member.run()
    return {"records": summary.records, "objects": summary.objects,
            "end_wall": time.time() - args["idle_s"]}


def baseline(args: dict) -> dict:
    """The seed-style consumer (see :mod:`bench.baseline`) for ``count`` messages."""
    from bench.baseline import run_baseline

    return run_baseline(load_settings(), args["topic"], args["sink"], args["count"])


def load(args: dict) -> dict:
    """f1pipe's loader: the whole lake into a fresh warehouse (DuckDB file or fakesnow)."""
    from f1pipe.warehouse import load as run

    settings = load_settings()
    if args["warehouse"] == "snowflake":
        from bench.emulator import fakesnow_account

        with fakesnow_account(settings) as snow:
            summary = run(snow, args["lake"], "snowflake")
    else:
        summary = run(settings, args["lake"], args["warehouse"])
    if summary.failed:
        raise SystemExit(f"load failed: {summary.failed[0]}")
    return {"records": summary.rows_total, "objects": summary.objects_loaded,
            "seconds": summary.elapsed_s, "per_s": summary.rows_total / summary.elapsed_s}


def latency(args: dict) -> dict:
    """Produce-to-DuckDB-row latency at an offered load (see :mod:`bench.latency`)."""
    from bench.latency import measure

    return measure(load_settings(), args["topic"], args["rate"], args["seconds"],
                   args["scratch"], args["flush_s"])


def telemetry(args: dict) -> dict:
    """Synthetic car telemetry through live -> Kafka -> lake -> DuckDB (see
    :mod:`bench.telemetry`)."""
    from bench.telemetry import measure

    return measure(load_settings(), args["scale"], args["seconds"], args["scratch"],
                   args["flush_s"])


WORKERS: dict[str, Callable[[dict], dict]] = {
    "produce": produce, "consume": consume, "consume_member": consume_member,
    "baseline": baseline, "load": load, "latency": latency, "telemetry": telemetry,
}


def main() -> None:
    kind, args = sys.argv[1], json.loads(sys.argv[2])
    started = time.monotonic()
    result = WORKERS[kind](args)
    result["wall_s"] = time.monotonic() - started
    print(json.dumps(result))


if __name__ == "__main__":
    main()
