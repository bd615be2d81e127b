"""The dead-letter producer: messages the consumer cannot store go to their own topic.

A dead letter keeps the original key, value and headers, plus headers saying why it was
rejected and where it came from: ``dlq.reason``, ``dlq.topic``, ``dlq.partition``,
``dlq.offset``, ``dlq.timestamp`` (ms since the epoch). The consumer commits a rejected
message's offset only after :meth:`DeadLetterProducer.flush` has confirmed its delivery.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, Message, Producer

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError

log = logging.getLogger(__name__)

REASON_HEADER = "dlq.reason"


class DeadLetterError(F1PipeError):
    """A dead letter could not be delivered (nothing past it is committed)."""


class DeadLetterProducer:
    """Sends rejected messages to ``settings.dead_letter_topic`` (idempotent, acks=all)."""

    def __init__(self, settings: Settings, flush_timeout_s: float = 30.0):
        self.topic = settings.dead_letter_topic
        self.flush_timeout_s = flush_timeout_s
        self.sent = 0
        self._unconfirmed = 0
        self._failures: list[str] = []
        self._producer = Producer({
            **settings.kafka_client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        })

    def send(self, message: Message, reason: str) -> None:
        """Queue ``message`` for the dead-letter topic with ``reason`` (one line)."""
        headers = list(message.headers() or [])
        headers += [
            (REASON_HEADER, reason.encode()),
            ("dlq.topic", message.topic().encode()),
            ("dlq.partition", str(message.partition()).encode()),
            ("dlq.offset", str(message.offset()).encode()),
            ("dlq.timestamp", str(message.timestamp()[1]).encode()),
        ]
        self._producer.produce(self.topic, value=message.value(), key=message.key(),
                               headers=headers, on_delivery=self._delivered)
        self._unconfirmed += 1
        self.sent += 1
        self._producer.poll(0)

    def flush(self) -> None:
        """Wait until every queued dead letter is acknowledged by the broker.

        Raises :class:`DeadLetterError` if one failed or the wait timed out.
        """
        if self._unconfirmed:
            self._producer.flush(self.flush_timeout_s)
        if self._failures:
            raise DeadLetterError(f"cannot deliver to dead-letter topic {self.topic}: "
                                  f"{self._failures[0]}")
        if self._unconfirmed:
            raise DeadLetterError(f"dead-letter topic {self.topic}: {self._unconfirmed} "
                                  f"message(s) unconfirmed after {self.flush_timeout_s:g} s")

    def close(self) -> None:
        """Deliver what is queued (best effort; failures were already reported by flush)."""
        self._producer.flush(self.flush_timeout_s)

    def _delivered(self, err: KafkaError | None, _message: Message) -> None:
        self._unconfirmed -= 1
        if err is not None:
            self._failures.append(err.str())
