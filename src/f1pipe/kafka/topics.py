"""Topic names (from the dataset registry, :data:`f1pipe.schemas.DATASETS`), topic
discovery and topic creation."""

from __future__ import annotations

import re
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.kafka.logs import connection_cause
from f1pipe.schemas import BY_NAME, DATASETS, Payload, feed_page

LIVE_PREFIX = "live."
REACH_STEP_S = 1.0  # list_topics is retried this often while the broker is not answering


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


def ensure_topics(settings: Settings, topics: list[str], partitions: int | None = None,
                  timeout: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    ``partitions`` defaults to ``F1PIPE_TOPIC_PARTITIONS``. Existing topics are left as they are.
    """
    admin = _admin(settings)
    existing = existing_topics(settings, timeout, admin)
    wanted = [t for t in dict.fromkeys(topics) if t not in existing]
    if not wanted:
        return []
    count = partitions or settings.topic_partitions
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=count, replication_factor=1) for t in wanted],
        operation_timeout=timeout,
    )
    for topic, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise F1PipeError(f"cannot create topic {topic}: {exc.args[0].str()}") from None
    return wanted
