"""DuckDB's loading path: read one lake object straight into the landing table."""

from __future__ import annotations

from f1pipe.warehouse.duckdb import DIALECT
from f1pipe.warehouse.sql import BATCH, LANDING

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


def land_json_objects(urls_and_keys: list[tuple[str, str]]) -> str:
    """INSERT the records of many JSON-lines objects into the batch table in one read, each
    with its object key (``(url, key)`` pairs)."""
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    urls = ", ".join(literal(url) for url, _ in urls_and_keys)
    keys = ", ".join(f"({literal(url)}, {literal(key)})" for url, key in urls_and_keys)
    return _into_batch(
        f"SELECT r.json AS v, k.object_key "
        f"FROM read_json_objects([{urls}], format = 'newline_delimited', "
        f"hive_partitioning = false, filename = true) r "
        f"JOIN (VALUES {keys}) k(url, object_key) ON r.filename = k.url"
    )


def land_parquet_objects(urls_and_keys: list[tuple[str, str]]) -> str:
    """INSERT the records of many Parquet objects into the batch table in one statement,
    each with its object key (``(url, key)`` pairs): one read per object (their columns may
    differ), as :func:`land_object` reads one."""
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    reads = " UNION ALL ".join(
        f"SELECT to_json(p) AS v, {literal(key)} AS object_key FROM read_parquet("
        f"{literal(url)}, hive_partitioning = false) p" for url, key in urls_and_keys)
    return _into_batch(reads)


def _into_batch(records: str) -> str:
    """INSERT the ``records`` query's rows (``v``, ``object_key``) into the batch table,
    each with its schema name."""
    return (f"INSERT INTO {BATCH} (v, object_key, schema_name) "
            f"SELECT v, object_key, {DIALECT.schema_name} FROM ({records}) l")
