"""Warehouse: lake -> DuckDB or Snowflake, the model, checks and queries.

Public entry points: :func:`load`, :func:`run_checks`, :func:`query`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from f1pipe.config import Settings
    from f1pipe.warehouse.checks import CheckReport
    from f1pipe.warehouse.loader import LoadSummary


def load(settings: Settings, lake_url: str, warehouse_url: str, **kwargs) -> LoadSummary:
    """Load the lake's new objects into the warehouse (see :mod:`f1pipe.warehouse.loader`)."""
    from f1pipe.warehouse.loader import load as _load

    return _load(settings, lake_url, warehouse_url, **kwargs)


def run_checks(settings: Settings, warehouse_url: str,
               sessions: Sequence[str] | None = None) -> CheckReport:
    """Run the data-quality checks on the model, or on ``sessions`` only (``"2024/12/R"``)
    (see :mod:`f1pipe.warehouse.checks`)."""
    from f1pipe.warehouse.checks import run_checks as _run

    return _run(settings, warehouse_url, sessions=sessions)


def query(settings: Settings, warehouse_url: str, sql: str) -> tuple[list[str], list[tuple]]:
    """Run one SQL query; returns (column names, rows)."""
    from f1pipe.warehouse.destination import connect

    dest = connect(settings, warehouse_url, read_only=True)
    try:
        return dest.fetch(sql)
    finally:
        dest.close()
