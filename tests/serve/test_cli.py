"""`f1pipe serve` refuses what it cannot serve with one line naming the fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "f1pipe.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def error_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [" ".join(line.split()) for line in done.stderr.splitlines()
            if line.startswith("error:")]


def test_serve_reads_duckdb_only():
    done = run("serve", "--warehouse", "snowflake", "--no-live")
    assert done.returncode == 2  # a configuration error
    assert error_lines(done) == ["error: f1pipe serve reads a DuckDB warehouse, got "
                                 "'snowflake': set F1PIPE_WAREHOUSE or --warehouse to "
                                 "duckdb:///PATH"]


def test_serve_on_a_port_in_use_says_so(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run("serve", "--port", str(port), "--no-live",
                   "--warehouse", f"duckdb:///{tmp_path}/f1.duckdb")
    assert done.returncode == 1
    assert error_lines(done) == [f"error: cannot listen on 127.0.0.1:{port}: Address already "
                                 "in use: choose another --port (or stop what uses it)"]
    assert "Traceback" not in done.stderr


def test_serve_binds_loopback_by_default():
    done = run("serve", "--help")
    assert done.returncode == 0
    assert "127.0.0.1" in done.stdout and "--port" in done.stdout
