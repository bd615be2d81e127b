"""Lake -> warehouse: list objects, skip those in ``load_history``, land the rest, MERGE.

An object is identified by its key and fingerprint (ETag / MD5): loaded once, re-loaded only
if rewritten. A corrupt object is reported and skipped (not recorded, so the next load
retries it); the others load. A record the warehouse cannot convert (a value out of its
column's range, a bad timestamp...) goes to ``load_rejects`` with its reason; the rest of
its object loads. New objects load in batches: a batch is merged into the model (idempotent),
then its raw rows, rejects and ``load_history`` rows commit in one transaction, so a load
killed at any point keeps every batch it committed and leaves no raw row of the others; the
next load does them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError, LandingError
from f1pipe.lake.listing import LakeObject, describe_objects, list_objects
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse import sql
from f1pipe.warehouse.destination import Destination, connect
from f1pipe.warehouse.held import HeldWarehouse
from f1pipe.warehouse.model import MODEL, ModelTable

Log = Callable[[str], None]
BATCH_OBJECTS = 1_000  # objects per transaction, at most
BATCH_BYTES = 192 << 20  # and at most this many bytes of objects (or one object)


@dataclass
class LoadSummary:
    """What one load did. ``records`` counts records landed per model table in this load;
    ``table_rows`` the rows of each model table afterwards."""

    objects_loaded: int = 0
    objects_skipped: int = 0  # already in load_history
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object key, reason)
    records: dict[str, int] = field(default_factory=dict)
    rejected_records: int = 0  # put in load_rejects (unconvertible values, unknown schemas)
    unrouted_records: int = 0  # of them: records of no known schema
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
    """Create the landing, history, raw and model tables if missing (the session's landing
    table always: it is temporary; each batch makes its own working tables). When the
    destination can list its tables' columns (DuckDB) and every table is there with every
    column, that one look is all: the streaming landing loads several times a second."""
    d = dest.dialect
    dest.execute(sql.create_landing(d))
    if _schema_complete(dest):
        return
    dest.execute(sql.create_load_history(d))
    dest.execute(sql.create_load_rejects(d))
    for table in MODEL:
        dest.execute(sql.create_raw(d, table))
        dest.execute(sql.create_model(d, table))
        upgrade_model_table(dest, table)


def _schema_complete(dest: Destination) -> bool:
    """Whether every persistent table exists with every column of the model (False when
    the destination cannot tell cheaply)."""
    columns_of = getattr(dest, "table_columns", None)
    if columns_of is None:
        return False
    have = columns_of()
    wanted = {sql.LOAD_HISTORY: set(), sql.LOAD_REJECTS: set()}
    for table in MODEL:
        wanted[table.raw] = set()
        wanted[table.name] = set(table.column_names)
    return all(name in have and columns <= have[name] for name, columns in wanted.items())


def upgrade_model_table(dest: Destination, table) -> None:
    """Add the columns a model table created by an older f1pipe lacks (``session_type``,
    ``is_completed``...), filling ``session_type`` from the session code."""
    have = set(dest.fetch(f"SELECT * FROM {table.name} WHERE 1 = 0")[0])
    missing = [c for c in table.column_names if c not in have]
    for column in missing:
        dest.execute(sql.add_column(dest.dialect, table, column))
    if "session_type" in missing:
        dest.execute(sql.fill_session_type(table))


@dataclass
class LoadMemory:
    """What a loading loop's earlier loads left recorded in ``load_history``: the objects
    (key, fingerprint) and the warehouse file as the last load left it (device, inode, size,
    modification time: any other writer, or a new file, changes them; readers do not). A
    load that lists nothing else, into the unchanged file, need not open it at all: the
    streaming landing loads several times a second, mostly to find one or two new objects,
    or none. Only for DuckDB files (another warehouse is always asked)."""

    recorded: set[tuple[str, str]] = field(default_factory=set)
    warehouse: tuple[int, ...] | None = None

    def covers(self, objects: list[LakeObject]) -> bool:
        """Whether every one of ``objects`` (key, fingerprint) was recorded already."""
        return all((o.key, o.etag) in self.recorded for o in objects)

    def after_close(self, warehouse_url: str) -> None:
        """The caller has just closed the connection it held for its loads: the file as it
        is now (checkpointed) is the one those loads left; nobody else could write it."""
        self.warehouse = warehouse_identity(warehouse_url)


def load(settings: Settings, lake_url: str, warehouse_url: str, *,
         log: Log | None = None, memory: LoadMemory | None = None,
         held: HeldWarehouse | None = None, count_rows: bool = True,
         only: Iterable[str] | None = None) -> LoadSummary:
    """Load every new object of the lake into the warehouse; returns what was done.

    ``memory``: kept by a caller that loads again and again (:class:`LoadMemory`); when
    every listed object is in it and the warehouse file is the same, nothing is opened
    (summary: every object skipped, no ``table_rows``). ``held``: a connection the caller
    keeps between loads (:class:`~f1pipe.warehouse.held.HeldWarehouse`), used and left
    open (closed if the load fails); while it is open no other process writes the file.
    ``count_rows``: count each model table's rows afterwards (``table_rows``). ``only``: the
    keys of the objects to look at (just written, as the streaming landing is told), instead
    of listing the whole lake."""
    started = time.monotonic()
    lake = LakeUrl.parse(lake_url)
    objects = (list_objects(settings, lake) if only is None
               else describe_objects(settings, lake, only))
    identity = warehouse_identity(warehouse_url) if memory is not None else None
    # Unchanged since the last load: we hold the file, or it is as that load left it.
    unchanged = (held is not None and held.is_open) or (
        identity is not None and memory is not None and identity == memory.warehouse)
    if unchanged and memory is not None and memory.covers(objects):
        return LoadSummary(objects_skipped=len(objects), records={t.name: 0 for t in MODEL},
                           elapsed_s=time.monotonic() - started)
    dest = held.open() if held is not None else connect(settings, warehouse_url)
    try:
        # Nobody else wrote the warehouse since the last load: its memory is the history of
        # every object listed then; only the others are looked up.
        known = memory.recorded if unchanged and memory is not None else None
        summary = _load(dest, lake, objects, log or (lambda _: None),
                        settings.load_batch_objects,
                        schema_ready=held is not None and held.schema_ready,
                        known=known, count_rows=count_rows)
    except BaseException:
        if held is not None:
            held.close()  # the connection may be broken: the next load opens another
        raise
    finally:
        if held is None:
            dest.close()
    if held is not None:
        held.schema_ready = True
    if memory is not None:
        failed = {key for key, _ in summary.failed}
        if memory.warehouse != identity:
            memory.recorded.clear()
        memory.warehouse = warehouse_identity(warehouse_url)
        memory.recorded.update((o.key, o.etag) for o in objects if o.key not in failed)
    summary.elapsed_s = time.monotonic() - started
    return summary


def warehouse_identity(warehouse_url: str) -> tuple[int, ...] | None:
    """(device, inode, size, mtime in ns) of a ``duckdb://`` warehouse file; None for another
    warehouse, an in-memory or missing file, or one with a write-ahead log left (another
    writer's work in progress)."""
    if not warehouse_url.startswith("duckdb://"):
        return None
    from f1pipe.warehouse.duckdb.client import database_path

    path = database_path(warehouse_url)
    if path == ":memory:":
        return None
    if os.path.exists(f"{path}.wal"):
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _load(dest: Destination, lake: LakeUrl, objects: list[LakeObject], log: Log,
          max_objects: int = BATCH_OBJECTS, schema_ready: bool = False,
          known: set[tuple[str, str]] | None = None, count_rows: bool = True) -> LoadSummary:
    if not schema_ready:  # once per connection: tables, and the session's load settings
        ensure_schema(dest)
        for setting in dest.dialect.load_settings:
            dest.execute(setting)
    seen = _history_of(dest, objects, known)
    new = [o for o in objects if (o.key, o.etag) not in seen]
    loaded_keys = {key for key, _ in seen}
    summary = LoadSummary(objects_skipped=len(objects) - len(new),
                          records={t.name: 0 for t in MODEL})
    if new:
        dest.attach_lake(lake)
    for batch in batches(new, max_objects):
        rewritten = [o.key for o in batch if o.key in loaded_keys]
        _load_batch(dest, batch, summary, log, rewritten)
    if count_rows:
        summary.table_rows = table_counts(dest)
    return summary


HISTORY_LOOKUP_MAX = 500  # objects looked up by key in load_history; more: read it all


def _history_of(dest: Destination, objects: list[LakeObject],
                known: set[tuple[str, str]] | None) -> set[tuple[str, str]]:
    """(key, fingerprint) of the ``load_history`` rows of ``objects``' keys (and maybe
    others). ``known``: history rows known already (a loop's memory, on the connection it
    holds), so only the keys of the objects not in it are looked up: a loop that lists
    thousands of objects a race long reads a few history rows per load, not all."""
    everything = f"SELECT object_key, etag FROM {sql.LOAD_HISTORY}"
    if known is None:
        return set(dest.fetch(everything)[1])
    listed = {(o.key, o.etag) for o in objects}
    seen = listed & known
    keys = sorted({key for key, etag in listed - seen})
    if len(keys) > HISTORY_LOOKUP_MAX:
        return set(dest.fetch(everything)[1])
    if keys:
        marks = ", ".join([dest.dialect.param] * len(keys))
        seen.update(dest.fetch(f"{everything} WHERE object_key IN ({marks})", tuple(keys))[1])
    return seen


def batches(objects: list[LakeObject], max_objects: int = BATCH_OBJECTS,
            max_bytes: int = BATCH_BYTES) -> Iterator[list[LakeObject]]:
    """The objects in runs of at most ``max_objects`` and ``max_bytes`` (one at least)."""
    batch: list[LakeObject] = []
    size = 0
    for obj in objects:
        if batch and (len(batch) == max_objects or size + obj.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(obj)
        size += obj.size
    if batch:
        yield batch


def _load_batch(dest: Destination, objects: list[LakeObject], summary: LoadSummary,
                log: Log, rewritten: list[str] | None = None) -> None:
    """Stage the batch's objects, MERGE them, then commit rejects, raw rows and history
    in one transaction.

    ``rewritten``: keys of objects loaded before under another fingerprint (a consumer
    killed after writing, before committing, rewrote them with other batch bounds): their
    earlier raw rows and rejects are replaced, so the raw tables hold each object's records
    once, as the lake has them now.

    The MERGEs run in the transaction where the dialect allows it
    (``merges_in_transaction``: DuckDB, one commit per load); else just before it: the
    Snowflake emulator the tests run on (fakesnow) cannot MERGE in a transaction that
    already wrote, and a MERGE is idempotent (the newest version wins, an equal one changes
    nothing), so a load killed between the two merges the batch again, without effect, and
    commits the rest."""
    d = dest.dialect
    dest.execute(sql.create_batch(d))
    load_id = uuid.uuid4().hex
    history = _stage_objects(dest, objects, load_id, summary, log)
    staged = _stage_batch(dest)
    loadable, rejected = _count_staged(dest, staged, summary)
    tables = [t for t in MODEL if loadable.get(t.name)]
    if not d.merges_in_transaction:
        _merge(dest, tables)
    now = _now()
    with transaction(dest):
        if d.merges_in_transaction:
            _merge(dest, tables)
        if rewritten:
            _forget_objects(dest, rewritten)
        if rejected:
            dest.execute(sql.insert_rejects(d, staged), (load_id, now))
        for table in tables:
            dest.execute(sql.route_staged(d, table), (load_id, now))
        if history:
            dest.execute(sql.insert_load_history(d, len(history)),
                         tuple(value for row in history for value in row))
    for table in staged:
        dest.execute(sql.drop_staged(table))
    for table, count in loadable.items():
        summary.records[table] += count
    summary.objects_loaded += len(history)


def _merge(dest: Destination, tables: list[ModelTable]) -> None:
    """MERGE the staged records of ``tables`` into them. Idempotent: a batch merged twice
    (a crash, then a reload) is as if merged once."""
    for table in tables:
        dest.execute(sql.merge(dest.dialect, table))


def _forget_objects(dest: Destination, keys: list[str]) -> None:
    """Delete the raw rows and rejects landed from objects ``keys`` (in the caller's
    transaction)."""
    marks = ", ".join([dest.dialect.param] * len(keys))
    for table in [*{t.raw for t in MODEL}, sql.LOAD_REJECTS]:
        dest.execute(f"DELETE FROM {table} WHERE object_key IN ({marks})", tuple(keys))


def _stage_objects(dest: Destination, objects: list[LakeObject], load_id: str,
                   summary: LoadSummary, log: Log) -> list[tuple]:
    """Add the records of ``objects`` to the batch: the JSON-lines ones in one read and the
    Parquet ones in another when the destination can (DuckDB), else (or if one of them is
    unreadable) one by one; returns
    the ``load_history`` rows of the objects staged."""
    counts: dict[str, int] = {}
    for fmt in ("json", "parquet"):
        together = [o for o in objects if o.format == fmt] if hasattr(dest, "land_many") else []
        if len(together) > 1:
            with suppress(LandingError):  # one of them is unreadable: one by one says which
                counts.update(dest.land_many(together))
    history = []
    for obj in objects:
        if obj.key in counts:
            records = counts[obj.key]
        else:
            try:
                records = _stage_object(dest, obj)
            except LandingError as exc:
                summary.failed.append((obj.key, str(exc).removeprefix(f"{obj.key}: ")))
                log(f"skipped unreadable object {exc}")
                continue
        history.append((obj.key, obj.etag, obj.size, obj.format, records, load_id, _now()))
    return history


def _stage_object(dest: Destination, obj: LakeObject) -> int:
    """Land one object and add its records to the batch; returns its record count."""
    dest.execute(f"DELETE FROM {sql.LANDING}")
    dest.land(obj)
    dest.execute(sql.collect_landing(dest.dialect), (obj.key,))
    return dest.fetch(f"SELECT COUNT(*) FROM {sql.LANDING}")[1][0][0]


def _stage_batch(dest: Destination) -> list[ModelTable | None]:
    """Stage the batch's records per schema, each with the reason it cannot load (if so);
    returns the model tables staged (None for records of no known schema)."""
    d = dest.dialect
    per_schema = dict(dest.fetch(sql.count_batch())[1])
    staged: list[ModelTable | None] = [t for t in MODEL if per_schema.get(t.schema_name)]
    for table in staged:
        dest.execute(sql.stage_rows(d, table))
    known = [t.schema_name for t in MODEL]
    if any(name not in known for name in per_schema):
        dest.execute(sql.stage_unknown(d, known))
        staged.append(None)
    return staged


def _count_staged(dest: Destination, staged: list[ModelTable | None],
                  summary: LoadSummary) -> tuple[dict[str, int], int]:
    """Count the staged records into ``summary``'s rejects; returns the loadable ones per
    model table and the batch's rejects."""
    if not staged:
        return {}, 0
    table_of = {t.schema_name: t.name for t in MODEL}
    loadable: dict[str, int] = {}
    rejected = 0
    for schema_name, ok, count in dest.fetch(sql.count_staged(staged))[1]:
        if ok:
            loadable[table_of[schema_name]] = count
            continue
        rejected += count
        if schema_name not in table_of:
            summary.unrouted_records += count
    summary.rejected_records += rejected
    return loadable, rejected


@contextmanager
def transaction(dest: Destination) -> Iterator[None]:
    """Run the block in one transaction: committed whole, or rolled back."""
    dest.execute(sql.BEGIN)
    try:
        yield
    except BaseException:
        # If the connection is gone, the warehouse drops the transaction itself.
        with suppress(F1PipeError):
            dest.execute(sql.ROLLBACK)
        raise
    dest.execute(sql.COMMIT)


def table_counts(dest: Destination) -> dict[str, int]:
    """Rows per model table (one query: a UNION ALL of counts, which DuckDB runs several
    times faster than scalar subqueries)."""
    counts = " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM {t.name}"
                                for i, t in enumerate(MODEL))
    found = dict(dest.fetch(counts)[1])
    return {t.name: found[i] for i, t in enumerate(MODEL)}


def _now() -> datetime:
    """Load time: UTC without time zone (the warehouses' TIMESTAMP / TIMESTAMP_NTZ)."""
    return datetime.now(UTC).replace(tzinfo=None)
