"""A warehouse connection a loading loop keeps open between its loads, for a while.

Opening DuckDB costs ~30 ms (the instance, its catalog) and closing it checkpoints the
write-ahead log: a streaming landing that loads several times a second spent more time
there than loading. :class:`HeldWarehouse` keeps one connection for the loads of up to
``hold_s`` seconds, then closes it (checkpoint) until the next load: DuckDB lets one process
at a time open the file, so readers (``f1pipe serve``'s refresh, ``f1pipe query``) get in
between two holds, during the loop's pause. Snowflake connections are held the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.warehouse.destination import Destination, connect


class HeldWarehouse:
    """One warehouse connection, opened on first use and kept for ``hold_s`` seconds.

    ``schema_ready``: the tables were checked on this connection (the loader checks them
    once per connection, not once per load)."""

    def __init__(self, settings: Settings, warehouse_url: str, hold_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.warehouse_url = warehouse_url
        self.hold_s = hold_s
        self.clock = clock
        self.dest: Destination | None = None
        self.opened_at = 0.0
        self.schema_ready = False
        self.opened = 0  # connections opened so far
        self._closing: threading.Thread | None = None  # a release's close, still running
        self._close_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self.dest is not None

    def open(self) -> Destination:
        """The held connection, opened now if there is none (once a release's close is
        done)."""
        if self.dest is None:
            self.wait_closed()
            self.dest = connect(self.settings, self.warehouse_url)
            self.opened_at = self.clock()
            self.schema_ready = False
            self.opened += 1
        return self.dest

    def release_if_due(self, then: Callable[[], None] | None = None) -> bool:
        """Let the connection go if it has been held ``hold_s`` seconds; returns whether it
        was. It closes (DuckDB checkpoints its log) in a thread of its own while the caller
        pauses for readers; ``then`` runs there once it is closed. The next :meth:`open`
        waits for that (:meth:`wait_closed`)."""
        if self.dest is None or self.clock() - self.opened_at < self.hold_s:
            return False
        dest, self.dest = self.dest, None
        self.schema_ready = False

        def closing() -> None:
            try:
                dest.close()
                if then is not None:
                    then()
            except Exception as exc:  # noqa: BLE001 - raised by wait_closed, as one line
                self._close_error = " ".join(str(exc).split()) or type(exc).__name__

        self._closing = threading.Thread(target=closing, name="warehouse-close", daemon=True)
        self._closing.start()
        return True

    def wait_closed(self) -> None:
        """Wait for a release's close to end; raises :class:`F1PipeError` if it failed."""
        closing, self._closing = self._closing, None
        if closing is not None:
            closing.join()
        error, self._close_error = self._close_error, None
        if error is not None:
            raise F1PipeError(f"closing the warehouse failed: {error}")

    def close(self) -> None:
        """Close the connection (DuckDB checkpoints its log): readers may open the file."""
        dest, self.dest = self.dest, None
        self.schema_ready = False
        try:
            self.wait_closed()
        finally:
            if dest is not None:
                dest.close()

    def fetch(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        """Run one read query on the held connection, or, if none is held, on a read-only
        one opened for it; returns (column names, rows)."""
        if self.dest is not None:
            return self.dest.fetch(sql, params)
        self.wait_closed()
        dest = connect(self.settings, self.warehouse_url, read_only=True)
        try:
            return dest.fetch(sql, params)
        finally:
            dest.close()
