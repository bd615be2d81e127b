"""Read-only statements for Snowflake: ``f1pipe query`` and ``check`` run nothing else.

Snowflake has no read-only session, so each statement is parsed (sqlglot, Snowflake
dialect) before it is sent: one statement, a query (SELECT, WITH, UNION...), SHOW or
DESCRIBE, holding no DML/DDL and calling no ``SYSTEM$`` function (some act). A role
granted only SELECT is the stronger guard: use one for f1pipe's readers if you can.
"""

from __future__ import annotations

import logging

import sqlglot
from sqlglot import exp

from f1pipe.errors import ReadOnlyError

ALLOWED_ROOTS = (exp.Query, exp.Show, exp.Describe)
WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Copy,
          exp.Command, exp.Alter, exp.Into, exp.Put, exp.Use, exp.Set, exp.TruncateTable)


def require_read_only(sql: str) -> None:
    """Return if ``sql`` is one read-only statement; else raise :class:`ReadOnlyError`."""
    quiet = logging.getLogger("sqlglot")
    level, quiet.level = quiet.level, logging.CRITICAL  # no "falling back to Command" noise
    try:
        statements = [s for s in sqlglot.parse(sql, read="snowflake") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise ReadOnlyError(f"refused: cannot parse the statement ({_first_line(exc)}); "
                            "queries are read-only: one SELECT") from None
    finally:
        quiet.level = level
    if len(statements) != 1:
        raise ReadOnlyError(f"refused: {len(statements)} statements; queries are read-only: "
                            "send one SELECT")
    statement = statements[0]
    if not isinstance(statement, ALLOWED_ROOTS):
        raise ReadOnlyError(f"refused: {_kind(statement)} statement; queries are read-only "
                            "(SELECT, WITH, SHOW, DESCRIBE)")
    for node in statement.walk():
        if isinstance(node, WRITES) or _system_function(node):
            raise ReadOnlyError(f"refused: the query holds {_kind(node)}; queries are read-only")


def _system_function(node: exp.Expr) -> bool:
    return isinstance(node, exp.Func) and node.name.upper().startswith("SYSTEM$")


def _kind(node: exp.Expr) -> str:
    if _system_function(node):
        return f"a call of {node.name}"
    return node.key.upper()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
