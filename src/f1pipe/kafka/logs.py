"""librdkafka's log lines: each distinct complaint shown once, the newest kept for errors.

librdkafka retries a refused connection every few milliseconds and logs each failure; a
SASL or TLS mismatch would print hundreds of identical ERROR lines. :data:`DIGEST`, a filter
on the ``f1pipe.librdkafka`` logger (``config.KAFKA_LOG``, which every client logs to), lets each
distinct line through once and remembers the newest, so that "cannot reach Kafka" can name
the real cause (:func:`connection_cause`).
"""

from __future__ import annotations

import logging
import re

from f1pipe.config import KAFKA_LOG

_CLIENT = re.compile(r"\[[^\]]*#[^\]]*\]")  # "[rdkafka#consumer-1]"
_AFTER = re.compile(r"\s*\(after \d+ms[^)]*\)")
_VOLATILE = re.compile(r"\(after \d+ms[^)]*\)|#\w+-\d+|\d+")
# Complaints that are a configuration mismatch, not a broker that is down.
_MISMATCH = re.compile(r"SASL|[Aa]uthenticat|security\.protocol|SSL|TLS|handshake")


class KafkaLogDigest(logging.Filter):
    """Passes each distinct (numbers stripped) librdkafka line once; keeps the newest."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.last: str | None = None
        self.show = True  # False: only remember (the CLI, unless F1PIPE_KAFKA_LOG is set)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.last = text
        key = _VOLATILE.sub("", _CLIENT.sub("", text))
        if not self.show or key in self.seen:
            return False
        self.seen.add(key)
        return True


DIGEST = KafkaLogDigest()
if DIGEST not in KAFKA_LOG.filters:
    KAFKA_LOG.addFilter(DIGEST)


def connection_cause() -> str | None:
    """The newest librdkafka complaint when it is a security mismatch (SASL, TLS), as one
    line without the client and broker prefixes; None otherwise."""
    last = DIGEST.last
    if not last or not _MISMATCH.search(last):
        return None
    text = re.sub(r"^\w+ \[[^\]]*\] \[[^\]]*\]: ", "", last)  # "FAIL [client] [thread]: "
    text = re.sub(r"^\S+://\S+: ", "", text)  # "sasl_plaintext://host:port/bootstrap: "
    return " ".join(_AFTER.sub("", text).split()).rstrip(":")
