"""The benchmark run: every hop of f1pipe, each beside its reference, in one run.

``python -m bench.run [--quick]``: starts its own Kafka broker and SeaweedFS (free ports,
temporary state), measures, prints a table and writes ``bench/results/<date>[-quick].json``.
Figures are recorded, never judged: a benchmark does not fail on a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import kafka_tools
from bench.report import print_table, ratios
from bench.services import Services, services
from bench.synthetic import lap_file, read_messages
from f1pipe.codec import key_of
from f1pipe.kafka.producer import PRODUCER_CONFIG, MessageProducer
from f1pipe.kafka.topics import ensure_topics

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
LAP_TOPIC = "bench.laps"
PERF_TOPIC = "bench.perf-producer"
WARMUP_TOPIC, WARMUP_MESSAGES = "bench.warmup", 200_000
LAKE_BATCH = 5_000  # records per lake object per partition in the throughput runs
FLUSH_S = 5.0
IDLE_S = 2.0


@dataclass(frozen=True)
class Sizes:
    messages: int  # producer, consumer -> lake, DuckDB load
    seed_s3: int  # the seed-style baseline into S3 (one PUT per 10 messages)
    snowflake: int  # fakesnow load (the middle scale point's lake)
    scale: tuple[int, int, int]
    latency_s: float  # per offered load
    # (offered msgs/s, lake flush interval in s): the landing's 0.25 s of earlier runs, and
    # 0.1 s (`f1pipe land --flush-interval 0.1`, the low-latency setting)
    latency_runs: tuple[tuple[int, float], ...] = ((100, 0.25), (1_000, 0.25), (1_000, 0.1))
    cluster: int = 500_000  # the 3-node cluster step: messages per producer / consumer run
    telemetry_s: float = 30.0  # the telemetry step: seconds of feed per scale
    # (x race scale (20 cars x 4 Hz x 2 streams), lake flush interval in s)
    telemetry_runs: tuple[tuple[float, float], ...] = ((1.0, 0.25), (10.0, 0.25), (10.0, 0.1))
    rounds: int = 3  # producer and consumer steps: each program once per round, median kept


FULL = Sizes(1_000_000, 50_000, 100_000, (10_000, 100_000, 1_000_000), 30.0)
QUICK = Sizes(10_000, 2_000, 3_000, (1_000, 3_000, 10_000), 5.0, cluster=20_000,
              telemetry_s=10.0, rounds=1)


class Run:
    """One bench run: services, scratch folder, the figures measured so far."""

    def __init__(self, svc: Services, scratch: Path, sizes: Sizes, laps: Path):
        self.svc, self.scratch, self.sizes, self.laps = svc, scratch, sizes, laps
        self.figures: list[dict] = []

    def add(self, hop: str, name: str, result: dict, **extra) -> dict:
        figure = {"hop": hop, "name": name, **result, **extra}
        self.figures.append(figure)
        rate = (f"p50 {result['p50']:,.0f} ms" if "p50" in result
                else f"{result.get('per_s', 0):>12,.0f}/s")
        _say(f"{hop:10} {name:48} {rate}")
        return figure

    def env(self) -> dict:
        s = self.svc.settings
        return {**os.environ, "KAFKA_BROKER": s.kafka_broker, "S3_ENDPOINT_URL": s.s3_endpoint_url,
                "AWS_ACCESS_KEY_ID": s.aws_access_key_id, "AWS_REGION": s.aws_region,
                "AWS_SECRET_ACCESS_KEY": s.aws_secret_access_key.get_secret_value(),
                "F1PIPE_STATE_DIR": str(self.scratch / "state"),
                "F1PIPE_ENV_FILE": str(self.scratch / "no.env"), "F1PIPE_LAKE": "file://lake"}

    def worker(self, kind: str, **args) -> dict:
        """Run one measured program in its own process; returns its JSON line, with the
        process's peak RSS sampled every 20 ms."""
        command = [sys.executable, "-m", "bench.workers", kind, json.dumps(args)]
        with (self.scratch / f"{kind}.out").open("w+") as out, \
                (self.scratch / f"{kind}.err").open("w+") as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err, env=self.env(),
                                    cwd=BENCH.parent)
            peak = _peak_rss(proc)
            out.seek(0), err.seek(0)
            if proc.returncode != 0:
                raise RuntimeError(f"{kind} worker failed: {err.read().strip()[-1500:]}")
            return {**json.loads(out.read().strip().splitlines()[-1]), "peak_rss_mb": peak}

    def peer(self, kind: str, venv: str = ".venv-bench", **args) -> dict:
        """One run of :mod:`bench.peers` (quixstreams, plain confluent-kafka loops) under
        ``venv``'s Python; returns its JSON line with its peak RSS."""
        python = BENCH.parent / venv / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"{python} is missing: `make bench` builds it")
        command = [str(python), str(BENCH / "peers.py"), kind, json.dumps(args)]
        with (self.scratch / f"{kind}.out").open("w+") as out, \
                (self.scratch / f"{kind}.err").open("w+") as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err, env=self.env(),
                                    cwd=self.scratch)
            peak = _peak_rss(proc)
            out.seek(0), err.seek(0)
            if proc.returncode != 0:
                raise RuntimeError(f"{kind} failed: {err.read().strip()[-1500:]}")
            return {**json.loads(out.read().strip().splitlines()[-1]), "peak_rss_mb": peak}

    def folder(self, name: str) -> str:
        return f"file://{self.scratch / name}"


# --- hops --------------------------------------------------------------------------------


def produce_f1pipe(run: Run, topic: str, count: int, settings=None) -> dict:
    """f1pipe's producer in this process (filling a topic for a later step)."""
    return produce_f1pipe_to(settings or run.svc.settings, run.laps, topic, count)


# Filling a topic for a later step: laps decoded before each send_all (the bench's own input,
# ~4.5 KB a decoded lap). 25k keeps the process at ~275 MB whatever the count. The producer's
# own figure (produce_f1pipe_whole) sends all in one send_all, as the peers send theirs: each
# send_all waits for its acknowledgements, and 8 such waits over 200k laps cost ~15%.
PRODUCE_CHUNK = 25_000


def produce_f1pipe_to(settings, laps: Path, topic: str, count: int) -> dict:
    """f1pipe's producer; only the sending is timed (decoding the cached file is not)."""
    ensure_topics(settings, [topic])
    busy = 0.0
    delivered = 0
    with MessageProducer(settings) as producer:
        for chunk in read_messages(laps, count, PRODUCE_CHUNK):
            keyed = [(key_of(m), m) for m in chunk]  # as sources hand them over
            started = time.perf_counter()
            report = producer.send_all(topic, keyed)
            busy += time.perf_counter() - started
            delivered += report.delivered
            del chunk, keyed  # before the next chunk is decoded
    return {"records": delivered, "seconds": busy, "per_s": delivered / busy,
            "mb_per_s": _file_bytes(laps, count) / busy / 2**20}


def _file_bytes(laps: Path, count: int) -> int:
    """Bytes of the first ``count`` messages of the lap file (as sent: no newlines)."""
    with open(laps, "rb") as lines:
        return sum(len(line) - 1 for _, line in zip(range(count), lines, strict=False))


def produce_f1pipe_whole(settings, laps: Path, topic: str, count: int) -> dict:
    """f1pipe's producer as the peers are measured: every message decoded first (the peers
    hold their pre-encoded bytes), then one timed ``send_all`` (queue all, one flush). Also
    reports the process's RSS before sending (``input_rss_mb``: the decoded laps, ~4.5 KB
    each) so that the runner can report the producer's own memory above it."""
    ensure_topics(settings, [topic])
    keyed = [(key_of(m), m) for chunk in read_messages(laps, count) for m in chunk]
    input_rss = _own_rss_mb()
    with MessageProducer(settings) as producer:
        started = time.perf_counter()
        report = producer.send_all(topic, keyed)
        busy = time.perf_counter() - started
    return {"records": report.delivered, "seconds": busy, "per_s": report.delivered / busy,
            "mb_per_s": _file_bytes(laps, count) / busy / 2**20, "input_rss_mb": input_rss}


def _own_rss_mb() -> float:
    """This process's resident memory now, in MiB (as :func:`_peak_rss` samples it)."""
    return psutil.Process().memory_info().rss / 2**20


def bench_producer(run: Run) -> None:
    n = run.sizes.messages
    payloads = run.scratch / "payloads.txt"
    with open(run.laps, "rb") as src:
        payloads.write_bytes(b"".join(line for _, line in zip(range(10_000), src, strict=False)))
    ensure_topics(run.svc.settings, [PERF_TOPIC, WARMUP_TOPIC])
    # A fresh broker's JVM is still compiling its hot paths: whoever sends first is slower.
    # One untimed perf-test run warms it, then each program runs once per round, in turn,
    # and its median round is its figure (a single round moved ratios by 10-25%).
    svc = run.svc
    kafka_tools.producer_perf(svc.libs, run.scratch, svc.settings.kafka_broker, WARMUP_TOPIC,
                              min(n, WARMUP_MESSAGES), payloads)
    peer_config = {k: v for k, v in PRODUCER_CONFIG.items() if k != "client.id"}
    peers = (("quix_produce", "quixstreams producer (pre-encoded bytes)", ".venv-bench"),
             ("plain_produce", "plain confluent-kafka producer loop (pre-encoded)", ".venv"))
    ensure_topics(svc.settings, [f"bench.{kind}" for kind, _, _ in peers])

    def programs(number: int) -> dict[str, tuple[Callable[[], dict], dict]]:
        found = {"kafka-producer-perf-test (limit)": (lambda: kafka_tools.producer_perf(
            svc.libs, run.scratch, svc.settings.kafka_broker, PERF_TOPIC, n, payloads), {})}
        # In its own process: its peak RSS above the decoded laps it holds is measured
        # (goal <= 400 MB at 1M). The first round fills the topic the consumer step reads.
        topic = LAP_TOPIC if number == 0 else f"{LAP_TOPIC}-round{number}"
        found["f1pipe producer (idempotent, acks=all, zstd)"] = (lambda: run.worker(
            "produce", laps=str(run.laps), topic=topic, count=n), {})
        for kind, name, venv in peers:
            found[name] = (lambda kind=kind, venv=venv: run.peer(
                kind, venv, count=n, topic=f"bench.{kind}", broker=svc.settings.kafka_broker,
                payloads=str(run.laps), producer=peer_config), {})
        return found

    measure_rounds(run, "producer", programs, n)


def measure_rounds(run: Run, hop: str,
                   programs: Callable[[int], dict[str, tuple[Callable[[], dict], dict]]],
                   count: int) -> None:
    """Each program of ``programs(round)`` (name -> (measure, extra fields)) once per round,
    in turn, for ``run.sizes.rounds`` rounds; one figure per program: its median round. A
    program that fails is noted and the run goes on."""
    rounds: dict[str, list[dict]] = {}
    extras: dict[str, dict] = {}
    for number in range(run.sizes.rounds):
        for name, (measure, extra) in programs(number).items():
            try:
                rounds.setdefault(name, []).append(measure())
                extras[name] = extra
            except RuntimeError as exc:
                _say(f"{name} failed: {' '.join(str(exc).split())[-600:]}")
    for name, results in rounds.items():
        if results:
            run.add(hop, name, median_round(results), count=count, **extras[name])


def median_round(results: list[dict]) -> dict:
    """One program's rounds as one figure: the round of median records/s, every round's
    rate (``rounds_per_s``), and the highest memory of any round (above its input, when it
    holds one)."""
    ordered = sorted(results, key=lambda r: r["per_s"])
    figure = dict(ordered[(len(ordered) - 1) // 2])
    figure["rounds_per_s"] = [round(r["per_s"]) for r in results]
    measured = [r for r in results if r.get("peak_rss_mb")]
    if measured:
        worst = max(measured, key=lambda r: r["peak_rss_mb"] - r.get("input_rss_mb", 0))
        figure.update({k: worst[k] for k in ("peak_rss_mb", "input_rss_mb") if k in worst})
    return figure


def bench_consumer(run: Run) -> None:
    n = run.sizes.messages
    limit = kafka_tools.consumer_perf(run.svc.libs, run.scratch, run.svc.settings.kafka_broker,
                                      LAP_TOPIC, n)
    run.add("consume", "kafka-consumer-perf-test (read only, limit)", limit, count=n)
    options = {"topic": LAP_TOPIC, "batch_size": LAKE_BATCH, "flush_interval_s": FLUSH_S,
               "idle_s": IDLE_S}
    peer = {"topic": LAP_TOPIC, "broker": run.svc.settings.kafka_broker, "count": n,
            "commit_every": LAKE_BATCH * run.svc.settings.topic_partitions,
            "flush_interval_s": FLUSH_S, "idle_s": IDLE_S}

    def programs(number: int) -> dict[str, tuple[Callable[[], dict], dict]]:
        # The first round writes the lake the load step reads; the others write their own
        # (removed once measured: one copy of the lake is enough on disk).
        suffix = "" if number == 0 else f"_round{number}"
        folder = run.scratch / f"lake-main{suffix}"
        return {
            "f1pipe consumer -> folder": (lambda: _then_remove(run.worker(
                "consume", sink=f"file://{folder}", **options), folder if suffix else None),
                {"sink": "folder"}),
            "f1pipe consumer -> S3": (lambda: run.worker(
                "consume", sink=f"s3://bench/lake{suffix}", **options), {"sink": "s3"}),
            "quixstreams LocalFileSink -> folder": (lambda: run.peer(
                "quix_folder", ".venv-bench", directory=f"quix_lake{suffix}", **peer),
                {"sink": "folder"}),
            "quixstreams S3FileSink -> S3": (lambda: run.peer(
                "quix_s3", ".venv-bench", bucket="bench", prefix=f"quix{suffix}", **peer),
                {"sink": "s3"}),
            "plain confluent-kafka loop -> folder (fsync, commit)": (lambda: run.peer(
                "plain_folder", ".venv", directory=str(run.scratch / f"plain-lake{suffix}"),
                batch_size=LAKE_BATCH, **peer), {"sink": "folder"}),
        }

    measure_rounds(run, "consume", programs, n)
    run.add("consume", "seed-style baseline -> folder", run.worker(
        "baseline", topic=LAP_TOPIC, sink=run.folder("seed"), count=n), count=n, sink="folder")
    small = run.sizes.seed_s3
    run.add("consume", f"seed-style baseline -> S3 (first {small:,} only)", run.worker(
        "baseline", topic=LAP_TOPIC, sink="s3://bench/seed", count=small),
        count=small, sink="s3", note=f"one PUT per 10 messages: measured on {small:,}")


def _then_remove(result: dict, folder: Path | None) -> dict:
    """``result``, once ``folder`` (if any) is removed."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def bench_scale(run: Run) -> None:
    for n in run.sizes.scale:
        if n == run.sizes.messages:
            main = next(f for f in run.figures if f["name"] == "f1pipe consumer -> folder")
            run.add("scale", f"f1pipe consumer -> folder, {n:,}", _pick(main), count=n)
            continue
        topic = f"bench.scale-{n}"
        produce_f1pipe(run, topic, n)
        result = run.worker("consume", topic=topic, sink=run.folder(f"lake-{n}"),
                            batch_size=LAKE_BATCH, flush_interval_s=FLUSH_S, idle_s=IDLE_S)
        run.add("scale", f"f1pipe consumer -> folder, {n:,}", result, count=n)


def bench_load(run: Run) -> None:
    n = run.sizes.messages
    lake = run.scratch / "lake-main"
    run.add("load", "DuckDB read_json_objects + INSERT (limit)", duckdb_limit(run, lake), count=n)
    run.add("load", "f1pipe loader -> DuckDB", run.worker(
        "load", lake=f"file://{lake}", warehouse=f"duckdb:///{run.scratch / 'f1.duckdb'}"),
        count=n)
    small = run.sizes.snowflake
    if not (run.scratch / f"lake-{small}").is_dir():
        _say(f"load -> Snowflake (fakesnow) not measured: it loads the {small:,}-record lake "
             "of the scale step (add it: --steps scale,load)")
        return
    run.add("load", "f1pipe loader -> Snowflake (fakesnow)", run.worker(
        "load", lake=run.folder(f"lake-{small}"), warehouse="snowflake"),
        count=small, note="emulator figure (fakesnow on DuckDB), not Snowflake's speed")


def duckdb_limit(run: Run, lake: Path) -> dict:
    """DuckDB alone reading every lake object into one table: the load's ceiling."""
    import duckdb

    con = duckdb.connect(str(run.scratch / "limit.duckdb"))
    started = time.perf_counter()
    con.execute("CREATE TABLE landed AS SELECT json FROM read_json_objects("
                f"'{lake}/**/*.jsonl', format = 'newline_delimited', hive_partitioning = false)")
    seconds = time.perf_counter() - started
    records = con.execute("SELECT count(*) FROM landed").fetchone()[0]
    con.close()
    return {"records": records, "seconds": seconds, "per_s": records / seconds}


def bench_cluster(run: Run) -> None:
    """A 3-node cluster of the step's own: producer RF=3 (min ISR 2) beside RF=1, then
    consumer -> folder with 1, 2 and 4 processes of one group on 6 partitions."""
    from bench import cluster

    n = run.sizes.cluster
    cores = cluster.cpu_count()
    with cluster.cluster(run.scratch) as nodes:
        base = nodes.settings
        for factor in (3, 1):
            settings = cluster.replicated(base, factor)
            topic = f"bench.cluster-rf{factor}"
            ensure_topics(settings, [topic], partitions=cluster.PARTITIONS)
            result = produce_f1pipe(run, topic, n, settings)
            run.add("cluster", f"f1pipe producer, 3 brokers, RF={factor}"
                    + (" min ISR 2" if factor == 3 else ""), result, count=n, cores=cores)
        cluster.warm_up(base, "bench.cluster-rf3")
        for workers in cluster.WORKER_COUNTS:
            result = cluster.consumer_group_run(
                base, "bench.cluster-rf3", workers, run.folder(f"lake-cluster-{workers}"),
                run.scratch)
            run.add("cluster", f"f1pipe consumer -> folder, {workers} process(es), "
                    f"{cluster.PARTITIONS} partitions, RF=3", result, count=n, cores=cores,
                    note=f"{cores} cores shared with 3 brokers")


def bench_latency(run: Run) -> None:
    for rate, flush_s in run.sizes.latency_runs:
        result = run.worker("latency", topic=f"bench.latency-{rate}-{flush_s:g}", rate=rate,
                            seconds=run.sizes.latency_s, flush_s=flush_s,
                            scratch=str(run.scratch / f"lat-{rate}-{flush_s:g}"))
        run.add("latency", f"produce -> DuckDB row at {rate:,} msgs/s, flush {flush_s:g} s",
                result, count=result["published"])


def bench_telemetry(run: Run) -> None:
    for scale, flush_s in run.sizes.telemetry_runs:
        result = run.worker("telemetry", scale=scale, seconds=run.sizes.telemetry_s,
                            flush_s=flush_s,
                            scratch=str(run.scratch / f"telemetry-{scale:g}x-{flush_s:g}s"))
        run.add("telemetry", f"feed -> live -> DuckDB telemetry, {scale:g}x race, "
                f"flush {flush_s:g} s", result, count=result["rows_landed"])


def _peak_rss(proc: subprocess.Popen) -> float:
    """Wait for ``proc``; returns its highest resident set size seen, in MiB."""
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):  # it may end between poll and sample
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.02)
    return peak / 2**20


def _pick(figure: dict) -> dict:
    return {k: figure[k] for k in ("records", "seconds", "per_s", "peak_rss_mb", "input_rss_mb")
            if k in figure}


# --- run ---------------------------------------------------------------------------------


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()}


def _say(line: str) -> None:
    print(line, flush=True)


def run_step(run: Run, step, info: dict) -> None:
    """Run one step; a failure is recorded (and printed) and the run goes on."""
    started = time.monotonic()
    try:
        step(run)
    except Exception as exc:  # noqa: BLE001 - a broken hop must not hide the others' figures
        info.setdefault("errors", {})[step.__name__] = " ".join(str(exc).split())[:500]
        _say(f"{step.__name__} failed: {info['errors'][step.__name__]}")
    info.setdefault("step_seconds", {})[step.__name__] = round(time.monotonic() - started, 1)


def write_results(info: dict, figures: list[dict], mode: str) -> Path:
    """``bench/results/<date>[-quick][-<steps>].json`` with the figures so far and their
    ratios (a run of chosen steps never overwrites a whole run's file)."""
    info["figures"], info["ratios"] = figures, ratios(figures)
    RESULTS.mkdir(exist_ok=True)
    name = datetime.now(UTC).strftime("%Y-%m-%d") + ("" if mode == "full" else f"-{mode}")
    if info.get("steps"):
        name += "-" + "-".join(info["steps"])
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(info, indent=2) + "\n")
    return path


STEPS = {"producer": bench_producer, "consumer": bench_consumer, "scale": bench_scale,
         "load": bench_load, "latency": bench_latency, "telemetry": bench_telemetry,
         "cluster": bench_cluster}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (under 2 minutes; "
                        "without the cluster step unless --steps names it)")
    parser.add_argument("--steps", help="comma-separated steps to run, e.g. cluster "
                        f"(default: all of {', '.join(STEPS)})")
    parser.add_argument("--messages", type=int, help="messages of the producer, consumer and "
                        "load hops (default: 1,000,000; --quick 10,000)")
    options = parser.parse_args()
    mode = "quick" if options.quick else "full"
    sizes = QUICK if mode == "quick" else FULL
    if options.messages:
        sizes = replace(sizes, messages=options.messages)
        mode = f"{mode}-{options.messages}"
    steps = [STEPS[s.strip()] for s in options.steps.split(",")] if options.steps else \
        [step for name, step in STEPS.items() if mode == "full" or name != "cluster"]
    started = time.monotonic()
    info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "mode": mode,
            "sizes": asdict(sizes), "machine": machine(), "lake_batch": LAKE_BATCH}
    if options.steps:
        info["steps"] = [s.strip() for s in options.steps.split(",")]
    laps = lap_file(CACHE, max(sizes.messages, *sizes.scale, sizes.cluster))
    _say(f"messages: {laps} ({time.monotonic() - started:.0f} s)")
    with tempfile.TemporaryDirectory(prefix="f1pipe-bench-") as tmp, services(Path(tmp)) as svc:
        run = Run(svc, Path(tmp), sizes, laps)
        for step in steps:
            run_step(run, step, info)
            write_results(info, run.figures, mode)  # after each step: a crash keeps the rest
    info["seconds"] = round(time.monotonic() - started, 1)
    path = write_results(info, run.figures, mode)
    print_table(info)
    _say(f"written: {path}")


if __name__ == "__main__":
    main()
