"""``f1pipe transform`` and the marts' tests: by f1pipe's in-process runner where the
destination can run the compiled project (DuckDB), else by dbt itself (Snowflake).

The choice is data: :attr:`~f1pipe.warehouse.dialect.Dialect.runs_compiled_transform` of the
destination, and the ``F1PIPE_TRANSFORM_ENGINE`` setting (``dbt`` forces dbt everywhere).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from f1pipe.config import Settings
from f1pipe.transform.compiled import compiled_project
from f1pipe.transform.incremental import build_marts, run_tests
from f1pipe.transform.runner import TransformSummary, dbt_checks, dbt_run_marts
from f1pipe.warehouse.checks import CheckResult, parse_sessions
from f1pipe.warehouse.destination import connect


def _compiled(settings: Settings, warehouse_url: str, engine: str | None) -> bool:
    if (engine or settings.transform_engine) == "dbt":
        return False
    from f1pipe.warehouse.duckdb import DIALECT as DUCKDB
    from f1pipe.warehouse.snowflake import DIALECT as SNOWFLAKE

    dialect = DUCKDB if warehouse_url.startswith("duckdb://") else SNOWFLAKE
    return dialect.runs_compiled_transform


def transform(settings: Settings, warehouse_url: str | None = None, full_refresh: bool = False,
              engine: str | None = None) -> TransformSummary:
    """Build the marts on the warehouse: on DuckDB only for the sessions whose facts changed
    (every session when ``full_refresh``); with dbt (``engine="dbt"``, Snowflake) every
    session. Returns what each mart did; raises a one-line F1PipeError when one failed
    (the DuckDB runner then leaves every mart as it was)."""
    url = warehouse_url or settings.warehouse
    if not _compiled(settings, url, engine):
        return dbt_run_marts(settings, url, full_refresh=full_refresh)
    started = time.perf_counter()
    project = compiled_project(settings)  # dbt compile only when dbt/ changed
    dest = connect(settings, url)
    try:
        summary = build_marts(dest.con, project, full_refresh=full_refresh)
    finally:
        dest.close()
    summary.warehouse = url
    summary.elapsed_s = time.perf_counter() - started
    return summary


def dbt_tests(settings: Settings, warehouse_url: str | None = None,
                sessions: Sequence[str] | None = None, engine: str | None = None,
                facts_only: bool = False) -> list[CheckResult]:
    """The dbt tests (only the facts' when ``facts_only``: the marts are not built), one
    check result per test, judging only ``sessions`` ("2024/12/R"; None: every session).
    On DuckDB the results hold the failing rows; with dbt itself (Snowflake) their count."""
    url = warehouse_url or settings.warehouse
    wanted = sorted(parse_sessions(sessions)) if sessions is not None else None
    if not _compiled(settings, url, engine):
        return dbt_checks(settings, url, wanted, facts_only=facts_only)
    project = compiled_project(settings)
    dest = connect(settings, url, read_only=True)
    try:
        return run_tests(dest.con, project, wanted, facts_only=facts_only)
    finally:
        dest.close()
