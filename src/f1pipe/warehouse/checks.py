"""Data-quality checks on the model. Each check returns its failing rows; none means passed.

Set checks are SQL both warehouses run alike; the points check applies each season's
scoring rules (:mod:`f1pipe.warehouse.standings`) in Python.
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass
class CheckReport:
    results: list[CheckResult]

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


ONE_WINNER = _sql_check(
    "one_winner_per_race", "exactly one driver in position 1 per race and sprint",
    "SELECT season, round, session, SUM(CASE WHEN position = 1 THEN 1 ELSE 0 END) AS winners "
    "FROM f1_results WHERE session IN ('R', 'S') GROUP BY season, round, session "
    "HAVING SUM(CASE WHEN position = 1 THEN 1 ELSE 0 END) <> 1 ORDER BY season, round, session",
)
LAPS_DRIVERS = _sql_check(
    "laps_drivers_in_results", "every driver in laps has a result in the same session",
    "SELECT DISTINCT l.season, l.round, l.session, l.driver_number FROM laps l "
    "LEFT JOIN f1_results r ON r.season = l.season AND r.round = l.round "
    "AND r.session = l.session AND r.driver_number = l.driver_number "
    "WHERE r.driver_number IS NULL ORDER BY l.season, l.round, l.session, l.driver_number",
)
LAP_GAPS = _sql_check(
    "lap_numbers_without_gaps", "each driver's laps numbered 1..n without gaps",
    "SELECT season, round, session, driver_number, MIN(lap_number) AS first_lap, "
    "MAX(lap_number) AS last_lap, COUNT(*) AS laps FROM laps "
    "GROUP BY season, round, session, driver_number "
    "HAVING MIN(lap_number) <> 1 OR MAX(lap_number) <> COUNT(*) "
    "ORDER BY season, round, session, driver_number",
)


def points_within_rules(dest: Destination) -> CheckResult:
    """Per driver at most the winner's points (+ fastest lap); per race at most all the
    points the season's rules hand out; never negative."""
    _, rows = dest.fetch(
        "SELECT season, round, session, driver_number, points FROM f1_results "
        "WHERE session IN ('R', 'S') ORDER BY season, round, session, driver_number"
    )
    failing, totals = [], {}
    for season, rnd, session, number, points in rows:
        rules = scoring_rules(int(season), session)
        value = float(points or 0)
        key = (season, rnd, session)
        totals[key] = totals.get(key, 0.0) + value
        if rules and not 0 <= value <= rules.max_driver:
            failing.append((*key, number, value, f"driver max {rules.max_driver}"))
    for key, total in totals.items():
        rules = scoring_rules(int(key[0]), key[2])
        if rules and total > rules.max_total:
            failing.append((*key, None, total, f"race max {rules.max_total}"))
    return CheckResult(
        "points_within_rules", "points per driver and per race within the season's rules",
        [*SESSION_KEY, "driver_number", "points", "limit"], failing,
    )


def all_checks() -> list[Callable[[Destination], CheckResult]]:
    return [*_unique_key_checks(), *_null_key_checks(), ONE_WINNER, points_within_rules,
            LAPS_DRIVERS, LAP_GAPS]


def require_model(dest: Destination, warehouse_url: str) -> None:
    """Raise a one-line error when the warehouse holds no model tables yet."""
    try:
        for table in MODEL:
            dest.fetch(f"SELECT COUNT(*) FROM {table.name}")
    except F1PipeError:
        raise F1PipeError(
            f"warehouse {warehouse_url} has no f1pipe tables: run f1pipe load first"
        ) from None


def run_checks(settings: Settings, warehouse_url: str) -> CheckReport:
    """Run every check on the warehouse; the report says which failed and on which rows."""
    dest = connect(settings, warehouse_url, read_only=True)
    try:
        require_model(dest, warehouse_url)
        return CheckReport([check(dest) for check in all_checks()])
    finally:
        dest.close()
