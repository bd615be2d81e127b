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
    lake_format: str = "jsonl"  # objects in the lake: jsonl or parquet

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


def produced_sessions(summary: ProduceSummary) -> list[str]:
    """The sessions (``"2024/12/R"``) of which some dataset was delivered: what the run's
    checks judge."""
    keys = [session_key(i.ref.season, i.ref.round, i.ref.session)
            for i in summary.with_state("done")]
    return list(dict.fromkeys(keys))


def produce_step(settings: Settings, request: PipelineRequest) -> ProduceSummary:
    """FastF1 -> Kafka, for each requested session the schedule holds. Returns the produce
    summary: its ``topics`` are the ones to consume, its ``missing()`` items what FastF1
    could not give, :func:`produced_sessions` the sessions to check."""
    from f1pipe.produce import ProduceFailed, ProduceSummary, produce_results, produce_session

    summary = ProduceSummary()
    rounds = [request.round] if request.round is not None else None
    session_sets = [d for d in request.datasets if d in SESSION_DATASETS]
    for code in held_sessions(settings, request):  # missing data is judged after all
        try:
            if "results" in request.datasets:
                summary.extend(produce_results(settings, request.season, rounds=rounds,
                                               session=code, allow_missing=True))
            if session_sets:
                summary.extend(produce_session(settings, request.season, request.round,
                                               code, session_sets, allow_missing=True))
        except ProduceFailed as exc:  # undelivered or interrupted
            summary.extend(exc.summary)
            exc.summary = summary
            raise
    problem = summary.problem(request.allow_missing)
    if problem:
        raise ProduceFailed(problem, summary)
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


class ChecksFailed(F1PipeError):
    """Checks failed on the sessions of this run; ``report`` holds the failing rows."""

    def __init__(self, message: str, report: CheckReport):
        super().__init__(message)
        self.report = report


def check_step(settings: Settings, warehouse: str | None = None,
               sessions: Sequence[str] | None = None) -> CheckReport:
    """Data-quality checks on ``sessions`` (``"2024/12/R"``; None: the whole warehouse), so a
    run judges what it loaded, not what earlier runs left, then the marts' dbt tests (when
    the marts are built; they judge the marts as a whole). Returns the report; raises
    :class:`ChecksFailed` naming the sessions and checks that failed."""
    from f1pipe.transform import run_all_checks

    report = run_all_checks(settings, warehouse or settings.warehouse, sessions=sessions)
    if not report.passed:
        raise ChecksFailed(f"data-quality checks failed: {report.failure_line()}; "
                           "the failing rows are listed above (again: f1pipe check)", report)
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
            if name == "check" and hasattr(exc, "report"):
                summary.checked = exc.report  # the failing rows, for the caller to show
            raise PipelineFailed(str(exc), summary, exc.exit_code) from exc
        finally:
            summary.seconds[name] = time.perf_counter() - started

    summary.produced = step("produce", lambda: produce_step(settings, request))
    summary.consumed = step("consume", lambda: consume_step(
        settings, summary.produced.topics, lake_format=request.lake_format))
    summary.loaded = step("load", lambda: load_step(settings))
    summary.transformed = step("transform", lambda: transform_step(settings))
    summary.checked = step("check", lambda: check_step(
        settings, sessions=produced_sessions(summary.produced)))
    return summary
