"""deploy/ec2: install.sh into a scratch root (DESTDIR), then the systemd units it installed
checked by ``systemd-analyze verify`` against that root: dedicated user, restart policies,
resource limits, and the settings files with the CLI's names."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from f1pipe.config import Settings

ROOT = Path(__file__).resolve().parents[3]
INSTALL = ROOT / "deploy" / "ec2" / "install.sh"
UNITS = sorted((ROOT / "deploy" / "ec2" / "systemd").iterdir())
SERVICES = [u for u in UNITS if u.suffix == ".service"]
# What the units run; install.sh puts them there on a real instance (pip, the Kafka tarball).
EXECUTABLES = ["opt/f1pipe/venv/bin/f1pipe", "opt/f1pipe/venv/bin/airflow",
               "opt/kafka/bin/kafka-server-start.sh"]


def run_install(root: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL)], env={**os.environ, "DESTDIR": str(root), **env},
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def scratch_root(tmp_path_factory) -> Path:
    """A root with install.sh's files, systemd's own units (for the targets they name) and
    stand-ins for the executables the units run."""
    root = tmp_path_factory.mktemp("root")
    (root / "etc" / "f1pipe").mkdir(parents=True)
    (root / "etc" / "f1pipe" / "stack.env").write_text(
        "F1PIPE_LAKE=s3://f1-lake-abc123/lake\nS3_BUCKET=f1-lake-abc123\n"
        "F1PIPE_MSK_CLUSTER_ARN=\n")
    done = run_install(root)
    assert done.returncode == 0, done.stderr
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system",
                    dirs_exist_ok=True, symlinks=True)
    for name in EXECUTABLES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def verify(root: Path, *units: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", *map(str, units)],
                          capture_output=True, text=True, timeout=60)


def test_install_puts_every_unit_and_setting_in_place(scratch_root):
    for unit in UNITS:
        assert (scratch_root / "etc/systemd/system" / unit.name).read_text() == unit.read_text()
    for name in ("f1pipe.env", "airflow.env", "kafka.env", "kafka.properties"):
        mode = stat.S_IMODE((scratch_root / "etc/f1pipe" / name).stat().st_mode)
        assert mode == 0o640, (name, oct(mode))  # may hold secrets: not world-readable
    assert (scratch_root / "usr/lib/sysusers.d/f1pipe.conf").read_text().count("u f1pipe") == 1
    assert (scratch_root / "opt/f1pipe/src/dags/f1_pipeline.py").exists()
    assert not (scratch_root / "opt/f1pipe/src/.venv").exists()


def test_stack_values_replace_the_placeholders(scratch_root):
    env = (scratch_root / "etc/f1pipe/f1pipe.env").read_text()
    assert "F1PIPE_LAKE=s3://f1-lake-abc123/lake" in env.splitlines()
    assert "S3_BUCKET=f1-lake-abc123" in env.splitlines()
    assert "CHANGE-ME" not in env
    assert "F1PIPE_MSK_CLUSTER_ARN" not in env  # empty values change nothing


def test_reinstall_keeps_the_operators_settings(scratch_root):
    settings = scratch_root / "etc/f1pipe/f1pipe.env"
    settings.write_text(settings.read_text() + "SNOWFLAKE_USER=ops-edit\n")
    done = run_install(scratch_root)
    assert done.returncode == 0, done.stderr
    assert "kept /etc/f1pipe/f1pipe.env" in done.stdout
    assert "SNOWFLAKE_USER=ops-edit" in settings.read_text()


def test_systemd_analyze_verifies_every_unit(scratch_root):
    installed = [scratch_root / "etc/systemd/system" / u.name for u in UNITS]
    done = verify(scratch_root, *installed)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_verify_catches_a_broken_unit(scratch_root, tmp_path):
    bad = scratch_root / "etc/systemd/system/f1pipe-broken.service"
    bad.write_text((ROOT / "deploy/ec2/systemd/f1pipe-land.service").read_text()
                   .replace("Restart=always", "Restart=sometimes")
                   .replace("/opt/f1pipe/venv/bin/f1pipe", "/opt/f1pipe/venv/bin/missing"))
    try:
        done = verify(scratch_root, bad)
    finally:
        bad.unlink()
    assert done.returncode != 0
    assert "sometimes" in done.stderr and "missing" in done.stderr


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.stem)
def test_each_service_runs_as_f1pipe_restarts_and_is_limited(path):
    service = unit(path)["Service"]
    assert service["User"] == "f1pipe" and service["Group"] == "f1pipe"
    assert service["Restart"] in ("always", "on-failure")
    assert service["MemoryMax"] and service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "full"


def test_target_starts_kafka_landing_and_airflow():
    wants = unit(ROOT / "deploy/ec2/systemd/f1pipe.target")["Unit"]["Wants"].split()
    assert {"f1pipe-kafka.service", "f1pipe-land.service", "f1pipe-airflow-scheduler.service",
            "f1pipe-airflow-dag-processor.service", "f1pipe-airflow-api-server.service"} <= \
        set(wants)
    assert "f1pipe-serve.service" not in wants  # optional: F1PIPE_ENABLE_SERVE=1


def test_listeners_are_loopback_only():
    api = unit(ROOT / "deploy/ec2/systemd/f1pipe-airflow-api-server.service")["Service"]
    serve = unit(ROOT / "deploy/ec2/systemd/f1pipe-serve.service")["Service"]
    assert "--host 127.0.0.1" in api["ExecStart"] and "--host 127.0.0.1" in serve["ExecStart"]
    kafka = (ROOT / "deploy/ec2/kafka.properties").read_text()
    assert "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093" in kafka


def test_settings_file_uses_the_clis_names():
    names = set()
    for field in Settings.model_fields.values():
        names |= set(field.validation_alias.choices)
    for line in (ROOT / "deploy/ec2/f1pipe.env").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=")[0].isupper():
            assert line.split("=")[0] in names, line
