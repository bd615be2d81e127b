"""Snowflake destination: JSON/Parquet file formats, a stage on the lake, COPY INTO a
one-VARIANT-column landing table, then MERGE with ``v:field::type``."""

from f1pipe.warehouse.dialect import Dialect

DIALECT = Dialect(
    name="snowflake",
    types={"int": "NUMBER(38,0)", "float": "FLOAT", "string": "VARCHAR", "bool": "BOOLEAN",
           "timestamp": "TIMESTAMP_NTZ", "json": "VARIANT"},
    json_type="VARIANT",
    field_template="{v}:{field}::{type}",
    schema_name="v:schema.name::VARCHAR",
    param="%s",
    temporary="TEMPORARY",
    text_template="{v}:{field}::VARCHAR",
)
