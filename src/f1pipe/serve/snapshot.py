"""The server's view of the warehouse: an in-memory copy of the model tables, refreshed
when the DuckDB file changes.

A DuckDB file has one writing process at a time, and while ``f1pipe land`` (or ``load``)
holds it no other process may open it, not even read-only. So the server never queries the
file: it copies the model tables into an in-memory database (opening the file read-only for
the copy only, with backoff while a writer holds it) and answers every request from that
copy. A refresh builds a new copy beside the one serving and swaps them, so requests never
wait for the writer and the writer waits at most one copy (tens of ms) for the server. The
copy is frozen after it is built: no access to any file (``enable_external_access`` off, the
configuration locked), and it is a copy, so no request can change the warehouse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.warehouse.model import MODEL

log = logging.getLogger(__name__)
LOCK_CONFLICT = "Could not set lock on file"


def duckdb_file(warehouse_url: str) -> Path:
    """The file of a ``duckdb:///PATH`` URL; ConfigError for anything else."""
    if not warehouse_url.startswith("duckdb://"):
        raise ConfigError(f"f1pipe serve reads a DuckDB warehouse, got {warehouse_url!r}: "
                          "set F1PIPE_WAREHOUSE or --warehouse to duckdb:///PATH")
    path = warehouse_url.removeprefix("duckdb://").removeprefix("/")
    if not path or path == ":memory:":
        raise ConfigError(f"warehouse {warehouse_url!r} names no file: use duckdb:///PATH")
    return Path(path)


@dataclass(frozen=True)
class Copy:
    """One frozen in-memory copy and what it was made from."""

    con: duckdb.DuckDBPyConnection
    tables: frozenset[str]
    stamp: tuple[float, int]  # file mtime and size (of the file and its WAL) copied
    made_at: float  # time.time()
    seconds: float  # how long the copy took


class WarehouseSnapshot:
    """The in-memory copy the API and pages read; :meth:`cursor` gives a per-request cursor.

    ``tables``: the model tables to copy (default: all of them); ``prepare``: called on each
    new copy before it is frozen (derived tables).
    ``refresh_every_s``: how often a background thread looks at the file (a copy is made
    only when its modification time or size changed). ``lock_timeout_s``: how long one
    refresh keeps trying while a writer holds the file before it gives up until the next.
    """

    def __init__(self, path: Path, tables: tuple[str, ...] | None = None,
                 refresh_every_s: float = 0.5, lock_timeout_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep,
                 prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None):
        self.path = path
        self.prepare = prepare
        self.wanted = tables or tuple(t.name for t in MODEL)
        self.refresh_every_s = refresh_every_s
        self.lock_timeout_s = lock_timeout_s
        self._sleep = sleep
        self._copy: Copy | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshes = 0
        self.lock_waits = 0  # refreshes that found the file held by a writer at first
        self.last_error: str | None = None

    # --- reading ----------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest copy (one per request: cursors are not shared)."""
        copy = self._copy
        if copy is None:
            copy = self.refresh()
        return copy.con.cursor()

    @property
    def tables(self) -> frozenset[str]:
        return self._copy.tables if self._copy else frozenset()

    @property
    def current(self) -> Copy | None:
        return self._copy

    # --- refreshing -------------------------------------------------------------------

    def _stamp(self) -> tuple[float, int]:
        if not self.path.is_file():
            raise F1PipeError(f"DuckDB file {self.path.resolve()} does not exist: run "
                              "f1pipe load (or f1pipe run) first, or pass --warehouse")
        stats = [p.stat() for p in (self.path, Path(f"{self.path}.wal")) if p.exists()]
        return max(s.st_mtime for s in stats), sum(s.st_size for s in stats)

    def refresh(self, force: bool = False) -> Copy:
        """Copy the file's model tables if it changed since the last copy; returns the copy
        serving now. Raises F1PipeError when the file is missing or stays locked."""
        with self._lock:
            stamp = self._stamp()
            if self._copy is not None and not force and self._copy.stamp == stamp:
                return self._copy
            started = time.perf_counter()
            con = self._copy_tables()
            if self.prepare:
                self.prepare(con)
            tables = frozenset(r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables").fetchall())
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            old, self._copy = self._copy, Copy(con, tables, stamp, time.time(),
                                               time.perf_counter() - started)
            self.refreshes += 1
            self.last_error = None
        if old is not None:
            # Requests still reading the old copy keep their cursors; the copy is closed
            # when the last of them is gone (DuckDB keeps it alive while cursors exist).
            del old
        return self._copy

    def _copy_tables(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.01
        while True:
            try:
                con.execute("ATTACH ? AS wh (READ_ONLY)", [str(self.path)])
                break
            except duckdb.IOException as exc:
                if LOCK_CONFLICT not in str(exc):
                    con.close()
                    raise F1PipeError(f"cannot open DuckDB file {self.path.resolve()}: "
                                      f"{_first_line(exc)}") from None
                self.lock_waits += 1
                if time.monotonic() + delay > deadline:
                    con.close()
                    raise F1PipeError(f"DuckDB file {self.path.resolve()} stayed locked by a "
                                      f"writer for {self.lock_timeout_s:g} s: serving the "
                                      "previous copy") from None
                self._sleep(delay)
                delay = min(delay * 2, 0.05)  # short: catch the gaps between loads
        try:
            present = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'").fetchall()}
            for table in self.wanted:
                if table in present:  # names from the model (code), never from a request
                    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM wh."{table}"')
        finally:
            con.execute("DETACH wh")
        return con

    def start(self) -> None:
        """Refresh now (a missing or locked file is logged: requests get its reason until
        it is readable), then in a background thread every ``refresh_every_s``."""
        try:
            self.refresh()
        except F1PipeError as exc:
            self.last_error = str(exc)
            log.warning("warehouse: %s", exc)
        self._thread = threading.Thread(target=self._run, name="warehouse-snapshot",
                                         daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_every_s):
            try:
                self.refresh()
            except F1PipeError as exc:
                if str(exc) != self.last_error:
                    log.warning("warehouse refresh: %s", exc)
                self.last_error = str(exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
