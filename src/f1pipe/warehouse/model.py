"""The warehouse model as data: one definition, from which both destinations' SQL is generated.

Each model table comes from one row of the dataset registry (``schemas.DATASETS``: its
schema, raw table and model table names): its columns are the payload fields (same names,
typed), plus the envelope and Kafka coordinates of the version kept. Types are logical
(``int``, ``float``, ``string``, ``bool``, ``timestamp``, ``json``); each destination's
:class:`~f1pipe.warehouse.dialect.Dialect` maps them to its own SQL types.
"""

from __future__ import annotations

from dataclasses import dataclass

from f1pipe import schemas

# Payload fields holding ISO 8601 instants: typed as timestamps (UTC, no time zone).
TIMESTAMP_FIELDS = frozenset({"session_date", "time_utc", "lap_end_utc"})
_PY_TYPES = {int: "int", float: "float", str: "string", bool: "bool"}


@dataclass(frozen=True)
class Column:
    name: str  # column name in the model table
    type: str  # logical type: int, float, string, bool, timestamp, json
    source: str  # field of the JSON record it comes from


@dataclass(frozen=True)
class ModelTable:
    name: str  # e.g. "f1_results"
    raw: str  # the landing table holding the records as JSON, e.g. "raw_results"
    schema_name: str  # the envelope's schema name routed here, e.g. "result"
    key: tuple[str, ...]  # natural key columns
    columns: tuple[Column, ...]  # every column, key first

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


# Envelope and Kafka coordinates of the version kept (newest by produced_at, then offset).
META_COLUMNS = (
    Column("event_id", "string", "event_id"),
    Column("produced_at", "timestamp", "produced_at"),
    Column("source", "string", "source"),
    Column("kafka_topic", "string", "kafka_topic"),
    Column("kafka_partition", "int", "kafka_partition"),
    Column("kafka_offset", "int", "kafka_offset"),
)
# Columns every raw table has besides the record itself (``v``).
RAW_COLUMNS = (
    Column("object_key", "string", ""),
    Column("kafka_topic", "string", "kafka_topic"),
    Column("kafka_partition", "int", "kafka_partition"),
    Column("kafka_offset", "int", "kafka_offset"),
    Column("load_id", "string", ""),
    Column("loaded_at", "timestamp", ""),
)
# Payload fields holding a JSON object (the live feed's update): kept as JSON / VARIANT.
JSON_FIELDS = frozenset({"data"})


def _logical_type(field: str, annotation: object) -> str:
    if field in TIMESTAMP_FIELDS:
        return "timestamp"
    if field in JSON_FIELDS:
        return "json"
    return _PY_TYPES[schemas.plain_type(annotation)]


def _table_for(dataset: schemas.Dataset) -> ModelTable:
    payload = dataset.schema
    fields = payload.model_fields
    ordered = list(payload.key_fields) + [f for f in fields if f not in payload.key_fields]
    columns = tuple(Column(f, _logical_type(f, fields[f].annotation), f) for f in ordered)
    return ModelTable(
        name=dataset.model_table,
        raw=dataset.raw_table,
        schema_name=payload.schema_name,
        key=payload.key_fields,
        columns=columns + META_COLUMNS,
    )


MODEL: tuple[ModelTable, ...] = tuple(_table_for(d) for d in schemas.DATASETS)
BY_NAME: dict[str, ModelTable] = {t.name: t for t in MODEL}
