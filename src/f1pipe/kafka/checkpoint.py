"""Commit-after-write bookkeeping for the lake consumer: where offsets are committed.

A :class:`Checkpoint` knows, per Kafka partition, the offset after the last message handled
(stored in a sink batch or sent to the dead-letter topic) and what was committed.

Flushes are pipelined: :meth:`Checkpoint.start` takes a partition's batch from the sink as
finished objects and hands them to a small pool of writer threads, and the consumer goes on
reading. :meth:`Checkpoint.settle` then commits, in order per partition, the offsets of the
flushes whose objects are all stored: it waits for the dead letters to be acknowledged and
commits synchronously. A committed offset always means "everything before it is in the lake
or in the dead-letter topic". At most :data:`MAX_FLIGHTS` flushes are in flight (their bytes
are the memory they hold); :meth:`Checkpoint.commit` is start + wait + commit in one call
(a revoke, the end of a run).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, TopicPartition

from f1pipe.errors import F1PipeError
from f1pipe.kafka.dead_letter import DeadLetterProducer
from f1pipe.lake.sink import TP, Sink

log = logging.getLogger(__name__)

MAX_FLIGHTS = 8  # flushes written in the background at once; a 9th waits for the oldest


@dataclass
class PartitionState:
    next_offset: int  # offset after the last message handled
    committed: int | None = None  # last offset this consumer committed
    first_pending_at: float | None = None  # clock time of the first unflushed message


@dataclass(frozen=True)
class Flushed:
    objects: int  # objects written
    records: int  # records in them


@dataclass
class Flight:
    """One partition's flush on its way to the lake: its objects' writes, and the offset to
    commit once they are all stored."""

    seq: int  # order of start, over all partitions
    next_offset: int
    records: int
    writes: list[Future] = field(default_factory=list)

    def done(self) -> bool:
        return all(w.done() for w in self.writes)

    def result(self) -> None:
        """Raise the first write's error, if one failed (waits for them all)."""
        for write in self.writes:
            write.result()


class Checkpoint:
    """Tracks handled offsets; commits them only after sink and dead letters are durable."""

    def __init__(self, consumer: Consumer, sink: Sink, dead_letters: DeadLetterProducer,
                 clock: Callable[[], float] = time.monotonic, max_flights: int = MAX_FLIGHTS,
                 on_stored: Callable[[str], None] | None = None):
        self.consumer = consumer
        self.sink = sink
        self.dead_letters = dead_letters
        self.clock = clock
        self.max_flights = max_flights
        self.on_stored = on_stored  # called (in a writer thread) with each object stored
        self._states: dict[TP, PartitionState] = {}
        self._flights: dict[TP, deque[Flight]] = {}
        self._writers: ThreadPoolExecutor | None = None
        self._started = 0  # flushes started so far
        self._unreported = [0, 0]  # objects, records settled since the last report

    def track(self, tp: TP, offset: int, received_at: float | None = None) -> None:
        """Note that the message at ``offset`` of ``tp`` was handled (not yet committed).
        ``received_at``: when it may have arrived at the earliest (clock time; default
        now): a batch's flush interval counts from its first message's."""
        state = self._states.get(tp)
        if state is None:
            state = self._states[tp] = PartitionState(offset + 1)
        state.next_offset = offset + 1
        if state.first_pending_at is None:
            state.first_pending_at = self.clock() if received_at is None else received_at

    def tracked(self) -> list[TP]:
        """Every partition with handled messages."""
        return list(self._states)

    def due(self, flush_interval_s: float) -> list[TP]:
        """Partitions whose oldest unflushed message is at least ``flush_interval_s`` old."""
        now = self.clock()
        return [tp for tp, s in self._states.items()
                if s.first_pending_at is not None and now - s.first_pending_at >= flush_interval_s]

    def due_in(self, flush_interval_s: float) -> float | None:
        """Seconds until the oldest unflushed message is ``flush_interval_s`` old (0 when it
        is already; None when nothing waits): how long the consumer may wait for more."""
        pending = [s.first_pending_at for s in self._states.values()
                   if s.first_pending_at is not None]
        if not pending:
            return None
        return max(0.0, min(pending) + flush_interval_s - self.clock())

    def in_flight(self) -> int:
        """Flushes started and not settled yet."""
        return sum(len(q) for q in self._flights.values())

    def start(self, tps: Iterable[TP]) -> None:
        """Take the batches of ``tps`` from the sink and start storing them in the
        background; :meth:`settle` commits their offsets once stored. Waits for the oldest
        flushes first when :attr:`max_flights` are in flight."""
        for tp in tps:
            state = self._states.get(tp)
            if state is None:
                continue
            records = self.sink.pending(tp)
            objects = self.sink.take(tp)
            self._started += 1
            flight = Flight(self._started, state.next_offset, records,
                            [self._submit(name, data) for name, data in objects])
            self._flights.setdefault(tp, deque()).append(flight)
            state.first_pending_at = None
        while self.in_flight() > self.max_flights:
            oldest = min((q[0] for q in self._flights.values() if q), key=lambda f: f.seq)
            wait(oldest.writes)
            self._settled(block_for=())

    def settle(self, block_for: Iterable[TP] = ()) -> Flushed:
        """Commit the offsets of the flushes whose objects are all stored (each partition's in
        order), after the dead letters are acknowledged; waits for every flush of
        ``block_for`` first. Returns what was settled since the last call (here or in
        :meth:`start` when it waited). Raises :class:`~f1pipe.lake.sink.SinkError` (nothing
        more is committed) when an object could not be stored."""
        self._settled(block_for)
        (objects, records), self._unreported = self._unreported, [0, 0]
        return Flushed(objects, records)

    def commit(self, tps: Iterable[TP]) -> Flushed:
        """Store the batches of ``tps``, confirm dead letters, then commit synchronously
        (with whatever else finished meanwhile).

        Raises (and commits nothing more) when a batch or a dead letter cannot be stored.
        """
        tps = [tp for tp in tps if tp in self._states]
        self.start(tps)
        return self.settle(block_for=tps)

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop the state, unstored batches and unsettled flushes of partitions this consumer
        no longer owns (a flush still writing finishes; its offsets are never committed)."""
        for tp in tps:
            self.sink.discard(tp)
            self._states.pop(tp, None)
            self._flights.pop(tp, None)

    def close(self) -> None:
        """Stop the writer threads: queued writes are cancelled, running ones finish."""
        if self._writers is not None:
            self._writers.shutdown(wait=True, cancel_futures=True)
            self._writers = None

    def _submit(self, name: str, data: bytes) -> Future:
        if self._writers is None:
            workers = max(1, getattr(self.sink, "parallel_puts", 1))
            self._writers = ThreadPoolExecutor(workers, thread_name_prefix="lake-write")
        write = self._writers.submit(self.sink.store, name, data)
        if self.on_stored is not None:
            on_stored = self.on_stored
            write.add_done_callback(
                lambda done: done.cancelled() or done.exception() or on_stored(name))
        return write

    def _settled(self, block_for: Iterable[TP]) -> None:
        blocking = set(block_for)
        ready: dict[TP, int] = {}
        for tp, queue in self._flights.items():
            while queue and (tp in blocking or queue[0].done()):
                flight = queue[0]
                flight.result()  # raises SinkError: this flight and the later ones stay
                queue.popleft()
                ready[tp] = flight.next_offset
                self._unreported[0] += len(flight.writes)
                self._unreported[1] += flight.records
        if ready:
            self.dead_letters.flush()
            offsets = [TopicPartition(t, p, offset) for (t, p), offset in ready.items()
                       if offset != self._states[(t, p)].committed]
            if offsets:
                self._commit_offsets(offsets)
            self._retry_later(ready)

    def _retry_later(self, ready: dict[TP, int]) -> None:
        # An offset that failed to commit is tried again one flush interval later.
        now = self.clock()
        for tp, offset in ready.items():
            state = self._states[tp]
            if state.committed != offset and state.first_pending_at is None:
                state.first_pending_at = now

    def _commit_offsets(self, offsets: list[TopicPartition]) -> None:
        try:
            results = self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            err = exc.args[0]
            if err.fatal():
                raise F1PipeError(f"cannot commit offsets: {err.str()}") from None
            # The objects are stored; whoever reads the partition next rewrites them under
            # the same names, so a failed commit costs work, not data.
            log.warning("offset commit failed (%s); it is retried at the next flush", err.str())
            return
        for result in results or []:
            if result.error is not None:
                log.warning("offset commit for %s[%d] failed: %s", result.topic,
                            result.partition, result.error.str())
            elif (result.topic, result.partition) in self._states:
                self._states[(result.topic, result.partition)].committed = result.offset
