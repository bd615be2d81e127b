"""Print query results for people (rich tables) or scripts (``csv``, ``json``) on stdout."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from f1pipe.errors import F1PipeError

FORMATS = ("table", "csv", "json")


def check_output_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise F1PipeError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def plain(value: Any) -> Any:
    """A JSON-ready value: datetimes as ISO 8601, whole decimals as int, others as float."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def render(columns: list[str], rows: list[tuple], fmt: str, title: str | None = None,
           out: TextIO | None = None) -> None:
    """Write the rows in ``fmt`` (table, csv or json) to ``out`` (stdout by default)."""
    out = out or sys.stdout
    if check_output_format(fmt) == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[plain(v) for v in row] for row in rows])
    elif fmt == "json":
        records = [dict(zip(columns, (plain(v) for v in row), strict=True)) for row in rows]
        out.write(json.dumps(records, ensure_ascii=False) + "\n")
    else:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(plain(v)) for v in row))
        Console(file=out, width=200).print(table)


def report_json(report) -> str:
    """A check report as JSON: each check with its failing rows as objects."""
    checks = [
        {"check": r.name, "passed": r.passed, "description": r.description,
         "failing_rows": [dict(zip(r.columns, map(plain, row), strict=True)) for row in r.rows]}
        for r in report.results
    ]
    return json.dumps({"passed": report.passed, "checks": checks}, ensure_ascii=False)
