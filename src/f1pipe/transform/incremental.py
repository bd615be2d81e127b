"""f1pipe's own runner of the compiled dbt project on DuckDB: the marts rebuilt only for the
sessions whose facts changed, and the data tests judged on the sessions asked for.

Why not ``dbt run`` every time: dbt's start-up alone (imports, project check) costs ~4-5 s
of CPU on this machine before a model runs, more than the whole transform of a race is
allowed. dbt stays the source of the SQL, the tests and the docs (and runs on Snowflake):
the project is compiled once per version (:mod:`f1pipe.transform.compiled`) and its SQL run
here, in one transaction.

Which sessions changed: per session, the row count and a hash of the kept versions (event
id and Kafka offset of every row) of every table the models read, compared with what the
last transform recorded in ``transform_state``.
A mart missing, or a new version of the project, rebuilds everything.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import duckdb

from f1pipe.errors import F1PipeError
from f1pipe.transform.compiled import SCOPE_TABLE, CompiledNode, CompiledProject
from f1pipe.transform.runner import DbtNode, TransformSummary
from f1pipe.warehouse.checks import CheckResult

STATE_TABLE = "transform_state"
FACTS_TAG = "facts"  # dbt tests of the model tables (dbt/tests/facts), not of the marts
Session = tuple[int, int, str]


def session_label(session: Session) -> str:
    return f"{session[0]}/{session[1]}/{session[2]}"


def fact_versions(con: duckdb.DuckDBPyConnection, sources: Iterable[str]) -> dict[Session, str]:
    """Per session, what its facts look like now: ``table:rows:hash of the row versions`` of
    every source table, joined (a session changes when any row of any of them does)."""
    parts: dict[Session, list[str]] = {}
    existing = _tables(con)
    for table in sorted(sources):
        if table not in existing:
            continue
        rows = con.execute(
            f"SELECT season, round, session, COUNT(*), BIT_XOR(HASH(event_id, kafka_offset)) "
            f"FROM {table} WHERE season IS NOT NULL AND round IS NOT NULL "
            f"AND session IS NOT NULL GROUP BY ALL").fetchall()
        for season, rnd, session, count, newest in rows:
            parts.setdefault((int(season), int(rnd), str(session)), []).append(
                f"{table}:{count}:{newest}")
    return {key: "|".join(value) for key, value in parts.items()}


def recorded_versions(con: duckdb.DuckDBPyConnection, project: str
                      ) -> dict[Session, str] | None:
    """What the last transform recorded per session; None when it ran another version of
    the project (or never ran), so every mart must be rebuilt."""
    if STATE_TABLE not in _tables(con):
        return None
    rows = con.execute(f"SELECT season, round, session, facts, project FROM {STATE_TABLE}"
                       ).fetchall()
    if any(row[4] != project for row in rows):
        return None
    return {(int(s), int(r), str(x)): facts for s, r, x, facts, _ in rows}


def changed_sessions(now: dict[Session, str], before: dict[Session, str]) -> set[Session]:
    """Sessions whose facts differ from the last transform's, appeared, or disappeared."""
    return {key for key in now.keys() | before.keys() if now.get(key) != before.get(key)}


def build_marts(con: duckdb.DuckDBPyConnection, project: CompiledProject,
                full_refresh: bool = False) -> TransformSummary:
    """Rebuild the marts for the sessions whose facts changed (all of them when
    ``full_refresh``, a mart is missing or the project changed), in one transaction.
    Returns one node per mart (status success, or skipped when nothing changed)."""
    started = time.perf_counter()
    missing = sorted(set(project.sources) - _tables(con))
    if missing:
        raise F1PipeError(f"the warehouse has no {missing[0]} table: run f1pipe load first")
    now = fact_versions(con, project.sources)
    before = recorded_versions(con, project.version)
    tables = _tables(con)
    full = (full_refresh or before is None
            or any(model.name not in tables for model in project.models))
    scope = set(now) | set(before or {}) if full else changed_sessions(now, before or {})
    summary = TransformSummary("run", "duckdb", engine="compiled",
                               sessions=None if full else sorted(map(session_label, scope)))
    if not scope and not full:
        summary.nodes = [DbtNode(m.name, "model", "skipped", 0.0, None, "no facts changed")
                         for m in project.models]
        summary.elapsed_s = time.perf_counter() - started
        return summary
    _fill_scope(con, scope)
    con.execute("BEGIN TRANSACTION")
    try:
        for model in project.models:
            summary.nodes.append(_build(con, model, full))
        _record(con, project.version, now, scope, full)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{SCOPE_TABLE}")
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _build(con: duckdb.DuckDBPyConnection, model: CompiledNode, full: bool) -> DbtNode:
    started = time.perf_counter()
    try:
        if full:
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
        else:
            key = _grain(con, model.name)
            where = f"({', '.join(key)}) IN (SELECT {', '.join(key)} FROM {SCOPE_TABLE})"
            con.execute(f"DELETE FROM {model.name} WHERE {where}")
            con.execute(f"INSERT INTO {model.name} BY NAME SELECT * FROM ({model.sql}) "
                        f"AS rebuilt WHERE {where}")
    except duckdb.Error as exc:
        raise F1PipeError(f"transform failed building {model.name}: {_first_line(exc)}; "
                          "nothing was changed") from None
    return DbtNode(model.name, "model", "success", time.perf_counter() - started, None, None)


def _grain(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    """The scope key of a mart: (season, round, session), or season for marts without a
    session column (the standings: a round depends on every earlier one)."""
    columns = {c[0].lower() for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description}
    return ("season", "round", "session") if "session" in columns else ("season",)


def _record(con: duckdb.DuckDBPyConnection, project: str, now: dict[Session, str],
            scope: set[Session], full: bool) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (season BIGINT, round BIGINT, "
                "session VARCHAR, facts VARCHAR, project VARCHAR, transformed_at TIMESTAMP)")
    if full:
        con.execute(f"DELETE FROM {STATE_TABLE}")
    else:
        con.execute(f"DELETE FROM {STATE_TABLE} WHERE (season, round, session) IN "
                    f"(SELECT season, round, session FROM {SCOPE_TABLE})")
    stamp = datetime.now(UTC).replace(tzinfo=None)
    rows = [(*key, facts, project, stamp) for key, facts in now.items() if full or key in scope]
    if rows:
        con.executemany(f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?, ?)", rows)


def _fill_scope(con: duckdb.DuckDBPyConnection, sessions: Iterable[Session]) -> None:
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {SCOPE_TABLE} "
                "(season BIGINT, round BIGINT, session VARCHAR)")
    rows = sorted(set(sessions))
    if rows:
        con.executemany(f"INSERT INTO {SCOPE_TABLE} VALUES (?, ?, ?)", rows)


def run_tests(con: duckdb.DuckDBPyConnection, project: CompiledProject,
              sessions: Sequence[Session] | None = None, facts_only: bool = False
              ) -> list[CheckResult]:
    """The data tests of the project (only those tagged ``facts`` when ``facts_only``: the
    marts are not built), judging only ``sessions`` (all the sessions of the facts when
    None); one check result per test, holding its failing rows (a test that cannot run fails
    with its error). Reads only: the scope is a temporary table, so a read-only connection
    will do."""
    scope = set(sessions) if sessions is not None else set(fact_versions(con, project.sources))
    _fill_scope(con, scope)
    try:
        return [_test(con, test) for test in project.tests
                if not facts_only or FACTS_TAG in test.tags]
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{SCOPE_TABLE}")


def _test(con: duckdb.DuckDBPyConnection, test: CompiledNode) -> CheckResult:
    description = (f"dbt test of the marts ({', '.join(test.depends_on)})" if test.depends_on
                   else "dbt test of the facts")
    try:
        cursor = con.execute(f"SELECT * FROM ({test.sql}) AS failing")
        columns = [c[0].lower() for c in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        return CheckResult(f"dbt:{test.name}", description, ["status", "message"],
                           [("error", _first_line(exc))])
    if test.severity == "warn":
        rows = []
    return CheckResult(f"dbt:{test.name}", description, columns, rows)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database()").fetchall()}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
