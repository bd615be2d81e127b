"""Reads never write: ``f1pipe query`` / ``check`` open DuckDB read-only without file access,
Snowflake runs one SELECT only; lock conflicts are retried with backoff (issue 13, items 5,
6, 9)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from f1pipe.errors import F1PipeError, ReadOnlyError
from f1pipe.warehouse import load, query
from f1pipe.warehouse.duckdb.client import (
    LockRetry,
    WarehouseLockedError,
    connect_with_retry,
    database_path,
    resolved_path,
)
from tests.lake.laps import lap_message
from tests.warehouse.conftest import Warehouse
from tests.warehouse.lakefiles import as_records, lake_objects, write_folder
from tests.warehouse.test_errors import one_error_line, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def small_lake(tmp_path):
    root = tmp_path / "lake"
    write_folder(root, lake_objects(as_records([lap_message(i) for i in range(40)], "f1.laps")))
    return root


def _laps(warehouse) -> int:
    return query(warehouse.settings, warehouse.url, "SELECT COUNT(*) FROM laps")[1][0][0]


@pytest.mark.parametrize(("statement", "refusal"), [
    ("DELETE FROM laps", 'Cannot execute statement of type "DELETE"'),
    ("DROP TABLE laps", 'Cannot execute statement of type "DROP"'),
    ("COPY laps TO '{out}/copy.csv'", "file system operations are disabled"),
    ("SELECT * FROM read_text('/etc/hostname')", "file system operations are disabled"),
    ("ATTACH '{out}/other.duckdb' AS other", "file system operations are disabled"),
    ("SET enable_external_access = true", "the configuration has been locked"),
])
def test_duckdb_query_cannot_write_or_touch_other_files(small_lake, tmp_path, statement,
                                                        refusal):
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    assert run_cli("load", "--lake", f"file://{small_lake}", "--warehouse", url).returncode == 0
    out = tmp_path / "out"
    out.mkdir()

    done = run_cli("query", statement.format(out=out), "--warehouse", url)

    assert done.returncode == 1
    assert refusal in one_error_line(done.stderr)
    assert list(out.iterdir()) == []
    counted = run_cli("query", "SELECT COUNT(*) AS n FROM laps", "--warehouse", url,
                      "--format", "csv")
    assert counted.stdout.split() == ["n", "40"]


def test_snowflake_query_runs_one_select_only(fakesnow_account, small_lake):
    warehouse = Warehouse("snowflake", fakesnow_account, "snowflake")
    load(warehouse.settings, f"file://{small_lake}", warehouse.url)
    for statement in ("DELETE FROM laps", "SELECT 1; DROP TABLE laps",
                      "COPY INTO @f1pipe_lake_local FROM laps", "CALL x()",
                      "SELECT SYSTEM$CANCEL_ALL_QUERIES(1)"):
        with pytest.raises(ReadOnlyError, match="^refused: .*queries are read-only"):
            query(warehouse.settings, warehouse.url, statement)
    assert _laps(warehouse) == 40


def test_reads_of_a_missing_warehouse_create_nothing(tmp_path):
    for command in (["query", "SELECT 1"], ["check"], ["standings", "--season", "2024"]):
        done = run_cli(*command, "--warehouse", "duckdb:///nowhere/f1.duckdb", cwd=tmp_path)
        line = one_error_line(done.stderr)
        assert f"DuckDB file {tmp_path}/nowhere/f1.duckdb does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_duckdb_urls_follow_the_sqlalchemy_convention(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_path("duckdb:///etc/passwd") == "etc/passwd"
    assert resolved_path("duckdb:///etc/passwd") == f"{tmp_path}/etc/passwd"
    assert resolved_path("duckdb:////srv/f1.duckdb") == "/srv/f1.duckdb"
    assert database_path("duckdb:///:memory:") == ":memory:"


def test_load_summary_names_the_resolved_file(small_lake, tmp_path):
    done = run_cli("load", "--lake", f"file://{small_lake}", "--warehouse",
                   "duckdb:///wh/f1.duckdb", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"-> duckdb file {tmp_path}/wh/f1.duckdb: objects " in done.stdout


def _hold(path, seconds: float) -> subprocess.Popen:
    """Another process holding the DuckDB file for writing for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(float(sys.argv[2]))", str(path), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_query_and_load_wait_out_a_short_lock_with_backoff(small_lake, tmp_path):
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    assert run_cli("load", "--lake", f"file://{small_lake}", "--warehouse", url).returncode == 0
    holder = _hold(tmp_path / "f1.duckdb", 2.0)
    started = time.monotonic()
    done = run_cli("query", "SELECT COUNT(*) AS n FROM laps", "--warehouse", url,
                   "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "40"]
    assert time.monotonic() - started >= 1.0  # it did wait for the holder
    holder.wait()
    holder = _hold(tmp_path / "f1.duckdb", 2.0)
    assert run_cli("load", "--lake", f"file://{small_lake}", "--warehouse",
                   url).returncode == 0
    holder.wait()


def test_a_persistent_lock_is_reported_at_once_in_one_line(tmp_path):
    holder = _hold(tmp_path / "f1.duckdb", 30.0)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as caught:
            connect_with_retry(str(tmp_path / "f1.duckdb"), retry=LockRetry(timeout_s=1.0))
        assert time.monotonic() - started < 3.0
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"DuckDB file {tmp_path}/f1.duckdb stayed locked by ")
        assert f"(PID {holder.pid}) for 1 s: only one process may write it" in message
        assert isinstance(caught.value, F1PipeError)
    finally:
        holder.kill()
        holder.wait()
