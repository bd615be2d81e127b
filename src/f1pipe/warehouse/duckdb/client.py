"""DuckDB destination: one database file; lake objects are read with ``read_json_objects`` /
``read_parquet`` (S3 through an fsspec filesystem registered on the connection).

DuckDB lets one process at a time hold a file for writing, and no other process may open it
then, not even to read. Every f1pipe command therefore holds the file only while it works
(a load, a query), and opening it retries with backoff while another process holds it
(:func:`connect_with_retry`); past the deadline it fails with one line naming the holder.
Readers (``f1pipe query``, ``check``, ``standings``) open it read-only with file access off:
they cannot change the warehouse, nor read or write any other file.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError, LandingError
from f1pipe.lake.listing import LakeObject
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.duckdb import DIALECT
from f1pipe.warehouse.duckdb.sql import land_json_objects, land_object, land_parquet_objects
from f1pipe.warehouse.sql import BATCH

LOCK_CONFLICT = "Could not set lock on file"
READ_ONLY_CONFIG = {"enable_external_access": False, "lock_configuration": True}
# A load's working memory (DuckDB spills beyond it to <file>.tmp) and threads: bounded, so
# a large lake loads in a flat few hundred MB beside the other processes of the machine.
MEMORY_LIMIT = "512MB"
WRITE_CONFIG = {"memory_limit": MEMORY_LIMIT, "threads": max(1, min(4, os.cpu_count() or 1))}


class WarehouseLockedError(F1PipeError):
    """The DuckDB file stayed locked by another process past the retry deadline."""


@dataclass(frozen=True)
class LockRetry:
    """How long to keep trying to open a DuckDB file another process holds (seconds)."""

    timeout_s: float = 30.0
    first_delay_s: float = 0.05
    max_delay_s: float = 1.0


def database_path(warehouse_url: str) -> str:
    """The SQLAlchemy convention: ``duckdb:///f1.duckdb`` and ``duckdb:///./data/f1.duckdb``
    are relative to the working directory, ``duckdb:////srv/f1.duckdb`` (four slashes) is
    absolute; ``duckdb:///:memory:`` is an in-memory database."""
    path = warehouse_url.removeprefix("duckdb://").removeprefix("/")
    if not path:
        raise ConfigError(f"warehouse {warehouse_url!r} names no file: use duckdb:///PATH "
                          "(relative) or duckdb:////PATH (absolute)")
    return path


def resolved_path(warehouse_url: str) -> str:
    """The absolute file a ``duckdb://`` URL names (for messages and summaries)."""
    return _abs(database_path(warehouse_url))


def connect_with_retry(path: str, read_only: bool = False, retry: LockRetry = LockRetry(),
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, retrying with backoff while another process holds its lock.

    Raises :class:`WarehouseLockedError` (one line, naming the file and the holder) once
    ``retry.timeout_s`` has passed, :class:`F1PipeError` at once for any other failure.
    """
    deadline = clock() + retry.timeout_s
    delay = retry.first_delay_s
    while True:
        try:
            return _connect(path, read_only)
        except duckdb.IOException as exc:
            if LOCK_CONFLICT not in str(exc):
                raise F1PipeError(f"cannot open DuckDB file {_abs(path)}: "
                                  f"{_first_line(exc)}") from None
            if clock() + delay > deadline:
                raise _locked(path, exc, retry.timeout_s) from None
        sleep(delay)
        delay = min(delay * 2, retry.max_delay_s)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        return duckdb.connect(path, config=WRITE_CONFIG)
    if path != ":memory:" and not Path(path).is_file():
        raise F1PipeError(f"DuckDB file {_abs(path)} does not exist: run f1pipe load first "
                          "(duckdb:///PATH is relative, duckdb:////PATH absolute)")
    return duckdb.connect(path, read_only=True, config=READ_ONLY_CONFIG)


def _locked(path: str, exc: Exception, timeout_s: float) -> WarehouseLockedError:
    holder = re.search(r"held in (.*?) \(PID (\d+)\)", str(exc))
    by = f" by {holder.group(1)} (PID {holder.group(2)})" if holder else ""
    return WarehouseLockedError(
        f"DuckDB file {_abs(path)} stayed locked{by} for {timeout_s:g} s: "
        "only one process may write it; stop that process or retry")


@dataclass
class DuckDBDestination:
    con: duckdb.DuckDBPyConnection
    settings: Settings
    dialect = DIALECT

    @classmethod
    def open(cls, settings: Settings, warehouse_url: str, read_only: bool = False,
             retry: LockRetry = LockRetry()) -> DuckDBDestination:
        """Open the file (created for writing if missing; read-only: must exist)."""
        path = database_path(warehouse_url)
        if path != ":memory:" and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return cls(connect_with_retry(path, read_only, retry), settings)
        except duckdb.Error as exc:
            raise F1PipeError(f"cannot open DuckDB file {_abs(path)}: {_first_line(exc)}") from None

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

    def land_many(self, objects: list[LakeObject]) -> dict[str, int]:
        """Read many objects of one format (JSON lines, or Parquet) into the batch table at
        once; returns records per object key. Raises LandingError (nothing added) if one
        cannot be read: the loader then lands them one by one to tell which."""
        land = land_parquet_objects if objects[0].format == "parquet" else land_json_objects
        keys = [o.key for o in objects]
        try:
            self.con.execute("BEGIN TRANSACTION")
            self.con.execute(land([(o.url, o.key) for o in objects]))
            counts = dict(self.con.execute(
                f"SELECT object_key, COUNT(*) FROM {BATCH} WHERE object_key IN "
                f"(SELECT unnest($keys)) GROUP BY object_key", {"keys": keys}).fetchall())
            if any(o.key not in counts for o in objects):
                raise duckdb.Error("an object gave no records (or its name did not match)")
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise LandingError(f"batch of {len(objects)}: {_first_line(exc)}") from None
        return counts

    def table_columns(self) -> dict[str, set[str]]:
        """The main schema's tables and their columns (lower case), from DuckDB's catalog."""
        rows = self.con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = current_schema()"
            ).fetchall()
        tables: dict[str, set[str]] = {}
        for table, column in rows:
            tables.setdefault(table.lower(), set()).add(column.lower())
        return tables

    def close(self) -> None:
        self.con.close()


def _abs(path: str) -> str:
    return path if path == ":memory:" else str(Path(path).resolve())


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
