"""Topic names (from the dataset registry, :data:`f1pipe.schemas.DATASETS`), topic
discovery and topic creation."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.logs import connection_cause
from f1pipe.schemas import BY_NAME, DATASETS, Payload, feed_page

LIVE_PREFIX = "live."
REACH_STEP_S = 1.0  # list_topics is retried this often while the broker is not answering
CREATE_RETRY_S = 1.0  # a topic creation that timed out (controller moving) is retried
# Errors of a creation asked while the cluster changes leaders (a broker or the controller
# quorum's leader just lost): retried until the timeout.
RETRIED_CREATE_ERRORS = (KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT,
                         KafkaError.NOT_CONTROLLER, KafkaError._TRANSPORT,
                         KafkaError.BROKER_NOT_AVAILABLE)


def topic_for(dataset: str, settings: Settings) -> str:
    """A dataset's topic: ``KAFKA_TOPIC`` for results (the seed's name), else
    ``F1PIPE_TOPIC_PREFIX`` + the registry's topic (``f1.laps``, ``f1.live_timing``...).

    Live updates have one topic per feed topic: see :func:`live_topic`.
    """
    if dataset not in BY_NAME:
        raise F1PipeError(f"unknown dataset {dataset!r}: use one of {', '.join(BY_NAME)}")
    topic = BY_NAME[dataset].topic
    if topic is None:
        return settings.kafka_topic
    if topic.endswith("*"):
        raise F1PipeError(f"{dataset} has one topic per feed topic: use live_topic()")
    return settings.topic_prefix + topic


def live_topic(feed_topic: str, settings: Settings) -> str:
    """The Kafka topic of a live feed topic: ``<prefix>live.<page>`` (``f1.live.timing_data``)."""
    return f"{settings.topic_prefix}{LIVE_PREFIX}{feed_page(feed_topic)}"


def live_topics_pattern(settings: Settings) -> str:
    """The regex subscription matching every live feed topic, e.g. ``^f1\\.live\\..+``."""
    return f"^{re.escape(settings.topic_prefix + LIVE_PREFIX)}.+"


def snapshot_topic(settings: Settings) -> str:
    """Where the tower's snapshots go: ``<prefix>live_timing``."""
    return topic_for("live_timing", settings)


def topic_schema(topic: str, settings: Settings) -> type[Payload] | None:
    """The one schema a dataset topic takes (live topics: live updates); None for a topic
    that is no dataset's (e.g. one named with ``--topics``), which takes any schema."""
    if topic.startswith(settings.topic_prefix + LIVE_PREFIX):
        return BY_NAME["live_updates"].schema
    for dataset in DATASETS:
        if (dataset.topic is None or not dataset.topic.endswith("*")) and \
                topic == topic_for(dataset.name, settings):
            return dataset.schema
    return None


def dataset_topics(settings: Settings) -> list[str]:
    """The topic of every dataset that has one topic (all but the live feed's)."""
    return [topic_for(d.name, settings) for d in DATASETS
            if d.topic is None or not d.topic.endswith("*")]


def _admin(settings: Settings) -> AdminClient:
    return AdminClient(settings.kafka_client_config())


def existing_topics(settings: Settings, timeout: float = 6.0,
                    admin: AdminClient | None = None) -> set[str]:
    """Names of the topics on the cluster; F1PipeError (one line, naming the cause) when it
    cannot be reached: a SASL / TLS mismatch is said as soon as librdkafka reports it."""
    admin = admin or _admin(settings)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return set(admin.list_topics(timeout=REACH_STEP_S).topics)
        except KafkaException as exc:
            admin.poll(0)  # serves librdkafka's log callbacks: the cause, if it said one
            cause = connection_cause()
            if cause:
                raise F1PipeError(
                    f"Kafka at {settings.kafka_broker} refused the connection: {cause}: check "
                    "KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM and the credentials against "
                    "the broker's listener") from None
            if time.monotonic() >= deadline:
                raise F1PipeError(
                    f"cannot reach Kafka at {settings.kafka_broker} ({exc.args[0].str()}): "
                    "start it with `f1pipe stack up` or set KAFKA_BROKER") from None


def existing_dataset_topics(settings: Settings) -> list[str]:
    """The dataset topics that exist (``f1pipe consume`` without ``--topics``)."""
    wanted = dataset_topics(settings)
    existing = existing_topics(settings)
    found = [t for t in wanted if t in existing]
    if not found:
        raise F1PipeError(f"none of the dataset topics exist yet ({', '.join(wanted)}): "
                          "produce first or pass --topics")
    return found


@dataclass(frozen=True)
class Replication:
    """How the topics f1pipe creates are replicated on a cluster of ``brokers``."""

    factor: int  # replicas of each partition
    min_isr: int  # min.insync.replicas: replicas that must have a write for acks=all
    brokers: int


def replication_for(settings: Settings, brokers: int) -> Replication:
    """``F1PIPE_TOPIC_REPLICATION`` or ``min(3, brokers)`` replicas; ``F1PIPE_TOPIC_MIN_ISR``
    or 2 in sync with three replicas or more (one broker may be lost without stopping
    writes or losing an acknowledged one), else 1. A factor above the brokers, or a
    minimum above the factor, is one line naming the setting."""
    factor = settings.topic_replication or min(3, max(1, brokers))
    if factor > brokers:
        raise F1PipeError(
            f"F1PIPE_TOPIC_REPLICATION={factor} needs {factor} brokers, the cluster at "
            f"{settings.kafka_broker} has {brokers}: lower it or unset it (default min(3, "
            "brokers))")
    min_isr = settings.topic_min_isr or (2 if factor >= 3 else 1)
    if min_isr > factor:
        raise F1PipeError(
            f"F1PIPE_TOPIC_MIN_ISR={min_isr} is more than the {factor} replica(s) of each "
            "partition: no write could ever succeed; lower it or unset it")
    return Replication(factor, min_isr, brokers)


def cluster_replication(settings: Settings, admin: AdminClient | None = None,
                        timeout: float = 6.0) -> Replication:
    """The replication of new topics on the cluster at ``KAFKA_BROKER`` (its brokers as the
    metadata lists them: the registered, live ones)."""
    admin = admin or _admin(settings)
    existing_topics(settings, timeout, admin)  # one-line error if unreachable
    brokers = len(admin.list_topics(timeout=timeout).brokers)
    return replication_for(settings, brokers)


def ensure_topics(settings: Settings, topics: list[str], partitions: int | None = None,
                  timeout: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    ``partitions`` defaults to ``F1PIPE_TOPIC_PARTITIONS``; replication follows the cluster
    (:func:`replication_for`). Existing topics are left as they are.
    """
    admin = _admin(settings)
    existing = existing_topics(settings, timeout, admin)
    wanted = [t for t in dict.fromkeys(topics) if t not in existing]
    if not wanted:
        return []
    count = partitions or settings.topic_partitions
    replication = cluster_replication(settings, admin, timeout)
    config = {"min.insync.replicas": str(replication.min_isr)} \
        if replication.factor > 1 or settings.topic_min_isr else {}
    new = {t: NewTopic(t, num_partitions=count, replication_factor=replication.factor,
                       config=config) for t in wanted}
    deadline = time.monotonic() + timeout
    while new:
        futures = admin.create_topics(list(new.values()),
                                      operation_timeout=max(1.0, deadline - time.monotonic()))
        for topic, future in futures.items():
            try:
                future.result()
                new.pop(topic)
            except KafkaException as exc:
                err = exc.args[0]
                if err.name() == "TOPIC_ALREADY_EXISTS":
                    new.pop(topic)
                elif not err.retriable() and err.code() not in RETRIED_CREATE_ERRORS \
                        or time.monotonic() >= deadline:
                    raise F1PipeError(f"cannot create topic {topic}: {err.str()}") from None
        if new:  # a broker or the controller just went away: ask again
            time.sleep(CREATE_RETRY_S)
    return wanted
