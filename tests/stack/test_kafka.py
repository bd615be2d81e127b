"""The project-run Kafka broker: a real round trip, its lifecycle, and its error lines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from confluent_kafka import Consumer, Producer

from f1pipe.kafka.topics import ensure_topics
from f1pipe.stack.ports import free_ports


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "f1pipe.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.integration
def test_thousand_messages_round_trip(kafka_settings, topic_name):
    topic = topic_name + "roundtrip"
    assert ensure_topics(kafka_settings, [topic], partitions=3) == [topic]
    producer = Producer({**kafka_settings.kafka_client_config(), "enable.idempotence": True})
    sent = {f"message-{i}" for i in range(1000)}
    for value in sent:
        producer.produce(topic, value=value.encode(), key=value[-1:].encode())
        producer.poll(0)
    assert producer.flush(30) == 0

    consumer = Consumer({**kafka_settings.kafka_client_config(), "group.id": topic_name,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    received, partitions = [], set()
    try:
        while len(received) < 1000:
            msg = consumer.poll(10.0)
            assert msg is not None, f"only {len(received)} of 1000 messages came back"
            assert msg.error() is None
            received.append(msg.value().decode())
            partitions.add(msg.partition())
    finally:
        consumer.close()
    assert sorted(received) == sorted(sent)
    assert partitions == {0, 1, 2}


@pytest.mark.integration
def test_up_status_down_twice_reuses_storage(tmp_path):
    port, controller = free_ports(2)
    env = {"F1PIPE_STATE_DIR": str(tmp_path), "KAFKA_BROKER": f"127.0.0.1:{port}",
           "F1PIPE_KAFKA_CONTROLLER_PORT": str(controller)}
    for attempt in (1, 2):
        up = run_cli("stack", "up", env=env)
        assert up.returncode == 0, up.stderr
        assert ("formatting storage" in up.stderr) == (attempt == 1)
        status = run_cli("stack", "status", env=env)
        assert status.returncode == 0
        assert f"running at 127.0.0.1:{port}" in status.stdout
        down = run_cli("stack", "down", env=env)
        assert down.returncode == 0 and "stopped" in down.stderr
        after = run_cli("stack", "status", env=env)
        assert after.returncode == 3 and "not running" in after.stdout


def test_no_java_gives_one_line(tmp_path):
    done = run_cli("stack", "up", env={"F1PIPE_STATE_DIR": str(tmp_path),
                                       "F1PIPE_JAVA": "/nonexistent/java"})
    assert_one_line_error(done, "Java not found", "F1PIPE_JAVA")


def test_port_in_use_gives_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("stack", "up", env={"F1PIPE_STATE_DIR": str(tmp_path),
                                           "KAFKA_BROKER": f"127.0.0.1:{port}"})
    assert_one_line_error(done, f"port {port}", "in use", "KAFKA_BROKER")


def test_kafka_home_without_jars_gives_one_line(tmp_path):
    port, controller = free_ports(2)
    done = run_cli("stack", "up", env={"F1PIPE_STATE_DIR": str(tmp_path), "KAFKA_HOME": "/tmp",
                                       "KAFKA_BROKER": f"127.0.0.1:{port}",
                                       "F1PIPE_KAFKA_CONTROLLER_PORT": str(controller)})
    assert_one_line_error(done, "KAFKA_HOME=/tmp", "kafka_2.13")


@pytest.mark.parametrize(("variable", "value", "fragment"), [
    ("KAFKA_BROKER", "no-port-here", "bad setting KAFKA_BROKER"),
    ("F1PIPE_TOPIC_PARTITIONS", "many", "bad setting F1PIPE_TOPIC_PARTITIONS"),
    ("F1PIPE_LAKE", "ftp://x", "bad setting F1PIPE_LAKE"),
])
def test_bad_config_value_stops_before_work(tmp_path, variable, value, fragment):
    done = run_cli("stack", "up", env={"F1PIPE_STATE_DIR": str(tmp_path), variable: value})
    assert_one_line_error(done, fragment)
    assert done.returncode == 2
    assert not (tmp_path / "kafka").exists()
