"""Data-quality checks on the model. Each check returns its failing rows; none means passed.

Set checks are SQL both warehouses run alike; the points check applies each season's
scoring rules (:mod:`f1pipe.warehouse.standings`) in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.schemas import CLASSIFIED_STATUS_LETTERS
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


ONE_WINNER = _sql_check(
    "one_winner_per_race", "exactly one driver in position 1 per race and sprint",
    "SELECT season, round, session, SUM(CASE WHEN position = 1 THEN 1 ELSE 0 END) AS winners "
    "FROM f1_results WHERE session_type IN ('race', 'sprint') GROUP BY season, round, session "
    "HAVING SUM(CASE WHEN position = 1 THEN 1 ELSE 0 END) <> 1 ORDER BY season, round, session",
)
POSITIONS = _sql_check(
    "positions_1_to_n", "positions of each session are 1..N, each once",
    "SELECT season, round, session, COUNT(position) AS positioned, "
    "COUNT(DISTINCT position) AS distinct_positions, MIN(position) AS first, "
    "MAX(position) AS last FROM f1_results GROUP BY season, round, session "
    "HAVING COUNT(position) > 0 AND (MIN(position) <> 1 OR MAX(position) <> COUNT(position) "
    "OR COUNT(DISTINCT position) <> COUNT(position)) ORDER BY season, round, session",
)
_LETTERS = ", ".join(f"'{letter}'" for letter in CLASSIFIED_STATUS_LETTERS)
CLASSIFIED_FORMAT = _sql_check(
    "classified_position_format",
    f"classified_position is a whole number as text or a status letter ({_LETTERS})",
    "SELECT season, round, session, driver_number, classified_position FROM f1_results "
    f"WHERE classified_position IS NULL OR NOT (classified_position IN ({_LETTERS}) OR "
    "(TRY_CAST(classified_position AS INTEGER) > 0 AND "
    "CAST(TRY_CAST(classified_position AS INTEGER) AS VARCHAR) = classified_position)) "
    "ORDER BY season, round, session, driver_number",
)
COMPLETED_LAPS = _sql_check(
    "completed_laps_match_results",
    "each driver's completed laps (is_completed) equal the laps of the classification",
    "SELECT r.season, r.round, r.session, r.driver_number, r.laps AS classified_laps, "
    "COALESCE(l.completed, 0) AS completed_laps FROM f1_results r "
    "JOIN (SELECT DISTINCT season, round, session FROM laps) s ON s.season = r.season "
    "AND s.round = r.round AND s.session = r.session "
    "LEFT JOIN (SELECT season, round, session, driver_number, COUNT(*) AS completed FROM laps "
    "WHERE is_completed GROUP BY season, round, session, driver_number) l "
    "ON l.season = r.season AND l.round = r.round AND l.session = r.session "
    "AND l.driver_number = r.driver_number "
    "WHERE r.laps IS NOT NULL AND r.laps <> COALESCE(l.completed, 0) "
    "ORDER BY r.season, r.round, r.session, r.driver_number",
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
    return [*_unique_key_checks(), *_null_key_checks(), ONE_WINNER, POSITIONS,
            CLASSIFIED_FORMAT, points_within_rules, LAPS_DRIVERS, LAP_GAPS, COMPLETED_LAPS]


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
