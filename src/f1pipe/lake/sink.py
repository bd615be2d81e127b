"""Sinks: where the consumer's batches go.

:class:`Sink` is the interface the consumer's checkpoint uses (``add`` a record, or
``add_lines`` a run of them as JSON lines; ``take`` one Kafka partition's batch as finished
objects and ``store`` them, possibly on other threads; ``discard`` it when the partition is
lost). :class:`BatchingSink` keeps one batch per Kafka
partition, one object per (season, round, session) group, and stores each object through
``put_object`` with retries and backoff; a concrete sink (folder, S3) only implements
``put_object`` and ``location``.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from f1pipe.errors import F1PipeError
from f1pipe.lake.naming import UnsafeNameError, object_name
from f1pipe.lake.records import LakeRecord, check_file_format, encode_body
from f1pipe.schemas import DATASETS, Payload

log = logging.getLogger(__name__)

TP = tuple[str, int]
_encode_row = msgspec.json.encode


class SinkError(F1PipeError):
    """An object could not be stored, retries included."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try a write, and the waits between tries (seconds, doubling)."""

    attempts: int = 6
    first_delay_s: float = 0.25
    max_delay_s: float = 5.0

    def delays(self) -> list[float]:
        """The waits before the 2nd, 3rd... attempt, in seconds."""
        return [min(self.first_delay_s * 2**i, self.max_delay_s) for i in range(self.attempts - 1)]


Objects = list[tuple[str, bytes]]  # (object name under the lake, its bytes)


class Sink(ABC):
    """Receives records per Kafka partition and stores them durably on ``flush``.

    A flush is two steps a checkpoint may run apart: :meth:`take` removes a partition's batch
    as finished objects (on the consumer's thread), :meth:`store` writes them (on any thread;
    several stores may run at once). :meth:`flush` is both, in a row."""

    parallel_puts = 1  # objects a checkpoint may store at once (S3: several PUTs in flight)

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`SinkError` now if the sink cannot be written (before any work)."""

    def add(self, record: LakeRecord) -> None:
        """Take one record into its partition's batch (nothing is stored yet)."""
        line = record.line if record.line is not None else _encode_row(record.row()) + b"\n"
        self.add_lines((record.topic, record.partition), record.schema, record.group,
                       record.offset, line, 1)

    @abstractmethod
    def add_lines(self, tp: TP, model: type[Payload], group: tuple[int, int, str],
                  first_offset: int, lines: bytes, count: int) -> None:
        """Take ``count`` records of ``tp`` into its batch, as their JSON lines (``lines``,
        each ending in a newline), all of payload model ``model`` and lake partition
        ``group`` (season, round, session); ``first_offset``: the Kafka offset of the first
        (it names the object if they start one)."""

    @abstractmethod
    def pending(self, tp: TP) -> int:
        """Number of records waiting in ``tp``'s batch."""

    @abstractmethod
    def take(self, tp: TP) -> Objects:
        """Remove ``tp``'s batch and return it as finished objects (empty: nothing waits)."""

    @abstractmethod
    def store(self, name: str, data: bytes) -> None:
        """Durably store one object, with retries; raises :class:`SinkError` when they run
        out. Safe to call from several threads at once."""

    def flush(self, tp: TP) -> list[str]:
        """Durably store ``tp``'s batch; returns the names of the objects written.

        Raises :class:`SinkError` when retries run out (the batch is then gone from the sink:
        its offsets are not committed, so Kafka still holds it)."""
        objects = self.take(tp)
        for name, data in objects:
            self.store(name, data)
        return [name for name, _ in objects]

    @abstractmethod
    def discard(self, tp: TP) -> None:
        """Forget ``tp``'s batch without storing it (the partition went to someone else)."""


class _Group:
    """One future object: the records of one (season, round, session) in a partition's batch,
    kept as their JSON lines (one bytearray, whatever the format) and their payload models
    (Parquet takes its column types from them)."""

    __slots__ = ("name", "fmt", "lines", "models")

    def __init__(self, name: str, fmt: str):
        self.name = name
        self.fmt = fmt
        self.lines = bytearray()
        self.models: dict[type[Payload], None] = {}  # in order of arrival


class _Batch:
    __slots__ = ("groups", "count")

    def __init__(self) -> None:
        self.groups: dict[tuple[int, int, str], _Group] = {}
        self.count = 0


class BatchingSink(Sink):
    """Batches per Kafka partition, one object per (season, round, session) group, in the
    format of the records' dataset (``Dataset.lake_format``: Parquet for the telemetry), else
    the sink's. JSON lines are appended to their object's bytes as records arrive (no record
    is kept); subclasses only store finished objects (:meth:`put_object`)."""

    def __init__(self, fmt: str = "jsonl", retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.fmt = check_file_format(fmt)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._batches: dict[TP, _Batch] = {}

    @abstractmethod
    def put_object(self, name: str, data: bytes) -> None:
        """Store ``data`` durably as object ``name`` (a path under the lake), replacing it."""

    @abstractmethod
    def location(self, name: str) -> str:
        """A URL of object ``name`` for messages, e.g. ``s3://bucket/prefix/name``."""

    def add_lines(self, tp: TP, model: type[Payload], group: tuple[int, int, str],
                  first_offset: int, lines: bytes, count: int) -> None:
        batch = self._batches.get(tp)
        if batch is None:
            batch = self._batches[tp] = _Batch()
        found = batch.groups.get(group)
        if found is None:
            fmt = lake_format(model) or self.fmt
            name = object_name(tp[0], tp[1], first_offset, group, fmt)
            found = batch.groups[group] = _Group(name, fmt)
        found.lines += lines
        if model not in found.models:
            found.models[model] = None
        batch.count += count

    def pending(self, tp: TP) -> int:
        batch = self._batches.get(tp)
        return batch.count if batch is not None else 0

    def discard(self, tp: TP) -> None:
        self._batches.pop(tp, None)

    def take(self, tp: TP) -> Objects:
        objects = self.objects(tp)
        self._batches.pop(tp, None)
        return objects

    def flush(self, tp: TP) -> list[str]:
        """Durably store ``tp``'s batch; returns the names of the objects written. Raises
        :class:`SinkError` when retries run out; the batch is then kept."""
        objects = self.objects(tp)
        for name, data in objects:
            self.store(name, data)
        self._batches.pop(tp, None)
        return [name for name, _ in objects]

    def objects(self, tp: TP) -> Objects:
        """``tp``'s batch as finished objects, left in the sink."""
        batch = self._batches.get(tp)
        if batch is None:
            return []
        return [(g.name, encode_body(bytes(g.lines), list(g.models), g.fmt))
                for g in batch.groups.values()]

    def store(self, name: str, data: bytes) -> None:
        self._put_with_retry(name, data)

    def _put_with_retry(self, name: str, data: bytes) -> None:
        for delay in [*self.retry.delays(), None]:
            try:
                self.put_object(name, data)
                return
            except UnsafeNameError:
                raise
            except Exception as exc:  # noqa: BLE001 - any storage failure is retried
                reason = one_line(exc)
                if delay is None:
                    raise SinkError(
                        f"cannot store {self.location(name)} after {self.retry.attempts} "
                        f"attempts: {reason}"
                    ) from exc
                log.warning("storing %s failed (%s); retrying in %.2f s",
                            self.location(name), reason, delay)
                self._sleep(delay)


_LAKE_FORMATS = {d.schema: d.lake_format for d in DATASETS}


def lake_format(model: type) -> str | None:
    """The lake format the dataset of payload model ``model`` declares (None: the sink's)."""
    return _LAKE_FORMATS.get(model)


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, at most 300 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
