"""The interface the loader, checks and queries use, whichever warehouse is behind it.

:func:`connect` picks the destination from the warehouse URL: ``duckdb:///PATH`` (a local
file, the default) or ``snowflake`` (an account from the ``SNOWFLAKE_*`` settings).
"""

from __future__ import annotations

from typing import Any, Protocol

from f1pipe.config import Settings
from f1pipe.errors import ConfigError
from f1pipe.lake.listing import LakeObject
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.dialect import Dialect


class Destination(Protocol):
    dialect: Dialect

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement."""

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple]]:
        """Run one query; returns (column names in lower case, rows)."""

    def attach_lake(self, lake: LakeUrl) -> None:
        """Make the lake readable (stage, file formats, filesystem)."""

    def land(self, obj: LakeObject) -> None:
        """Copy the records of one object into the landing table; raises LandingError."""

    def close(self) -> None:
        """Release the connection."""


def connect(settings: Settings, warehouse_url: str, read_only: bool = False) -> Destination:
    """An open destination for ``duckdb:///PATH`` or ``snowflake``.

    ``read_only``: for queries and checks. DuckDB opens the file read-only with access to
    other files disabled; Snowflake runs only single SELECT (SHOW, DESCRIBE) statements.
    """
    if warehouse_url.startswith("duckdb://"):
        from f1pipe.warehouse.duckdb.client import DuckDBDestination

        return DuckDBDestination.open(settings, warehouse_url, read_only=read_only)
    if warehouse_url == "snowflake":
        from f1pipe.warehouse.snowflake.client import SnowflakeDestination

        return SnowflakeDestination.open(settings, read_only=read_only)
    raise ConfigError(f"warehouse {warehouse_url!r}: expected duckdb:///PATH or snowflake")


def describe(settings: Settings, warehouse_url: str) -> str:
    """Where the warehouse is, for summaries and errors: the resolved DuckDB file, or the
    Snowflake account, database and schema."""
    if warehouse_url.startswith("duckdb://"):
        from f1pipe.warehouse.duckdb.client import resolved_path

        return f"duckdb file {resolved_path(warehouse_url)}"
    return (f"snowflake {settings.snowflake_account}/{settings.snowflake_database}."
            f"{settings.snowflake_schema}")
