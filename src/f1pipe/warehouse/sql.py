"""SQL shared by both destinations, generated from the model (:mod:`~f1pipe.warehouse.model`)
and a destination's :class:`~f1pipe.warehouse.dialect.Dialect`.

Flow per load, in batches of objects: each object is copied into ``f1pipe_landing`` (one
JSON column ``v``) and collected with its key in ``f1pipe_batch``; the batch's records are
staged in ``f1pipe_staged`` with their schema and, for a record the warehouse cannot convert,
the reason (``stage_rows``). The loadable ones are merged
into the typed model tables (the newest version of each fact wins, by ``produced_at`` then
Kafka offset: merging the same records again changes nothing). Then, in one transaction:
records with a reason go to ``load_rejects``, the others to the raw table of their schema,
and the objects are recorded in ``load_history``. A killed load leaves whole batches, never
half of one (at most a batch merged but not recorded, which the next load merges again,
without effect, and records).
"""

from __future__ import annotations

from f1pipe.warehouse.dialect import Dialect
from f1pipe.warehouse.model import RAW_COLUMNS, ModelTable

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
    """The session's batch table: the landed records of a batch's objects, with their key."""
    return (f"CREATE OR REPLACE {d.temporary} TABLE {BATCH} (v {d.json_type}, "
            f"object_key {d.types['string']})")


def collect_landing(d: Dialect) -> str:
    """Add the landed object's records to the batch. Parameter: object key."""
    return f"INSERT INTO {BATCH} (v, object_key) SELECT v, {d.param} FROM {LANDING}"


def create_staged(d: Dialect) -> str:
    """The session's staging table: records of a batch, with object key, schema name and the
    reason a record cannot be loaded (NULL when it can)."""
    t = d.types
    return (f"CREATE OR REPLACE {d.temporary} TABLE {STAGED} (v {d.json_type}, "
            f"object_key {t['string']}, schema_name {t['string']}, reason {t['string']})")


def create_load_rejects(d: Dialect) -> str:
    """Records the warehouse cannot convert: where they came from, why, and the record."""
    t = d.types
    return (
        f"CREATE TABLE IF NOT EXISTS {LOAD_REJECTS} (object_key {t['string']}, "
        f"kafka_topic {t['string']}, kafka_partition {t['int']}, kafka_offset {t['int']}, "
        f"reason {t['string']}, record {d.json_type}, load_id {t['string']}, "
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


def stage_rows(d: Dialect, table: ModelTable) -> str:
    """Stage the batch's records of ``table``'s schema, each with the reason it cannot be
    loaded: the first column whose value is present but does not convert to the column's
    type (as ``TRY_CAST`` says), or a missing natural-key part. Once per batch: the
    statement is long, planning it per object would cost more than running it."""
    checked = [c for c in table.columns if c.type != "json"]
    select, texts = d.text_rows([c.source for c in checked],
                                f"{BATCH} WHERE {d.schema_name} = '{table.schema_name}'",
                                "v, object_key")
    text_of = {c.name: text for c, text in zip(checked, texts, strict=True)}
    missing = [f"WHEN {text_of[k]} IS NULL THEN '{k}: missing (part of the natural key)'"
               for k in table.key]
    unconvertible = [
        f"WHEN {text_of[c.name]} IS NOT NULL AND TRY_CAST({text_of[c.name]} AS "
        f"{d.types[c.type]}) IS NULL THEN '{c.name}: cannot convert ' || "
        f"LEFT({text_of[c.name]}, {REASON_VALUE_CHARS}) || ' to {d.types[c.type]}'"
        for c in checked
    ]
    reason = f"CASE {' '.join(missing + unconvertible)} ELSE NULL END"
    return (f"INSERT INTO {STAGED} (v, object_key, schema_name, reason) "
            f"SELECT v, object_key, '{table.schema_name}', {reason} FROM ({select}) s")


def stage_unknown(d: Dialect, schema_names: list[str]) -> str:
    """Stage the batch's records of no known schema, as rejects."""
    known = ", ".join(f"'{name}'" for name in schema_names)
    schema = f"COALESCE({d.schema_name}, '')"
    return (
        f"INSERT INTO {STAGED} (v, object_key, schema_name, reason) "
        f"SELECT v, object_key, {schema}, 'no model table for schema ' || "
        f"LEFT({schema}, {REASON_VALUE_CHARS}) FROM {BATCH} WHERE {schema} NOT IN ({known})"
    )


def count_batch(d: Dialect) -> str:
    """The batch's records per schema name."""
    return f"SELECT {d.schema_name} AS s, COUNT(*) FROM {BATCH} GROUP BY 1"


def count_staged() -> str:
    """Staged records per (schema name, loadable)."""
    return (f"SELECT schema_name, reason IS NULL AS ok, COUNT(*) FROM {STAGED} "
            "GROUP BY schema_name, reason IS NULL")


def route_staged(d: Dialect, table: ModelTable) -> str:
    """Copy the loadable staged records of ``table``'s schema into its raw table.

    Parameters: load id, load time.
    """
    coords = [c for c in RAW_COLUMNS if c.source]
    names = ", ".join(c.name for c in coords)
    rows = d.typed_rows([(c.source, c.type, c.name) for c in coords],
                        f"{STAGED} WHERE schema_name = '{table.schema_name}' AND reason IS NULL",
                        keep_column=True, carry=["object_key"])
    return (
        f"INSERT INTO {table.raw} (v, object_key, {names}, load_id, loaded_at) "
        f"SELECT v, object_key, {names}, {d.param}, {d.param} FROM ({rows}) r"
    )


def insert_rejects(d: Dialect) -> str:
    """Move the staged records that cannot be loaded to ``load_rejects``.

    Parameters: load id, load time."""
    topic = d.text_template.format(v="v", field="kafka_topic")
    partition, offset = (f"TRY_CAST({d.text_template.format(v='v', field=f)} AS {d.types['int']})"
                         for f in ("kafka_partition", "kafka_offset"))
    return (
        f"INSERT INTO {LOAD_REJECTS} (object_key, kafka_topic, kafka_partition, kafka_offset, "
        f"reason, record, load_id, loaded_at) SELECT object_key, LEFT({topic}, 255), "
        f"{partition}, {offset}, reason, v, {d.param}, {d.param} FROM {STAGED} "
        "WHERE reason IS NOT NULL"
    )


def merge(d: Dialect, table: ModelTable) -> str:
    """MERGE the batch's loadable staged records into the model table. No parameter.

    Within the batch, one row per natural key survives (newest by ``produced_at``, then
    offset); it replaces the stored row only when it is newer, so re-loading old objects
    never rolls a fact back. Rows with a null key part are left out.
    """
    typed = d.typed_rows([(c.source, c.type, c.name) for c in table.columns],
                         f"{STAGED} WHERE schema_name = '{table.schema_name}' "
                         "AND reason IS NULL")
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
