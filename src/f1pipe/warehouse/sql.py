"""SQL shared by both destinations, generated from the model (:mod:`~f1pipe.warehouse.model`)
and a destination's :class:`~f1pipe.warehouse.dialect.Dialect`.

Flow per load, in batches of objects: the objects' records land in ``f1pipe_batch`` (one
JSON column ``v``, with object key and schema name; all at once on DuckDB, else each object
through ``f1pipe_landing``). Each schema's records are staged in a table of their own
(``f1pipe_staged_<model table>``), their JSON read once into the typed model columns, with,
for a record the warehouse cannot convert, the reason (``stage_rows``); records of no known
schema in ``f1pipe_staged``. The loadable ones are merged
into the typed model tables (the newest version of each fact wins, by ``produced_at`` then
Kafka offset: merging the same records again changes nothing). Then, in one transaction:
records with a reason go to ``load_rejects``, the others to the raw table of their schema,
and the objects are recorded in ``load_history``. A killed load leaves whole batches, never
half of one (at most a batch merged but not recorded, which the next load merges again,
without effect, and records).
"""

from __future__ import annotations

from f1pipe.warehouse.dialect import Dialect
from f1pipe.warehouse.model import RAW_COLUMNS, Column, ModelTable

LANDING = "f1pipe_landing"
BATCH = "f1pipe_batch"
STAGED = "f1pipe_staged"
LOAD_HISTORY = "load_history"
LOAD_REJECTS = "load_rejects"
BEGIN, COMMIT, ROLLBACK = "BEGIN TRANSACTION", "COMMIT", "ROLLBACK"
REASON_VALUE_CHARS = 60  # of the offending value, quoted in a reject's reason


def create_landing(d: Dialect) -> str:
    """The session's landing table: one JSON column, fresh for each connection."""
    return f"CREATE OR REPLACE {d.temporary} TABLE {LANDING} (v {d.json_type})"


def create_batch(d: Dialect) -> str:
    """The session's batch table, empty: the landed records of a batch's objects, with their
    object key and schema name (read once, as they land)."""
    t = d.types
    return (f"CREATE OR REPLACE {d.temporary} TABLE {BATCH} (v {d.json_type}, "
            f"object_key {t['string']}, schema_name {t['string']})")


def collect_landing(d: Dialect) -> str:
    """Add the landed object's records to the batch. Parameter: object key."""
    return (f"INSERT INTO {BATCH} (v, object_key, schema_name) "
            f"SELECT v, {d.param}, {d.schema_name} FROM {LANDING}")


def staged_table(table: ModelTable | None) -> str:
    """The session's staging table of ``table``'s records (None: records of no known schema)."""
    return f"{STAGED}_{table.name}" if table is not None else STAGED


def create_load_rejects(d: Dialect) -> str:
    """Records the warehouse cannot convert: where they came from, why, and the record."""
    t = d.types
    return (
        f"CREATE TABLE IF NOT EXISTS {LOAD_REJECTS} (object_key {t['string']}, "
        f"kafka_topic {t['string']}, kafka_partition {t['int']}, kafka_offset {t['int']}, "
        f"reason {t['string']}, record {_archived(d)}, load_id {t['string']}, "
        f"loaded_at {t['timestamp']})"
    )


def create_load_history(d: Dialect) -> str:
    t = d.types
    return (
        f"CREATE TABLE IF NOT EXISTS {LOAD_HISTORY} (object_key {t['string']}, "
        f"etag {t['string']}, size_bytes {t['int']}, format {t['string']}, "
        f"records {t['int']}, load_id {t['string']}, loaded_at {t['timestamp']})"
    )


def insert_load_history(d: Dialect, rows: int = 1) -> str:
    """One INSERT of ``rows`` load_history rows (7 parameters each, row after row)."""
    marks = ", ".join([f"({', '.join([d.param] * 7)})"] * rows)
    return (
        f"INSERT INTO {LOAD_HISTORY} (object_key, etag, size_bytes, format, records, load_id, "
        f"loaded_at) VALUES {marks}"
    )


def create_raw(d: Dialect, table: ModelTable) -> str:
    extra = ", ".join(f"{c.name} {d.types[c.type]}" for c in RAW_COLUMNS)
    return (f"CREATE TABLE IF NOT EXISTS {table.raw} (v {_archived(d)}, {extra})")


def _archived(d: Dialect) -> str:
    """The type (and storage option) of a JSON column written once and seldom read."""
    return f"{d.json_type} {d.archive_column}".strip()


def create_model(d: Dialect, table: ModelTable) -> str:
    columns = ", ".join(f"{c.name} {d.types[c.type]}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({columns})"


def add_column(d: Dialect, table: ModelTable, column: str) -> str:
    """Add a column the model gained since ``table`` was created (older warehouses)."""
    kind = next(c.type for c in table.columns if c.name == column)
    return f"ALTER TABLE {table.name} ADD COLUMN {column} {d.types[kind]}"


def fill_session_type(table: ModelTable) -> str:
    """Set ``session_type`` of rows loaded before it existed, from the FastF1 code."""
    from f1pipe.schemas import SESSION_TYPES, SPRINT_NAMED_SQ_UNTIL

    cases = " ".join(f"WHEN '{code}' THEN '{kind}'" for code, kind in SESSION_TYPES.items())
    return (
        f"UPDATE {table.name} SET session_type = CASE WHEN session = 'SQ' AND season <= "
        f"{SPRINT_NAMED_SQ_UNTIL} THEN 'sprint' ELSE CASE session {cases} END END "
        "WHERE session_type IS NULL"
    )


def stage_rows(d: Dialect, table: ModelTable) -> str:
    """(Re)create the staging table of ``table``: the batch's records of its schema, each
    with ``v``, ``object_key``, ``reason`` and every model column typed. ``reason`` says why
    the record cannot be loaded (NULL when it can): a missing natural-key part, or the first
    column whose value is present but does not convert to the column's type (as
    ``TRY_CAST`` says). Each record's JSON is read once here (one parse on DuckDB); the
    MERGE, raw rows and rejects read the typed columns. Once per batch: the statement is
    long, planning it per object would cost more than running it."""
    typed, text_of = _typed_select(d, table.columns, f"schema_name = '{table.schema_name}'")
    missing = [f"WHEN {text_of[k]} IS NULL THEN '{k}: missing (part of the natural key)'"
               for k in table.key]
    unconvertible = [
        f"WHEN {text_of[c.name]} IS NOT NULL AND {c.name} IS NULL THEN '{c.name}: cannot "
        f"convert ' || LEFT({text_of[c.name]}, {REASON_VALUE_CHARS}) || ' to {d.types[c.type]}'"
        for c in table.columns if c.type != "json"
    ]
    reason = f"CASE {' '.join(missing + unconvertible)} ELSE NULL END"
    return (f"CREATE OR REPLACE {d.temporary} TABLE {staged_table(table)} AS "
            f"SELECT {_record(d)}, object_key, {reason} AS reason, "
            f"{', '.join(table.column_names)} "
            f"FROM ({typed}) m")


def _typed_select(d: Dialect, columns: tuple[Column, ...] | list[Column],
                  where: str) -> tuple[str, dict[str, str]]:
    """A ``SELECT`` of the batch's records ``where`` holds, with ``v``, ``object_key``,
    ``schema_name`` and each of ``columns`` converted to its type (NULL if it does not
    convert); and the expression reading each column's field as text, by column name (valid
    on that select's rows)."""
    select, texts = d.text_rows([c.source for c in columns], f"{BATCH} WHERE {where}",
                                f"v, object_key, schema_name{_row_id(d)}")
    typed = ", ".join(f"{d.cast_text(c.source, c.type, text)} AS {c.name}"
                      for c, text in zip(columns, texts, strict=True))
    return f"SELECT s.*, {typed} FROM ({select}) s", {
        c.name: text for c, text in zip(columns, texts, strict=True)}


def stage_unknown(d: Dialect, schema_names: list[str]) -> str:
    """(Re)create the staging table of the batch's records of no known schema, as rejects
    (with their Kafka coordinates, as far as they convert)."""
    known = ", ".join(f"'{name}'" for name in schema_names)
    schema = "COALESCE(schema_name, '')"
    coords = [c for c in RAW_COLUMNS if c.source]
    typed, _ = _typed_select(d, coords, f"{schema} NOT IN ({known})")
    return (
        f"CREATE OR REPLACE {d.temporary} TABLE {STAGED} AS "
        f"SELECT {_record(d)}, object_key, 'no model table for schema ' || LEFT({schema}, "
        f"{REASON_VALUE_CHARS}) AS reason, {', '.join(c.name for c in coords)}, "
        f"{schema} AS schema_name FROM ({typed}) m"
    )


def count_batch() -> str:
    """The batch's records per schema name."""
    return f"SELECT schema_name, COUNT(*) FROM {BATCH} GROUP BY schema_name"


def count_staged(tables: list[ModelTable | None]) -> str:
    """Staged records per (schema name, loadable) of the staging tables of ``tables``."""
    return " UNION ALL ".join(
        f"SELECT '{t.schema_name}' AS schema_name, reason IS NULL AS ok, COUNT(*) AS n "
        f"FROM {staged_table(t)} GROUP BY reason IS NULL" if t is not None else
        f"SELECT schema_name, reason IS NULL AS ok, COUNT(*) AS n FROM {STAGED} "
        "GROUP BY schema_name, reason IS NULL"
        for t in tables)


def route_staged(d: Dialect, table: ModelTable) -> str:
    """Copy the loadable staged records of ``table`` into its raw table.

    Parameters: load id, load time.
    """
    names = ", ".join(c.name for c in RAW_COLUMNS if c.source)
    return (
        f"INSERT INTO {table.raw} (v, object_key, {names}, load_id, loaded_at) "
        f"SELECT {_staged_records(d, table)}, {d.param}, {d.param} FROM "
        f"{_staged_with_records(d, table)} WHERE s.reason IS NULL"
    )


def insert_rejects(d: Dialect, tables: list[ModelTable | None]) -> str:
    """Move the staged records of ``tables`` (None: of no known schema) that cannot be
    loaded to ``load_rejects``, in one statement.

    Parameters: load id, load time."""
    rejects = " UNION ALL ".join(
        f"SELECT {_staged_records(d, t)}, s.reason FROM {_staged_with_records(d, t)} "
        "WHERE s.reason IS NOT NULL" for t in tables)
    return (
        f"INSERT INTO {LOAD_REJECTS} (object_key, kafka_topic, kafka_partition, kafka_offset, "
        f"reason, record, load_id, loaded_at) SELECT object_key, LEFT(kafka_topic, 255), "
        f"kafka_partition, kafka_offset, reason, v, {d.param}, {d.param} FROM ({rejects}) r"
    )


def _record(d: Dialect) -> str:
    """What a staging table keeps of each record: the batch row's id where the destination
    has one (the JSON stays in the batch table alone: half the working memory), else the
    JSON itself."""
    return "record_id" if d.row_id else "v"


def _row_id(d: Dialect) -> str:
    return f", {d.row_id} AS record_id" if d.row_id else ""


def _staged_with_records(d: Dialect, table: ModelTable | None) -> str:
    """The staging table of ``table`` as ``s``, joined to the batch (``b``) for the JSON of
    each record where it keeps only their row ids."""
    if not d.row_id:
        return f"{staged_table(table)} s"
    return f"{staged_table(table)} s JOIN {BATCH} b ON b.{d.row_id} = s.record_id"


def _staged_records(d: Dialect, table: ModelTable | None) -> str:
    """The staged records' JSON ``v``, object key and Kafka coordinates (columns of
    :func:`_staged_with_records`)."""
    names = ", ".join(f"s.{c.name}" for c in RAW_COLUMNS if c.source)
    return f"{'b' if d.row_id else 's'}.v, s.object_key, {names}"


def drop_staged(table: ModelTable | None) -> str:
    """Drop a staging table (its records are committed: the memory is released)."""
    return f"DROP TABLE IF EXISTS {staged_table(table)}"


def merge(d: Dialect, table: ModelTable) -> str:
    """MERGE the loadable staged records of ``table`` into it. No parameter.

    Within the batch, one row per natural key survives (newest by ``produced_at``, then
    offset); it replaces the stored row only when it is newer, so re-loading old objects
    never rolls a fact back. Rows with a null key part are left out.
    """
    key = ", ".join(table.key)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in table.key)
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
    names = ", ".join(table.column_names)
    updates = ", ".join(f"{c} = s.{c}" for c in table.column_names if c not in table.key)
    return (
        f"MERGE INTO {table.name} t USING ("
        f"SELECT {names} FROM {staged_table(table)} "
        f"WHERE reason IS NULL AND {not_null} "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} "
        f"ORDER BY produced_at DESC, kafka_offset DESC) = 1"
        f") s ON {on} "
        f"WHEN MATCHED AND (s.produced_at > t.produced_at OR (s.produced_at = t.produced_at "
        f"AND s.kafka_offset > t.kafka_offset)) THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) "
        f"VALUES ({', '.join('s.' + n for n in table.column_names)})"
    )
