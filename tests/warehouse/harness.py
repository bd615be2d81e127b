"""Helpers of the warehouse tests: the f1pipe CLI in a subprocess, queries both
destinations must answer alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

F1PIPE = [sys.executable, "-m", "f1pipe.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run ``f1pipe`` in a subprocess; returns the CompletedProcess (text)."""
    full_env = {**os.environ, "F1PIPE_ENV_FILE": "/dev/null", **(env or {})}
    return subprocess.run([*F1PIPE, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# Queries whose answers must be identical on DuckDB and on Snowflake (fakesnow).
IDENTICAL_QUERIES = [
    "SELECT * FROM f1_results ORDER BY season, round, session, driver_number",
    "SELECT * FROM laps ORDER BY season, round, session, driver_number, lap_number",
    "SELECT * FROM race_control_messages ORDER BY season, round, session, message_index",
    "SELECT * FROM track_status ORDER BY season, round, session, session_time_ms",
    "SELECT team_name, SUM(points) AS points, COUNT(*) AS results FROM f1_results "
    "GROUP BY team_name ORDER BY points DESC, team_name",
    "SELECT driver_number, COUNT(*) AS laps, MIN(lap_time_ms) AS best FROM laps "
    "GROUP BY driver_number ORDER BY driver_number",
]
