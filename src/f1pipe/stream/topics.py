"""Topic names and topic creation."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.schemas import BY_DATASET


def topic_for(dataset: str, settings: Settings) -> str:
    """A dataset's topic: ``KAFKA_TOPIC`` for results (the seed's name), else ``f1.<name>``.

    The ``f1.`` prefix is ``F1PIPE_TOPIC_PREFIX``.
    """
    if dataset == "results":
        return settings.kafka_topic
    return settings.topic_prefix + BY_DATASET[dataset].dataset


def ensure_topics(settings: Settings, topics: list[str], partitions: int | None = None,
                  timeout: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    ``partitions`` defaults to ``F1PIPE_TOPIC_PARTITIONS``. Existing topics are left as they are.
    """
    admin = AdminClient(settings.kafka_client_config())
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise F1PipeError(
            f"cannot reach Kafka at {settings.kafka_broker} ({exc.args[0].str()}): "
            "start it with `f1pipe stack up` or set KAFKA_BROKER"
        ) from None
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
