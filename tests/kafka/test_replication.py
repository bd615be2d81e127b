"""Replication of the topics f1pipe creates, and where clients bootstrap, by cluster size
(no broker needed: the cluster tests check the same on three real nodes)."""

from __future__ import annotations

import pytest

from f1pipe.config import load_settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.kafka.consumer import consumer_config
from f1pipe.kafka.producer import producer_config
from f1pipe.kafka.topics import replication_for


@pytest.mark.parametrize(("brokers", "factor", "min_isr"),
                         [(1, 1, 1), (2, 2, 1), (3, 3, 2), (5, 3, 2), (12, 3, 2)])
def test_replication_follows_the_cluster(brokers, factor, min_isr):
    replication = replication_for(load_settings(), brokers)
    assert (replication.factor, replication.min_isr) == (factor, min_isr)


def test_replication_settings_override_and_are_checked():
    settings = load_settings(topic_replication=2, topic_min_isr=2)
    assert (replication_for(settings, 3).factor, replication_for(settings, 3).min_isr) == (2, 2)
    with pytest.raises(F1PipeError, match="F1PIPE_TOPIC_REPLICATION=3 needs 3 brokers"):
        replication_for(load_settings(topic_replication=3), 1)
    with pytest.raises(F1PipeError, match="F1PIPE_TOPIC_MIN_ISR=3 is more than the 2"):
        replication_for(load_settings(topic_replication=2, topic_min_isr=3), 3)
    with pytest.raises(ConfigError, match="bad setting F1PIPE_TOPIC_REPLICATION"):
        load_settings(topic_replication=0)
    with pytest.raises(ConfigError, match="bad setting F1PIPE_STACK_BROKERS"):
        load_settings(stack_brokers=10)


def test_clients_bootstrap_from_every_node_of_a_local_cluster():
    assert load_settings(kafka_broker="127.0.0.1:9092").kafka_bootstrap == "127.0.0.1:9092"
    three = load_settings(kafka_broker="127.0.0.1:9092", stack_brokers=3)
    assert three.kafka_bootstrap == "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
    assert three.kafka_client_config()["bootstrap.servers"] == three.kafka_bootstrap
    listed = "b-1.msk:9092,b-2.msk:9092"  # a cluster of someone else's: as given
    assert load_settings(kafka_broker=listed, stack_brokers=3).kafka_bootstrap == listed
    remote = load_settings(kafka_broker="pkc-1.confluent.cloud:9092", stack_brokers=3)
    assert remote.kafka_bootstrap == "pkc-1.confluent.cloud:9092"


def test_producer_keeps_acks_all_and_idempotence_and_consumers_cooperate():
    settings = load_settings()
    produced = producer_config(settings)
    assert (produced["acks"], produced["enable.idempotence"]) == ("all", True)
    assert consumer_config(settings, None)["partition.assignment.strategy"] == \
        "cooperative-sticky"
