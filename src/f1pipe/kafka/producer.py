"""The one Kafka producer of f1pipe: data, live updates and dead letters all go through it.

:class:`MessageProducer` wraps confluent-kafka with one configuration
(``enable.idempotence=true``, ``acks=all``, zstd; see :data:`PRODUCER_CONFIG`), one
delivery-report policy (every acknowledgement or error counted per topic in a
:class:`DeliveryReport`) and one buffer-full policy (when librdkafka's local queue is full,
serve delivery callbacks until there is room, never drop). Nothing waits for
acknowledgements until :meth:`MessageProducer.flush`, so a paced replay is not held up;
:meth:`MessageProducer.send_all` is the batch form that flushes and reports.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from f1pipe import codec
from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.schemas import Payload

# librdkafka leaves idempotence off by default; with it on, retries neither duplicate nor
# reorder messages within a partition.
PRODUCER_CONFIG: dict[str, str | int | bool] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "zstd",
    "linger.ms": 20,
    # librdkafka's own default batch size, said here so that kafka-producer-perf-test (whose
    # Java default is 16 KiB) is run with the same one by the benchmark.
    "batch.size": 1_000_000,
    # Bounded local queue (librdkafka's default holds up to 1 GiB): a producer far ahead of
    # the broker waits for room (see produce) instead of growing.
    "queue.buffering.max.kbytes": 65_536,
    "queue.buffering.max.messages": 100_000,
    "client.id": "f1pipe-producer",
}
# PRODUCER_CONFIG's settings that the Java producer also takes (kafka-producer-perf-test).
JAVA_SETTINGS = ("enable.idempotence", "acks", "compression.type", "linger.ms", "batch.size")
FLUSH_TIMEOUT_S = 60.0
BUFFER_FULL_POLL_S = 0.1  # queue full: serve callbacks this long, then try again
MAX_SLEEP_S = 0.05  # wait_until serves delivery callbacks at least this often
POLL_EVERY = 1_000  # messages queued between two polls serving delivery callbacks

Header = tuple[str, bytes]


def producer_config(settings: Settings, **overrides: str | int | bool) -> dict:
    """librdkafka settings of the producer: connection settings, ``PRODUCER_CONFIG``,
    then ``overrides`` (e.g. ``{"linger.ms": 5}``)."""
    return {**settings.kafka_client_config(), **PRODUCER_CONFIG, **overrides}


@dataclass
class DeliveryReport:
    """What became of the messages sent to one topic."""

    topic: str
    sent: int = 0  # handed to the producer
    delivered: int = 0  # acknowledged by the broker (acks=all)
    error_count: int = 0  # delivery errors reported by librdkafka
    errors: list[str] = field(default_factory=list)  # distinct delivery errors, in order
    interrupted: bool = False  # Ctrl-C stopped the sending

    @property
    def failed(self) -> int:
        """Messages sent but not acknowledged (delivery error or flush timeout)."""
        return self.sent - self.delivered

    @property
    def unconfirmed(self) -> int:
        """Messages with neither an acknowledgement nor an error yet."""
        return self.sent - self.delivered - self.error_count

    def on_delivery(self, err: KafkaError | None, _message: Message) -> None:
        """librdkafka's delivery callback."""
        if err is None:
            self.delivered += 1
            return
        self.error_count += 1
        if err.str() not in self.errors:
            self.errors.append(err.str())


class MessageProducer:
    """One confluent-kafka producer with f1pipe's delivery and buffer-full policies."""

    def __init__(self, settings: Settings, flush_timeout_s: float = FLUSH_TIMEOUT_S,
                 **overrides: str | int | bool):
        self.flush_timeout_s = flush_timeout_s
        self.reports: dict[str, DeliveryReport] = {}
        # librdkafka's own log lines go to the f1pipe.kafka logger (config.KAFKA_LOG).
        self._producer = Producer(producer_config(settings, **overrides))
        self._unpolled = 0

    def __enter__(self) -> MessageProducer:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def report(self, topic: str) -> DeliveryReport:
        """The delivery report of ``topic`` (created empty on first use)."""
        return self.reports.setdefault(topic, DeliveryReport(topic))

    def produce(self, topic: str, value: bytes | None, key: bytes | None = None,
                headers: list[Header] | None = None) -> None:
        """Queue one message as it is; waits (serving callbacks) while the queue is full.

        Raises F1PipeError (one line) when librdkafka refuses the message, e.g. too large.
        """
        report = self.reports.get(topic) or self.report(topic)
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers,
                                       on_delivery=report.on_delivery)
                break
            except BufferError:
                self._producer.poll(BUFFER_FULL_POLL_S)
            except KafkaException as exc:
                raise F1PipeError(f"cannot produce to {topic}: {exc.args[0].str()}") from None
        report.sent += 1
        self._unpolled += 1
        if self._unpolled >= POLL_EVERY:  # serving callbacks per message costs ~10%
            self._unpolled = 0
            self._producer.poll(0)

    def send(self, topic: str, key: str, message: dict) -> None:
        """Queue one envelope message, encoded by :mod:`f1pipe.codec`, with its key and a
        ``schema`` header."""
        self.produce(topic, codec.encode(message), key.encode(), codec.schema_headers(message))

    def publish(self, topic: str, payload: Payload, source: str,
                produced_at: datetime | None = None) -> dict:
        """Queue one payload as an envelope message (produced now); returns the message."""
        key, message = codec.keyed(payload, source, produced_at)
        self.send(topic, key, message)
        return message

    def send_all(self, topic: str, messages: Iterable[tuple[str, dict]]) -> DeliveryReport:
        """Send ``(key, message)`` pairs and wait for their acknowledgements.

        Ctrl-C while sending stops it; what was queued is still flushed and counted, and
        the report says ``interrupted``.
        """
        report = DeliveryReport(topic)
        self.reports[topic] = report
        try:
            self._send_many(report, messages)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            left = self._producer.flush(self.flush_timeout_s)
        if left:
            report.errors.append(f"{left} message(s) not acknowledged within "
                                 f"{self.flush_timeout_s:g} s")
        return report

    def _send_many(self, report: DeliveryReport, messages: Iterable[tuple[str, dict]]) -> None:
        """:meth:`send` of each pair, as one loop (the hot path of a bulk produce): a full
        queue falls back to :meth:`produce`, which waits for room. Each schema's header list
        is built once (:func:`codec.schema_headers`) and ``report.sent`` is counted locally
        (+8% on 200k laps here)."""
        topic, produce, encode = report.topic, self._producer.produce, codec.encode
        on_delivery, poll, headers_of = report.on_delivery, self._producer.poll, \
            codec.schema_headers
        sent = 0
        try:
            for key, message in messages:
                headers, value = headers_of(message), encode(message)
                try:
                    produce(topic, value, key.encode(), headers=headers, on_delivery=on_delivery)
                except BufferError:
                    self.produce(topic, value, key.encode(), headers)  # counts it
                    continue
                except KafkaException as exc:
                    raise F1PipeError(f"cannot produce to {topic}: {exc.args[0].str()}"
                                      ) from None
                sent += 1
                if sent % POLL_EVERY == 0:
                    poll(0)
        finally:
            report.sent += sent

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve delivery callbacks for up to ``timeout_s``."""
        self._producer.poll(timeout_s)

    def wait_until(self, deadline: float) -> None:
        """Sleep until ``time.monotonic()`` reaches ``deadline``, serving callbacks."""
        while (left := deadline - time.monotonic()) > 0:
            self._producer.poll(min(left, MAX_SLEEP_S))

    def flush(self, timeout_s: float | None = None) -> int:
        """Wait for every acknowledgement (up to the timeout); returns messages left."""
        return self._producer.flush(self.flush_timeout_s if timeout_s is None else timeout_s)

    def flush_or_raise(self, timeout_s: float | None = None) -> None:
        """:meth:`flush`; raises F1PipeError if any message failed or is unacknowledged."""
        timeout_s = self.flush_timeout_s if timeout_s is None else timeout_s
        left = self.flush(timeout_s)
        failed = [r for r in self.reports.values() if r.errors]
        if failed:
            raise F1PipeError(f"{sum(r.failed for r in failed)} message(s) not delivered to "
                              f"{failed[0].topic}: {failed[0].errors[0]}")
        if left:
            raise F1PipeError(f"{left} message(s) not acknowledged within {timeout_s:g} s")

    def close(self) -> None:
        """Deliver what is queued (best effort: failures were reported by flush)."""
        self._producer.flush(self.flush_timeout_s)

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.reports.values())

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.reports.values())
