"""The ``f1pipe`` command line: thin commands over the library, one section per stage.

Every command reads settings first (a bad value stops it with one line) and turns
:class:`~f1pipe.errors.F1PipeError` into ``error: <message>`` and a non-zero exit status.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from f1pipe.config import Settings, load_settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.kafka.consumer import ConsumeOptions as ConsumeDefaults
from f1pipe.times import parse_duration_s

# Commands in the order of the pipeline, then the real-time ones, then the whole run.
COMMAND_ORDER = ("stack", "produce", "consume", "load", "transform", "check", "query",
                 "standings", "replay", "live", "tower", "land", "run", "serve", "report")


class PipelineOrder(TyperGroup):
    """Lists the commands in :data:`COMMAND_ORDER` in ``--help``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else 99)


# Plain click help (rich_markup_mode=None): typer's rich help shows "<bool>" after flags.
app = typer.Typer(
    help="f1pipe: FastF1 -> Kafka -> object store -> warehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    cls=PipelineOrder,
)
stack_app = typer.Typer(help="Run the local stack (a real Apache Kafka broker).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(stack_app, name="stack")

console = Console(stderr=True)


def settings(**overrides) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


WarehouseOpt = Annotated[str | None, typer.Option(
    "--warehouse", help="duckdb:///PATH (relative), duckdb:////PATH (absolute) or snowflake "
                        "(default F1PIPE_WAREHOUSE).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]
SESSION_HELP = ("FastF1 session: R, Q, S, SQ (SS in 2023; either code works), FP1, FP2, FP3.")


# --- stack -------------------------------------------------------------------------------


@stack_app.command("up")
def stack_up(
    brokers: int | None = typer.Option(None, min=1, max=9, help="Kafka nodes (KRaft, each "
                                       "broker and controller); default F1PIPE_STACK_BROKERS "
                                       "or 1."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for the brokers to answer."),
) -> None:
    """Start the local Kafka stack (KRaft; one node, or a cluster) and wait until it answers."""
    from f1pipe.stack.cluster import KafkaCluster

    cluster = KafkaCluster(settings(), brokers)
    cluster.up(timeout=timeout, log=console.print)
    for node in cluster.nodes:
        info = node.status()
        console.print(f"kafka: node {node.node_id} running at {info.bootstrap} "
                      f"(pid {info.pid}), log {info.log_file}", highlight=False, soft_wrap=True)
    if cluster.size > 1 and cluster.settings.kafka_bootstrap != cluster.bootstrap:
        console.print(f"clients: export F1PIPE_STACK_BROKERS={cluster.size} (or "
                      f"KAFKA_BROKER={cluster.bootstrap}) so that they reach every node",
                      highlight=False, soft_wrap=True)


@stack_app.command("fetch")
def stack_fetch() -> None:
    """Fetch the Kafka broker jars (once; later calls reuse them)."""
    from f1pipe.stack.kafka import KafkaBroker

    console.print(f"kafka: jars in {KafkaBroker(settings()).libs()}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop every node of the local Kafka stack and wait until they have exited."""
    from f1pipe.stack.cluster import running_clusters

    stopped = sum(cluster.down() for cluster in running_clusters(settings()))
    console.print(f"kafka: stopped {stopped} node(s)" if stopped else "kafka: was not running")


@stack_app.command("status")
def stack_status() -> None:
    """Each node of the local Kafka stack (where, pid, since when, partitions led), the
    controller quorum's leader, and under-replicated partitions; exit 1 if a node is down,
    the cluster does not answer or a partition is under-replicated or offline; exit 3 if
    none runs."""
    from f1pipe.stack.cluster import running_clusters

    clusters = running_clusters(settings())
    if not clusters:
        typer.echo("kafka: not running")
        raise typer.Exit(3)
    healthy = True
    for cluster in clusters:
        status = cluster.status()
        for node in status.nodes:
            info = node.info
            if info is None:
                typer.echo(f"kafka: node {node.node_id} at {node.bootstrap}: NOT RUNNING")
                continue
            lead = " (controller leader)" if node.node_id == status.controller_leader else ""
            typer.echo(f"kafka: node {node.node_id} running at {info.bootstrap} (pid {info.pid})"
                       f" since {info.started_at}, leads {node.leaders} partition(s){lead}, "
                       f"data {info.data_dir}, log {info.log_file}")
        healthy &= status.running == cluster.size and status.error is None
        if status.error:
            typer.echo(f"kafka: the cluster does not answer: {status.error}")
            continue
        healthy &= not status.under_replicated and not status.offline
        typer.echo(f"kafka: {status.running}/{cluster.size} node(s) running, "
                   f"{status.partitions} partitions, {len(status.under_replicated)} "
                   f"under-replicated, {len(status.offline)} offline"
                   + (f": {', '.join(status.under_replicated[:10])}"
                      if status.under_replicated else ""))
    if not healthy:
        raise typer.Exit(1)


# --- produce: FastF1 -> Kafka ----------------------------------------------------------------

produce_app = typer.Typer(help="Send FastF1 data to Kafka (one topic per dataset).",
                          no_args_is_help=True, rich_markup_mode=None)
app.add_typer(produce_app, name="produce")

CACHE_DIR_HELP = "FastF1 cache folder (F1PIPE_FASTF1_CACHE)."
OFFLINE_HELP = "Use only FastF1's cache, never the network (F1PIPE_OFFLINE)."
RECORDED_HELP = "Folder holding recorded http_cache/ responses (F1PIPE_FASTF1_RECORDED)."
PARTITIONS_HELP = "Partitions of topics created now (F1PIPE_TOPIC_PARTITIONS)."
ALLOW_MISSING_HELP = "Exit 0 even if FastF1 could not give some data (still reported)."
CacheDirOption = Annotated[Path | None, typer.Option(help=CACHE_DIR_HELP)]
RecordedDirOption = Annotated[Path | None, typer.Option(help=RECORDED_HELP)]
RoundsOption = Annotated[list[int] | None, typer.Option(
    "--round", help="Round number (repeatable); default: every round of the season.")]


def produce_settings(cache_dir: Path | None, offline: bool | None,
                     recorded_dir: Path | None) -> Settings:
    return settings(fastf1_cache_dir=cache_dir, offline=offline, fastf1_recorded_dir=recorded_dir)


@produce_app.command("results")
def produce_results_cmd(
    season: int = typer.Option(..., help="Championship year, e.g. 2024."),
    rounds: RoundsOption = None,
    event: str | None = typer.Option(None, help="Event name, country or place (Silverstone)."),
    session: str = typer.Option("R", help=SESSION_HELP),
    cache_dir: CacheDirOption = None,
    offline: bool | None = typer.Option(None, "--offline/--online", help=OFFLINE_HELP),
    recorded_dir: RecordedDirOption = None,
    partitions: int | None = typer.Option(None, min=1, help=PARTITIONS_HELP),
    allow_missing: bool = typer.Option(False, "--allow-missing", help=ALLOW_MISSING_HELP),
) -> None:
    """One message per driver result of each event to KAFKA_TOPIC (default f1_race_data)."""
    from f1pipe.produce import produce_results

    if rounds and event:
        raise F1PipeError("give --round or --event, not both")
    config = produce_settings(cache_dir, offline, recorded_dir)
    with ProduceDisplay("events") as display:
        summary = display.run(lambda: produce_results(
            config, season, rounds=rounds, session=session, allow_missing=allow_missing,
            event=event, partitions=partitions, progress=display))
    display.print_summary(summary)


@produce_app.command("session")
def produce_session_cmd(
    season: int = typer.Option(..., help="Championship year, e.g. 2018."),
    round_: int = typer.Option(..., "--round", help="Round number."),
    session: str = typer.Option("R", help=SESSION_HELP),
    datasets: str = typer.Option("laps,race_control,weather,track_status",
                                 help="Comma-separated datasets; each goes to its own topic."),
    cache_dir: CacheDirOption = None,
    offline: bool | None = typer.Option(None, "--offline/--online", help=OFFLINE_HELP),
    recorded_dir: RecordedDirOption = None,
    partitions: int | None = typer.Option(None, min=1, help=PARTITIONS_HELP),
    allow_missing: bool = typer.Option(False, "--allow-missing", help=ALLOW_MISSING_HELP),
) -> None:
    """Laps, race control messages, weather samples and track status changes of one session."""
    from f1pipe.produce import produce_session

    config = produce_settings(cache_dir, offline, recorded_dir)
    names = [d.strip() for d in datasets.split(",") if d.strip()]
    with ProduceDisplay("datasets") as display:
        summary = display.run(lambda: produce_session(
            config, season, round_, session, names, allow_missing=allow_missing,
            partitions=partitions, progress=display))
    display.print_summary(summary)


class ProduceDisplay:
    """Progress bar while producing, one line per item that failed, a table at the end."""

    def __init__(self, unit: str):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(TextColumn(f"producing {unit}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.description}"),
                                 console=console, transient=True,
                                 disable=not console.is_terminal)
        self.task = self.progress.add_task("", total=None)

    def __enter__(self) -> ProduceDisplay:
        self.progress.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.progress.stop()

    def begin(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def item_done(self, item) -> None:
        if item.state != "done":
            self.progress.console.print(f"{item.label}: {item.state}: {item.reason}",
                                        highlight=False, soft_wrap=True)
        self.progress.update(self.task, advance=1, description=item.ref.event_name)

    def run(self, produce):
        """Call ``produce``; on ProduceFailed print its summary table before re-raising."""
        from f1pipe.produce import ProduceFailed

        try:
            return produce()
        except ProduceFailed as exc:
            self.progress.stop()
            self.print_summary(exc.summary)
            raise

    @staticmethod
    def print_summary(summary) -> None:
        from rich.table import Table

        table = Table(title="f1pipe produce")
        for column in ("round", "event", "session", "dataset", "topic", "state"):
            table.add_column(column)
        table.add_column("delivered", justify="right")
        for item in summary.items:
            table.add_row(str(item.ref.round), item.ref.event_name, item.ref.session,
                          item.dataset, item.topic, item.state, str(item.delivered))
        Console().print(table)
        done = summary.with_state("done")
        Console().print(f"{len(done)} done, {len(summary.items) - len(done)} failed, "
                        f"{summary.delivered} message(s) delivered", highlight=False)


# --- run: the whole pipeline ---------------------------------------------------------------


@app.command("run")
def run(
    season: int = typer.Option(..., help="Championship year, e.g. 2024."),
    round_: int | None = typer.Option(None, "--round", help="One round; default: the season."),
    sessions: str = typer.Option(
        "R,S", "--session", "--sessions",
        help="Comma-separated FastF1 sessions: R race, S sprint, Q qualifying, SQ/SS sprint "
             "qualifying (2024 on / 2023's sprint shootout; either code works), FP1, FP2, FP3. "
             "Rounds without one are skipped for it."),
    datasets: str = typer.Option("results", help="Comma-separated: results,laps,race_control,"
                                 "weather,track_status (all but results need --round)."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help=ALLOW_MISSING_HELP),
    sink: str = typer.Option(None, help="Lake: file://PATH or s3://BUCKET/PREFIX (default "
                                        "F1PIPE_LAKE)."),
    warehouse: WarehouseOpt = None,
    lake_format: str = typer.Option("jsonl", "--lake-format",
                                    help="Object format in the lake: jsonl or parquet."),
) -> None:
    """Run produce >> consume >> load >> transform >> check in one process, with a summary.

    The checks judge the sessions this run loaded (and the marts' dbt tests the marts)."""
    from f1pipe.pipeline import PipelineFailed, PipelineRequest, run_pipeline
    from f1pipe.reporting import print_pipeline_summary

    config = settings(lake=sink, warehouse=warehouse)
    request = PipelineRequest(season=season, round=round_, sessions=tuple(_split(sessions)),
                              datasets=tuple(_split(datasets)), allow_missing=allow_missing,
                              lake_format=lake_format)
    try:
        with console.status("starting") as status:
            summary = run_pipeline(config, request,
                                   on_step=lambda name: status.update(f"{name}..."))
    except PipelineFailed as exc:
        print_pipeline_summary(exc.summary, config)
        if exc.summary.checked is not None and not exc.summary.checked.passed:
            print_failed_checks(exc.summary.checked)
        raise
    print_pipeline_summary(summary, config)


# --- consume: Kafka -> lake --------------------------------------------------------------


@app.command("consume")
def consume_command(
    topics: str = typer.Option(None, help="Comma-separated topics (default: every dataset's "
                                          "topic that exists)."),
    sink: str = typer.Option(None, help="file://PATH or s3://BUCKET/PREFIX (default F1PIPE_LAKE)."),
    batch_size: int = typer.Option(ConsumeDefaults.batch_size,
                                   help="Records per object, per Kafka partition."),
    flush_interval: str = typer.Option(f"{ConsumeDefaults.flush_interval_s:g}s",
                                       help="Flush a batch this long after its first record."),
    lake_format: str = typer.Option("jsonl", "--lake-format", "--format",
                                    help="Object format in the lake: jsonl or parquet."),
    until_idle: str = typer.Option(None, help="Exit after this long with nothing new "
                                              "(default: run until stopped)."),
    group: str = typer.Option(None, help="Consumer group (default F1PIPE_CONSUMER_GROUP)."),
    workers: int = typer.Option(1, min=1, max=64, help="Consumer processes in the group "
                                "(partitions are spread over them; more than the topics' "
                                "partitions leaves some idle)."),
) -> None:
    """Consume topics into the lake; offsets are committed only after the objects are stored."""
    from f1pipe.kafka.consumer import ConsumeOptions, consume_with
    from f1pipe.kafka.topics import existing_dataset_topics
    from f1pipe.workers import write_summary

    cfg = settings()
    options = ConsumeOptions(
        batch_size=batch_size, flush_interval_s=parse_duration_s(flush_interval,
                                                                 "--flush-interval"),
        until_idle_s=parse_duration_s(until_idle, "--until-idle") if until_idle else None,
        group=group)
    options.check()
    names = _split(topics) if topics else existing_dataset_topics(cfg)
    if workers > 1:
        args = ["consume", "--topics", ",".join(names), "--sink", sink or cfg.lake,
                "--batch-size", str(batch_size), "--flush-interval", flush_interval,
                "--lake-format", lake_format]
        args += ["--until-idle", until_idle] if until_idle else []
        args += ["--group", group] if group else []
        _run_workers(args, workers, "consumed")
        return
    summary = consume_with(cfg, names, sink or cfg.lake, options, lake_format,
                           on_progress=lambda line: console.print(line, highlight=False))
    write_summary({"records": summary.records, "objects": summary.objects,
                   "dead_letters": summary.dead_letters, "elapsed_s": summary.elapsed_s})
    typer.echo(
        f"consumed {summary.records} records into {summary.objects} objects, "
        f"{summary.dead_letters} dead letters, in {summary.elapsed_s:.1f} s "
        f"({summary.records_per_s:,.0f} records/s)"
    )


def _run_workers(args: list[str], workers: int, verb: str, first_index: int = 1) -> dict:
    """Run ``workers`` processes of ``f1pipe <args>`` in one group until they end; print and
    return their summed summary; F1PipeError naming a worker that failed."""
    import time

    from f1pipe.workers import WorkerPool, check_results, forward_signals

    started = time.monotonic()
    with forward_signals(WorkerPool(args, workers, first_index).start()) as pool:
        results = pool.wait()
    check_results(results)
    total = {"records": 0, "objects": 0, "dead_letters": 0}
    for result in results:
        for key in total:
            total[key] += (result.summary or {}).get(key, 0)
    elapsed = time.monotonic() - started
    if verb:
        typer.echo(f"{verb} {total['records']} records into {total['objects']} objects, "
                   f"{total['dead_letters']} dead letters, by {workers} workers in "
                   f"{elapsed:.1f} s ({total['records'] / max(elapsed, 1e-9):,.0f} records/s)")
    return total


def _split(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


# --- warehouse: load, check, query, standings ----------------------------------------------


@app.command("load")
def load_command(
    lake: str = typer.Option(None, help="file://PATH or s3://BUCKET/PREFIX (default F1PIPE_LAKE)."),
    warehouse: WarehouseOpt = None,
    strict: bool = typer.Option(False, "--strict",
                                help="Exit 1 if any object had to be skipped."),
) -> None:
    """Load the lake's new objects into the warehouse (raw tables, then MERGE into the model)."""
    from f1pipe.warehouse import load
    from f1pipe.warehouse.destination import describe
    from f1pipe.warehouse.output import render

    cfg = settings(lake=lake, warehouse=warehouse)
    summary = load(cfg, cfg.lake, cfg.warehouse,
                   log=lambda line: console.print(f"warning: {line}", highlight=False))
    rows = [(t, summary.records[t], summary.table_rows[t]) for t in summary.table_rows]
    render(["table", "records landed", "rows now"], rows, "table")
    typer.echo(f"{cfg.lake} -> {describe(cfg, cfg.warehouse)}: objects "
               f"{summary.objects_loaded} loaded, {summary.objects_skipped} already loaded, "
               f"{summary.objects_failed} skipped as unreadable; {summary.elapsed_s:.1f} s")
    if summary.rejected_records:
        console.print(f"warning: {summary.rejected_records} record(s) the warehouse cannot "
                      f"convert ({summary.unrouted_records} of no known schema) were put in "
                      "load_rejects with their reason", highlight=False)
    if strict and summary.failed:
        raise typer.Exit(1)


@app.command("transform")
def transform_command(
    warehouse: WarehouseOpt = None,
    full_refresh: bool = typer.Option(False, "--full-refresh",
                                      help="Rebuild every mart for every session."),
    engine: str = typer.Option(None, "--engine", help="compiled (DuckDB: f1pipe runs the "
                               "compiled dbt project, only for changed sessions) or dbt "
                               "(dbt run in .venv-dbt); default F1PIPE_TRANSFORM_ENGINE."),
) -> None:
    """Build the race analytics marts from the warehouse facts (the dbt project in dbt/)."""
    from f1pipe.transform import transform
    from f1pipe.warehouse.output import render

    if engine not in (None, "compiled", "dbt"):
        raise ConfigError(f"--engine {engine}: expected compiled or dbt")
    cfg = settings(warehouse=warehouse)
    summary = transform(cfg, cfg.warehouse, full_refresh=full_refresh, engine=engine)
    render(["mart", "status", "seconds"],
           [(n.name, n.status, f"{n.seconds:.2f}") for n in summary.models], "table")
    built = sum(1 for n in summary.models if n.status == "success")
    scope = ("every session" if summary.sessions is None
             else f"{len(summary.sessions)} changed session(s)"
             + (f": {', '.join(summary.sessions[:5])}" if summary.sessions else ""))
    typer.echo(f"{built} models built on {cfg.warehouse} for {scope} in "
               f"{summary.elapsed_s:.1f} s ({summary.engine})")


@app.command("check")
def check_command(
    warehouse: WarehouseOpt = None, format: FormatOpt = "table",
    sessions: str = typer.Option(None, "--sessions", help="Only these sessions, "
                                 "comma-separated SEASON/ROUND/SESSION: 2024/5/SQ,2024/12/R."),
) -> None:
    """Data-quality checks on the model, and the marts' dbt tests once the marts are built;
    exit 1 naming each failing session (or dbt test) and its rows."""
    from f1pipe.transform import run_all_checks
    from f1pipe.warehouse.output import check_output_format, render, report_json

    check_output_format(format)
    cfg = settings(warehouse=warehouse)
    wanted = list(_split(sessions)) if sessions else None
    report = run_all_checks(cfg, cfg.warehouse, sessions=wanted)
    if check_output_format(format) == "json":
        typer.echo(report_json(report))
    elif format == "csv":
        rows = [(r.name, r.passed, len(r.rows), r.description) for r in report.results]
        render(["check", "passed", "failing_rows", "description"], rows, format)
    else:
        for result in report.results:
            mark = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
            Console().print(f"{mark} {result.name}: {result.description}", highlight=False,
                            soft_wrap=True)
            if not result.passed:
                render(result.columns, result.rows[:50], "table")
    if not report.passed:
        console.print(f"{len(report.failed_names())} check(s) failed: "
                      f"{report.failure_line()}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def print_failed_checks(report) -> None:
    """The failing checks of a run with their rows (at most 50 per check)."""
    from f1pipe.warehouse.output import render

    for result in report.results:
        if not result.passed:
            Console().print(f"[red]FAIL[/red] {result.name}: {result.description}",
                            highlight=False, soft_wrap=True)
            render(result.columns, result.rows[:50], "table")


@app.command("query")
def query_command(sql: str = typer.Argument(..., help="One SQL statement."),
                  warehouse: WarehouseOpt = None, format: FormatOpt = "table") -> None:
    """Run one read-only SQL query on the warehouse and print the result (nothing is written:
    DuckDB is opened read-only without file access, Snowflake runs one SELECT only). Tables:
    the facts (f1_results, laps, race_control_messages, weather, track_status, live_updates,
    live_timing) and, after f1pipe transform, the marts (stints, pit_stops, lap_positions,
    lap_gaps, fastest_laps, race_pace, session_summary, driver_standings,
    constructor_standings)."""
    from f1pipe.warehouse import query
    from f1pipe.warehouse.output import check_output_format, render

    check_output_format(format)
    cfg = settings(warehouse=warehouse)
    columns, rows = query(cfg, cfg.warehouse, sql)
    render(columns, rows, format)


@app.command("standings")
def standings_command(season: int = typer.Option(..., help="Championship year, e.g. 2024."),
                      warehouse: WarehouseOpt = None, format: FormatOpt = "table") -> None:
    """Drivers' and constructors' championship after each loaded round of a season (from the
    standings marts when f1pipe transform has built them from the current facts)."""
    from f1pipe.transform.standings import season_standings
    from f1pipe.warehouse.output import check_output_format, render
    from f1pipe.warehouse.standings import standings_rows, standings_table

    check_output_format(format)
    cfg = settings(warehouse=warehouse)
    result, source = season_standings(cfg, cfg.warehouse, season, _season_rounds(cfg, season))
    console.print("standings from the marts (driver_standings, constructor_standings)"
                  if source == "marts" else
                  "standings computed from f1_results (the marts are missing or older than "
                  "the facts: f1pipe transform builds them)", highlight=False)
    if format != "table":
        render(*standings_rows(result), format)
        return
    for championship in ("drivers", "constructors"):
        render(*standings_table(result, championship), "table",
               title=result.title(championship))


def _season_rounds(cfg: Settings, season: int) -> int | None:
    """Rounds in the season's schedule (FastF1), or None when the schedule is unavailable."""
    from f1pipe.sources import configure_fastf1, season_events

    try:
        configure_fastf1(cfg)
        return len(season_events(season))
    except F1PipeError:
        return None


# --- real time: replay, live, tower ---------------------------------------------------------


@app.command("replay")
def replay_command(
    season: int = typer.Option(..., help="Championship year, e.g. 2018."),
    round_: int = typer.Option(..., "--round", help="Round number."),
    session: str = typer.Option("R", help=SESSION_HELP),
    speed: float = typer.Option(1.0, help="Times real speed; 0 = as fast as possible."),
    topics: str = typer.Option(None, help="Comma-separated feed topics, e.g. TimingData,"
                                          "track_status (default: every recorded one)."),
    start: str = typer.Option("0", "--from", help="Session time to start at: 00:30:00, "
                                                  "90s, 5m."),
    duration: str = typer.Option(None, help="Session time to replay from --from, e.g. 60s "
                                            "(default: to the end)."),
    catch_up: bool = typer.Option(False, "--catch-up",
                                  help="With --from: first publish the earlier "
                                  "updates as fast as possible, so consumers start with the "
                                  "state so far."),
    measure_latency: bool = typer.Option(False, "--measure-latency",
                                         help="Also run the lake consumer, loader and "
                                         "tower; report publish -> DuckDB row and -> tower "
                                         "state latency."),
) -> None:
    """Replay a recorded session's live-timing streams to Kafka, paced like the live feed."""
    from f1pipe.live.replay import ReplayRequest
    from f1pipe.live.report import print_replay_summary, replay_progress
    from f1pipe.times import parse_session_time

    cfg = settings()
    request = ReplayRequest(
        season=season, round=round_, session=session, speed=speed,
        topics=tuple(t.strip() for t in topics.split(",") if t.strip()) if topics else None,
        start_ms=parse_session_time(start, "--from"),
        duration_ms=parse_session_time(duration, "--duration") if duration else None,
        catch_up=catch_up)
    if measure_latency:
        from f1pipe.live.latency import measure_latency as measure
        from f1pipe.live.report import print_latency_report

        print_latency_report(measure(cfg, request, log=console.print), console)
        return
    from f1pipe.live.replay import replay

    with console.status("reading the recorded streams") as status:
        summary = replay(cfg, request, on_progress=replay_progress(status))
    print_replay_summary(summary, request, console)


@app.command("live")
def live_command(
    from_file: Annotated[Path | None, typer.Option(
        "--from-file", help="Publish a FastF1 live recording (SignalRClient output) instead "
                            "of the live feed.")] = None,
    season: int = typer.Option(None, help="Season of the session (default: from the schedule "
                                          "and the time of the first message)."),
    round_: int = typer.Option(None, "--round", help="Round of the session."),
    session: str = typer.Option(None, help="FastF1 session identifier (default R)."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Connect without an F1 TV account."),
    silence_timeout: str = typer.Option("60s", help="Stop when the feed sends nothing this "
                                                    "long."),
    heartbeat_timeout: str = typer.Option("30s", help="Reconnect when the feed sends nothing, "
                                                      "not even a ping, this long."),
    max_retries: int = typer.Option(5, help="Reconnections in a row without data before "
                                            "giving up (with backoff)."),
    url: str = typer.Option(None, hidden=True, help="Feed address (tests)."),
) -> None:
    """Publish F1's live-timing feed (or a recording of it) to Kafka as it arrives."""
    from f1pipe.live.feed import LiveOptions, publish_recording, resolve_session, run_live

    cfg = settings()
    ref = resolve_session(cfg, season, round_, session)
    if from_file is not None:
        summary = publish_recording(cfg, from_file, ref)
    else:
        options = LiveOptions(no_auth=no_auth, max_retries=max_retries, url=url,
                              silence_timeout_s=parse_duration_s(silence_timeout,
                                                                 "--silence-timeout"),
                              heartbeat_timeout_s=parse_duration_s(heartbeat_timeout,
                                                                   "--heartbeat-timeout"))
        summary = run_live(cfg, ref, options, on_event=lambda line: console.print(
            line, highlight=False, markup=False))
    console.print(f"{summary.ref.label}: {summary.updates:,} updates published as "
                  f"{summary.messages:,} messages to {len(summary.topics)} topics; "
                  f"{summary.dead_letters:,} malformed to {cfg.dead_letter_topic}",
                  highlight=False)
    for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
        console.print(f"  {count:4d} x {reason}", highlight=False, markup=False)


@app.command("land")
def land_command(
    flush_interval: str = typer.Option("500ms", help="Lake consumer: flush a batch this long "
                                                     "after its first record (at most 1s)."),
    load_every: str = typer.Option("500ms", help="The readers' pause after each second "
                                                 "of loads; with --workers, how often the "
                                                 "lake is listed. Objects this process "
                                                 "writes load as soon as they are written."),
    until_idle: str = typer.Option(None, help="Exit after this long with nothing new "
                                              "(default: run until stopped)."),
    workers: int = typer.Option(1, min=1, max=64, help="Lake consumer processes in the "
                                "landing's group (this one, which also loads, and N-1 more)."),
) -> None:
    """Streaming landing: live topics -> lake -> warehouse, continuously (Ctrl-C stops)."""
    from f1pipe.kafka.topics import ensure_topics
    from f1pipe.live.landing import LandingOptions, landing_topics, run_landing
    from f1pipe.workers import WorkerPool

    cfg = settings()
    every_s = parse_duration_s(load_every, "--load-every")
    options = LandingOptions(
        flush_interval_s=parse_duration_s(flush_interval, "--flush-interval"),
        load_every_s=every_s,
        until_idle_s=parse_duration_s(until_idle, "--until-idle") if until_idle else None,
        # Objects the other processes write are not announced to the loader: it lists.
        **({"list_every_s": every_s} if workers > 1 else {}))
    options.check()
    console.print(f"landing live topics {cfg.topic_prefix}live.* and "
                  f"{cfg.topic_prefix}live_timing into {cfg.lake} -> {cfg.warehouse}"
                  + (f" with {workers} consumer processes" if workers > 1 else ""),
                  highlight=False)
    pool = None
    if workers > 1:  # N-1 more lake consumers in the landing's group; this process loads
        topics = landing_topics(cfg)
        ensure_topics(cfg, topics)
        args = ["consume", "--topics", ",".join(topics), "--sink", cfg.lake,
                "--batch-size", str(options.batch_size), "--flush-interval", flush_interval,
                "--group", options.group]
        args += ["--until-idle", until_idle] if until_idle else []
        pool = WorkerPool(args, workers - 1, first_index=2).start()
    try:  # a worker that dies stops the landing: the command exits non-zero naming it
        consumed, loader = run_landing(cfg, options,
                                       failure=pool.failure if pool is not None else None)
    finally:
        if pool is not None:
            if until_idle is None:
                pool.stop()
            results = pool.wait()
    if pool is not None:
        from f1pipe.workers import check_results

        check_results(results)
        for result in results:
            consumed.records += (result.summary or {}).get("records", 0)
            consumed.objects += (result.summary or {}).get("objects", 0)
        if until_idle is not None:
            loader.load_with_retry()  # what the other workers stored after the last load
    typer.echo(f"landed {consumed.records:,} records in {consumed.objects:,} objects; "
               f"{loader.loads:,} loads, {loader.rows:,} rows loaded")


@app.command("tower")
def tower_command(
    snapshot_every: str = typer.Option("1s", help="Publish changed rows this often."),
    until_idle: str = typer.Option(None, help="Exit after this long without an update "
                                              "(default: run until stopped)."),
    display: bool = typer.Option(True, help="Draw the live timing tower in the terminal."),
    publish: bool = typer.Option(True, help="Publish snapshots to <prefix>live_timing."),
) -> None:
    """Live timing tower: keep each driver's state from the live topics; publish snapshots."""
    from f1pipe.live.tower import Tower, TowerOptions
    from f1pipe.live.tower_view import run_tower

    options = TowerOptions(
        snapshot_every_s=parse_duration_s(snapshot_every, "--snapshot-every"),
        until_idle_s=parse_duration_s(until_idle, "--until-idle") if until_idle else None,
        publish=publish)
    stats = run_tower(Tower(settings(), options), display)
    typer.echo(f"tower: {stats.updates:,} updates applied, {stats.snapshots:,} snapshot rows "
               f"published, {stats.skipped:,} messages skipped")


# --- seeing it: serve, report ---------------------------------------------------------------


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every "
                                               "interface)."),
    port: int = typer.Option(8080, help="Port to listen on."),
    warehouse: WarehouseOpt = None,
    live: bool = typer.Option(True, help="Consume the live topics for the live page."),
    refresh_every: str = typer.Option("500ms", help="Look for warehouse changes this often."),
) -> None:
    """HTTP API (/v1/...), race and season pages and the live timing page (Ctrl-C stops)."""
    from f1pipe.serve.app import ServeOptions, serve

    cfg = settings(warehouse=warehouse)
    options = ServeOptions(host=host, port=port, live=live,
                           refresh_every_s=parse_duration_s(refresh_every, "--refresh-every"))
    options.check()
    console.print(f"serving {cfg.warehouse} on http://{host}:{port} (API docs /docs, live "
                  f"page /live from {cfg.topic_prefix}live.*)", highlight=False)
    serve(cfg, options)


@app.command("report")
def report_command(
    season: int = typer.Option(..., help="Championship year, e.g. 2018."),
    round_: int = typer.Option(..., "--round", help="Round number."),
    session: str = typer.Option("R", help=SESSION_HELP),
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default "
                                             "race-<season>-<round>-<session>.html).")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """The race page as one self-contained HTML file (charts and data inline)."""
    from f1pipe.serve.report import write_report

    cfg = settings(warehouse=warehouse)
    target = out or Path(f"race-{season}-{round_}-{session}.html")
    size = write_report(cfg, season, round_, session, target)
    typer.echo(f"wrote {target} ({size / 1e6:.1f} MB)")


# --- entry point -------------------------------------------------------------------------


def _log_to_stderr(logger, level: int) -> None:
    """f1pipe's own warnings to stderr; other libraries' loggers keep their own set-up."""
    import logging

    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def main() -> None:
    import logging

    _log_to_stderr(logging.getLogger("f1pipe"), logging.WARNING)
    from f1pipe.config import KAFKA_LOG
    from f1pipe.kafka.logs import DIGEST

    KAFKA_LOG.setLevel(logging.ERROR)
    DIGEST.show = bool(os.environ.get("F1PIPE_KAFKA_LOG"))  # errors name librdkafka's cause
    try:
        app()
    except F1PipeError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
