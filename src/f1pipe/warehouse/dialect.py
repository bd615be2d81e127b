"""What differs between destinations, as data: SQL types, JSON access, parameter marker.

The model SQL (:mod:`f1pipe.warehouse.sql`) is generated from the model and one of these;
each destination package declares its own ``DIALECT``.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def field(self, field: str, logical_type: str, column: str = "v") -> str:
        """SQL expression reading ``field`` from the JSON column, cast to its SQL type."""
        return self.field_template.format(v=column, field=field, type=self.types[logical_type])
