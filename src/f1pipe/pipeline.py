"""The pipeline's five steps, shared by ``f1pipe run`` and the Airflow DAG.

produce (FastF1 -> Kafka) >> consume (Kafka -> lake) >> load (lake -> warehouse) >>
transform (warehouse facts -> marts, dbt) >> check (fact checks and the marts' dbt tests).
Each step takes settings and plain values and returns its stage's own typed summary
(:class:`~f1pipe.produce.ProduceSummary`, :class:`~f1pipe.kafka.consumer.ConsumeSummary`,
:class:`~f1pipe.warehouse.loader.LoadSummary`,
:class:`~f1pipe.transform.runner.TransformSummary`, :class:`~f1pipe.warehouse.checks.CheckReport`);
steps pass names (topics, lake and warehouse URLs), never data. Every step is idempotent:
re-running them changes nothing in the warehouse (event ids, object names and MERGE keys
are deterministic).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.sources.extract import SESSION_DATASETS

if TYPE_CHECKING:
    from f1pipe.kafka.consumer import ConsumeOptions, ConsumeSummary
    from f1pipe.produce import ProduceSummary
    from f1pipe.transform.runner import TransformSummary
    from f1pipe.warehouse.checks import CheckReport
    from f1pipe.warehouse.loader import LoadSummary

T = TypeVar("T")

# What FastF1 gives per session; the live datasets come from `f1pipe replay` / `live`.
ALL_DATASETS = ("results", *SESSION_DATASETS)


@dataclass(frozen=True)
class PipelineRequest:
    """What to run: one season, optionally one round, one session, some datasets."""

    season: int
    round: int | None = None
    session: str = "R"
    datasets: tuple[str, ...] = ("results",)
    allow_missing: bool = False
    lake_format: str = "jsonl"  # objects in the lake: jsonl or parquet

    def __post_init__(self) -> None:
        unknown = [d for d in self.datasets if d not in ALL_DATASETS]
        if unknown:
            raise F1PipeError(
                f"unknown dataset(s) {', '.join(unknown)}: choose from {', '.join(ALL_DATASETS)}"
            )
        if self.round is None and any(d in SESSION_DATASETS for d in self.datasets):
            raise F1PipeError(
                f"datasets {', '.join(SESSION_DATASETS)} need a round: add --round N"
            )


STEPS = ("produce", "consume", "load", "transform", "check")


@dataclass
class PipelineSummary:
    """What each step of a run returned (its own typed summary) and the seconds it took;
    a step not run (yet) is None."""

    produced: ProduceSummary | None = None
    consumed: ConsumeSummary | None = None
    loaded: LoadSummary | None = None
    transformed: TransformSummary | None = None
    checked: CheckReport | None = None
    seconds: dict[str, float] = field(default_factory=dict)


class PipelineFailed(F1PipeError):
    """A step failed; ``summary`` holds what the steps before it (and it, if it returned)
    did, so the caller can still report it."""

    def __init__(self, message: str, summary: PipelineSummary, exit_code: int = 1):
        super().__init__(message)
        self.summary = summary
        self.exit_code = exit_code


def produce_step(settings: Settings, request: PipelineRequest) -> ProduceSummary:
    """FastF1 -> Kafka. Returns the produce summary: its ``topics`` are the ones to consume,
    its ``missing()`` items what FastF1 could not give."""
    from f1pipe.produce import ProduceFailed, ProduceSummary, produce_results, produce_session

    summary = ProduceSummary()
    runs = []
    if "results" in request.datasets:
        rounds = [request.round] if request.round is not None else None
        runs.append(lambda: produce_results(settings, request.season, rounds=rounds,
                                            session=request.session,
                                            allow_missing=request.allow_missing))
    session_sets = [d for d in request.datasets if d in SESSION_DATASETS]
    if session_sets:
        runs.append(lambda: produce_session(settings, request.season, request.round,
                                            request.session, session_sets,
                                            allow_missing=request.allow_missing))
    for produce in runs:
        try:
            summary.extend(produce())
        except ProduceFailed as exc:
            summary.extend(exc.summary)
            exc.summary = summary
            raise
    return summary


def consume_step(settings: Settings, topics: Sequence[str],
                 options: ConsumeOptions | None = None, lake_format: str = "jsonl"
                 ) -> ConsumeSummary:
    """Kafka -> lake (``settings.lake``) until the topics are drained; returns the consume
    summary (its ``sink`` is the lake URL). ``options`` default to
    :data:`~f1pipe.kafka.consumer.DRAIN`."""
    from f1pipe.kafka.consumer import DRAIN, consume_with

    return consume_with(settings, list(topics), settings.lake, options or DRAIN, lake_format)


def load_step(settings: Settings, lake: str | None = None) -> LoadSummary:
    """Lake -> warehouse (``settings.warehouse``); returns the load summary."""
    from f1pipe.warehouse import load

    return load(settings, lake or settings.lake, settings.warehouse)


def transform_step(settings: Settings, warehouse: str | None = None) -> TransformSummary:
    """Warehouse facts -> marts (``dbt run`` in .venv-dbt); returns what each model did."""
    from f1pipe.transform import transform

    return transform(settings, warehouse or settings.warehouse)


def check_step(settings: Settings, warehouse: str | None = None) -> CheckReport:
    """Data-quality checks on the facts and the marts' dbt tests (when the marts are built);
    returns the report, raises F1PipeError naming the failed checks."""
    from f1pipe.transform import run_all_checks

    report = run_all_checks(settings, warehouse or settings.warehouse)
    if not report.passed:
        raise F1PipeError(f"data-quality checks failed: {', '.join(report.failed_names())}")
    return report


def run_pipeline(settings: Settings, request: PipelineRequest,
                 on_step: Callable[[str], None] | None = None) -> PipelineSummary:
    """Run the five steps in one process; returns each step's summary and seconds.

    Raises :class:`PipelineFailed` (carrying what was done so far) when a step fails.
    """
    summary = PipelineSummary()

    def step(name: str, work: Callable[[], T]) -> T:
        if on_step:
            on_step(name)
        started = time.perf_counter()
        try:
            return work()
        except F1PipeError as exc:
            failed = getattr(exc, "summary", None)
            if name == "produce" and failed is not None:
                summary.produced = failed
            raise PipelineFailed(str(exc), summary, exc.exit_code) from exc
        finally:
            summary.seconds[name] = time.perf_counter() - started

    summary.produced = step("produce", lambda: produce_step(settings, request))
    summary.consumed = step("consume", lambda: consume_step(
        settings, summary.produced.topics, lake_format=request.lake_format))
    summary.loaded = step("load", lambda: load_step(settings))
    summary.transformed = step("transform", lambda: transform_step(settings))
    summary.checked = step("check", lambda: check_step(settings))
    return summary
