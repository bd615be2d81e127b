"""The bench's own services: a Kafka broker and a SeaweedFS S3 server, on free loopback ports,
with state in a temporary folder, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from f1pipe.config import Settings, load_settings
from f1pipe.lake.s3 import s3_client
from f1pipe.stack.kafka import KafkaBroker
from f1pipe.stack.ports import free_ports
from f1pipe.stack.seaweedfs import start_seaweedfs

ACCESS_KEY = "f1pipe-bench"
SECRET_KEY = "f1pipe-bench-secret"
BUCKET = "bench"


@dataclass(frozen=True)
class Services:
    settings: Settings  # Kafka + S3 (lake s3://bench/lake) settings
    libs: Path  # the Kafka jars (broker, clients, tools)


@contextmanager
def kafka_broker(state_dir: Path) -> Iterator[tuple[str, Path]]:
    """A fresh broker; yields (bootstrap, jars folder)."""
    port, controller = free_ports(2)
    settings = load_settings(kafka_broker=f"127.0.0.1:{port}", kafka_controller_port=controller,
                             state_dir=state_dir)
    broker = KafkaBroker(settings)
    broker.up(timeout=180, log=lambda _: None)
    try:
        yield broker.bootstrap, broker.libs()
    finally:
        broker.down()


@contextmanager
def seaweedfs(root: Path) -> Iterator[str]:
    """SeaweedFS ``weed mini`` on loopback with bucket ``bench``; yields the endpoint URL."""
    server = start_seaweedfs(root, ACCESS_KEY, SECRET_KEY)
    try:
        s3_client(s3_settings(server.endpoint_url)).create_bucket(Bucket=BUCKET)
        yield server.endpoint_url
    finally:
        server.stop()


def s3_settings(endpoint: str, **overrides) -> Settings:
    return load_settings(s3_endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, aws_region="us-east-1",
                         s3_bucket=BUCKET, **overrides)


@contextmanager
def services(scratch: Path) -> Iterator[Services]:
    """Broker and S3 server for one bench run."""
    with kafka_broker(scratch / "state") as (bootstrap, libs), seaweedfs(scratch / "s3") as url:
        settings = s3_settings(url, kafka_broker=bootstrap, state_dir=scratch / "state",
                               lake=f"s3://{BUCKET}/lake")
        yield Services(settings, libs)
