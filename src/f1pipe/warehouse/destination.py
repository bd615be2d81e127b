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


def connect(settings: Settings, warehouse_url: str) -> Destination:
    """An open destination for ``duckdb:///PATH`` or ``snowflake``."""
    if warehouse_url.startswith("duckdb://"):
        from f1pipe.warehouse.duckdb.client import DuckDBDestination

        return DuckDBDestination.open(settings, warehouse_url)
    if warehouse_url == "snowflake":
        from f1pipe.warehouse.snowflake.client import SnowflakeDestination

        return SnowflakeDestination.open(settings)
    raise ConfigError(f"warehouse {warehouse_url!r}: expected duckdb:///PATH or snowflake")
