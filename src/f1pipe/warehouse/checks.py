"""Data-quality checks on the model. Each check returns its failing rows; none means passed.

The checks made from the contract: natural keys (SQL both warehouses run alike) and the
points of each season's scoring rules (:mod:`f1pipe.warehouse.standings`), in Python. The
invariants SQL states alone are dbt tests (``dbt/tests/facts``, run by ``f1pipe check``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.warehouse.destination import Destination, connect
from f1pipe.warehouse.model import MODEL
from f1pipe.warehouse.standings import scoring_rules

SESSION_KEY = ("season", "round", "session")


@dataclass
class CheckResult:
    name: str
    description: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)  # failing rows

    @property
    def passed(self) -> bool:
        return not self.rows

    def sessions(self) -> dict[str, int]:
        """Failing rows per session (``"2024 round 5 SQ"``), for rows that name one."""
        if list(self.columns[:3]) != list(SESSION_KEY):
            return {}
        counts: dict[str, int] = {}
        for row in self.rows:
            label = session_label(*row[:3])
            counts[label] = counts.get(label, 0) + 1
        return counts

    def only(self, sessions: set[tuple[int, int, str]]) -> CheckResult:
        """This result with only the failing rows of ``sessions`` (rows naming a session)."""
        if list(self.columns[:3]) != list(SESSION_KEY):
            return self
        rows = [r for r in self.rows if _session_of(r) in sessions]
        return CheckResult(self.name, self.description, self.columns, rows)


def session_label(season, rnd, session) -> str:
    return f"{season} round {rnd} {session}"


def _session_of(row: tuple) -> tuple:
    season, rnd, session = row[:3]
    return (None if season is None else int(season), None if rnd is None else int(rnd),
            session)


def parse_sessions(sessions: Sequence[str]) -> set[tuple[int, int, str]]:
    """``["2024/12/R", ...]`` as (season, round, session) tuples; a bad one raises."""
    parsed = set()
    for text in sessions:
        parts = str(text).split("/")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise F1PipeError(f"session {text!r}: expected SEASON/ROUND/SESSION, e.g. 2024/12/R")
        parsed.add((int(parts[0]), int(parts[1]), parts[2].upper()))
    return parsed


@dataclass
class CheckReport:
    results: list[CheckResult]

    def failure_line(self) -> str:
        """``check (2024 round 5 SQ: 3 rows); other_check (...)`` for the failed checks."""
        parts = []
        for r in self.results:
            if r.passed:
                continue
            where = ", ".join(f"{label}: {n} row{'s' if n > 1 else ''}"
                              for label, n in r.sessions().items())
            parts.append(f"{r.name} ({where or f'{len(r.rows)} rows'})")
        return "; ".join(parts)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def passed_count(self) -> int:
        return sum(r.passed for r in self.results)

    def failed_names(self) -> list[str]:
        return [r.name for r in self.results if not r.passed]

    def get(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)


def _sql_check(name: str, description: str, sql: str) -> Callable[[Destination], CheckResult]:
    def run(dest: Destination) -> CheckResult:
        columns, rows = dest.fetch(sql)
        return CheckResult(name, description, columns, rows)

    return run


def _unique_key_checks() -> list[Callable[[Destination], CheckResult]]:
    checks = []
    for t in MODEL:
        key = ", ".join(t.key)
        checks.append(_sql_check(
            f"unique_key:{t.name}", f"one row per natural key ({key}) in {t.name}",
            f"SELECT {key}, COUNT(*) AS row_count FROM {t.name} GROUP BY {key} "
            f"HAVING COUNT(*) > 1 ORDER BY {key}",
        ))
    return checks


def _null_key_checks() -> list[Callable[[Destination], CheckResult]]:
    checks = []
    for t in MODEL:
        key = ", ".join(t.key)
        nulls = " OR ".join(f"{k} IS NULL" for k in t.key)
        checks.append(_sql_check(
            f"no_null_key:{t.name}", f"no null in the natural key ({key}) of {t.name}",
            f"SELECT {key}, event_id FROM {t.name} WHERE {nulls}",
        ))
    return checks


def points_within_rules(dest: Destination) -> CheckResult:
    """Per driver at most the winner's points (+ fastest lap); per race at most all the
    points the season's rules hand out; never negative."""
    _, rows = dest.fetch(
        "SELECT season, round, session, session_type, driver_number, points FROM f1_results "
        "ORDER BY season, round, session, driver_number"
    )
    failing, totals, types = [], {}, {}
    for season, rnd, session, kind, number, points in rows:
        rules = scoring_rules(int(season), kind)
        value = float(points or 0)
        key = (season, rnd, session)
        totals[key] = totals.get(key, 0.0) + value
        types[key] = kind
        if rules is None and value:  # practice and qualifying score nothing
            failing.append((*key, number, value, f"no points in {kind or session}"))
        elif rules and not 0 <= value <= rules.max_driver:
            failing.append((*key, number, value, f"driver max {rules.max_driver}"))
    for key, total in totals.items():
        rules = scoring_rules(int(key[0]), types[key])
        if rules and total > rules.max_total:
            failing.append((*key, None, total, f"race max {rules.max_total}"))
    return CheckResult(
        "points_within_rules", "points per driver and per race within the season's rules",
        [*SESSION_KEY, "driver_number", "points", "limit"], failing,
    )


def all_checks() -> list[Callable[[Destination], CheckResult]]:
    """The checks made from the contract (every model table's natural key, the points of
    each season's rules). The invariants SQL can state alone (one winner, positions 1..N,
    laps numbered 1..n ...) are dbt tests: dbt/tests/facts."""
    return [*_unique_key_checks(), *_null_key_checks(), points_within_rules]


def require_model(dest: Destination, warehouse_url: str) -> None:
    """Raise a one-line error when the warehouse holds no model tables yet."""
    try:
        for table in MODEL:
            dest.fetch(f"SELECT COUNT(*) FROM {table.name}")
    except F1PipeError:
        raise F1PipeError(
            f"warehouse {warehouse_url} has no f1pipe tables: run f1pipe load first"
        ) from None


def run_checks(settings: Settings, warehouse_url: str,
               sessions: Sequence[str] | None = None) -> CheckReport:
    """Run every check on the warehouse; the report says which failed and on which rows.
    With ``sessions`` (``["2024/12/R", ...]``) only the rows of those sessions count."""
    wanted = parse_sessions(sessions) if sessions is not None else None
    dest = connect(settings, warehouse_url, read_only=True)
    try:
        require_model(dest, warehouse_url)
        results = [check(dest) for check in all_checks()]
    finally:
        dest.close()
    if wanted is not None:
        results = [r.only(wanted) for r in results]
    return CheckReport(results)
