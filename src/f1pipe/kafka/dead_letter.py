"""The dead-letter producer: messages the consumer cannot store go to their own topic.

A dead letter keeps the original key, value and headers, plus headers saying why it was
rejected and where it came from: ``dlq.reason``, ``dlq.topic``, ``dlq.partition``,
``dlq.offset``, ``dlq.timestamp`` (ms since the epoch). A value too large for Kafka is cut
to 512 KB, with ``dlq.original.size`` and ``dlq.truncated`` headers. The consumer commits a rejected
message's offset only after :meth:`DeadLetterProducer.flush` has confirmed its delivery.
"""

from __future__ import annotations

import logging

from confluent_kafka import Message

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.producer import Header, MessageProducer

log = logging.getLogger(__name__)

REASON_HEADER = "dlq.reason"
DEAD_LETTER_LINGER_MS = 5  # dead letters hold a commit back: send them soon
# A dead letter's value is cut to this many bytes (well under Kafka's default 1 MB message
# limit), so a record too large for Kafka still ends as a dead letter, not a crash loop;
# ``dlq.original.size`` and ``dlq.truncated`` headers say so.
MAX_DEAD_LETTER_VALUE = 512 * 1024
MAX_HEADER_VALUE = 16 * 1024


class DeadLetterError(F1PipeError):
    """A dead letter could not be delivered (nothing past it is committed)."""


def dead_letter_headers(message: Message, reason: str) -> list[Header]:
    """The original headers (each cut to 16 KB) plus why and where from (``dlq.*``)."""
    original = [(k, (v or b"")[:MAX_HEADER_VALUE]) for k, v in (message.headers() or [])]
    return [*original,
            (REASON_HEADER, reason.encode()[:MAX_HEADER_VALUE]),
            ("dlq.topic", message.topic().encode()),
            ("dlq.partition", str(message.partition()).encode()),
            ("dlq.offset", str(message.offset()).encode()),
            ("dlq.timestamp", str(message.timestamp()[1]).encode())]


def fitted(value: bytes | None, key: bytes | None, headers: list[Header]
           ) -> tuple[bytes | None, bytes | None, list[Header]]:
    """A dead letter that Kafka accepts: a value (or key) over the limit is cut, and the
    ``dlq.original.size`` / ``dlq.truncated`` headers say it was."""
    size = len(value or b"") + len(key or b"")
    if size <= MAX_DEAD_LETTER_VALUE:
        return value, key, headers
    cut_key = key[:MAX_HEADER_VALUE] if key else key
    return ((value or b"")[:MAX_DEAD_LETTER_VALUE], cut_key,
            [*headers, ("dlq.original.size", str(size).encode()), ("dlq.truncated", b"true")])


class DeadLetterProducer:
    """Sends rejected messages to ``settings.dead_letter_topic`` through the project's
    :class:`~f1pipe.kafka.producer.MessageProducer` (idempotent, acks=all)."""

    def __init__(self, settings: Settings, flush_timeout_s: float = 30.0):
        self.topic = settings.dead_letter_topic
        self.flush_timeout_s = flush_timeout_s
        self._producer = MessageProducer(settings, flush_timeout_s,
                                         **{"linger.ms": DEAD_LETTER_LINGER_MS})

    @property
    def sent(self) -> int:
        return self._producer.report(self.topic).sent

    def send(self, message: Message, reason: str) -> None:
        """Queue ``message`` for the dead-letter topic with ``reason`` (one line)."""
        value, key, headers = fitted(message.value(), message.key(),
                                     dead_letter_headers(message, reason))
        self._producer.produce(self.topic, value, key, headers)

    def flush(self) -> None:
        """Wait until every queued dead letter is acknowledged by the broker.

        Raises :class:`DeadLetterError` if one failed or the wait timed out.
        """
        report = self._producer.report(self.topic)
        if report.unconfirmed:
            self._producer.flush(self.flush_timeout_s)
        if report.errors:
            raise DeadLetterError(f"cannot deliver to dead-letter topic {self.topic}: "
                                  f"{report.errors[0]}")
        if report.unconfirmed:
            raise DeadLetterError(f"dead-letter topic {self.topic}: {report.unconfirmed} "
                                  f"message(s) unconfirmed after {self.flush_timeout_s:g} s")

    def close(self) -> None:
        """Deliver what is queued (best effort; failures were already reported by flush)."""
        self._producer.close()
