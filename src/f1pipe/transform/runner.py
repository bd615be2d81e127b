"""Run the dbt project with ``.venv-dbt``'s dbt in a subprocess, on the warehouse of the
settings, and read what each model and test did from dbt's ``run_results.json``.

The subprocess gets the connection through environment variables read by
``dbt/profiles.yml`` (secrets never touch a file); dbt's target and log folders go under
the state folder (``F1PIPE_STATE_DIR``), so the repository stays clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.warehouse.checks import CheckResult
from f1pipe.warehouse.destination import connect

REPO_ROOT = Path(__file__).resolve().parents[3]
# The marts, in the order of the README's table.
MARTS = ("stints", "pit_stops", "lap_positions", "lap_gaps", "interval_history", "fastest_laps",
         "race_pace", "session_summary", "driver_standings", "constructor_standings")
DBT_TIMEOUT_S = 900


@dataclass(frozen=True)
class DbtNode:
    """One model or test as dbt ran it."""

    name: str
    kind: str  # model, test
    status: str  # success, error, skipped (models); pass, fail, warn, error (tests)
    seconds: float
    failures: int | None  # tests: failing rows
    message: str | None

    @property
    def ok(self) -> bool:
        return self.status in ("success", "pass")


@dataclass
class TransformSummary:
    """What one dbt command did on one warehouse."""

    command: str
    warehouse: str
    nodes: list[DbtNode] = field(default_factory=list)
    elapsed_s: float = 0.0
    engine: str = "dbt"  # dbt (dbt run / dbt test) or compiled (f1pipe's in-process runner)
    # The sessions rebuilt ("2018/4/R"); None: every session (dbt, or a full refresh).
    sessions: list[str] | None = None

    @property
    def models(self) -> list[DbtNode]:
        return [n for n in self.nodes if n.kind == "model"]

    @property
    def tests(self) -> list[DbtNode]:
        return [n for n in self.nodes if n.kind == "test"]

    def failed(self) -> list[DbtNode]:
        return [n for n in self.nodes if not n.ok]


def project_dir(settings: Settings) -> Path:
    path = settings.dbt_project_dir or REPO_ROOT / "dbt"
    if not (path / "dbt_project.yml").is_file():
        raise ConfigError(f"no dbt project at {path}: set F1PIPE_DBT_PROJECT to the folder "
                          "holding dbt_project.yml")
    return path


def dbt_executable(settings: Settings) -> Path:
    path = settings.dbt_executable or REPO_ROOT / ".venv-dbt" / "bin" / "dbt"
    if not os.access(path, os.X_OK):
        raise ConfigError(f"dbt not found at {path}: run make setup (it creates .venv-dbt) "
                          "or set F1PIPE_DBT")
    return path


def dbt_environment(settings: Settings, warehouse_url: str) -> dict[str, str]:
    """Variables read by ``dbt/profiles.yml`` for ``warehouse_url``, plus dbt's own."""
    state = (settings.state_dir / "dbt").resolve()
    env = {"DBT_TARGET_PATH": str(state / "target"), "DBT_LOG_PATH": str(state / "logs")}
    if warehouse_url.startswith("duckdb://"):
        from f1pipe.warehouse.duckdb.client import database_path

        path = database_path(warehouse_url)
        if path == ":memory:":
            raise ConfigError("the transform needs a DuckDB file, not duckdb:///:memory:")
        env.update(F1PIPE_DBT_TARGET="duckdb", F1PIPE_DUCKDB_PATH=str(Path(path).resolve()))
    elif warehouse_url == "snowflake":
        if not (settings.snowflake_account and settings.snowflake_user):
            raise ConfigError("Snowflake needs SNOWFLAKE_ACCOUNT and SNOWFLAKE_USER")
        password = settings.snowflake_password
        env.update({
            "F1PIPE_DBT_TARGET": "snowflake",
            "SNOWFLAKE_ACCOUNT": settings.snowflake_account,
            "SNOWFLAKE_USER": settings.snowflake_user,
            "SNOWFLAKE_PASSWORD": password.get_secret_value() if password else "",
            "SNOWFLAKE_DATABASE": settings.snowflake_database,
            "SNOWFLAKE_SCHEMA": settings.snowflake_schema,
            "SNOWFLAKE_WAREHOUSE": settings.snowflake_warehouse or "",
            "SNOWFLAKE_ROLE": settings.snowflake_role or "",
            "SNOWFLAKE_HOST": settings.snowflake_host or "",
            "SNOWFLAKE_PORT": str(settings.snowflake_port or 443),
            "SNOWFLAKE_PROTOCOL": settings.snowflake_protocol or "https",
        })
    else:
        raise ConfigError(f"warehouse {warehouse_url!r}: expected duckdb:///PATH or snowflake")
    return env


def dbt_process(settings: Settings, env: dict[str, str], *args: str
                ) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``dbt <args>`` with ``env`` added to this process's; returns the finished process
    and its seconds. Raises a one-line F1PipeError when dbt is missing or times out."""
    project = project_dir(settings)
    command = [str(dbt_executable(settings)), "--quiet", *args,
               "--project-dir", str(project), "--profiles-dir", str(project)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              env={**os.environ, **_dbt_defaults(), **env},
                              timeout=DBT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise F1PipeError(f"dbt {args[0]} took over {DBT_TIMEOUT_S} s: stopped") from None
    return done, time.perf_counter() - started


def _dbt_defaults() -> dict[str, str]:
    return {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false",
            "DBT_PRINTER_WIDTH": "100"}


def run_dbt(settings: Settings, warehouse_url: str, *args: str) -> TransformSummary:
    """Run ``dbt <args>`` on the warehouse; returns the nodes it ran. Raises a one-line
    F1PipeError when dbt could not run at all (no project, no connection, bad SQL parse)."""
    env = dbt_environment(settings, warehouse_url)
    results_file = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results_file.unlink(missing_ok=True)
    done, seconds = dbt_process(settings, env, *args)
    summary = TransformSummary(" ".join(args), warehouse_url, elapsed_s=seconds)
    if results_file.is_file():
        summary.nodes = _nodes(json.loads(results_file.read_text()))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not summary.nodes):
        raise F1PipeError(f"dbt {args[0]} failed: {first_error(done.stdout + done.stderr)}")
    return summary


def _nodes(run_results: dict) -> list[DbtNode]:
    nodes = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]  # model.f1pipe.stints, test.f1pipe.not_null_...
        kind, name = unique_id.split(".")[0], unique_id.split(".")[2]
        message = result.get("message")
        nodes.append(DbtNode(name, kind, str(result["status"]),
                             float(result.get("execution_time") or 0.0),
                             result.get("failures"),
                             _one_line(message) if message else None))
    return nodes


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:300] if lines else ""


def first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() and not line.lower().startswith("encountered an error:"):
            return line[:300]
    return lines[0][:300] if lines else "no output"


def dbt_run_marts(settings: Settings, warehouse_url: str | None = None,
                  full_refresh: bool = False) -> TransformSummary:
    """Build the marts with dbt itself (``dbt run``, every session); raises F1PipeError
    naming the models that failed."""
    url = warehouse_url or settings.warehouse
    summary = run_dbt(settings, url, "run", *(["--full-refresh"] if full_refresh else []))
    failed = summary.failed()
    if failed:
        raise F1PipeError("dbt run failed: " + "; ".join(
            f"{n.name}: {n.message or n.status}" for n in failed[:3]))
    return summary


def marts_built(settings: Settings, warehouse_url: str) -> bool:
    """True when the warehouse holds every mart (``f1pipe transform`` has run)."""
    try:
        dest = connect(settings, warehouse_url, read_only=True)
    except F1PipeError:
        return False
    try:
        for mart in MARTS:
            dest.fetch(f"SELECT 1 FROM {mart} WHERE 1 = 0")
    except F1PipeError:
        return False
    finally:
        dest.close()
    return True


def dbt_checks(settings: Settings, warehouse_url: str | None = None,
               sessions: Sequence[tuple[int, int, str]] | None = None,
               facts_only: bool = False) -> list[CheckResult]:
    """Run the project's data tests with dbt itself (``dbt test``; only those tagged
    ``facts`` when ``facts_only``), judging only ``sessions`` when given; one check result per
    test, failing when the test failed or could not run (dbt reports counts, not rows)."""
    url = warehouse_url or settings.warehouse
    args = ["test"]
    if facts_only:
        args += ["--select", "tag:facts"]
    if sessions is not None:
        args += ["--vars", json.dumps({"f1pipe_sessions": [list(s) for s in sessions]})]
    summary = run_dbt(settings, url, *args)
    results = []
    for node in summary.tests:
        rows = [] if node.ok else [(node.status, node.failures, node.message)]
        results.append(CheckResult(f"dbt:{node.name}", "dbt test",
                                   ["status", "failures", "message"], rows))
    return results
