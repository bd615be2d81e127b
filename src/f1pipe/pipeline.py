"""The pipeline's four steps, shared by ``f1pipe run`` and the Airflow DAG.

produce (FastF1 -> Kafka) >> consume (Kafka -> lake) >> load (lake -> warehouse) >> check.
Each step takes settings and plain values and returns a small summary; steps pass names
(topics, lake and warehouse URLs), never data. Every step is idempotent: re-running them
changes nothing in the warehouse (event ids, object names and MERGE keys are deterministic).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.sources.extract import SESSION_DATASETS

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


@dataclass
class StepResult:
    name: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipelineSummary:
    steps: list[StepResult] = field(default_factory=list)

    def figure(self, step: str, name: str, default: Any = None) -> Any:
        for result in self.steps:
            if result.name == step:
                return result.figures.get(name, default)
        return default


def produce_step(settings: Settings, request: PipelineRequest) -> dict[str, Any]:
    """FastF1 -> Kafka. Returns the topics written and the messages delivered."""
    from f1pipe.stream import producer
    from f1pipe.stream.topics import topic_for

    delivered, missing = 0, []
    if "results" in request.datasets:
        rounds = [request.round] if request.round is not None else None
        summary = producer.produce_results(settings, request.season, rounds=rounds,
                                           session=request.session,
                                           allow_missing=request.allow_missing)
        delivered += summary.delivered
        missing += summary.failed_labels()
    session_sets = [d for d in request.datasets if d in SESSION_DATASETS]
    if session_sets:
        summary = producer.produce_session(settings, request.season, request.round,
                                           request.session, session_sets,
                                           allow_missing=request.allow_missing)
        delivered += summary.delivered
        missing += summary.failed_labels()
    topics = [topic_for(d, settings) for d in request.datasets]
    return {"topics": topics, "messages_produced": delivered, "not_available": missing}


def consume_step(settings: Settings, topics: Sequence[str], until_idle: float = 5.0,
                 flush_interval: float = 1.0, batch_size: int = 500) -> dict[str, Any]:
    """Kafka -> lake until the topics are drained. Returns the lake URL and figures."""
    from f1pipe.stream.consumer import consume

    summary = consume(settings, list(topics), settings.lake, batch_size=batch_size,
                      flush_interval=flush_interval, until_idle=until_idle)
    return {"lake": settings.lake, "records_consumed": summary.records,
            "objects_written": summary.objects, "dead_letters": summary.dead_letters}


def load_step(settings: Settings, lake: str | None = None) -> dict[str, Any]:
    """Lake -> warehouse. Returns the warehouse URL and the rows loaded per table."""
    from f1pipe.warehouse import load

    summary = load(settings, lake or settings.lake, settings.warehouse)
    return {"warehouse": settings.warehouse, "objects_loaded": summary.objects_loaded,
            "rows_loaded": summary.rows_total}


def check_step(settings: Settings, warehouse: str | None = None) -> dict[str, Any]:
    """Data-quality checks; raises F1PipeError naming the failed checks."""
    from f1pipe.warehouse import run_checks

    report = run_checks(settings, warehouse or settings.warehouse)
    if not report.passed:
        raise F1PipeError(f"data-quality checks failed: {', '.join(report.failed_names())}")
    return {"checks_passed": report.passed_count}


def run_pipeline(settings: Settings, request: PipelineRequest,
                 on_step: Callable[[str], None] | None = None) -> PipelineSummary:
    """Run the four steps in one process; returns figures and seconds per step."""
    summary = PipelineSummary()

    def step(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if on_step:
            on_step(name)
        started = time.perf_counter()
        figures = work()
        summary.steps.append(StepResult(name, time.perf_counter() - started, figures))
        return figures

    produced = step("produce", lambda: produce_step(settings, request))
    step("consume", lambda: consume_step(settings, produced["topics"]))
    step("load", lambda: load_step(settings))
    step("check", lambda: check_step(settings))
    return summary
