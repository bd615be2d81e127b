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


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _keys_of(urls_and_keys: list[tuple[str, str]]) -> str:
    """A ``VALUES`` table ``k(url, object_key)`` of the objects' keys by reader file name."""
    rows = ", ".join(f"({_literal(url)}, {_literal(key)})" for url, key in urls_and_keys)
    return f"(VALUES {rows}) k(url, object_key)"


def land_object(url: str, fmt: str) -> str:
    """INSERT the records of the object at ``url`` (a path or s3:// URL) as JSON rows."""
    return f"INSERT INTO {LANDING} (v) {READERS[fmt].format(url=_literal(url))}"


def land_json_objects(urls_and_keys: list[tuple[str, str]]) -> str:
    """INSERT the records of many JSON-lines objects into the batch table in one read, each
    with its object key (``(url, key)`` pairs)."""
    urls = ", ".join(_literal(url) for url, _ in urls_and_keys)
    return _into_batch(
        f"SELECT r.json AS v, k.object_key "
        f"FROM read_json_objects([{urls}], format = 'newline_delimited', "
        f"hive_partitioning = false, filename = true) r "
        f"JOIN {_keys_of(urls_and_keys)} ON r.filename = k.url"
    )


def land_parquet_objects(urls_and_keys: list[tuple[str, str]]) -> str:
    """INSERT the records of many Parquet objects into the batch table in one statement,
    each with its object key (``(url, key)`` pairs): one read per topic (the first folder of
    the key: its objects share their columns, matched by name), each record as the JSON
    :func:`land_object` makes of it (but for a column another object of its topic has and
    its own lacks: null). A read per object cost a streaming load a third of its landing."""
    topics: dict[str, list[tuple[str, str]]] = {}
    for url, key in urls_and_keys:
        topics.setdefault(key.split("/", 1)[0], []).append((url, key))
    reads = " UNION ALL ".join(
        # The reader's file name column is dropped from each record's JSON (a merge patch
        # with null removes a member).
        f"SELECT json_merge_patch(to_json(p), '{{\"filename\": null}}') AS v, k.object_key "
        f"FROM read_parquet([{', '.join(_literal(url) for url, _ in objects)}], "
        f"hive_partitioning = false, union_by_name = true, filename = true) p "
        f"JOIN {_keys_of(objects)} ON p.filename = k.url"
        for objects in topics.values())
    return _into_batch(reads)


def _into_batch(records: str) -> str:
    """INSERT the ``records`` query's rows (``v``, ``object_key``) into the batch table,
    each with its schema name."""
    return (f"INSERT INTO {BATCH} (v, object_key, schema_name) "
            f"SELECT v, object_key, {DIALECT.schema_name} FROM ({records}) l")
