"""DuckDB destination: one database file; lake objects are read with ``read_json_objects`` /
``read_parquet`` (S3 through an fsspec filesystem registered on the connection)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError, LandingError
from f1pipe.lake.listing import LakeObject
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.duckdb import DIALECT
from f1pipe.warehouse.duckdb.sql import land_object


def database_path(warehouse_url: str) -> str:
    """``duckdb:///./f1.duckdb`` -> ``./f1.duckdb``; ``duckdb:///:memory:`` -> ``:memory:``."""
    path = warehouse_url.removeprefix("duckdb://").removeprefix("/")
    if not path:
        raise ConfigError(f"warehouse {warehouse_url!r} names no file: use duckdb:///PATH")
    return path


@dataclass
class DuckDBDestination:
    con: duckdb.DuckDBPyConnection
    settings: Settings
    dialect = DIALECT

    @classmethod
    def open(cls, settings: Settings, warehouse_url: str) -> DuckDBDestination:
        path = database_path(warehouse_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return cls(duckdb.connect(path), settings)
        except duckdb.Error as exc:
            raise F1PipeError(f"cannot open DuckDB file {path}: {_first_line(exc)}") from None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        try:
            self.con.execute(sql, list(params))
        except duckdb.Error as exc:
            verb = " ".join(sql.split()[:2])
            raise F1PipeError(f"DuckDB {verb} failed: {_first_line(exc)}") from None

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple]]:
        try:
            cur = self.con.execute(sql, list(params))
        except duckdb.Error as exc:
            raise F1PipeError(f"query failed: {_first_line(exc)}") from None
        columns = [c[0].lower() for c in cur.description or []]
        return columns, cur.fetchall()

    def attach_lake(self, lake: LakeUrl) -> None:
        if lake.scheme == "s3":
            from f1pipe.lake.s3 import s3_filesystem

            self.con.register_filesystem(s3_filesystem(self.settings))

    def land(self, obj: LakeObject) -> None:
        try:
            self.con.execute(land_object(obj.url, obj.format))
        except duckdb.Error as exc:
            raise LandingError(f"{obj.key}: {_first_line(exc)}") from None

    def close(self) -> None:
        self.con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
