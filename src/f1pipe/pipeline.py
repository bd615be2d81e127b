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


# Sessions run when none are named: the points-scoring ones, so standings include sprints.
DEFAULT_SESSIONS = ("R", "S")


@dataclass(frozen=True)
class PipelineRequest:
    """What to run: one season, optionally one round, some sessions, some datasets.

    ``sessions`` are FastF1 codes; an event not holding one of them is skipped for it
    (e.g. the sprint of a round without one). SQ and SS stand for each other.
    """

    season: int
    round: int | None = None
    sessions: tuple[str, ...] = DEFAULT_SESSIONS
    datasets: tuple[str, ...] = ("results",)
    allow_missing: bool = False

    def __post_init__(self) -> None:
        from f1pipe.sources.schedule import session_identifier

        if not self.sessions:
            raise F1PipeError("no session given: use --session R,S (or Q, SQ, SS, FP1...)")
        object.__setattr__(self, "sessions",
                           tuple(dict.fromkeys(session_identifier(s) for s in self.sessions)))
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


def held_sessions(settings: Settings, request: PipelineRequest) -> list[str]:
    """The requested session codes that the chosen round (or some round of the season)
    holds, as the schedule names them; raises F1PipeError when it holds none."""
    from f1pipe.sources import configure_fastf1, select_events

    configure_fastf1(settings)
    events = select_events(request.season, [request.round] if request.round else None)
    held = [next(c for e in events if (c := e.held(code))) for code in request.sessions
            if any(e.held(code) for e in events)]
    if not held:
        if request.round is not None:
            events[0].session(request.sessions[0])  # raises: names the sessions it has
        raise F1PipeError(f"no event of {request.season} has a "
                          f"{' or '.join(request.sessions)} session")
    return list(dict.fromkeys(held))


def session_key(season: int, round: int, session: str) -> str:
    """A session as the steps pass it on: ``"2024/12/R"``."""
    return f"{season}/{round}/{session}"


def produce_step(settings: Settings, request: PipelineRequest) -> dict[str, Any]:
    """FastF1 -> Kafka, for each requested session the schedule holds. Returns the topics
    written, the messages delivered, the sessions produced (``"2024/12/R"``) and what was
    not available; raises ProduceFailed (with the summary) as ``f1pipe produce`` does."""
    from f1pipe.stream import producer
    from f1pipe.stream.topics import topic_for

    items = []
    rounds = [request.round] if request.round is not None else None
    session_sets = [d for d in request.datasets if d in SESSION_DATASETS]
    for code in held_sessions(settings, request):  # missing data is judged after all
        if "results" in request.datasets:
            items += producer.produce_results(settings, request.season, rounds=rounds,
                                              session=code, allow_missing=True).items
        if session_sets:
            items += producer.produce_session(settings, request.season, request.round, code,
                                              session_sets, allow_missing=True).items
    summary = producer.ProduceSummary(items)
    problem = summary.problem(request.allow_missing)
    if problem:
        raise producer.ProduceFailed(problem, summary)
    sessions = [session_key(i.ref.season, i.ref.round, i.ref.session)
                for i in summary.with_state("done")]
    return {"topics": [topic_for(d, settings) for d in request.datasets],
            "messages_produced": summary.delivered,
            "sessions": list(dict.fromkeys(sessions)),
            "not_available": summary.failed_labels()}


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


class ChecksFailed(F1PipeError):
    """Checks failed on the sessions of this run; ``report`` holds the failing rows."""

    def __init__(self, message: str, report: Any):
        super().__init__(message)
        self.report = report


def check_step(settings: Settings, warehouse: str | None = None,
               sessions: Sequence[str] | None = None) -> dict[str, Any]:
    """Data-quality checks on ``sessions`` (``"2024/12/R"``; None: the whole warehouse), so a
    run judges what it loaded, not what earlier runs left. Raises :class:`ChecksFailed`
    naming the sessions and checks that failed."""
    from f1pipe.warehouse import run_checks

    report = run_checks(settings, warehouse or settings.warehouse, sessions=sessions)
    if not report.passed:
        raise ChecksFailed(f"data-quality checks failed: {report.failure_line()}; "
                           "the failing rows are listed above (again: f1pipe check)", report)
    return {"sessions_checked": len(sessions) if sessions is not None else "all",
            "checks_passed": report.passed_count}


def run_pipeline(settings: Settings, request: PipelineRequest,
                 on_step: Callable[[str], None] | None = None) -> PipelineSummary:
    """Run the four steps in one process; returns figures and seconds per step. A step that
    fails raises its error with ``summary`` set to the steps done so far (and the produce
    figures of a failed produce), so the caller can still print them."""
    summary = PipelineSummary()

    def step(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if on_step:
            on_step(name)
        started = time.perf_counter()
        figures = work()
        summary.steps.append(StepResult(name, time.perf_counter() - started, figures))
        return figures

    try:
        produced = step("produce", lambda: produce_step(settings, request))
        step("consume", lambda: consume_step(settings, produced["topics"]))
        step("load", lambda: load_step(settings))
        step("check", lambda: check_step(settings, sessions=produced["sessions"]))
    except F1PipeError as exc:
        failed = getattr(exc, "summary", None)  # ProduceFailed: what was produced anyway
        if failed is not None and hasattr(failed, "failed_labels"):
            summary.steps.append(StepResult("produce", 0.0, {
                "messages_produced": failed.delivered, "not_available": failed.failed_labels()}))
        exc.summary = summary
        raise
    return summary
