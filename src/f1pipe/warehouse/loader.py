"""Lake -> warehouse: list objects, skip those in ``load_history``, land the rest, MERGE.

An object is identified by its key and fingerprint (ETag / MD5): loaded once, re-loaded only
if rewritten. A corrupt object is reported and skipped (not recorded, so the next load
retries it); the others load. History rows are written after the MERGE, so a load that
dies half-way is simply done again by the next one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from f1pipe.config import Settings
from f1pipe.errors import LandingError
from f1pipe.lake.listing import LakeObject, list_objects
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse import sql
from f1pipe.warehouse.destination import Destination, connect
from f1pipe.warehouse.model import MODEL

Log = Callable[[str], None]


@dataclass
class LoadSummary:
    """What one load did. ``records`` counts records landed per model table in this load;
    ``table_rows`` the rows of each model table afterwards."""

    objects_loaded: int = 0
    objects_skipped: int = 0  # already in load_history
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object key, reason)
    records: dict[str, int] = field(default_factory=dict)
    unrouted_records: int = 0  # records of no known schema: landed nowhere
    table_rows: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def objects_failed(self) -> int:
        return len(self.failed)

    @property
    def rows_total(self) -> int:
        """Records landed into the model's raw tables by this load."""
        return sum(self.records.values())


def ensure_schema(dest: Destination) -> None:
    """Create the landing, history, raw and model tables if missing."""
    d = dest.dialect
    dest.execute(sql.create_landing(d))
    dest.execute(sql.create_load_history(d))
    for table in MODEL:
        dest.execute(sql.create_raw(d, table))
        dest.execute(sql.create_model(d, table))
        upgrade_model_table(dest, table)


def upgrade_model_table(dest: Destination, table) -> None:
    """Add the columns a model table created by an older f1pipe lacks (``session_type``,
    ``is_completed``...), filling ``session_type`` from the session code."""
    have = set(dest.fetch(f"SELECT * FROM {table.name} WHERE 1 = 0")[0])
    missing = [c for c in table.column_names if c not in have]
    for column in missing:
        dest.execute(sql.add_column(dest.dialect, table, column))
    if "session_type" in missing:
        dest.execute(sql.fill_session_type(table))


def load(settings: Settings, lake_url: str, warehouse_url: str, *,
         log: Log | None = None) -> LoadSummary:
    """Load every new object of the lake into the warehouse; returns what was done."""
    started = time.monotonic()
    lake = LakeUrl.parse(lake_url)
    objects = list_objects(settings, lake)
    dest = connect(settings, warehouse_url)
    try:
        summary = _load(dest, lake, objects, log or (lambda _: None))
    finally:
        dest.close()
    summary.elapsed_s = time.monotonic() - started
    return summary


def _load(dest: Destination, lake: LakeUrl, objects: list[LakeObject], log: Log) -> LoadSummary:
    ensure_schema(dest)
    seen = set(dest.fetch(f"SELECT object_key, etag FROM {sql.LOAD_HISTORY}")[1])
    new = [o for o in objects if (o.key, o.etag) not in seen]
    summary = LoadSummary(objects_skipped=len(objects) - len(new),
                          records={t.name: 0 for t in MODEL})
    load_id = uuid.uuid4().hex
    if new:
        dest.attach_lake(lake)
    history = _land_all(dest, new, load_id, summary, log)
    for table in MODEL:
        if summary.records[table.name]:
            dest.execute(sql.merge(dest.dialect, table), (load_id,))
    for row in history:
        dest.execute(sql.insert_load_history(dest.dialect), row)
    summary.table_rows = table_counts(dest)
    return summary


def _land_all(dest: Destination, objects: list[LakeObject], load_id: str,
              summary: LoadSummary, log: Log) -> list[tuple]:
    """Land each object (an unreadable one is reported and left out); returns the
    load_history rows of those landed."""
    history = []
    for obj in objects:
        try:
            records = _land_object(dest, obj, load_id, summary)
        except LandingError as exc:
            summary.failed.append((obj.key, str(exc).removeprefix(f"{obj.key}: ")))
            log(f"skipped unreadable object {exc}")
            continue
        summary.objects_loaded += 1
        history.append((obj.key, obj.etag, obj.size, obj.format, records, load_id, _now()))
    return history


def _land_object(dest: Destination, obj: LakeObject, load_id: str, summary: LoadSummary) -> int:
    """Land one object and route its records to the raw tables; returns its record count."""
    d = dest.dialect
    dest.execute(f"DELETE FROM {sql.LANDING}")
    dest.land(obj)
    _, rows = dest.fetch(f"SELECT {d.schema_name} AS s, COUNT(*) FROM {sql.LANDING} GROUP BY 1")
    per_schema = {name: count for name, count in rows}
    now = _now()
    for table in MODEL:
        if per_schema.get(table.schema_name):
            dest.execute(sql.route_landing(d, table), (obj.key, load_id, now))
            summary.records[table.name] += per_schema[table.schema_name]
    known = {t.schema_name for t in MODEL}
    summary.unrouted_records += sum(c for name, c in per_schema.items() if name not in known)
    return sum(per_schema.values())


def table_counts(dest: Destination) -> dict[str, int]:
    """Rows per model table."""
    return {t.name: dest.fetch(f"SELECT COUNT(*) FROM {t.name}")[1][0][0] for t in MODEL}


def _now() -> datetime:
    """Load time: UTC without time zone (the warehouses' TIMESTAMP / TIMESTAMP_NTZ)."""
    return datetime.now(UTC).replace(tzinfo=None)
