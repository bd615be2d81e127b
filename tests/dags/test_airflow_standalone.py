"""`make airflow` (scripts/airflow-standalone.sh): the API server listens on 127.0.0.1 unless
told otherwise, on AIRFLOW_PORT (default 8080), as Airflow's own configuration reads it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "airflow-standalone.sh"


def address(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return subprocess.run([str(SCRIPT), "--print-address"], capture_output=True, text=True,
                          timeout=120, env={**clean, "AIRFLOW_HOME": str(tmp_path),
                                            "PYTHONWARNINGS": "ignore", **env})


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "127.0.0.1:8080"),
    ({"AIRFLOW_PORT": "27180"}, "127.0.0.1:27180"),
    ({"AIRFLOW_HOST": "0.0.0.0", "AIRFLOW_PORT": "9090"}, "0.0.0.0:9090"),
])
def test_api_server_address(tmp_path, env, expected):
    done = address(tmp_path, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == expected


def test_bad_port_is_one_line(tmp_path):
    done = address(tmp_path, AIRFLOW_PORT="80a")
    assert done.returncode == 2
    assert done.stderr.strip() == "bad AIRFLOW_PORT=80a: expected a port number, e.g. 8080"
