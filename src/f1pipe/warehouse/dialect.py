"""What differs between destinations, as data: SQL types, JSON access, parameter marker.

The model SQL (:mod:`f1pipe.warehouse.sql`) is generated from the model and one of these;
each destination package declares its own ``DIALECT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    types: Mapping[str, str]  # logical type (int, float, string, bool, timestamp) -> SQL type
    json_type: str  # type of the column holding one record as JSON
    field_template: str  # typed access to a JSON field: {v} column, {field} name, {type} SQL type
    schema_name: str  # the envelope's schema name of the record in column ``v``, as text
    param: str  # placeholder of a bound parameter
    temporary: str  # how a session-scoped table is created
    text_template: str  # a JSON field as text, unconverted ({v} column, {field} name)
    # Reading many fields at once: an expression parsing the JSON column once into a list of
    # strings ({v} column, {paths} quoted JSON paths), or None to read field by field.
    fields_list_template: str | None = None
    # The transform: True when f1pipe runs the dbt project's compiled SQL itself on this
    # destination (in-process, incremental by session); False: `dbt run` / `dbt test`.
    runs_compiled_transform: bool = False
    # Statements a load runs first on its connection (session settings that speed it up).
    load_settings: tuple[str, ...] = ()
    # Column option of the JSON columns written once and seldom read (raw records, rejects).
    archive_column: str = ""
    # A table row's own id (DuckDB's ``rowid``), or None: staging tables then keep each
    # record's id instead of a copy of its JSON.
    row_id: str | None = None
    # A load's MERGEs run inside its transaction (one commit per load); False: each just
    # before it, on its own (fakesnow, the Snowflake emulator, cannot MERGE in a
    # transaction that already wrote).
    merges_in_transaction: bool = False

    def field(self, field: str, logical_type: str, column: str = "v") -> str:
        """SQL expression reading ``field`` from the JSON column, cast to its SQL type."""
        return self.field_template.format(v=column, field=field, type=self.types[logical_type])

    def cast_text(self, field: str, logical_type: str, text: str) -> str:
        """SQL expression converting ``text`` (JSON field ``field`` of column ``v`` read as
        text by :meth:`text_rows`) to its SQL type; NULL when it does not convert,
        except for a ``json`` field, read as the JSON value itself."""
        sql_type = self.types[logical_type]
        if logical_type != "json":
            return f"TRY_CAST({text} AS {sql_type})"
        if self.fields_list_template is None:
            return self.field(field, logical_type)
        return f"CAST({text} AS {sql_type})"

    def text_rows(self, fields: Sequence[str], source: str, keep: str) -> tuple[str, list[str]]:
        """A ``SELECT`` of the ``keep`` columns of ``source`` with what reads each JSON field
        of column ``v`` as text: (the select, one text expression per field, in order)."""
        if self.fields_list_template is None:
            texts = [self.text_template.format(v="v", field=f) for f in fields]
            return f"SELECT {keep} FROM {source}", texts
        paths = ", ".join(f"'$.{f}'" for f in fields)
        listed = self.fields_list_template.format(v="v", paths=paths)
        texts = [f"f[{i}]" for i in range(1, len(fields) + 1)]
        return f"SELECT {keep}, {listed} AS f FROM {source}", texts
