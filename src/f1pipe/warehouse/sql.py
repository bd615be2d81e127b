"""SQL shared by both destinations, generated from the model (:mod:`~f1pipe.warehouse.model`)
and a destination's :class:`~f1pipe.warehouse.dialect.Dialect`.

Flow per load: each new object is copied into ``f1pipe_landing`` (one JSON column ``v``),
routed into the raw table of its schema (``INSERT ... SELECT``), and after all objects the
raw rows of this load are merged into the typed model tables, keeping the newest version
of each fact (by ``produced_at``, then Kafka offset).
"""

from __future__ import annotations

from f1pipe.warehouse.dialect import Dialect
from f1pipe.warehouse.model import RAW_COLUMNS, ModelTable

LANDING = "f1pipe_landing"
LOAD_HISTORY = "load_history"


def create_landing(d: Dialect) -> str:
    """The session's landing table: one JSON column, fresh for each connection."""
    return f"CREATE OR REPLACE {d.temporary} TABLE {LANDING} (v {d.json_type})"


def create_load_history(d: Dialect) -> str:
    t = d.types
    return (
        f"CREATE TABLE IF NOT EXISTS {LOAD_HISTORY} (object_key {t['string']}, "
        f"etag {t['string']}, size_bytes {t['int']}, format {t['string']}, "
        f"records {t['int']}, load_id {t['string']}, loaded_at {t['timestamp']})"
    )


def insert_load_history(d: Dialect) -> str:
    marks = ", ".join([d.param] * 7)
    return (
        f"INSERT INTO {LOAD_HISTORY} (object_key, etag, size_bytes, format, records, load_id, "
        f"loaded_at) VALUES ({marks})"
    )


def create_raw(d: Dialect, table: ModelTable) -> str:
    extra = ", ".join(f"{c.name} {d.types[c.type]}" for c in RAW_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {table.raw} (v {d.json_type}, {extra})"


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


def route_landing(d: Dialect, table: ModelTable) -> str:
    """Copy the landed records of ``table``'s schema into its raw table.

    Parameters: object key, load id, load time.
    """
    coords = [c for c in RAW_COLUMNS if c.source]
    names = ", ".join(c.name for c in coords)
    rows = d.typed_rows([(c.source, c.type, c.name) for c in coords],
                        f"{LANDING} WHERE {d.schema_name} = '{table.schema_name}'",
                        keep_column=True)
    return (
        f"INSERT INTO {table.raw} (v, object_key, {names}, load_id, loaded_at) "
        f"SELECT v, {d.param}, {names}, {d.param}, {d.param} FROM ({rows}) r"
    )


def merge(d: Dialect, table: ModelTable) -> str:
    """MERGE this load's raw rows into the model table. Parameter: load id.

    Within the load, one row per natural key survives (newest by ``produced_at``, then
    offset); it replaces the stored row only when it is newer, so re-loading old objects
    never rolls a fact back. Rows with a null key part are left out.
    """
    typed = d.typed_rows([(c.source, c.type, c.name) for c in table.columns],
                         f"{table.raw} WHERE load_id = {d.param}")
    key = ", ".join(table.key)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in table.key)
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
    names = ", ".join(table.column_names)
    updates = ", ".join(f"{c} = s.{c}" for c in table.column_names if c not in table.key)
    return (
        f"MERGE INTO {table.name} t USING ("
        f"SELECT * FROM ({typed}) x "
        f"WHERE {not_null} "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} "
        f"ORDER BY produced_at DESC, kafka_offset DESC) = 1"
        f") s ON {on} "
        f"WHEN MATCHED AND (s.produced_at > t.produced_at OR (s.produced_at = t.produced_at "
        f"AND s.kafka_offset > t.kafka_offset)) THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) "
        f"VALUES ({', '.join('s.' + n for n in table.column_names)})"
    )
