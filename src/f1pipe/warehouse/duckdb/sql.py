"""DuckDB's loading path: read one lake object straight into the landing table."""

from __future__ import annotations

from f1pipe.warehouse.sql import LANDING

# hive_partitioning off: the lake's "season=2024/" folders are not columns of the records.
READERS = {
    "json": "SELECT json FROM read_json_objects({url}, format = 'newline_delimited', "
            "hive_partitioning = false)",
    "parquet": "SELECT to_json(p) FROM read_parquet({url}, hive_partitioning = false) p",
}


def land_object(url: str, fmt: str) -> str:
    """INSERT the records of the object at ``url`` (a path or s3:// URL) as JSON rows."""
    literal = "'" + url.replace("'", "''") + "'"
    return f"INSERT INTO {LANDING} (v) {READERS[fmt].format(url=literal)}"
