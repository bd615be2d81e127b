"""The checkpoint's order of work: sink flush, then dead letters acknowledged, then a
synchronous offset commit; a failed commit is tried again one flush interval later.

Plain fakes stand in for the consumer, sink and dead-letter producer: the checkpoint is
bookkeeping, and these tests check its order of calls, not Kafka (the consumer tests run it
against the real broker)."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from f1pipe.errors import F1PipeError
from f1pipe.kafka.checkpoint import Checkpoint

TP0 = ("laps", 0)
TP1 = ("laps", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeSink:
    def __init__(self, calls: list, pending: dict | None = None, fail: bool = False):
        self.calls = calls
        self.batches = dict(pending or {})
        self.fail = fail

    def pending(self, tp):
        return self.batches.get(tp, 0)

    def take(self, tp):
        self.calls.append(("flush", tp))
        return [(f"object-{tp[1]}", b"data")] if self.batches.pop(tp, 0) else []

    def store(self, name, data):
        if self.fail:
            raise F1PipeError("lake write failed")

    def discard(self, tp):
        self.calls.append(("discard", tp))
        self.batches.pop(tp, None)


class FakeDeadLetters:
    def __init__(self, calls: list, fail: bool = False):
        self.calls = calls
        self.fail = fail

    def flush(self):
        if self.fail:
            raise F1PipeError("dead letter not delivered")
        self.calls.append(("dead letters acknowledged",))


class FakeConsumer:
    def __init__(self, calls: list, failures: int = 0):
        self.calls = calls
        self.failures = failures

    def commit(self, offsets, asynchronous):
        assert asynchronous is False
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError.REQUEST_TIMED_OUT))
        self.calls.append(("commit", sorted((o.topic, o.partition, o.offset) for o in offsets)))
        return [TopicPartition(o.topic, o.partition, o.offset) for o in offsets]


def make(calls, *, pending=None, sink_fails=False, dlq_fails=False, commit_failures=0):
    clock = Clock()
    checkpoint = Checkpoint(FakeConsumer(calls, commit_failures),
                            FakeSink(calls, pending, sink_fails),
                            FakeDeadLetters(calls, dlq_fails), clock=clock)
    return checkpoint, clock


def test_commit_flushes_then_confirms_dead_letters_then_commits():
    calls: list = []
    checkpoint, _ = make(calls, pending={TP0: 2, TP1: 1})
    checkpoint.track(TP0, 10)
    checkpoint.track(TP0, 11)
    checkpoint.track(TP1, 4)
    flushed = checkpoint.commit([TP0, TP1])
    assert (flushed.objects, flushed.records) == (2, 3)
    assert calls == [("flush", TP0), ("flush", TP1), ("dead letters acknowledged",),
                     ("commit", [("laps", 0, 12), ("laps", 1, 5)])]


def test_nothing_is_committed_when_the_sink_or_the_dead_letters_fail():
    for kwargs in ({"sink_fails": True}, {"dlq_fails": True}):
        calls: list = []
        checkpoint, _ = make(calls, pending={TP0: 1}, **kwargs)
        checkpoint.track(TP0, 0)
        with pytest.raises(F1PipeError):
            checkpoint.commit([TP0])
        assert not [c for c in calls if c[0] == "commit"]


def test_a_committed_offset_is_not_committed_again():
    calls: list = []
    checkpoint, _ = make(calls, pending={TP0: 1})
    checkpoint.track(TP0, 0)
    checkpoint.commit([TP0])
    checkpoint.commit([TP0])
    assert [c for c in calls if c[0] == "commit"] == [("commit", [("laps", 0, 1)])]


def test_due_partitions_follow_the_clock():
    calls: list = []
    checkpoint, clock = make(calls)
    checkpoint.track(TP0, 0)
    clock.now += 0.5
    checkpoint.track(TP1, 0)
    assert checkpoint.due(1.0) == []
    clock.now += 0.6
    assert checkpoint.due(1.0) == [TP0]
    clock.now += 0.5
    assert sorted(checkpoint.due(1.0)) == [TP0, TP1]


def test_the_consumer_waits_for_more_no_longer_than_the_oldest_batch_may_wait():
    calls: list = []
    checkpoint, clock = make(calls, pending={TP0: 1, TP1: 1})
    assert checkpoint.due_in(1.0) is None  # nothing waits: wait as long as polls do
    checkpoint.track(TP0, 0)
    clock.now += 0.25
    checkpoint.track(TP1, 0)
    assert checkpoint.due_in(1.0) == pytest.approx(0.75)  # TP0's batch, the oldest
    clock.now += 2.0
    assert checkpoint.due_in(1.0) == 0.0  # overdue: do not wait at all
    checkpoint.start([TP0])
    assert checkpoint.due_in(1.0) == 0.0  # TP1's is overdue too
    checkpoint.start([TP1])
    assert checkpoint.due_in(1.0) is None


def test_a_batch_is_due_one_interval_after_its_first_message_could_have_arrived():
    """The consumer passes when the poll that returned a message began: a message that
    waited in that poll does not wait a whole interval more."""
    calls: list = []
    checkpoint, clock = make(calls, pending={TP0: 2})
    asked_at = clock.now
    clock.now += 0.4  # the poll returned 0.4 s later
    checkpoint.track(TP0, 0, asked_at)
    checkpoint.track(TP0, 1, clock.now)  # later messages do not move the batch's age
    assert checkpoint.due_in(1.0) == pytest.approx(0.6)
    clock.now += 0.6
    assert checkpoint.due(1.0) == [TP0]


def test_the_writes_are_announced_as_they_end():
    """``on_stored`` (the streaming landing wakes its loader with it) is called with the
    name of each object stored, from the writer threads; not for a write that failed."""
    for fails, expected in ((False, 2), (True, 0)):
        calls: list = []
        stored: list[str] = []
        checkpoint = Checkpoint(FakeConsumer(calls, 0),
                                FakeSink(calls, {TP0: 1, TP1: 1}, fails),
                                FakeDeadLetters(calls, False), clock=Clock(),
                                on_stored=stored.append)
        checkpoint.track(TP0, 0)
        checkpoint.track(TP1, 0)
        with pytest.raises(F1PipeError) if fails else contextlib.nullcontext():
            checkpoint.commit([TP0, TP1])
        checkpoint.close()  # the writer threads are done
        assert len(stored) == expected and all(isinstance(n, str) for n in stored)


def test_a_failed_commit_is_retried_one_flush_interval_later():
    calls: list = []
    checkpoint, clock = make(calls, pending={TP0: 1}, commit_failures=1)
    checkpoint.track(TP0, 7)
    checkpoint.commit([TP0])  # the broker times out: logged, not raised
    assert [c for c in calls if c[0] == "commit"] == []
    assert checkpoint.due(1.0) == []  # not before the interval
    clock.now += 1.0
    assert checkpoint.due(1.0) == [TP0]
    checkpoint.commit(checkpoint.due(1.0))
    assert calls[-1] == ("commit", [("laps", 0, 8)])
    assert checkpoint.due(1.0) == []


def test_forgotten_partitions_drop_their_batches_and_state():
    calls: list = []
    checkpoint, _ = make(calls, pending={TP0: 3})
    checkpoint.track(TP0, 1)
    checkpoint.forget([TP0])
    assert ("discard", TP0) in calls
    assert checkpoint.tracked() == []
    assert checkpoint.commit([TP0]).records == 0


class GatedSink:
    """A sink whose objects are stored only when their gate opens (in the writer threads)."""

    parallel_puts = 4

    def __init__(self):
        self.batches: dict = {}
        self.gates: dict = {}
        self.stored: list = []

    def add(self, tp, offset):
        self.batches.setdefault(tp, []).append(offset)
        self.gates.setdefault(f"{tp[1]}+{self.batches[tp][0]}", threading.Event())

    def pending(self, tp):
        return len(self.batches.get(tp, ()))

    def take(self, tp):
        batch = self.batches.pop(tp, [])
        return [(f"{tp[1]}+{batch[0]}", b"x")] if batch else []

    def store(self, name, data):
        assert self.gates[name].wait(10)
        self.stored.append(name)

    def discard(self, tp):
        self.batches.pop(tp, None)


def _pipelined(calls, max_flights=8):
    sink = GatedSink()
    checkpoint = Checkpoint(FakeConsumer(calls), sink, FakeDeadLetters(calls), clock=Clock(),
                            max_flights=max_flights)
    return checkpoint, sink


def _handle(checkpoint, sink, tp, offsets):
    for offset in offsets:
        sink.add(tp, offset)
        checkpoint.track(tp, offset)


def _settle_until(checkpoint, done, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the writes never settled"
        checkpoint.settle()
        time.sleep(0.01)


def test_a_later_flush_is_committed_only_after_every_earlier_one_of_its_partition():
    calls: list = []
    checkpoint, sink = _pipelined(calls)
    _handle(checkpoint, sink, TP0, [0, 1])
    checkpoint.start([TP0])
    _handle(checkpoint, sink, TP0, [2, 3])
    checkpoint.start([TP0])
    assert checkpoint.in_flight() == 2
    sink.gates["0+2"].set()  # the second object is stored first
    _settle_until(checkpoint, lambda: sink.stored == ["0+2"])
    assert checkpoint.settle().records == 0
    assert not [c for c in calls if c[0] == "commit"]  # 0..1 are not stored yet
    sink.gates["0+0"].set()
    _settle_until(checkpoint, lambda: checkpoint.in_flight() == 0)
    assert [c for c in calls if c[0] == "commit"] == [("commit", [("laps", 0, 4)])]
    checkpoint.close()


def test_partitions_settle_apart_and_start_waits_when_too_many_flushes_are_in_flight():
    calls: list = []
    checkpoint, sink = _pipelined(calls, max_flights=1)
    _handle(checkpoint, sink, TP0, [0])
    _handle(checkpoint, sink, TP1, [0])
    sink.gates["1+0"].set()
    checkpoint.start([TP1])
    _settle_until(checkpoint, lambda: checkpoint.in_flight() == 0)
    assert calls[-1] == ("commit", [("laps", 1, 1)])  # TP1 needs nothing of TP0
    checkpoint.start([TP0])
    _handle(checkpoint, sink, TP1, [1])
    started = threading.Thread(target=checkpoint.start, args=([TP1],))
    started.start()
    started.join(0.3)
    assert started.is_alive()  # a second flush waits for the first one's writes
    sink.gates["0+0"].set()
    sink.gates["1+1"].set()
    started.join(10)
    assert not started.is_alive()
    flushed = checkpoint.commit([TP0, TP1])
    assert checkpoint.in_flight() == 0
    assert flushed.records == 2  # TP0's and TP1's second flush, settled since the last report
    last = {p: o for c in calls if c[0] == "commit" for _, p, o in c[1]}
    assert last == {0: 1, 1: 2}
    checkpoint.close()
