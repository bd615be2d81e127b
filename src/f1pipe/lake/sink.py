"""Sinks: where the consumer's batches go.

:class:`Sink` is the interface the consumer's checkpoint uses (``add`` a record, ``flush``
one Kafka partition's batch, ``discard`` it when the partition is lost). :class:`BatchingSink`
keeps one batch per Kafka partition, cuts it into one object per (season, round, session)
group, encodes it and stores each object through ``put_object`` with retries and backoff;
a concrete sink (folder, S3) only implements ``put_object`` and ``location``.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from f1pipe.errors import F1PipeError
from f1pipe.lake.naming import UnsafeNameError, object_name
from f1pipe.lake.records import LakeRecord, check_file_format, encode
from f1pipe.schemas import DATASETS

log = logging.getLogger(__name__)

TP = tuple[str, int]


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


class Sink(ABC):
    """Receives records per Kafka partition and stores them durably on ``flush``."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`SinkError` now if the sink cannot be written (before any work)."""

    @abstractmethod
    def add(self, record: LakeRecord) -> None:
        """Take one record into its partition's batch (nothing is stored yet)."""

    @abstractmethod
    def pending(self, tp: TP) -> int:
        """Number of records waiting in ``tp``'s batch."""

    @abstractmethod
    def flush(self, tp: TP) -> list[str]:
        """Durably store ``tp``'s batch; returns the names of the objects written.

        Raises :class:`SinkError` when retries run out; the batch is then kept.
        """

    def flush_many(self, tps: list[TP]) -> dict[TP, list[str]]:
        """:meth:`flush` of each partition of ``tps``; returns the object names per partition.

        Raises :class:`SinkError` when one cannot be stored (its batch is kept)."""
        return {tp: self.flush(tp) for tp in tps}

    @abstractmethod
    def discard(self, tp: TP) -> None:
        """Forget ``tp``'s batch without storing it (the partition went to someone else)."""


class BatchingSink(Sink):
    """Batches per Kafka partition; subclasses only store finished objects."""

    def __init__(self, fmt: str = "jsonl", retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.fmt = check_file_format(fmt)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._batches: dict[TP, list[LakeRecord]] = {}

    @abstractmethod
    def put_object(self, name: str, data: bytes) -> None:
        """Store ``data`` durably as object ``name`` (a path under the lake), replacing it."""

    @abstractmethod
    def location(self, name: str) -> str:
        """A URL of object ``name`` for messages, e.g. ``s3://bucket/prefix/name``."""

    def add(self, record: LakeRecord) -> None:
        self._batches.setdefault((record.topic, record.partition), []).append(record)

    def pending(self, tp: TP) -> int:
        return len(self._batches.get(tp, ()))

    def discard(self, tp: TP) -> None:
        self._batches.pop(tp, None)

    def flush(self, tp: TP) -> list[str]:
        return self.flush_many([tp]).get(tp, [])

    def flush_many(self, tps: list[TP]) -> dict[TP, list[str]]:
        """Store the batches of ``tps``: every object of every partition, up to
        :attr:`parallel_puts` of them at a time; a partition's batch is dropped once all its
        objects are stored. Raises :class:`SinkError` (the first failure) after the others
        finished."""
        objects = {tp: self.objects(self._batches[tp]) for tp in tps if self._batches.get(tp)}
        puts = [(name, data) for named in objects.values() for name, data in named]
        if self.parallel_puts > 1 and len(puts) > 1:
            self._put_parallel(puts)
        else:
            for name, data in puts:
                self._put_with_retry(name, data)
        for tp in objects:
            del self._batches[tp]
        return {tp: [name for name, _ in named] for tp, named in objects.items()}

    parallel_puts = 1  # objects stored at once by flush_many (S3: several PUTs in flight)

    def _put_parallel(self, puts: list[tuple[str, bytes]]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        workers = min(self.parallel_puts, len(puts))
        with ThreadPoolExecutor(workers, thread_name_prefix="lake-put") as pool:
            futures = [pool.submit(self._put_with_retry, name, data) for name, data in puts]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]

    def objects(self, batch: list[LakeRecord]) -> list[tuple[str, bytes]]:
        """One partition's batch as ``(object name, bytes)``, one object per group, in the
        format of the records' dataset (``Dataset.lake_format``: Parquet for the telemetry),
        else the sink's."""
        named = []
        for records in split_by_group(batch):
            first = records[0]
            fmt = lake_format(first.schema) or self.fmt
            name = object_name(first.topic, first.partition, first.offset, first.group, fmt)
            named.append((name, encode(records, fmt)))
        return named

    def write(self, batch: list[LakeRecord]) -> list[str]:
        """Store one partition's batch as one object per group; returns the object names.

        The format is the records' dataset's (``Dataset.lake_format``: Parquet for the
        telemetry), else the sink's."""
        names = []
        for name, data in self.objects(batch):
            self._put_with_retry(name, data)
            names.append(name)
        return names

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


def split_by_group(batch: list[LakeRecord]) -> list[list[LakeRecord]]:
    """The batch cut into (season, round, session) groups, in order of first appearance."""
    groups: dict[tuple[int, int, str], list[LakeRecord]] = {}
    for record in batch:
        groups.setdefault(record.group, []).append(record)
    return list(groups.values())


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, at most 300 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
