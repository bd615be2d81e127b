"""``f1pipe report``: the race page as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.serve.app import race_html, served_tables
from f1pipe.serve.endpoints import add_derived_tables
from f1pipe.serve.snapshot import WarehouseSnapshot, duckdb_file


def write_report(settings: Settings, season: int, rnd: int, session: str, out: Path) -> int:
    """Write the race page of ``season`` / ``rnd`` / ``session`` to ``out``; returns bytes."""
    snapshot = WarehouseSnapshot(duckdb_file(settings.warehouse), served_tables(),
                                 prepare=add_derived_tables)
    snapshot.refresh()
    body = race_html(snapshot, season, rnd, session, inline=True)
    if body is None:
        raise F1PipeError(f"no session {season} round {rnd} {session} in the warehouse: load "
                          f"it with f1pipe run --season {season} --round {rnd}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise F1PipeError(f"cannot write {out}: {exc.strerror}") from None
    return len(body.encode())
