"""The lake consumer: Kafka topics -> object store, committing offsets only after writes.

Messages are validated against their schema; good ones are batched per Kafka partition and
stored as objects named by their first offset (see :mod:`f1pipe.lake.naming`); bad ones go
to the dead-letter topic. A batch is flushed at ``batch_size`` records, ``flush_interval``
seconds after its first record, when its partition is revoked, and on shutdown; offsets are
committed synchronously after the flush. Delivery guarantee: no record is lost; a record is
stored twice only if a crash moved batch boundaries (a rewrite otherwise replaces the same
object).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from f1pipe import codec
from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.kafka.checkpoint import Checkpoint, Flushed
from f1pipe.kafka.dead_letter import DeadLetterProducer
from f1pipe.kafka.signals import stop_on_signals
from f1pipe.kafka.topics import ensure_topics, existing_topics, topic_schema
from f1pipe.lake import RetryPolicy, Sink, open_sink
from f1pipe.lake.naming import UnsafeNameError, object_name
from f1pipe.lake.records import LakeRecord, check_file_format
from f1pipe.lake.sink import TP
from f1pipe.schemas import BY_SCHEMA, ENVELOPE_FIELDS, Payload, SchemaError, validate_message

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 60.0  # with --until-idle: give up if the group never assigns partitions
SESSION_TIMEOUT_MS = 10_000
PROGRESS_EVERY_S = 5.0
FETCH_MAX_MESSAGES = 1_000  # messages taken from librdkafka per consume() call
QUEUED_MAX_KBYTES = 16_384  # prefetched messages held by librdkafka, KiB (default 64 MiB)
QUEUED_MIN_MESSAGES = 20_000  # per partition (default 100k)
# How long a partition waits to fetch again once its queue is full (librdkafka default 1 s:
# with bounded queues that wait, not the consumer, set the pace, ~27k msg/s here).
FETCH_QUEUE_BACKOFF_MS = 10
FETCH_MAX_BYTES = 16 * 1024 * 1024  # one fetch response, bytes (default 50 MiB)
ASSIGNMENT_STRATEGY = "cooperative-sticky"
EMPTY_MEMBER_WAIT_S = SESSION_TIMEOUT_MS / 1000


@dataclass
class ConsumeSummary:
    """What a run did: records stored, objects written, dead letters sent, seconds taken,
    and where (``sink``: the lake URL)."""

    records: int = 0
    objects: int = 0
    dead_letters: int = 0
    elapsed_s: float = 0.0
    sink: str = ""

    @property
    def records_per_s(self) -> float:
        return self.records / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class ConsumeOptions:
    """How the lake consumer batches and when it stops. The defaults are the one default
    set (``f1pipe consume``, ``f1pipe run``, the DAG): objects of up to 500 records per Kafka
    partition, each flushed at most 1 s after its first record."""

    batch_size: int = 500  # records per object (per Kafka partition)
    flush_interval_s: float = 1.0  # max age of a batch's first record, seconds
    until_idle_s: float | None = None  # stop after this long with nothing new, seconds
    group: str | None = None  # consumer group (default F1PIPE_CONSUMER_GROUP)

    def check(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.flush_interval_s <= 0:
            raise ConfigError(f"--flush-interval must be positive, got {self.flush_interval_s}")
        if self.until_idle_s is not None and self.until_idle_s <= 0:
            raise ConfigError(f"--until-idle must be positive, got {self.until_idle_s}")

    @property
    def poll_timeout_s(self) -> float:
        """How long one poll waits: short enough to honour the interval and idle time."""
        limits = [1.0, self.flush_interval_s / 2]
        if self.until_idle_s is not None:
            limits.append(self.until_idle_s / 4)
        return max(0.05, min(limits))


# The batch pipeline's consume step: the defaults, stopping once the topics are drained.
DRAIN = ConsumeOptions(until_idle_s=5.0)
_DEFAULT = ConsumeOptions()


def consume(settings: Settings, topics: list[str], sink_url: str, *,
            batch_size: int = _DEFAULT.batch_size,
            flush_interval: float = _DEFAULT.flush_interval_s, fmt: str = "jsonl",
            until_idle: float | None = None, group: str | None = None,
            retry: RetryPolicy | None = None,
            on_progress: Callable[[str], None] | None = None) -> ConsumeSummary:
    """Consume ``topics`` into the lake at ``sink_url`` until stopped or idle (keyword form
    of :func:`consume_with`)."""
    options = ConsumeOptions(batch_size, flush_interval, until_idle, group)
    return consume_with(settings, topics, sink_url, options, fmt, retry, on_progress)


def consume_with(settings: Settings, topics: list[str], sink_url: str,
                 options: ConsumeOptions, fmt: str = "jsonl", retry: RetryPolicy | None = None,
                 on_progress: Callable[[str], None] | None = None) -> ConsumeSummary:
    """Consume ``topics`` into the lake at ``sink_url`` until stopped or idle.

    Stops on SIGTERM/SIGINT (flush, commit, close), after ``options.until_idle_s`` seconds
    without a new message, or with :class:`F1PipeError` when storage fails after its retries
    (nothing unstored is committed). Returns the run's :class:`ConsumeSummary`.
    """
    options.check()
    if not topics:
        raise ConfigError("no topics to consume: pass --topics T1,T2")
    sink = open_sink(sink_url, settings, check_file_format(fmt), retry)
    sink.check()
    run = LakeConsumer(settings, topics, sink, options, on_progress or log.info)
    summary = run.run()
    summary.sink = sink_url
    return summary


def consumer_config(settings: Settings, group: str | None) -> dict:
    """librdkafka settings: manual commits only, start from the earliest offset."""
    conf = {
        **settings.kafka_client_config(),
        "group.id": group or settings.consumer_group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        # A member that died is dropped after 10 s (librdkafka's default is 45 s), so a
        # consumer restarted after a crash gets its partitions back quickly.
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": SESSION_TIMEOUT_MS // 4,
        # Consumers scaled out (N processes in one group): a member joining or leaving
        # moves only the partitions that must move; the others keep being read meanwhile.
        "partition.assignment.strategy": ASSIGNMENT_STRATEGY,
        # Bounded prefetch (librdkafka's defaults queue up to 64 MB and 100k messages): the
        # consumer's memory stays flat however far behind it starts.
        "queued.max.messages.kbytes": QUEUED_MAX_KBYTES,
        "queued.min.messages": QUEUED_MIN_MESSAGES,
        "fetch.max.bytes": FETCH_MAX_BYTES,
        "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
    }
    if settings.consumer_instance_id:
        conf["group.instance.id"] = settings.consumer_instance_id
    return conf


def to_lake_record(message: Message, expected: type[Payload] | None = None
                   ) -> LakeRecord | str:
    """The message as a lake record, or the one-line reason it cannot be stored.

    ``expected``: the one schema the message's topic takes (None: any known schema, the
    ``schema`` header telling which to try first). A message the generated Struct of its
    schema takes is encoded as its lake line at once (:func:`codec.fast_lake_line`); any
    other goes through the pydantic model, which stores it or gives the reason.
    """
    raw = message.value()
    if raw is None:
        return "empty message (no value)"
    model = expected or _header_schema(message)
    if model is not None:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        timestamp = message.timestamp()[1]
        fast = codec.fast_lake_line(raw, model, topic, partition, offset, timestamp)
        if fast is not None:
            group, line = fast
            if (topic, group) not in _SAFE_NAMES and (reason := _unsafe(topic, group)):
                return reason
            return LakeRecord(topic, partition, offset, timestamp, None, _NO_ENVELOPE, line,
                              model, group)
    try:
        decoded = codec.decode(raw)
    except codec.DecodeError as exc:
        return f"not valid JSON: {exc}"
    try:
        payload = validate_message(decoded)
    except SchemaError as exc:
        return f"schema violation: {exc}"
    if expected is not None and not isinstance(payload, expected):
        return (f"wrong schema for topic {message.topic()}: {payload.schema_name} "
                f"v{payload.schema_version}, the topic takes {expected.schema_name} only")
    envelope = {name: decoded[name] for name in ENVELOPE_FIELDS}
    record = LakeRecord(message.topic(), message.partition(), message.offset(),
                        message.timestamp()[1], payload, envelope)
    try:  # a second guard: the schemas already keep key parts to safe values
        object_name(record.topic, record.partition, record.offset, record.group, "jsonl")
    except UnsafeNameError as exc:
        return str(exc)
    return record


def fast_run(messages: list[Message], tp: TP, expected: type[Payload] | None,
             sink: Sink) -> bool:
    """Add a run of messages of partition ``tp`` to ``sink`` at once when every one is a
    valid message of one schema (``expected``, else the first one's ``schema`` header) with
    a lake name: their lines made in one pass (:func:`codec.fast_lake_lines`). False, with
    nothing added, when any is not (each then goes through :func:`to_lake_record`)."""
    model = expected or _header_schema(messages[0])
    if model is None:
        return False
    raws = [m.value() for m in messages]
    if None in raws:
        return False
    topic, partition = tp
    runs = codec.fast_lake_lines(raws, model, topic, partition, [m.offset() for m in messages],
                                 [m.timestamp()[1] for m in messages])
    if runs is None or any((topic, group) not in _SAFE_NAMES and _unsafe(topic, group)
                           for group, *_ in runs):
        return False
    for group, lines, count, first_offset in runs:
        sink.add_lines(tp, model, group, first_offset, lines, count)
    return True


_SAFE_NAMES: set[tuple] = set()  # (topic, group) pairs object_name accepted
_NO_ENVELOPE: dict = {}  # fast-path records carry their envelope in their line


def _unsafe(topic: str, group: tuple[int, int, str]) -> str | None:
    """Why the lake cannot name objects of ``group`` in ``topic`` (None: it can; then
    remembered)."""
    try:
        object_name(topic, 0, 0, group, "jsonl")
    except UnsafeNameError as exc:
        return str(exc)
    if len(_SAFE_NAMES) < 100_000:
        _SAFE_NAMES.add((topic, group))
    return None


_HEADER_SCHEMAS: dict[bytes, type[Payload] | None] = {}


def _header_schema(message: Message) -> type[Payload] | None:
    """The schema the message's ``schema`` header names (only a hint: the message is
    checked against it)."""
    for name, value in message.headers() or ():
        if name == codec.SCHEMA_HEADER and value:
            if value not in _HEADER_SCHEMAS and len(_HEADER_SCHEMAS) < 64:
                schema, _, version = value.decode(errors="replace").partition("/")
                _HEADER_SCHEMAS[value] = (BY_SCHEMA.get((schema, int(version)))
                                          if version.isdigit() else None)
            return _HEADER_SCHEMAS.get(value)
    return None


class LakeConsumer:
    """One consumer-group member writing its partitions to a sink."""

    def __init__(self, settings: Settings, topics: list[str], sink: Sink,
                 options: ConsumeOptions, on_progress: Callable[[str], None],
                 on_stored: Callable[[str], None] | None = None):
        """``on_stored``: called from a writer thread with each object's name once it is in
        the lake (before its offsets are committed), e.g. to wake a loader."""
        self.settings = settings
        self.topics = topics
        self.sink = sink
        self.options = options
        self.on_progress = on_progress
        self.summary = ConsumeSummary()
        self.assigned: set[TP] = set()
        self.joined_at: float | None = None
        self.last_activity = time.monotonic()
        self.stop_requested = False
        self.failed = False
        self._schemas: dict[str, type[Payload] | None] = {}
        self.consumer = Consumer(consumer_config(settings, options.group))
        self.dead_letters = DeadLetterProducer(settings)
        self.checkpoint = Checkpoint(self.consumer, sink, self.dead_letters,
                                     on_stored=on_stored)

    def run(self) -> ConsumeSummary:
        """Consume until stopped or idle; returns the summary. Closes the consumer."""
        started = time.monotonic()
        progress = Progress(self, started)
        try:
            self._check_topics()
            self.consumer.subscribe(self.topics, on_assign=self._on_assign,
                                    on_revoke=self._on_revoke, on_lost=self._on_lost)
            with stop_on_signals(self.request_stop):
                self._loop(started, progress)
                self._commit(self.checkpoint.tracked())
            progress.report()
        except BaseException:
            self.failed = True
            raise
        finally:
            self.summary.elapsed_s = time.monotonic() - started
            self._close()
        return self.summary

    def stop(self) -> None:
        """Finish the current poll, then flush, commit and close (from any thread)."""
        self.stop_requested = True

    def request_stop(self) -> None:
        """Finish the current poll, then flush, commit and close (a second request aborts)."""
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True

    def _loop(self, started: float, progress: Progress) -> None:
        checkpoint, interval = self.checkpoint, self.options.flush_interval_s
        while not self.stop_requested:
            asked_at = checkpoint.clock()  # what it returns came since (or was left over)
            messages = self._next_messages(checkpoint.due_in(interval))
            if messages:
                self._handle_all(messages, asked_at)
            checkpoint.start(checkpoint.due(interval))
            self._count(checkpoint.settle())
            progress.maybe_report()
            if self._idle_long_enough(started):
                return

    def _next_messages(self, due_in: float | None) -> list[Message]:
        """The next messages from librdkafka. While a batch waits for its flush, as many as
        come before it is due (``due_in`` s); else the first as soon as it comes, with those
        already fetched behind it (a batch's age counts from its first record's arrival)."""
        timeout = self.options.poll_timeout_s
        if due_in is not None:
            return self.consumer.consume(FETCH_MAX_MESSAGES, min(timeout, due_in))
        messages = self.consumer.consume(1, timeout)
        if messages:
            messages += self.consumer.consume(FETCH_MAX_MESSAGES - 1, 0)
        return messages

    def _handle_all(self, messages: list[Message], received_at: float | None = None) -> None:
        """Each message into its partition's batch or the dead-letter topic; a batch that
        reaches ``batch_size`` records starts its flush. ``received_at``: when the call
        that returned them began (a batch they start is due one interval after it).
        Messages come in runs of one partition; each run is handled at once."""
        self.last_activity = time.monotonic()
        start, end = 0, len(messages)
        while start < end:
            first = messages[start]
            if (error := first.error()) is not None:
                self._kafka_error(error)
                start += 1
                continue
            topic, partition = first.topic(), first.partition()
            stop = start + 1
            while stop < end and (m := messages[stop]).partition() == partition \
                    and m.topic() == topic and m.error() is None:
                stop += 1
            if (topic, partition) in self.assigned:
                self._handle_run((topic, partition), messages[start:stop], received_at)
            # else fetched before a revoke: the partition's new owner reads them again
            start = stop

    def _handle_run(self, tp: TP, run: list[Message], received_at: float | None) -> None:
        """Messages of one partition, in order: as many at a time as the batch has room for,
        through :func:`fast_run` when they are all good, else one by one."""
        topic = tp[0]
        expected = self._schemas[topic] if topic in self._schemas else self._expected(topic)
        batch_size, sink, checkpoint = self.options.batch_size, self.sink, self.checkpoint
        while run:
            room = max(1, batch_size - sink.pending(tp))
            chunk, run = run[:room], run[room:]
            if len(chunk) < 2 or not fast_run(chunk, tp, expected, sink):
                for message in chunk:
                    record = to_lake_record(message, expected)
                    if type(record) is str:
                        self._dead_letter(message, record)
                    else:
                        sink.add(record)
            checkpoint.track(tp, chunk[-1].offset(), received_at)
            if sink.pending(tp) >= batch_size:
                checkpoint.start([tp])

    def _dead_letter(self, message: Message, reason: str) -> None:
        self.dead_letters.send(message, reason)
        self.summary.dead_letters += 1
        log.warning("dead letter %s[%d]@%d: %s", message.topic(), message.partition(),
                    message.offset(), reason)

    def _expected(self, topic: str) -> type[Payload] | None:
        if topic not in self._schemas:
            self._schemas[topic] = topic_schema(topic, self.settings)
        return self._schemas[topic]

    def _commit(self, tps: list[TP]) -> None:
        """Flush ``tps`` and commit them now (with any other flush that finished)."""
        if tps:
            self._count(self.checkpoint.commit(tps))

    def _count(self, flushed: Flushed) -> None:
        self.summary.objects += flushed.objects
        self.summary.records += flushed.records

    def _idle_long_enough(self, started: float) -> bool:
        idle = self.options.until_idle_s
        if idle is None:
            return False
        now = time.monotonic()
        if self.joined_at is None:
            if now - started > JOIN_TIMEOUT_S:
                raise F1PipeError(
                    f"no partitions assigned within {JOIN_TIMEOUT_S:g} s: consumer group "
                    f"{self.consumer_group} did not finish rebalancing; see the broker's log "
                    f"(Kafka at {self.settings.kafka_broker})")
            return False
        # A member holding no partitions may be between the two rounds of a cooperative
        # rebalance (revoked elsewhere first, assigned here next): it waits a session timeout.
        needed = idle if self.assigned else max(idle, EMPTY_MEMBER_WAIT_S)
        if now - self.last_activity < needed:
            return False
        lag = self.lag(fresh=True)
        if lag:  # messages still wait in our partitions: not idle (broker unreachable: idle)
            self.last_activity = now
            return False
        return True

    def _kafka_error(self, err: KafkaError) -> None:
        if err.fatal() or err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART,
                                         KafkaError.TOPIC_AUTHORIZATION_FAILED,
                                         KafkaError.GROUP_AUTHORIZATION_FAILED):
            raise F1PipeError(f"kafka: {err.str()}")
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("kafka: %s", err.str())

    def _check_topics(self) -> None:
        """Fail if a topic to consume is missing; create the dead-letter topic if it is (one
        metadata request when it exists)."""
        existing = existing_topics(self.settings)
        missing = [t for t in self.topics if t not in existing]
        if missing:
            raise F1PipeError(f"topic(s) {', '.join(missing)} do not exist: check --topics "
                              "or produce to them first")
        if self.settings.dead_letter_topic not in existing:
            ensure_topics(self.settings, [self.settings.dead_letter_topic])

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assigned |= {(p.topic, p.partition) for p in partitions}
        self.joined_at = self.last_activity = time.monotonic()
        log.info("assigned %s", _names(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = [(p.topic, p.partition) for p in partitions]
        if not self.failed:
            # Flush and commit before the partitions go: the next owner starts where we end.
            try:
                self._commit(tps)
            except BaseException:
                self.failed = True
                raise
        self.checkpoint.forget(tps)
        self.assigned -= set(tps)
        self.last_activity = time.monotonic()
        log.info("revoked %s", _names(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = [(p.topic, p.partition) for p in partitions]
        self.checkpoint.forget(tps)  # too late to commit: the new owner rewrites them
        self.assigned -= set(tps)
        log.warning("lost %s", _names(partitions))

    def _close(self) -> None:
        try:
            self.checkpoint.close()
            self.consumer.close()
        finally:
            self.dead_letters.close()

    @property
    def consumer_group(self) -> str:
        return self.options.group or self.settings.consumer_group

    def lag(self, fresh: bool = False) -> int | None:
        """Messages between this consumer's position and the partitions' ends, as of the
        newest fetch response (librdkafka keeps fetching while idle, so at most about
        ``fetch.wait.max.ms`` old). ``fresh``: for partitions with no position or no fetch
        response yet, ask the broker for the committed offset and the partition's ends
        (right after an assignment nothing is known locally; unknown is not empty)."""
        tps = [TopicPartition(t, p) for t, p in sorted(self.assigned)]
        if not tps:
            return 0
        total = 0
        try:
            positions = self.consumer.position(tps)
            unknown = [tp for tp in positions if tp.offset < 0]
            committed = {(c.topic, c.partition): c.offset
                         for c in self.consumer.committed(unknown, timeout=5)} \
                if fresh and unknown else {}
            for tp in positions:
                low, high = self.consumer.get_watermark_offsets(tp, cached=True)
                if fresh and high < 0:
                    low, high = self.consumer.get_watermark_offsets(tp, timeout=5)
                # Nothing fetched yet: count from the committed offset, else the start.
                start = tp.offset if tp.offset >= 0 else committed.get((tp.topic, tp.partition),
                                                                       -1)
                start = start if start >= 0 else low
                if high < 0 or start < 0:
                    return None
                total += max(0, high - start)
        except KafkaException:
            return None
        return total


class Progress:
    """Reports one progress line every few seconds (records/s, objects, lag)."""

    def __init__(self, run: LakeConsumer, started: float, every_s: float = PROGRESS_EVERY_S):
        self.run = run
        self.started = started
        self.every_s = every_s
        self.last = started

    def maybe_report(self) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.report()

    def report(self) -> None:
        self.last = now = time.monotonic()
        s = self.run.summary
        rate = s.records / (now - self.started) if now > self.started else 0.0
        lag = self.run.lag() if not self.run.failed else None
        self.run.on_progress(
            f"consume: {s.records} records stored ({rate:,.0f}/s), {s.objects} objects, "
            f"{s.dead_letters} dead letters, lag {'?' if lag is None else lag}"
        )


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing"

