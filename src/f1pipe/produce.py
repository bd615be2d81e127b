"""The produce job: FastF1 data -> Kafka (``f1pipe produce results|session``).

:func:`produce_results` and :func:`produce_session` turn FastF1 sessions into messages
(:mod:`f1pipe.sources`) and send them with the project's producer
(:class:`~f1pipe.kafka.producer.MessageProducer`), one :class:`ProduceItem` per event (or
dataset) with what was delivered or why nothing was. An item FastF1 cannot give is reported
and the others go on; at the end, :class:`ProduceFailed` is raised (carrying the summary) if
anything was not delivered, or if data was missing and ``allow_missing`` is off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from f1pipe.codec import key_of
from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.producer import DeliveryReport, MessageProducer
from f1pipe.kafka.topics import ensure_topics, topic_for
from f1pipe.sources import (
    LoadedSession,
    SessionRef,
    check_datasets,
    configure_fastf1,
    load_session,
    messages_of,
    select_events,
    session_ref,
)
from f1pipe.sources.schedule import session_identifier


def produce_messages(settings: Settings, topic: str, messages: Iterable[dict],
                     partitions: int | None = None) -> DeliveryReport:
    """Send envelope messages built elsewhere (keyed by :func:`f1pipe.codec.key_of`) to
    ``topic``, created with ``partitions`` if missing; returns the delivery report."""
    ensure_topics(settings, [topic], partitions)
    with MessageProducer(settings) as producer:
        return producer.send_all(topic, ((key_of(m), m) for m in messages))


@dataclass
class ProduceItem:
    """One row of a run: one dataset of one session, delivered or not and why."""

    ref: SessionRef
    dataset: str
    topic: str
    state: str = "pending"  # done | missing | undelivered | interrupted
    delivered: int = 0
    failed: int = 0  # messages sent but not acknowledged
    reason: str | None = None

    @property
    def label(self) -> str:
        return f"{self.ref.label} {self.dataset}"


@dataclass
class ProduceSummary:
    """All items of a run, in order; figures for the summary table."""

    items: list[ProduceItem] = field(default_factory=list)
    interrupted: bool = False

    @property
    def delivered(self) -> int:
        return sum(i.delivered for i in self.items)

    @property
    def topics(self) -> list[str]:
        """The topics of the run's items, in order, once each."""
        return list(dict.fromkeys(i.topic for i in self.items))

    def extend(self, other: ProduceSummary) -> None:
        """Add another run's items (``f1pipe run``: results, then session datasets)."""
        self.items += other.items
        self.interrupted = self.interrupted or other.interrupted

    def missing(self) -> list[ProduceItem]:
        """Items FastF1 could not give (``state == "missing"``), with their reasons."""
        return self.with_state("missing")

    @property
    def undelivered(self) -> int:
        return sum(i.failed for i in self.items)

    def with_state(self, *states: str) -> list[ProduceItem]:
        return [i for i in self.items if i.state in states]

    def failed_labels(self) -> list[str]:
        """``"<season> round <n> (<event>) <session> <dataset>"`` of every item not done."""
        return [i.label for i in self.with_state("missing", "undelivered", "interrupted")]

    def problem(self, allow_missing: bool) -> str | None:
        """Why the run counts as failed (one line), or None when it succeeded."""
        if self.interrupted:
            return f"interrupted: {self.delivered} message(s) delivered before Ctrl-C"
        bad = self.with_state("undelivered")
        if bad:
            return (f"{self.undelivered} message(s) not delivered to Kafka "
                    f"({bad[0].label}: {bad[0].reason})")
        missing = self.with_state("missing")
        if missing and not allow_missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            return (f"{len(missing)} of {len(self.items)} not available ({missing[0].label}: "
                    f"{missing[0].reason}{more}); use --allow-missing to accept missing data")
        return None


class ProduceFailed(F1PipeError):
    """A produce run that did not deliver everything; ``summary`` says what happened."""

    def __init__(self, message: str, summary: ProduceSummary):
        super().__init__(message)
        self.summary = summary


class ProduceInterrupted(ProduceFailed):
    """Ctrl-C: what was queued was flushed; exit status 130 like any interrupted command."""

    exit_code = 130


class ProduceProgress(Protocol):
    """What a progress display is told (the CLI draws a bar; the library prints nothing)."""

    def begin(self, total: int) -> None: ...

    def item_done(self, item: ProduceItem) -> None: ...


def produce_results(settings: Settings, season: int, rounds: list[int] | None = None,
                    session: str = "R", allow_missing: bool = False, event: str | None = None,
                    partitions: int | None = None,
                    progress: ProduceProgress | None = None) -> ProduceSummary:
    """``f1pipe produce results``: one message per driver result of every chosen event.

    Events come from FastF1's schedule (all rounds, ``rounds``, or the one named ``event``);
    events without ``session`` are skipped unless asked for by round or name. Returns the
    summary; raises :class:`ProduceFailed` (with the summary) when something failed.
    """
    configure_fastf1(settings)
    ident = session_identifier(session)
    events = select_events(season, rounds, event)
    chosen = rounds or event
    refs = [e.session(ident) for e in events if chosen or e.held(ident)]
    if not refs:
        raise F1PipeError(f"no event of {season} has a {ident} session")
    topic = topic_for("results", settings)
    ensure_topics(settings, [topic], partitions)
    jobs = [[ProduceItem(ref, "results", topic)] for ref in refs]
    return _run(settings, jobs, allow_missing, progress)


def produce_session(settings: Settings, season: int, round: int, session: str,
                    datasets: list[str], allow_missing: bool = False,
                    partitions: int | None = None,
                    progress: ProduceProgress | None = None) -> ProduceSummary:
    """``f1pipe produce session``: ``datasets`` of one session, each to its own topic.

    The session is loaded once; a dataset FastF1 cannot give is reported and the others go
    on. Returns the summary; raises :class:`ProduceFailed` when something failed.
    """
    datasets = check_datasets(datasets)
    configure_fastf1(settings)
    ref = session_ref(season, round, session)
    topics = {d: topic_for(d, settings) for d in datasets}
    ensure_topics(settings, list(topics.values()), partitions)
    jobs = [[ProduceItem(ref, d, topics[d]) for d in datasets]]
    return _run(settings, jobs, allow_missing, progress)


def _run(settings: Settings, jobs: list[list[ProduceItem]], allow_missing: bool,
         progress: ProduceProgress | None) -> ProduceSummary:
    """Produce each job (the items of one session); raise ProduceFailed if it failed."""
    summary = ProduceSummary([item for job in jobs for item in job])
    if progress:
        progress.begin(len(summary.items))
    with MessageProducer(settings) as producer:
        try:
            for job in jobs:
                _produce_session_items(producer, job, progress)
                if any(item.state == "interrupted" for item in job):
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            summary.interrupted = True
            for item in summary.with_state("pending"):
                item.state, item.reason = "interrupted", "not started (Ctrl-C)"
    problem = summary.problem(allow_missing)
    if problem:
        error = ProduceInterrupted if summary.interrupted else ProduceFailed
        raise error(problem, summary)
    return summary


def _produce_session_items(producer: MessageProducer, items: list[ProduceItem],
                           progress: ProduceProgress | None) -> None:
    """Load the items' session once, then send each dataset to its topic."""
    try:
        loaded = load_session(items[0].ref, [i.dataset for i in items])
    except F1PipeError as exc:
        loaded, load_error = None, str(exc)
    for item in items:
        if loaded is None:
            item.state, item.reason = "missing", _without_label(load_error, item.ref)
        else:
            _send_item(producer, loaded, item)
        if progress:
            progress.item_done(item)
        if item.state == "interrupted":
            return


def _send_item(producer: MessageProducer, loaded: LoadedSession, item: ProduceItem) -> None:
    try:
        messages = messages_of(loaded, item.dataset)
    except F1PipeError as exc:
        item.state, item.reason = "missing", _without_label(str(exc), item.ref)
        return
    report = producer.send_all(item.topic, messages)
    item.delivered, item.failed = report.delivered, report.failed
    if report.interrupted:
        item.state, item.reason = "interrupted", "stopped by Ctrl-C"
    elif report.failed:
        item.state, item.reason = "undelivered", "; ".join(report.errors) or "not acknowledged"
    else:
        item.state = "done"


def _without_label(message: str, ref: SessionRef) -> str:
    """A source error without its leading session label (the summary row shows it)."""
    return message.removeprefix(f"{ref.label}: ")
