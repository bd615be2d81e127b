"""Commit-after-write bookkeeping for the lake consumer.

A :class:`Checkpoint` knows, per Kafka partition, the offset after the last message handled
(stored in a sink batch or sent to the dead-letter topic) and what was committed.
:meth:`Checkpoint.commit` stores the partitions' batches, waits for the dead letters to be
acknowledged, and only then commits the offsets synchronously: a committed offset always
means "everything before it is in the lake or in the dead-letter topic".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from f1pipe.errors import F1PipeError
from f1pipe.kafka.dead_letter import DeadLetterProducer
from f1pipe.lake.sink import TP, Sink

log = logging.getLogger(__name__)


@dataclass
class PartitionState:
    next_offset: int  # offset after the last message handled
    committed: int | None = None  # last offset this consumer committed
    first_pending_at: float | None = None  # clock time of the first uncommitted message


@dataclass(frozen=True)
class Flushed:
    objects: int  # objects written
    records: int  # records in them


class Checkpoint:
    """Tracks handled offsets; commits them only after sink and dead letters are durable."""

    def __init__(self, consumer: Consumer, sink: Sink, dead_letters: DeadLetterProducer,
                 clock: Callable[[], float] = time.monotonic):
        self.consumer = consumer
        self.sink = sink
        self.dead_letters = dead_letters
        self.clock = clock
        self._states: dict[TP, PartitionState] = {}

    def track(self, tp: TP, offset: int) -> None:
        """Note that the message at ``offset`` of ``tp`` was handled (not yet committed)."""
        state = self._states.get(tp)
        if state is None:
            state = self._states[tp] = PartitionState(offset + 1)
        state.next_offset = offset + 1
        if state.first_pending_at is None:
            state.first_pending_at = self.clock()

    def tracked(self) -> list[TP]:
        """Every partition with handled messages."""
        return list(self._states)

    def due(self, flush_interval_s: float) -> list[TP]:
        """Partitions whose oldest uncommitted message is at least ``flush_interval_s`` old."""
        now = self.clock()
        return [tp for tp, s in self._states.items()
                if s.first_pending_at is not None and now - s.first_pending_at >= flush_interval_s]

    def commit(self, tps: Iterable[TP]) -> Flushed:
        """Store the batches of ``tps``, confirm dead letters, then commit synchronously.

        Raises (and commits nothing more) when a batch or a dead letter cannot be stored.
        """
        tps = [tp for tp in tps if tp in self._states]
        records = sum(self.sink.pending(tp) for tp in tps)
        # Several partitions at once: a sink may store their objects in parallel (S3).
        flush_many = getattr(self.sink, "flush_many", None)
        flushed = flush_many(tps) if flush_many else {tp: self.sink.flush(tp) for tp in tps}
        objects = sum(len(names) for names in flushed.values())
        self.dead_letters.flush()
        offsets = [TopicPartition(t, p, self._states[(t, p)].next_offset) for t, p in tps
                   if self._states[(t, p)].next_offset != self._states[(t, p)].committed]
        if offsets:
            self._commit_offsets(offsets)
        now = self.clock()
        for tp in tps:
            state = self._states[tp]
            # An offset that failed to commit is tried again one flush interval later.
            state.first_pending_at = None if state.committed == state.next_offset else now
        return Flushed(objects, records)

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop the state and unstored batches of partitions this consumer no longer owns."""
        for tp in tps:
            self.sink.discard(tp)
            self._states.pop(tp, None)

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
